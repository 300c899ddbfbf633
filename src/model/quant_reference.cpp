// Scalar dequantization of the ggml block formats, written for clarity: the oracle that the fast
// kernels are tested against. Layouts follow ggml's (little-endian, f16 scales).
#include <cstring>

#include "adamas/dtype.h"
#include "adamas/error.h"
#include "adamas/quant.h"

namespace adamas {

namespace {

float half(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return f16_to_f32(h);
}

// Q4_0 / Q4_1: 32 elements; element j in the low nibble of qs[j], element 16 + j in its high nibble.
int nibble32(const uint8_t* qs, int e) {
    return e < 16 ? qs[e] & 15 : qs[e - 16] >> 4;
}

// Q4_K / Q5_K: 6-bit scale and min of sub-block s (0..7) from the 12 packed bytes.
void scale_min_k4(const uint8_t* scales, int s, int& scale, int& min) {
    if (s < 4) {
        scale = scales[s] & 63;
        min = scales[s + 4] & 63;
    } else {
        scale = (scales[s + 4] & 15) | ((scales[s - 4] >> 6) << 4);
        min = (scales[s + 4] >> 4) | ((scales[s] >> 6) << 4);
    }
}

// Q4_K / Q5_K low 4 bits: 32-byte groups; group g holds sub-block 2g in low nibbles, 2g+1 in high.
int nibble256(const uint8_t* qs, int e) {
    const int sub = e / 32, c = e % 32;
    const uint8_t byte = qs[(sub / 2) * 32 + c];
    return sub % 2 ? byte >> 4 : byte & 15;
}

void block_q4_0(const uint8_t* b, float* out) {
    const float d = half(b);
    for (int e = 0; e < 32; ++e)
        out[e] = float(nibble32(b + 2, e) - 8) * d;
}

void block_q4_1(const uint8_t* b, float* out) {
    const float d = half(b), m = half(b + 2);
    for (int e = 0; e < 32; ++e)
        out[e] = float(nibble32(b + 4, e)) * d + m;
}

void block_q8_0(const uint8_t* b, float* out) {
    const float d = half(b);
    for (int e = 0; e < 32; ++e)
        out[e] = float(int8_t(b[2 + e])) * d;
}

void block_q4_k(const uint8_t* b, float* out) {
    const float d = half(b), dmin = half(b + 2);
    const uint8_t* scales = b + 4;
    const uint8_t* qs = b + 16;
    for (int e = 0; e < 256; ++e) {
        int scale, min;
        scale_min_k4(scales, e / 32, scale, min);
        out[e] = d * float(scale) * float(nibble256(qs, e)) - dmin * float(min);
    }
}

void block_q5_k(const uint8_t* b, float* out) {
    const float d = half(b), dmin = half(b + 2);
    const uint8_t* scales = b + 4;
    const uint8_t* qh = b + 16;  // bit s of qh[c]: the fifth bit of element c of sub-block s
    const uint8_t* qs = b + 48;
    for (int e = 0; e < 256; ++e) {
        int scale, min;
        scale_min_k4(scales, e / 32, scale, min);
        const int q = nibble256(qs, e) | (((qh[e % 32] >> (e / 32)) & 1) << 4);
        out[e] = d * float(scale) * float(q) - dmin * float(min);
    }
}

void block_q6_k(const uint8_t* b, float* out) {
    const uint8_t* ql = b;                                          // 128 bytes of low 4 bits
    const uint8_t* qh = b + 128;                                    // 64 bytes of high 2 bits
    const auto* scales = reinterpret_cast<const int8_t*>(b + 192);  // one per 16 elements
    const float d = half(b + 208);
    for (int e = 0; e < 256; ++e) {
        // Rows of 32: each half (128 elements) takes 64 ql bytes (low nibbles, then high nibbles of the
        // same bytes) and 32 qh bytes (2-bit fields at shifts 0, 2, 4, 6).
        const int row = e / 32, c = e % 32, half_index = row / 4, within = row % 4;
        const uint8_t low_byte = ql[64 * half_index + 32 * (within % 2) + c];
        const int low = within / 2 ? low_byte >> 4 : low_byte & 15;
        const int high = (qh[32 * half_index + c] >> (2 * within)) & 3;
        out[e] = d * float(scales[e / 16]) * float((low | (high << 4)) - 32);
    }
}

}  // namespace

bool dequantize_supported(GgmlType type) {
    switch (type) {
        case GgmlType::f32:
        case GgmlType::f16:
        case GgmlType::bf16:
        case GgmlType::q4_0:
        case GgmlType::q4_1:
        case GgmlType::q8_0:
        case GgmlType::q4_k:
        case GgmlType::q5_k:
        case GgmlType::q6_k:
            return true;
        default:
            return false;
    }
}

void dequantize_reference(GgmlType type, const void* blocks, int64_t count, float* out) {
    const auto format = ggml_block(type);
    ADAMAS_ASSERT(dequantize_supported(type) && format && count % format->elements == 0);
    const auto* p = static_cast<const uint8_t*>(blocks);
    const int64_t n_blocks = count / format->elements;
    for (int64_t i = 0; i < n_blocks; ++i, p += format->bytes, out += format->elements) {
        switch (type) {
            case GgmlType::f32:
                std::memcpy(out, p, 4);
                break;
            case GgmlType::f16:
                *out = half(p);
                break;
            case GgmlType::bf16: {
                uint16_t h;
                std::memcpy(&h, p, 2);
                *out = bf16_to_f32(h);
                break;
            }
            case GgmlType::q4_0:
                block_q4_0(p, out);
                break;
            case GgmlType::q4_1:
                block_q4_1(p, out);
                break;
            case GgmlType::q8_0:
                block_q8_0(p, out);
                break;
            case GgmlType::q4_k:
                block_q4_k(p, out);
                break;
            case GgmlType::q5_k:
                block_q5_k(p, out);
                break;
            case GgmlType::q6_k:
                block_q6_k(p, out);
                break;
            default:
                ADAMAS_ASSERT(false && "unsupported type");
        }
    }
}

}  // namespace adamas
