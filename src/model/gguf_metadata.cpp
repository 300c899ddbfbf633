// Typed metadata getters of GgufFile: lossless conversions only, and an Error naming the file, the key,
// what it holds and what was expected otherwise.
#include <cmath>
#include <limits>

#include "adamas/error.h"
#include "adamas/gguf.h"
#include "model/gguf_internal.h"

namespace adamas {
namespace {

using gguf_detail::printable;

std::string describe(const GgufValue& v) {
    if (v.type() == GgufValueType::array)
        return fmt::format("an array of {} {}", v.size(), gguf_value_type_name(v.element_type()));
    return fmt::format("{} {}", gguf_value_type_name(v.type()), v.summary());
}

const GgufValue& require(const GgufFile& file, std::string_view key) {
    if (const GgufValue* v = file.find(key)) return *v;
    fail("{}: metadata key '{}' is missing", file.path(), printable(key));
}

[[noreturn]] void wrong_type(const GgufFile& file, std::string_view key, const GgufValue& v,
                             std::string_view expected) {
    fail("{}: metadata key '{}' is {} (expected {})", file.path(), printable(key), describe(v), expected);
}

template <typename Int>
Int get_integer(const GgufFile& file, std::string_view key, std::string_view type_name) {
    const GgufValue& v = require(file, key);
    if (!v.is_integer()) wrong_type(file, key, v, fmt::format("an integer that fits in {}", type_name));
    if constexpr (std::is_signed_v<Int>) {
        const std::optional<int64_t> x = v.to_i64();
        if (x && *x >= std::numeric_limits<Int>::min() && *x <= std::numeric_limits<Int>::max())
            return Int(*x);
    } else {
        const std::optional<uint64_t> x = v.to_u64();
        if (x && *x <= std::numeric_limits<Int>::max()) return Int(*x);
    }
    wrong_type(file, key, v, fmt::format("an integer that fits in {}", type_name));
}

const GgufValue& require_array(const GgufFile& file, std::string_view key, bool (*element_ok)(GgufValueType),
                               std::string_view expected) {
    const GgufValue& v = require(file, key);
    if (v.type() != GgufValueType::array || !element_ok(v.element_type())) wrong_type(file, key, v, expected);
    return v;
}

bool is_integer_type(GgufValueType t) {
    return gguf_detail::scalar_size(t) > 0 && t != GgufValueType::boolean && t != GgufValueType::f32 &&
           t != GgufValueType::f64;
}

template <typename Int>
std::vector<Int> get_integer_array(const GgufFile& file, std::string_view key, std::string_view type_name) {
    const GgufValue& v = require_array(file, key, is_integer_type,
                                       fmt::format("an array of integers that fit in {}", type_name));
    std::vector<Int> out;
    out.reserve(v.size());  // the parser checked the array against the file size
    for (uint64_t i = 0; i < v.size(); ++i) {
        bool fits;
        Int value{};
        if constexpr (std::is_signed_v<Int>) {
            const std::optional<int64_t> x = v.i64_at(i);
            fits = x && *x >= std::numeric_limits<Int>::min() && *x <= std::numeric_limits<Int>::max();
            if (fits) value = Int(*x);
        } else {
            const std::optional<uint64_t> x = v.u64_at(i);
            fits = x && *x <= std::numeric_limits<Int>::max();
            if (fits) value = Int(*x);
        }
        if (!fits)
            fail("{}: element {} of metadata array '{}' is out of range (expected integers that fit in {})",
                 file.path(), i, printable(key), type_name);
        out.push_back(value);
    }
    return out;
}

}  // namespace

std::string GgufFile::get_string(std::string_view key) const {
    const GgufValue& v = require(*this, key);
    if (auto s = v.to_string()) return std::string(*s);
    wrong_type(*this, key, v, "a string");
}

uint32_t GgufFile::get_u32(std::string_view key) const {
    return get_integer<uint32_t>(*this, key, "u32");
}
int32_t GgufFile::get_i32(std::string_view key) const {
    return get_integer<int32_t>(*this, key, "i32");
}
uint64_t GgufFile::get_u64(std::string_view key) const {
    return get_integer<uint64_t>(*this, key, "u64");
}
int64_t GgufFile::get_i64(std::string_view key) const {
    return get_integer<int64_t>(*this, key, "i64");
}

double GgufFile::get_f64(std::string_view key) const {
    const GgufValue& v = require(*this, key);
    if (auto x = v.to_f64()) return *x;
    wrong_type(*this, key, v, "an f32 or f64");
}

float GgufFile::get_f32(std::string_view key) const {
    const GgufValue& v = require(*this, key);
    const std::optional<double> x = v.to_f64();
    if (!x) wrong_type(*this, key, v, "an f32 or f64");
    if (std::isfinite(*x) && std::fabs(*x) > double(std::numeric_limits<float>::max()))
        wrong_type(*this, key, v, "a value within the range of f32");
    return float(*x);
}

bool GgufFile::get_bool(std::string_view key) const {
    const GgufValue& v = require(*this, key);
    if (auto b = v.to_bool()) return *b;
    wrong_type(*this, key, v, "a bool");
}

std::string GgufFile::get_string(std::string_view key, std::string_view fallback) const {
    return has(key) ? get_string(key) : std::string(fallback);
}
uint32_t GgufFile::get_u32(std::string_view key, uint32_t fallback) const {
    return has(key) ? get_u32(key) : fallback;
}
int64_t GgufFile::get_i64(std::string_view key, int64_t fallback) const {
    return has(key) ? get_i64(key) : fallback;
}
float GgufFile::get_f32(std::string_view key, float fallback) const {
    return has(key) ? get_f32(key) : fallback;
}
bool GgufFile::get_bool(std::string_view key, bool fallback) const {
    return has(key) ? get_bool(key) : fallback;
}

std::vector<std::string> GgufFile::get_string_array(std::string_view key) const {
    const GgufValue& v = require_array(
        *this, key, [](GgufValueType t) { return t == GgufValueType::string; }, "an array of strings");
    return {v.strings().begin(), v.strings().end()};
}

std::vector<float> GgufFile::get_f32_array(std::string_view key) const {
    const GgufValue& v = require_array(
        *this, key, [](GgufValueType t) { return t == GgufValueType::f32 || t == GgufValueType::f64; },
        "an array of f32 or f64");
    std::vector<float> out;
    out.reserve(v.size());
    for (uint64_t i = 0; i < v.size(); ++i) {
        const double x = *v.f64_at(i);
        if (std::isfinite(x) && std::fabs(x) > double(std::numeric_limits<float>::max()))
            fail("{}: element {} of metadata array '{}' is {}, out of the range of f32", path(), i,
                 printable(key), x);
        out.push_back(float(x));
    }
    return out;
}

std::vector<int32_t> GgufFile::get_i32_array(std::string_view key) const {
    return get_integer_array<int32_t>(*this, key, "i32");
}
std::vector<int64_t> GgufFile::get_i64_array(std::string_view key) const {
    return get_integer_array<int64_t>(*this, key, "i64");
}
std::vector<uint32_t> GgufFile::get_u32_array(std::string_view key) const {
    return get_integer_array<uint32_t>(*this, key, "u32");
}

}  // namespace adamas
