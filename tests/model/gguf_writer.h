// A minimal in-memory GGUF writer for the reader's tests. It records where every field lands so tests
// can corrupt one field at a time, and it writes whatever it is told (bad types, counts, offsets).
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace adamas::test {

namespace gguf_enc {

template <typename T>
std::string scalar(T v) {
    std::string out(sizeof(T), '\0');
    std::memcpy(out.data(), &v, sizeof(T));
    return out;
}

inline std::string str(std::string_view s) {
    return scalar<uint64_t>(s.size()) + std::string(s);
}

// An array value (without its outer type id): element type, count, then the encoded elements.
inline std::string array(uint32_t element_type, uint64_t count, const std::string& elements) {
    return scalar<uint32_t>(element_type) + scalar<uint64_t>(count) + elements;
}

template <typename T>
std::string array_of(uint32_t element_type, const std::vector<T>& values) {
    std::string elements;
    for (const T& v : values)
        elements += scalar<T>(v);
    return array(element_type, values.size(), elements);
}

inline std::string string_array(const std::vector<std::string>& values) {
    std::string elements;
    for (const auto& v : values)
        elements += str(v);
    return array(8, values.size(), elements);
}

}  // namespace gguf_enc

// Value type ids, as in the file.
enum GgufId : uint32_t {
    kU8 = 0,
    kI8 = 1,
    kU16 = 2,
    kI16 = 3,
    kU32 = 4,
    kI32 = 5,
    kF32 = 6,
    kBool = 7,
    kString = 8,
    kArray = 9,
    kU64 = 10,
    kI64 = 11,
    kF64 = 12,
};

class GgufWriter {
  public:
    struct TensorSpec {
        std::string name;
        uint32_t type;
        std::vector<uint64_t> dims;
        std::string data;  // exactly the bytes of the tensor
    };
    // Byte positions of the fields of the last build().
    struct Layout {
        size_t version = 0, tensor_count = 0, kv_count = 0;
        std::vector<size_t> kv_key, kv_type, kv_value;                           // per metadata entry
        std::vector<size_t> t_name, t_n_dims, t_dims, t_type, t_offset, t_data;  // per tensor
        size_t data_start = 0;
    };

    std::string magic = "GGUF";
    uint32_t version = 3;
    uint64_t alignment = 32;  // used for padding; general.alignment is written only via kv()
    bool pad_last_tensor = false;

    // An entry with an encoded value (scalar<T>(), str(), array(...)).
    GgufWriter& kv(std::string_view key, uint32_t type, std::string value) {
        kvs_.push_back({std::string(key), type, std::move(value)});
        return *this;
    }
    GgufWriter& tensor(std::string name, uint32_t type, std::vector<uint64_t> dims, std::string data) {
        tensors_.push_back({std::move(name), type, std::move(dims), std::move(data)});
        return *this;
    }

    std::string build() {
        using namespace gguf_enc;
        layout = {};
        std::string out = magic;
        layout.version = out.size();
        out += scalar<uint32_t>(version);
        layout.tensor_count = out.size();
        out += scalar<uint64_t>(tensors_.size());
        layout.kv_count = out.size();
        out += scalar<uint64_t>(kvs_.size());
        for (const auto& e : kvs_) {
            layout.kv_key.push_back(out.size());
            out += str(e.key);
            layout.kv_type.push_back(out.size());
            out += scalar<uint32_t>(e.type);
            layout.kv_value.push_back(out.size());
            out += e.value;
        }
        std::vector<uint64_t> offsets;
        uint64_t offset = 0;
        for (const auto& t : tensors_) {
            offsets.push_back(offset);
            offset = pad(offset + t.data.size());
        }
        for (size_t i = 0; i < tensors_.size(); ++i) {
            const auto& t = tensors_[i];
            layout.t_name.push_back(out.size());
            out += str(t.name);
            layout.t_n_dims.push_back(out.size());
            out += scalar<uint32_t>(uint32_t(t.dims.size()));
            layout.t_dims.push_back(out.size());
            for (uint64_t d : t.dims)
                out += scalar<uint64_t>(d);
            layout.t_type.push_back(out.size());
            out += scalar<uint32_t>(t.type);
            layout.t_offset.push_back(out.size());
            out += scalar<uint64_t>(offsets[i]);
        }
        out.resize(pad(out.size()), '\0');
        layout.data_start = out.size();
        for (size_t i = 0; i < tensors_.size(); ++i) {
            layout.t_data.push_back(out.size());
            out += tensors_[i].data;
            if (i + 1 < tensors_.size() || pad_last_tensor) out.resize(pad(out.size()), '\0');
        }
        return out;
    }

    Layout layout;

  private:
    struct Entry {
        std::string key;
        uint32_t type;
        std::string value;
    };
    uint64_t pad(uint64_t n) const { return (n + alignment - 1) / alignment * alignment; }

    std::vector<Entry> kvs_;
    std::vector<TensorSpec> tensors_;
};

// Overwrites the little-endian value at `pos` in `bytes`.
template <typename T>
void patch(std::string& bytes, size_t pos, T value) {
    std::memcpy(bytes.data() + pos, &value, sizeof(T));
}

}  // namespace adamas::test
