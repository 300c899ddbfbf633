// A whole file mapped read-only into memory, for the model readers (GGUF, safetensors): opening checks
// that the path is a non-empty regular file, and errors name the path and what kind of file was expected.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace adamas {

class MappedFile {
  public:
    // Maps `path`; Error "<path>: ... (expected a <kind>)" when it is missing, a directory, empty or
    // cannot be mapped.
    static MappedFile open(const std::string& path, std::string_view kind);

    MappedFile() = default;
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    const uint8_t* data() const { return data_; }
    uint64_t size() const { return size_; }

  private:
    const uint8_t* data_ = nullptr;
    uint64_t size_ = 0;
};

}  // namespace adamas
