// Decode-step matrix-vector products in integer arithmetic, as llama.cpp computes them: the activation
// vector is quantized to 8 bits per 32-element block, and each weight block's integer codes are dotted
// with it exactly in int32 before one float scale per block. Weights are re-laid once ("packed") so that
// 16 rows sit side by side: one vector lane per row, no horizontal sums, one activation word broadcast
// to all 16 rows (AVX-512 VNNI does 64 multiply-adds per instruction).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "adamas/ggml_types.h"

namespace adamas {

// An activation vector in 32-element blocks with 8-bit codes, as llama.cpp's Q8_0 / Q8_1: per block
// d = max|x| / 127 (rounded to f16, as stored there), q = round(x · 127 / max|x|).
struct QuantizedVector {
    int64_t cols = 0;
    std::vector<int8_t> q;     // cols codes
    std::vector<float> d;      // per block, the f16-rounded scale
    std::vector<int32_t> sum;  // per block, Σ q
    std::vector<float> d_sum;  // per block, f16(d · Σ q) with the unrounded d: Q8_1's `s`
};

// Quantizes x[0, cols) (cols a multiple of 32) into `out`, reusing its storage.
void quantize_vector(const float* x, int64_t cols, QuantizedVector& out);

// A weight matrix of Q4_0, Q4_1 or Q8_0 blocks re-laid in groups of 16 rows. A group holds the codes of
// all its blocks, then their scales (so every load is aligned). Per block:
//   Q4_0/Q4_1 codes: 4 × 64 bytes (lane r of word j: bytes 4j..4j+3 of row r's 16 code bytes, whose low
//              nibbles are elements 4j.. and high nibbles 16+4j..); scales: 16 f16 d, then 16 f16 m
//              (Q4_0: m = -8·d, so both share one kernel);
//   Q8_0 codes: 8 × 64 bytes (lane r of word j: elements 4j..4j+3 of row r, each XOR 0x80 so the kernel
//              can use unsigned × signed products and subtract 128 · Σ q afterwards); scales: 16 f16 d.
// Rows past the end of the matrix (in the last group) are zero.
struct PackedMatrix {
    static constexpr int kGroupRows = 16;

    GgmlType type = GgmlType::f32;  // the source type: q4_0, q4_1 or q8_0
    int64_t rows = 0, cols = 0;
    int64_t blocks = 0;              // cols / 32
    int64_t code_bytes = 0;          // per group and block: 256 (Q4) or 512 (Q8_0)
    int64_t scale_bytes = 0;         // per group and block: 64 (Q4) or 32 (Q8_0)
    int64_t group_bytes = 0;         // codes and scales of a group, rounded up to 64 bytes
    const uint8_t* data = nullptr;   // the groups, 64-byte aligned
    std::shared_ptr<uint8_t> owned;  // data's storage when the matrix owns it

    int64_t groups() const { return (rows + kGroupRows - 1) / kGroupRows; }
    const uint8_t* codes(int64_t g) const { return data + g * group_bytes; }
    const uint8_t* scales(int64_t g) const { return codes(g) + blocks * code_bytes; }

    // Whether `type` can be packed (Q4_0, Q4_1, Q8_0).
    static bool packable(GgmlType type);
    // Bytes of the packed form (a multiple of 64). Error for types that cannot be packed or columns that
    // are not a multiple of 32.
    static int64_t packed_bytes(GgmlType type, int64_t rows, int64_t cols);
    // Packs `rows` rows of `cols` elements stored in `type`'s block format, row-major, into
    // `destination` (packed_bytes of it, 64-byte aligned: e.g. a slice of one huge-page arena for a
    // whole model), or into storage of its own when null.
    static PackedMatrix pack(GgmlType type, const void* weights, int64_t rows, int64_t cols,
                             uint8_t* destination = nullptr);
};

// y[r] for every row r of groups [group_begin, group_end): Σ over blocks of d_w · d_x · (Σ q_w · q_x)
// plus, for Q4, m_w · (d_x Σ q_x) (Q4_1 takes Q8_1's f16 `d_sum`, Q4_0 the exact d_x · Σ q_x). `y` is
// the whole output vector (rows floats). x.cols must equal m.cols.
void packed_matvec(const PackedMatrix& m, const QuantizedVector& x, int64_t group_begin, int64_t group_end,
                   float* y);
// The same arithmetic row by row from the original blocks, in the same order per row: the oracle.
void packed_matvec_reference(GgmlType type, const void* weights, int64_t cols, const QuantizedVector& x,
                             int64_t row_begin, int64_t row_end, float* y);

}  // namespace adamas
