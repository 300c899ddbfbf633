// GGUF (llama.cpp model file, versions 2 and 3) read through a read-only memory map. Every count,
// length, offset and size in the file is checked against the file size before it is used, so a corrupt
// or hostile file is an Error naming the path and the problem — never a crash or a huge allocation.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adamas/ggml_types.h"

namespace adamas {

// Metadata value types, numbered as in the file.
enum class GgufValueType : uint32_t {
    u8 = 0,
    i8 = 1,
    u16 = 2,
    i16 = 3,
    u32 = 4,
    i32 = 5,
    f32 = 6,
    boolean = 7,
    string = 8,
    array = 9,
    u64 = 10,
    i64 = 11,
    f64 = 12,
};
std::string_view gguf_value_type_name(GgufValueType t);  // "u32", "string", ...; "type 13" when unknown

// One metadata value. Strings and scalar arrays point into the mapping (zero copy) and stay valid as
// long as the GgufFile that owns them.
class GgufValue {
  public:
    GgufValueType type() const { return type_; }
    bool is_integer() const;  // u8 … i64 (not bool)

    // Scalars. Integer conversions succeed only when the value fits; floats convert between f32 and f64.
    std::optional<int64_t> to_i64() const;
    std::optional<uint64_t> to_u64() const;
    std::optional<double> to_f64() const;  // f32 or f64 only
    std::optional<bool> to_bool() const;
    std::optional<std::string_view> to_string() const;

    // Arrays: element type, length, and elements by index (same conversions as the scalars).
    GgufValueType element_type() const { return element_type_; }
    uint64_t size() const { return count_; }
    std::optional<int64_t> i64_at(uint64_t i) const;
    std::optional<uint64_t> u64_at(uint64_t i) const;
    std::optional<double> f64_at(uint64_t i) const;
    std::span<const std::string_view> strings() const { return strings_; }  // arrays of strings
    std::span<const GgufValue> items() const { return items_; }             // arrays of arrays

    // A short human-readable rendering: `576`, `"llama"`, `[string × 49152: "<|endoftext|>", ...]`.
    std::string summary(size_t max_items = 3) const;

  private:
    friend class GgufParser;
    GgufValueType type_ = GgufValueType::u8;
    GgufValueType element_type_ = GgufValueType::u8;  // arrays only
    uint64_t bits_ = 0;                               // scalar payload, zero-extended
    uint64_t count_ = 0;                              // arrays only
    const uint8_t* data_ = nullptr;                   // string bytes, or the first element of a scalar array
    std::vector<std::string_view> strings_;
    std::vector<GgufValue> items_;
};

struct GgufKeyValue {
    std::string key;
    GgufValue value;
};

struct GgufTensor {
    std::string name;
    GgmlType type = GgmlType::f32;
    int n_dims = 0;
    std::array<int64_t, 4> ne{1, 1, 1, 1};  // ggml order: ne[0] varies fastest; unused dims are 1
    int64_t elements = 0;
    int64_t bytes = 0;
    uint64_t offset = 0;  // from the start of the data section
    const uint8_t* data = nullptr;

    std::span<const int64_t> dims() const { return {ne.data(), size_t(n_dims)}; }
};

class GgufFile {
  public:
    // Maps and validates the whole file; throws Error on anything malformed.
    static GgufFile open(const std::string& path);

    GgufFile(GgufFile&&) noexcept;
    GgufFile& operator=(GgufFile&&) noexcept;
    ~GgufFile();

    const std::string& path() const;
    uint32_t version() const;
    uint64_t file_size() const;
    uint64_t alignment() const;    // general.alignment, 32 when absent
    uint64_t data_offset() const;  // start of the tensor data section
    const uint8_t* mapping() const;

    // Metadata, in file order.
    std::span<const GgufKeyValue> metadata() const;
    const GgufValue* find(std::string_view key) const;  // nullptr when absent
    bool has(std::string_view key) const { return find(key) != nullptr; }

    // Typed getters: Error (path, key, what was found, what was expected) when the key is absent or its
    // value does not convert losslessly. The overloads with a fallback return it only when absent.
    std::string get_string(std::string_view key) const;
    uint32_t get_u32(std::string_view key) const;
    int32_t get_i32(std::string_view key) const;
    uint64_t get_u64(std::string_view key) const;
    int64_t get_i64(std::string_view key) const;
    float get_f32(std::string_view key) const;
    double get_f64(std::string_view key) const;
    bool get_bool(std::string_view key) const;
    std::string get_string(std::string_view key, std::string_view fallback) const;
    uint32_t get_u32(std::string_view key, uint32_t fallback) const;
    int64_t get_i64(std::string_view key, int64_t fallback) const;
    float get_f32(std::string_view key, float fallback) const;
    bool get_bool(std::string_view key, bool fallback) const;

    std::vector<std::string> get_string_array(std::string_view key) const;
    std::vector<float> get_f32_array(std::string_view key) const;
    std::vector<int32_t> get_i32_array(std::string_view key) const;
    std::vector<int64_t> get_i64_array(std::string_view key) const;
    std::vector<uint32_t> get_u32_array(std::string_view key) const;

    // Tensors, in file order.
    std::span<const GgufTensor> tensors() const;
    const GgufTensor* find_tensor(std::string_view name) const;  // nullptr when absent
    const GgufTensor& tensor(std::string_view name) const;       // Error when absent

  private:
    friend class GgufParser;
    struct Impl;
    explicit GgufFile(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace adamas
