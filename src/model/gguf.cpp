// GGUF v2/v3 parser over a read-only memory map. The file is untrusted: every length and count is
// checked against the bytes that remain before anything is allocated or read, and every tensor's data
// must lie, aligned and without overlap, inside the data section.
#include "adamas/gguf.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "adamas/error.h"
#include "core/mapped_file.h"
#include "model/gguf_internal.h"

namespace adamas {

using gguf_detail::printable;
using gguf_detail::scalar_bits;
using gguf_detail::scalar_size;

namespace {

constexpr uint32_t kDefaultAlignment = 32;
// Arrays of arrays recurse; a hostile file must not be able to exhaust the stack.
constexpr int kMaxArrayDepth = 16;
constexpr int kMaxDims = 4;
// Smallest possible encodings, used to bound counts by the bytes left before allocating anything.
constexpr uint64_t kMinKeyValueBytes = 8 + 4 + 1;        // key length, value type, a 1-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // name length, n_dims, type, offset
constexpr uint64_t kMinArrayItemBytes = 4 + 8;           // nested array: element type, count
constexpr uint64_t kMinStringBytes = 8;                  // length
// Sanity limits far above any real model (which has tens of metadata keys and a few thousand tensors),
// so that a corrupt count fails at once instead of sizing allocations by the file's tensor data.
constexpr uint64_t kMaxKeyValues = uint64_t(1) << 16;
constexpr uint64_t kMaxTensors = uint64_t(1) << 16;
constexpr uint64_t kMaxNestedArrayItems = uint64_t(1) << 18;  // elements of arrays of arrays, all together
constexpr uint64_t kMaxReserve = uint64_t(1) << 16;           // longer string arrays grow as they are read

}  // namespace

struct GgufFile::Impl {
    std::string path;
    MappedFile map;  // the whole file; unmapped when the GgufFile goes away
    uint32_t version = 0;
    uint64_t alignment = kDefaultAlignment;
    uint64_t data_offset = 0;
    std::vector<GgufKeyValue> metadata;
    std::unordered_map<std::string_view, size_t> key_index;  // views of metadata[i].key
    std::vector<GgufTensor> tensors;
    std::unordered_map<std::string_view, size_t> tensor_index;  // views of tensors[i].name
};

// Reads the header, metadata and tensor infos into an Impl, checking as it goes.
class GgufParser {
  public:
    explicit GgufParser(GgufFile::Impl& out)
        : out_(out), path_(out.path), base_(out.map.data()), size_(out.map.size()) {}

    void parse() {
        parse_header();
        parse_metadata();
        parse_alignment();
        parse_tensor_infos();
        place_tensors();
    }

  private:
    uint64_t remaining() const { return size_ - pos_; }

    // Where the parser is, for messages: "in the header", "in metadata key 'x'", "in tensor 3 ('y')".
    std::string where() const {
        if (!key_.empty() || section_ == Section::metadata)
            return key_.empty() ? fmt::format("in metadata entry {}", index_)
                                : fmt::format("in metadata key '{}'", printable(key_));
        if (section_ == Section::tensors)
            return name_.empty() ? fmt::format("in tensor info {}", index_)
                                 : fmt::format("in tensor info {} ('{}')", index_, printable(name_));
        return "in the header";
    }

    void need(uint64_t bytes, std::string_view what) const {
        if (bytes > remaining())
            fail("{}: truncated {}: {} at byte {} needs {} bytes, but the file ends at byte {}", path_,
                 where(), what, pos_, bytes, size_);
    }

    template <typename T>
    T read(std::string_view what) {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, base_ + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }

    std::string_view read_string(std::string_view what) {
        const uint64_t start = pos_;
        const auto length = read<uint64_t>(what);
        if (length > remaining())
            fail("{}: {} {} at byte {} claims {} bytes, but only {} bytes remain in the file ({} bytes)",
                 path_, what, where(), start, length, remaining(), size_);
        std::string_view s(reinterpret_cast<const char*>(base_ + pos_), length);
        pos_ += length;
        return s;
    }

    GgufValueType read_value_type(std::string_view what) {
        const uint64_t start = pos_;
        const auto id = read<uint32_t>(what);
        if (id >= gguf_detail::kValueTypeCount)
            fail(
                "{}: unknown {} {} {} at byte {} (expected 0..12: u8, i8, u16, i16, u32, i32, f32, bool, "
                "string, array, u64, i64, f64)",
                path_, what, id, where(), start);
        return GgufValueType(id);
    }

    void parse_header() {
        if (size_ < 4 || std::memcmp(base_, "GGUF", 4) != 0)
            fail("{}: not a GGUF file (the first 4 bytes are not \"GGUF\", file is {} bytes)", path_, size_);
        pos_ = 4;
        const auto version = read<uint32_t>("the version");
        if (version == 1)
            fail("{}: GGUF version 1 is not supported (expected version 2 or 3; re-convert the model)",
                 path_);
        if (version == 0x02000000u || version == 0x03000000u)
            fail(
                "{}: big-endian GGUF (version {} byte-swapped) is not supported (expected a little-endian "
                "file)",
                path_, __builtin_bswap32(version));
        if (version != 2 && version != 3)
            fail("{}: unsupported GGUF version {} (expected 2 or 3)", path_, version);
        out_.version = version;
        tensor_count_ = read<uint64_t>("the tensor count");
        kv_count_ = read<uint64_t>("the metadata count");
        // Each count is bounded by the bytes left, so the sum below cannot overflow.
        if (tensor_count_ > remaining() / kMinTensorInfoBytes)
            fail(
                "{}: tensor count {} cannot fit: tensor infos need at least {} bytes each, but only {} bytes "
                "follow the header (truncated file or corrupt count)",
                path_, tensor_count_, kMinTensorInfoBytes, remaining());
        if (kv_count_ > remaining() / kMinKeyValueBytes ||
            kv_count_ * kMinKeyValueBytes + tensor_count_ * kMinTensorInfoBytes > remaining())
            fail(
                "{}: metadata count {} cannot fit: entries need at least {} bytes each and {} tensor "
                "infos {} more, but only {} bytes follow the header (truncated file or corrupt count)",
                path_, kv_count_, kMinKeyValueBytes, tensor_count_, kMinTensorInfoBytes, remaining());
        // The indexes below hold views of the keys and names: both vectors are reserved once, whole.
        if (tensor_count_ > kMaxTensors)
            fail("{}: tensor count {} is more than the {} this reader accepts (corrupt count?)", path_,
                 tensor_count_, kMaxTensors);
        if (kv_count_ > kMaxKeyValues)
            fail("{}: metadata count {} is more than the {} this reader accepts (corrupt count?)", path_,
                 kv_count_, kMaxKeyValues);
    }

    void parse_metadata() {
        section_ = Section::metadata;
        out_.metadata.reserve(kv_count_);
        out_.key_index.reserve(kv_count_);
        for (uint64_t i = 0; i < kv_count_; ++i) {
            index_ = i;
            key_ = {};
            const std::string_view key = read_string("the key");
            key_ = key;
            GgufKeyValue& kv = out_.metadata.emplace_back();
            kv.key = std::string(key);
            const GgufValueType type = read_value_type("value type");
            parse_value(type, kv.value, 0);
            if (!out_.key_index.emplace(kv.key, i).second)
                fail("{}: metadata key '{}' appears twice (entries {} and {}; keys must be unique)", path_,
                     printable(key), out_.key_index[kv.key], i);
        }
        key_ = {};
    }

    void parse_value(GgufValueType type, GgufValue& v, int depth) {
        v.type_ = type;
        if (const int bytes = scalar_size(type)) {
            need(uint64_t(bytes), gguf_value_type_name(type));
            v.bits_ = scalar_bits(type, base_ + pos_);
            if (type == GgufValueType::boolean && v.bits_ > 1)
                fail("{}: bool value {} {} at byte {} (expected 0 or 1)", path_, v.bits_, where(), pos_);
            pos_ += uint64_t(bytes);
        } else if (type == GgufValueType::string) {
            const std::string_view s = read_string("string");
            v.data_ = reinterpret_cast<const uint8_t*>(s.data());
            v.count_ = s.size();
        } else {
            parse_array(v, depth);
        }
    }

    void parse_array(GgufValue& v, int depth) {
        if (depth >= kMaxArrayDepth)
            fail("{}: arrays nested more than {} deep {} at byte {} (expected flatter metadata)", path_,
                 kMaxArrayDepth, where(), pos_);
        const uint64_t start = pos_;
        v.element_type_ = read_value_type("array element type");
        v.count_ = read<uint64_t>("array length");
        const int scalar = scalar_size(v.element_type_);
        const uint64_t min_bytes = scalar                                     ? uint64_t(scalar)
                                   : v.element_type_ == GgufValueType::string ? kMinStringBytes
                                                                              : kMinArrayItemBytes;
        if (v.count_ > remaining() / min_bytes)
            fail(
                "{}: array of {} {} elements {} at byte {} needs at least {} bytes per element, but only {} "
                "bytes remain in the file",
                path_, v.count_, gguf_value_type_name(v.element_type_), where(), start, min_bytes,
                remaining());
        if (scalar) {
            v.data_ = base_ + pos_;
            if (v.element_type_ == GgufValueType::boolean)
                for (uint64_t i = 0; i < v.count_; ++i)
                    if (v.data_[i] > 1)
                        fail("{}: element {} of a bool array {} is {} (expected 0 or 1)", path_, i, where(),
                             v.data_[i]);
            pos_ += v.count_ * uint64_t(scalar);
        } else if (v.element_type_ == GgufValueType::string) {
            v.strings_.reserve(std::min(v.count_, kMaxReserve));
            for (uint64_t i = 0; i < v.count_; ++i)
                v.strings_.push_back(read_string("string array element"));
        } else {
            nested_items_ += v.count_;
            if (nested_items_ > kMaxNestedArrayItems)
                fail(
                    "{}: arrays of arrays {} at byte {} hold more than {} elements in all (expected flatter "
                    "metadata)",
                    path_, where(), start, kMaxNestedArrayItems);
            v.items_.resize(v.count_);
            for (uint64_t i = 0; i < v.count_; ++i) {
                v.items_[i].element_type_ = GgufValueType::u8;
                parse_value(GgufValueType::array, v.items_[i], depth + 1);
            }
        }
    }

    void parse_alignment() {
        auto it = out_.key_index.find("general.alignment");
        if (it == out_.key_index.end()) return;
        const GgufValue& v = out_.metadata[it->second].value;
        const std::optional<uint64_t> a = v.to_u64();
        if (!a || *a == 0 || *a > (uint64_t(1) << 30) || (*a & (*a - 1)) != 0)
            fail(
                "{}: general.alignment is {} {} (expected a power of two up to 2^30, as an unsigned integer)",
                path_, gguf_value_type_name(v.type()), v.summary());
        out_.alignment = *a;
    }

    void parse_tensor_infos() {
        section_ = Section::tensors;
        out_.tensors.reserve(tensor_count_);
        out_.tensor_index.reserve(tensor_count_);
        for (uint64_t i = 0; i < tensor_count_; ++i) {
            index_ = i;
            name_ = {};
            GgufTensor& t = out_.tensors.emplace_back();
            name_ = read_string("the tensor name");
            t.name = std::string(name_);
            const std::string shown = printable(name_);
            const auto n_dims = read<uint32_t>("n_dims");
            if (n_dims > uint32_t(kMaxDims))
                fail("{}: tensor '{}' has {} dimensions (expected at most {})", path_, shown, n_dims,
                     kMaxDims);
            t.n_dims = int(n_dims);
            int64_t elements = 1;
            for (uint32_t d = 0; d < n_dims; ++d) {
                const auto dim = read<uint64_t>("a dimension");
                if (dim == 0 || dim > uint64_t(std::numeric_limits<int64_t>::max()))
                    fail("{}: tensor '{}' has dimension ne[{}] = {} (expected 1 to 2^63-1)", path_, shown, d,
                         dim);
                if (elements > std::numeric_limits<int64_t>::max() / int64_t(dim))
                    fail("{}: tensor '{}' has more than 2^63-1 elements (dimensions overflow at ne[{}] = {})",
                         path_, shown, d, dim);
                t.ne[d] = int64_t(dim);
                elements *= int64_t(dim);
            }
            t.elements = elements;
            const auto type_id = read<uint32_t>("the tensor type");
            t.type = GgmlType(type_id);
            const std::optional<GgmlBlock> block = ggml_block(t.type);
            if (!block)
                fail(
                    "{}: tensor '{}' has unknown ggml type {} (its size cannot be computed; expected a known "
                    "type such as 0 f32, 1 f16, 2 q4_0, 3 q4_1, 8 q8_0, 12 q4_K, 14 q6_K, 30 bf16)",
                    path_, shown, type_id);
            if (t.ne[0] % block->elements != 0)
                fail("{}: tensor '{}' of type {} has ne[0] = {}, not a multiple of the block size {}", path_,
                     shown, ggml_type_name(t.type), t.ne[0], block->elements);
            const int64_t blocks = elements / block->elements;
            if (blocks > std::numeric_limits<int64_t>::max() / block->bytes)
                fail("{}: tensor '{}' of type {} with {} elements needs more than 2^63-1 bytes", path_, shown,
                     ggml_type_name(t.type), elements);
            t.bytes = blocks * block->bytes;
            t.offset = read<uint64_t>("the tensor data offset");
            if (t.offset % out_.alignment != 0)
                fail("{}: tensor '{}' has data offset {}, not a multiple of the alignment {}", path_, shown,
                     t.offset, out_.alignment);
            if (!out_.tensor_index.emplace(t.name, i).second)
                fail("{}: tensor name '{}' appears twice (tensors {} and {}; names must be unique)", path_,
                     shown, out_.tensor_index[t.name], i);
        }
        section_ = Section::data;
        name_ = {};
    }

    void place_tensors() {
        // The data section starts at the next multiple of the alignment; pos_ <= size_ < 2^63.
        out_.data_offset = (pos_ + out_.alignment - 1) / out_.alignment * out_.alignment;
        if (out_.tensors.empty()) return;
        if (out_.data_offset > size_)
            fail(
                "{}: truncated: the tensor data section should start at byte {}, but the file ends at byte "
                "{}",
                path_, out_.data_offset, size_);
        const uint64_t data_size = size_ - out_.data_offset;
        for (GgufTensor& t : out_.tensors) {
            if (t.offset > data_size) {
                uint64_t start = 0;
                if (__builtin_add_overflow(out_.data_offset, t.offset, &start))
                    fail("{}: tensor '{}' starts at data offset {}, past the end of the file ({} bytes)",
                         path_, printable(t.name), t.offset, size_);
                fail(
                    "{}: tensor '{}' starts at byte {} (data offset {}), past the end of the file ({} bytes)",
                    path_, printable(t.name), start, t.offset, size_);
            }
            // Offset and data offset are at most the file size (far below 2^62) and bytes < 2^63: no
            // overflow.
            if (uint64_t(t.bytes) > data_size - t.offset)
                fail("{}: tensor '{}' ends at byte {}, past the end of the file ({} bytes)", path_,
                     printable(t.name), out_.data_offset + t.offset + uint64_t(t.bytes), size_);
            t.data = base_ + out_.data_offset + t.offset;
        }
        std::vector<size_t> order(out_.tensors.size());
        std::iota(order.begin(), order.end(), size_t(0));
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t a, size_t b) { return out_.tensors[a].offset < out_.tensors[b].offset; });
        for (size_t i = 1; i < order.size(); ++i) {
            const GgufTensor& prev = out_.tensors[order[i - 1]];
            const GgufTensor& cur = out_.tensors[order[i]];
            if (prev.offset + uint64_t(prev.bytes) > cur.offset)
                fail("{}: tensors '{}' (data offsets {}..{}) and '{}' (from {}) overlap", path_,
                     printable(prev.name), prev.offset, prev.offset + uint64_t(prev.bytes),
                     printable(cur.name), cur.offset);
        }
    }

    enum class Section { header, metadata, tensors, data };

    GgufFile::Impl& out_;
    const std::string& path_;
    const uint8_t* base_;
    uint64_t size_;
    uint64_t pos_ = 0;
    uint64_t tensor_count_ = 0;
    uint64_t nested_items_ = 0;
    uint64_t kv_count_ = 0;
    Section section_ = Section::header;
    uint64_t index_ = 0;
    std::string_view key_;   // the metadata key being parsed, for messages
    std::string_view name_;  // the tensor being parsed, for messages
};

GgufFile GgufFile::open(const std::string& path) {
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->map = MappedFile::open(path, "GGUF file");
    GgufParser(*impl).parse();
    return GgufFile(std::move(impl));
}

GgufFile::GgufFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;
GgufFile::~GgufFile() = default;

const std::string& GgufFile::path() const {
    return impl_->path;
}
uint32_t GgufFile::version() const {
    return impl_->version;
}
uint64_t GgufFile::file_size() const {
    return impl_->map.size();
}
uint64_t GgufFile::alignment() const {
    return impl_->alignment;
}
uint64_t GgufFile::data_offset() const {
    return impl_->data_offset;
}
const uint8_t* GgufFile::mapping() const {
    return impl_->map.data();
}
std::span<const GgufKeyValue> GgufFile::metadata() const {
    return impl_->metadata;
}
std::span<const GgufTensor> GgufFile::tensors() const {
    return impl_->tensors;
}

const GgufValue* GgufFile::find(std::string_view key) const {
    auto it = impl_->key_index.find(key);
    return it == impl_->key_index.end() ? nullptr : &impl_->metadata[it->second].value;
}

const GgufTensor* GgufFile::find_tensor(std::string_view name) const {
    auto it = impl_->tensor_index.find(name);
    return it == impl_->tensor_index.end() ? nullptr : &impl_->tensors[it->second];
}

const GgufTensor& GgufFile::tensor(std::string_view name) const {
    if (const GgufTensor* t = find_tensor(name)) return *t;
    fail("{}: tensor '{}' is missing (the file has {} tensors)", impl_->path, printable(name),
         impl_->tensors.size());
}

}  // namespace adamas
