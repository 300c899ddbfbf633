// Activation quantization, the 16-row packing of Q4_0/Q4_1/Q8_0 weights, and the scalar reference of
// the packed products (src/cpu/packed_matvec_hwy.cpp is the fast path).
#include "adamas/packed_matvec.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "adamas/dtype.h"
#include "adamas/error.h"

namespace adamas {

namespace {

constexpr int kBlock = 32;
constexpr int kGroup = PackedMatrix::kGroupRows;

float f16_round(float v) {
    return f16_to_f32(f32_to_f16(v));
}

float load_f16(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return f16_to_f32(h);
}

// Source block layout: bytes of a block, offset of its codes, and whether it has an m field.
struct SourceBlock {
    int bytes;
    int codes;
};

SourceBlock source_block(GgmlType type) {
    switch (type) {
        case GgmlType::q4_0:
            return {18, 2};
        case GgmlType::q4_1:
            return {20, 4};
        case GgmlType::q8_0:
            return {34, 2};
        default:
            fail("packed matvec: type {} cannot be packed (expected q4_0, q4_1 or q8_0)",
                 ggml_type_name(type));
    }
}

}  // namespace

void quantize_vector(const float* x, int64_t cols, QuantizedVector& out) {
    ADAMAS_ASSERT(cols % kBlock == 0);
    const int64_t blocks = cols / kBlock;
    out.cols = cols;
    out.q.resize(size_t(cols));
    out.d.resize(size_t(blocks));
    out.sum.resize(size_t(blocks));
    out.d_sum.resize(size_t(blocks));
    for (int64_t b = 0; b < blocks; ++b) {
        const float* xb = x + b * kBlock;
        float amax = 0;
        for (int i = 0; i < kBlock; ++i)
            amax = std::max(amax, std::fabs(xb[i]));
        const float d = amax / 127.0f;
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        int32_t sum = 0;
        for (int i = 0; i < kBlock; ++i) {
            // Nearest, ties to even (the default rounding mode), as llama.cpp's vector quantizer.
            const int q = int(std::nearbyint(xb[i] * id));
            out.q[size_t(b * kBlock + i)] = int8_t(q);
            sum += q;
        }
        out.d[size_t(b)] = f16_round(d);
        out.sum[size_t(b)] = sum;
        out.d_sum[size_t(b)] = f16_round(d * float(sum));
    }
}

bool PackedMatrix::packable(GgmlType type) {
    return type == GgmlType::q4_0 || type == GgmlType::q4_1 || type == GgmlType::q8_0;
}

namespace {

// The layout's sizes for a type and shape (data left null).
PackedMatrix layout(GgmlType type, int64_t rows, int64_t cols) {
    source_block(type);  // Error for types that cannot be packed
    if (cols % kBlock != 0 || cols <= 0 || rows <= 0)
        fail("packed matvec: a {}×{} matrix cannot be packed (columns must be a positive multiple of 32)",
             rows, cols);
    const bool q8 = type == GgmlType::q8_0;
    PackedMatrix m;
    m.type = type;
    m.rows = rows;
    m.cols = cols;
    m.blocks = cols / kBlock;
    m.code_bytes = q8 ? 8 * 64 : 4 * 64;
    m.scale_bytes = q8 ? 2 * kGroup : 4 * kGroup;
    m.group_bytes = (m.blocks * (m.code_bytes + m.scale_bytes) + 63) / 64 * 64;
    return m;
}

}  // namespace

int64_t PackedMatrix::packed_bytes(GgmlType type, int64_t rows, int64_t cols) {
    const PackedMatrix m = layout(type, rows, cols);
    return m.groups() * m.group_bytes;
}

PackedMatrix PackedMatrix::pack(GgmlType type, const void* weights, int64_t rows, int64_t cols,
                                uint8_t* destination) {
    const SourceBlock src = source_block(type);
    PackedMatrix m = layout(type, rows, cols);
    const bool q8 = type == GgmlType::q8_0;
    const size_t bytes = size_t(m.groups() * m.group_bytes);
    if (!destination) {
        m.owned.reset(static_cast<uint8_t*>(std::aligned_alloc(64, bytes)), [](uint8_t* p) { std::free(p); });
        if (!m.owned) fail("packed matvec: cannot allocate {} bytes", bytes);
        destination = m.owned.get();
    }
    ADAMAS_ASSERT(reinterpret_cast<uintptr_t>(destination) % 64 == 0);
    std::memset(destination, 0, bytes);  // padding rows: codes 0, scales +0
    m.data = destination;
    uint8_t* out = destination;
    const auto* in = static_cast<const uint8_t*>(weights);
    const int64_t row_stride = m.blocks * src.bytes;
    for (int64_t g = 0; g < m.groups(); ++g)
        for (int64_t b = 0; b < m.blocks; ++b) {
            uint8_t* dst = out + g * m.group_bytes + b * m.code_bytes;
            uint8_t* scales = out + g * m.group_bytes + m.blocks * m.code_bytes + b * m.scale_bytes;
            const int words = q8 ? 8 : 4;  // 4-byte words of codes per row and block
            for (int r = 0; r < kGroup; ++r) {
                const int64_t row = g * kGroup + r;
                if (row >= rows) break;
                const uint8_t* block = in + row * row_stride + b * src.bytes;
                for (int j = 0; j < words; ++j)
                    for (int i = 0; i < 4; ++i) {
                        const uint8_t code = block[src.codes + 4 * j + i];
                        dst[j * 64 + r * 4 + i] = q8 ? uint8_t(code ^ 0x80) : code;
                    }
                std::memcpy(scales + 2 * r, block, 2);  // d
                if (!q8) {
                    uint16_t m_bits;
                    if (type == GgmlType::q4_1) {
                        std::memcpy(&m_bits, block + 2, 2);
                    } else {
                        m_bits = f32_to_f16(-8.0f * load_f16(block));  // exact: a power-of-two multiple
                    }
                    std::memcpy(scales + 2 * kGroup + 2 * r, &m_bits, 2);
                }
            }
        }
    return m;
}

void packed_matvec_reference(GgmlType type, const void* weights, int64_t cols, const QuantizedVector& x,
                             int64_t row_begin, int64_t row_end, float* y) {
    const SourceBlock src = source_block(type);
    ADAMAS_ASSERT(x.cols == cols);
    const int64_t blocks = cols / kBlock;
    const auto* in = static_cast<const uint8_t*>(weights);
    for (int64_t r = row_begin; r < row_end; ++r) {
        float acc = 0;
        for (int64_t b = 0; b < blocks; ++b) {
            const uint8_t* block = in + (r * blocks + b) * src.bytes;
            const int8_t* q = x.q.data() + b * kBlock;
            int32_t dot = 0;
            if (type == GgmlType::q8_0) {
                for (int i = 0; i < kBlock; ++i)
                    dot += int32_t(int8_t(block[src.codes + i])) * q[i];
            } else {
                for (int i = 0; i < 16; ++i) {
                    const uint8_t byte = block[src.codes + i];
                    dot += int32_t(byte & 15) * q[i] + int32_t(byte >> 4) * q[16 + i];
                }
            }
            const float d = load_f16(block);
            acc = std::fma(float(dot), d * x.d[size_t(b)], acc);
            if (type == GgmlType::q4_1) acc = std::fma(load_f16(block + 2), x.d_sum[size_t(b)], acc);
            if (type == GgmlType::q4_0)
                acc = std::fma(f16_round(-8.0f * d), x.d[size_t(b)] * float(x.sum[size_t(b)]), acc);
        }
        y[r - row_begin] = acc;
    }
}

}  // namespace adamas
