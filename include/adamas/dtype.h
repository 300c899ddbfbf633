// Element types of K/V storage (f32, f16, bf16) and exact scalar conversions to and from f32.
#pragma once
#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace adamas {

enum class DType : uint8_t { f32, f16, bf16 };

constexpr int dtype_size(DType t) {
    return t == DType::f32 ? 4 : 2;
}
std::string_view dtype_name(DType t);
DType parse_dtype(std::string_view name);  // "f32" | "f16" | "bf16"; throws Error otherwise

// IEEE binary16 <-> binary32, round to nearest even; NaN and infinities preserved.
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

inline float bf16_to_f32(uint16_t b) {
    return std::bit_cast<float>(uint32_t(b) << 16);
}
inline uint16_t f32_to_bf16(float f) {
    uint32_t u = std::bit_cast<uint32_t>(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // quiet NaN stays NaN
    u += 0x7fffu + ((u >> 16) & 1u);                                         // round to nearest even
    return uint16_t(u >> 16);
}

// Reads element i of a row stored as `t`.
inline float load_element(const void* row, DType t, int64_t i) {
    switch (t) {
        case DType::f32:
            return static_cast<const float*>(row)[i];
        case DType::f16:
            return f16_to_f32(static_cast<const uint16_t*>(row)[i]);
        case DType::bf16:
            return bf16_to_f32(static_cast<const uint16_t*>(row)[i]);
    }
    return 0.0f;
}

// Converts `count` floats into storage type `t`.
void store_row(const float* src, int64_t count, DType t, void* dst);

}  // namespace adamas
