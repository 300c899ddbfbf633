// NumPy .npy files (format 1.0–3.0) of float32, float16, int32 and uint16, read and written.
// Every malformed file is an Error naming the path and the problem.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace adamas {

enum class NpyType : uint8_t { f32, f16, i32, u16 };

struct NpyArray {
    NpyType type = NpyType::f32;
    std::vector<int64_t> shape;
    std::vector<uint8_t> data;  // C order, little-endian
    int64_t elements() const;
    std::vector<float> to_f32() const;  // f32 or f16 only
};

NpyArray read_npy(const std::string& path);
// Writes atomically (temporary name, then rename).
void write_npy(const std::string& path, NpyType type, const std::vector<int64_t>& shape, const void* data);

}  // namespace adamas
