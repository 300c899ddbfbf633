// Hugging Face safetensors files read through a read-only memory map, alone or as the shards of a
// checkpoint directory. Every header entry (dtype, shape, data offsets) is checked against the real file
// size before anything points into the file, so a corrupt or truncated file is an Error naming the file,
// the tensor, what was wrong and what was expected — never a crash.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace adamas {

// Element types of the format, named in the header as "F32", "BF16", "I64", ...
enum class SafetensorsDtype : uint8_t {
    boolean,
    u8,
    i8,
    f8_e4m3,
    f8_e5m2,
    i16,
    u16,
    f16,
    bf16,
    i32,
    u32,
    f32,
    f64,
    i64,
    u64,
};
std::string_view safetensors_dtype_name(SafetensorsDtype t);  // as in the header: "BF16"
int safetensors_dtype_size(SafetensorsDtype t);               // bytes per element
std::optional<SafetensorsDtype> parse_safetensors_dtype(std::string_view name);

struct SafetensorsTensor {
    std::string name;
    SafetensorsDtype dtype = SafetensorsDtype::f32;
    std::vector<int64_t> shape;  // outermost first (row-major); empty for a scalar
    int64_t elements = 0;
    uint64_t begin = 0, end = 0;  // byte range within the data section (after the header)
    const uint8_t* data = nullptr;

    uint64_t bytes() const { return end - begin; }
};

class SafetensorsFile {
  public:
    // Maps and validates the whole file: an 8-byte little-endian header length, a JSON object of
    // name -> {dtype, shape, data_offsets} ("__metadata__" is ignored), and a data section that the
    // tensors cover exactly, without gaps or overlaps (as the format requires). Error otherwise.
    static SafetensorsFile open(const std::string& path);

    SafetensorsFile(SafetensorsFile&&) noexcept;
    SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
    ~SafetensorsFile();

    const std::string& path() const;
    uint64_t file_size() const;
    uint64_t data_offset() const;  // 8 + the header length

    std::span<const SafetensorsTensor> tensors() const;          // in data order
    const SafetensorsTensor* find(std::string_view name) const;  // nullptr when absent

  private:
    struct Impl;
    explicit SafetensorsFile(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// The tensors of a Hugging Face checkpoint directory: `model.safetensors`, or else the shards that
// `model.safetensors.index.json` lists in its weight_map. The index must agree with the shards (every
// tensor it lists is in the shard it names, shards are plain file names inside the directory), and no
// tensor may appear in two shards.
class SafetensorsCheckpoint {
  public:
    // Error naming the directory when it holds neither file, or naming the file that is malformed.
    static SafetensorsCheckpoint open(const std::string& directory);

    SafetensorsCheckpoint(SafetensorsCheckpoint&&) noexcept;
    SafetensorsCheckpoint& operator=(SafetensorsCheckpoint&&) noexcept;
    ~SafetensorsCheckpoint();

    const std::string& directory() const;
    std::span<const SafetensorsFile> files() const;
    const SafetensorsTensor* find(std::string_view name) const;  // nullptr when absent
    // The path of the file that holds `name` (which must be present), for messages.
    const std::string& file_of(std::string_view name) const;

  private:
    struct Impl;
    explicit SafetensorsCheckpoint(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace adamas
