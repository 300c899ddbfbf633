// safetensors reader: the JSON header is parsed with nlohmann-json, then every entry is checked —
// dtype known, shape × dtype size equal to the byte range, range inside the data section — and the
// ranges, sorted, must tile the data section exactly. Only then do tensors point into the mapping.
#include "adamas/safetensors.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "adamas/error.h"
#include "core/mapped_file.h"
#include "model/gguf_internal.h"
#include "model/json_file.h"

namespace adamas {

using gguf_detail::printable;

namespace {

// The reference implementation refuses larger headers; so do we, before parsing anything.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct DtypeInfo {
    SafetensorsDtype dtype;
    std::string_view name;
    int size;
};

constexpr std::array<DtypeInfo, 15> kDtypes = {{
    {SafetensorsDtype::boolean, "BOOL", 1},
    {SafetensorsDtype::u8, "U8", 1},
    {SafetensorsDtype::i8, "I8", 1},
    {SafetensorsDtype::f8_e4m3, "F8_E4M3", 1},
    {SafetensorsDtype::f8_e5m2, "F8_E5M2", 1},
    {SafetensorsDtype::i16, "I16", 2},
    {SafetensorsDtype::u16, "U16", 2},
    {SafetensorsDtype::f16, "F16", 2},
    {SafetensorsDtype::bf16, "BF16", 2},
    {SafetensorsDtype::i32, "I32", 4},
    {SafetensorsDtype::u32, "U32", 4},
    {SafetensorsDtype::f32, "F32", 4},
    {SafetensorsDtype::f64, "F64", 8},
    {SafetensorsDtype::i64, "I64", 8},
    {SafetensorsDtype::u64, "U64", 8},
}};

const DtypeInfo& info(SafetensorsDtype t) {
    for (const DtypeInfo& d : kDtypes)
        if (d.dtype == t) return d;
    ADAMAS_ASSERT(false);
}

std::string dtype_list() {
    std::string out;
    for (const DtypeInfo& d : kDtypes)
        out += (out.empty() ? "" : ", ") + std::string(d.name);
    return out;
}

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string out = "[";
    for (size_t i = 0; i < shape.size(); ++i)
        out += (i ? ", " : "") + std::to_string(shape[i]);
    return out + "]";
}

// One header entry checked against the data section's size; Error names the file and the tensor.
SafetensorsTensor parse_entry(const std::string& path, const std::string& name, const nlohmann::json& entry,
                              uint64_t data_size) {
    SafetensorsTensor t;
    t.name = name;
    const std::string shown = printable(name);
    if (!entry.is_object())
        fail("{}: header entry '{}' is a JSON {} (expected an object with dtype, shape and data_offsets)",
             path, shown, entry.type_name());
    auto field = [&](const char* key) -> const nlohmann::json& {
        auto it = entry.find(key);
        if (it == entry.end()) fail("{}: tensor '{}' has no '{}' in the header", path, shown, key);
        return *it;
    };
    const nlohmann::json& dtype = field("dtype");
    if (!dtype.is_string())
        fail("{}: tensor '{}' has a dtype that is a JSON {} (expected a string such as \"BF16\")", path,
             shown, dtype.type_name());
    const auto parsed = parse_safetensors_dtype(dtype.get_ref<const std::string&>());
    if (!parsed)
        fail("{}: tensor '{}' has unknown dtype '{}' (expected one of {})", path, shown,
             printable(dtype.get_ref<const std::string&>()), dtype_list());
    t.dtype = *parsed;

    const nlohmann::json& shape = field("shape");
    if (!shape.is_array())
        fail("{}: tensor '{}' has a shape that is a JSON {} (expected an array of non-negative integers)",
             path, shown, shape.type_name());
    uint64_t elements = 1;
    for (size_t d = 0; d < shape.size(); ++d) {
        if (!shape[d].is_number_unsigned())
            fail("{}: tensor '{}' has shape entry {} = {} (expected a non-negative integer)", path, shown, d,
                 json_excerpt(shape[d]));
        const uint64_t dim = shape[d].get<uint64_t>();
        if (dim > uint64_t(std::numeric_limits<int64_t>::max()) ||
            __builtin_mul_overflow(elements, dim, &elements) ||
            elements > uint64_t(std::numeric_limits<int64_t>::max()))
            fail("{}: tensor '{}' has shape {} with more than 2^63-1 elements", path, shown,
                 json_excerpt(shape));
        t.shape.push_back(int64_t(dim));
    }
    t.elements = int64_t(elements);

    const nlohmann::json& offsets = field("data_offsets");
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
        fail("{}: tensor '{}' has data_offsets {} (expected [begin, end], two non-negative integers)", path,
             shown, json_excerpt(offsets));
    t.begin = offsets[0].get<uint64_t>();
    t.end = offsets[1].get<uint64_t>();
    if (t.begin > t.end)
        fail("{}: tensor '{}' has data_offsets [{}, {}] that end before they begin", path, shown, t.begin,
             t.end);
    if (t.end > data_size)
        fail(
            "{}: tensor '{}' has data_offsets [{}, {}] past the end of the data section ({} bytes; the file "
            "is truncated or the header is corrupt)",
            path, shown, t.begin, t.end, data_size);
    uint64_t bytes = 0;
    const bool overflow = __builtin_mul_overflow(elements, uint64_t(info(t.dtype).size), &bytes);
    if (overflow || bytes != t.end - t.begin)
        fail("{}: tensor '{}' of shape {} and dtype {} needs {} bytes, but its data_offsets [{}, {}] hold {}",
             path, shown, shape_text(t.shape), info(t.dtype).name,
             overflow ? std::string("more than 2^64") : std::to_string(bytes), t.begin, t.end,
             t.end - t.begin);
    return t;
}

}  // namespace

std::string_view safetensors_dtype_name(SafetensorsDtype t) {
    return info(t).name;
}

int safetensors_dtype_size(SafetensorsDtype t) {
    return info(t).size;
}

std::optional<SafetensorsDtype> parse_safetensors_dtype(std::string_view name) {
    for (const DtypeInfo& d : kDtypes)
        if (d.name == name) return d.dtype;
    return std::nullopt;
}

struct SafetensorsFile::Impl {
    std::string path;
    MappedFile map;
    uint64_t data_offset = 0;
    std::vector<SafetensorsTensor> tensors;              // sorted by data offset
    std::unordered_map<std::string_view, size_t> index;  // views of tensors[i].name
};

SafetensorsFile SafetensorsFile::open(const std::string& path) {
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->map = MappedFile::open(path, "safetensors file");
    const uint8_t* base = impl->map.data();
    const uint64_t size = impl->map.size();
    if (size < 8)
        fail("{}: file is {} bytes, too short for the 8-byte header length (expected a safetensors file)",
             path, size);
    uint64_t header_bytes = 0;
    std::memcpy(&header_bytes, base, 8);  // little-endian, as the host (checked in gguf_internal.h)
    if (header_bytes > size - 8)
        fail(
            "{}: header length {} runs past the end of the file ({} bytes; truncated, or not a safetensors "
            "file)",
            path, header_bytes, size);
    if (header_bytes > kMaxHeaderBytes)
        fail("{}: header length {} exceeds the format's limit of {} bytes", path, header_bytes,
             kMaxHeaderBytes);
    if (header_bytes < 2 || base[8] != '{')
        fail("{}: header does not start with '{{' (expected a JSON object; not a safetensors file)", path);
    impl->data_offset = 8 + header_bytes;
    const uint64_t data_size = size - impl->data_offset;

    const nlohmann::json header = parse_json(
        std::string_view(reinterpret_cast<const char*>(base) + 8, header_bytes), path + ": header");
    if (!header.is_object()) fail("{}: header is a JSON {} (expected an object)", path, header.type_name());
    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") continue;  // free-form strings, not needed to read tensors
        impl->tensors.push_back(parse_entry(path, name, entry, data_size));
    }
    // The format requires the tensors to tile the data section: no overlap (two tensors sharing bytes)
    // and no gaps (bytes that belong to nothing could hide another file inside this one).
    std::sort(impl->tensors.begin(), impl->tensors.end(), [](const auto& a, const auto& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    uint64_t covered = 0;
    const SafetensorsTensor* previous = nullptr;
    for (const SafetensorsTensor& t : impl->tensors) {
        if (t.begin < covered)
            fail("{}: tensors '{}' (data offsets [{}, {}]) and '{}' ([{}, {}]) overlap", path,
                 printable(previous->name), previous->begin, previous->end, printable(t.name), t.begin,
                 t.end);
        if (t.begin > covered)
            fail(
                "{}: data bytes [{}, {}) before tensor '{}' belong to no tensor (expected tensors to cover "
                "the data section without gaps)",
                path, covered, t.begin, printable(t.name));
        covered = t.end;
        previous = &t;
    }
    if (covered != data_size)
        fail(
            "{}: the last {} bytes of the data section belong to no tensor (tensors end at data byte {}, "
            "the data section has {})",
            path, data_size - covered, covered, data_size);
    for (size_t i = 0; i < impl->tensors.size(); ++i) {
        SafetensorsTensor& t = impl->tensors[i];
        t.data = base + impl->data_offset + t.begin;
        impl->index.emplace(t.name, i);  // JSON object keys are unique, so no name repeats
    }
    return SafetensorsFile(std::move(impl));
}

SafetensorsFile::SafetensorsFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

const std::string& SafetensorsFile::path() const {
    return impl_->path;
}
uint64_t SafetensorsFile::file_size() const {
    return impl_->map.size();
}
uint64_t SafetensorsFile::data_offset() const {
    return impl_->data_offset;
}
std::span<const SafetensorsTensor> SafetensorsFile::tensors() const {
    return impl_->tensors;
}

const SafetensorsTensor* SafetensorsFile::find(std::string_view name) const {
    auto it = impl_->index.find(name);
    return it == impl_->index.end() ? nullptr : &impl_->tensors[it->second];
}

}  // namespace adamas
