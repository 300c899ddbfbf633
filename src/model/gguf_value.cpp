// GGUF metadata values and ggml tensor types: names, block sizes, lossless conversions and summaries.
#include <bit>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "adamas/gguf.h"
#include "model/gguf_internal.h"

namespace adamas {

using gguf_detail::scalar_bits;
using gguf_detail::scalar_size;

std::string_view gguf_value_type_name(GgufValueType t) {
    static constexpr std::string_view kNames[] = {"u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
                                                  "bool", "string", "array", "u64", "i64", "f64"};
    const auto id = uint32_t(t);
    return id < gguf_detail::kValueTypeCount ? kNames[id] : "unknown type";
}

namespace {

std::optional<int64_t> bits_to_i64(GgufValueType t, uint64_t bits) {
    if (gguf_detail::is_signed(t)) return int64_t(bits);
    if (bits > uint64_t(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return int64_t(bits);
}

std::optional<uint64_t> bits_to_u64(GgufValueType t, uint64_t bits) {
    if (gguf_detail::is_signed(t) && int64_t(bits) < 0) return std::nullopt;
    return bits;
}

std::optional<double> bits_to_f64(GgufValueType t, uint64_t bits) {
    if (t == GgufValueType::f32) return double(std::bit_cast<float>(uint32_t(bits)));
    if (t == GgufValueType::f64) return std::bit_cast<double>(bits);
    return std::nullopt;
}

bool integer_type(GgufValueType t) {
    return scalar_size(t) > 0 && t != GgufValueType::f32 && t != GgufValueType::f64 &&
           t != GgufValueType::boolean;
}

std::string scalar_text(GgufValueType t, uint64_t bits) {
    if (t == GgufValueType::boolean) return bits ? "true" : "false";
    if (t == GgufValueType::f32) return fmt::format("{}", std::bit_cast<float>(uint32_t(bits)));  // shortest
    if (t == GgufValueType::f64) return fmt::format("{}", std::bit_cast<double>(bits));
    if (gguf_detail::is_signed(t)) return fmt::format("{}", int64_t(bits));
    return fmt::format("{}", bits);
}

}  // namespace

bool GgufValue::is_integer() const {
    return integer_type(type_);
}

std::optional<int64_t> GgufValue::to_i64() const {
    if (!is_integer()) return std::nullopt;
    return bits_to_i64(type_, bits_);
}

std::optional<uint64_t> GgufValue::to_u64() const {
    if (!is_integer()) return std::nullopt;
    return bits_to_u64(type_, bits_);
}

std::optional<double> GgufValue::to_f64() const {
    return bits_to_f64(type_, bits_);
}

std::optional<bool> GgufValue::to_bool() const {
    if (type_ != GgufValueType::boolean) return std::nullopt;
    return bits_ != 0;
}

std::optional<std::string_view> GgufValue::to_string() const {
    if (type_ != GgufValueType::string) return std::nullopt;
    return std::string_view(reinterpret_cast<const char*>(data_), count_);
}

std::optional<int64_t> GgufValue::i64_at(uint64_t i) const {
    if (type_ != GgufValueType::array || !integer_type(element_type_) || i >= count_) return std::nullopt;
    return bits_to_i64(element_type_, scalar_bits(element_type_, data_ + i * scalar_size(element_type_)));
}

std::optional<uint64_t> GgufValue::u64_at(uint64_t i) const {
    if (type_ != GgufValueType::array || !integer_type(element_type_) || i >= count_) return std::nullopt;
    return bits_to_u64(element_type_, scalar_bits(element_type_, data_ + i * scalar_size(element_type_)));
}

std::optional<double> GgufValue::f64_at(uint64_t i) const {
    if (type_ != GgufValueType::array || i >= count_) return std::nullopt;
    if (element_type_ != GgufValueType::f32 && element_type_ != GgufValueType::f64) return std::nullopt;
    return bits_to_f64(element_type_, scalar_bits(element_type_, data_ + i * scalar_size(element_type_)));
}

std::string GgufValue::summary(size_t max_items) const {
    if (type_ == GgufValueType::string) return fmt::format("\"{}\"", gguf_detail::printable(*to_string()));
    if (type_ != GgufValueType::array) return scalar_text(type_, bits_);
    std::string out = fmt::format("[{} x {}", count_, gguf_value_type_name(element_type_));
    const uint64_t shown = std::min<uint64_t>(count_, max_items);
    for (uint64_t i = 0; i < shown; ++i) {
        out += i == 0 ? ": " : ", ";
        if (element_type_ == GgufValueType::string)
            out += fmt::format("\"{}\"", gguf_detail::printable(strings_[i], 40));
        else if (element_type_ == GgufValueType::array)
            out += items_[i].summary(max_items);
        else
            out += scalar_text(element_type_,
                               scalar_bits(element_type_, data_ + i * scalar_size(element_type_)));
    }
    if (shown < count_) out += ", ...";
    return out + "]";
}

}  // namespace adamas
