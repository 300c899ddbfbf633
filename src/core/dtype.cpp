// Scalar conversions between f32 and the 16-bit storage types, and dtype names.
#include "adamas/dtype.h"

#include "adamas/error.h"

namespace adamas {

std::string_view dtype_name(DType t) {
    switch (t) {
        case DType::f32:
            return "f32";
        case DType::f16:
            return "f16";
        case DType::bf16:
            return "bf16";
    }
    return "?";
}

DType parse_dtype(std::string_view name) {
    if (name == "f32" || name == "float32") return DType::f32;
    if (name == "f16" || name == "float16") return DType::f16;
    if (name == "bf16" || name == "bfloat16") return DType::bf16;
    fail_usage("unknown dtype '{}' (expected f32, f16 or bf16)", name);
}

float f16_to_f32(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1fu;
    uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));  // inf, NaN
    if (exponent != 0) return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
    if (mantissa == 0) return std::bit_cast<float>(sign);
    // Subnormal half: value = mantissa * 2^-24, exact in f32.
    const float magnitude = float(mantissa) * 0x1p-24f;
    return sign ? -magnitude : magnitude;
}

uint16_t f32_to_f16(float f) {
    const uint32_t u = std::bit_cast<uint32_t>(f);
    const uint16_t sign = uint16_t((u >> 16) & 0x8000u);
    const uint32_t abs = u & 0x7fffffffu;
    if (abs > 0x7f800000u) return uint16_t(sign | 0x7e00u);   // NaN
    if (abs >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // rounds to >= 65520: infinity
    if (abs < 0x38800000u) {
        // Result is subnormal or zero: round abs * 2^24 to the nearest integer, ties to even.
        const float scaled = std::bit_cast<float>(abs) * 0x1p24f;
        const uint32_t whole = uint32_t(scaled);
        const float rest = scaled - float(whole);
        uint32_t rounded = whole + ((rest > 0.5f || (rest == 0.5f && (whole & 1u))) ? 1u : 0u);
        return uint16_t(sign | rounded);
    }
    // Normal: rebias the exponent, round the 13 dropped mantissa bits to nearest even.
    uint32_t bits = abs - (112u << 23);
    bits += 0xfffu + ((bits >> 13) & 1u);
    return uint16_t(sign | (bits >> 13));
}

void store_row(const float* src, int64_t count, DType t, void* dst) {
    switch (t) {
        case DType::f32:
            std::memcpy(dst, src, size_t(count) * 4);
            return;
        case DType::f16: {
            auto* out = static_cast<uint16_t*>(dst);
            for (int64_t i = 0; i < count; ++i)
                out[i] = f32_to_f16(src[i]);
            return;
        }
        case DType::bf16: {
            auto* out = static_cast<uint16_t*>(dst);
            for (int64_t i = 0; i < count; ++i)
                out[i] = f32_to_bf16(src[i]);
            return;
        }
    }
}

}  // namespace adamas
