// Matrix-vector products over weights kept in their GGUF block format (no dequantized copy): the
// decode step's projections. The caller spreads row ranges over threads.
#pragma once
#include <cstdint>

#include "adamas/quant.h"

namespace adamas {

// y[r - row_begin] = Σ_c W[r][c] · x[c] for r in [row_begin, row_end). W holds rows of `cols`
// elements (a multiple of the type's block size), row-major, each row a whole number of blocks.
void matvec_reference(GgmlType type, const void* weights, int64_t cols, const float* x, int64_t row_begin,
                      int64_t row_end, float* y);
void matvec(GgmlType type, const void* weights, int64_t cols, const float* x, int64_t row_begin,
            int64_t row_end, float* y);

// Bytes of one row of `cols` elements of `type`.
int64_t row_bytes(GgmlType type, int64_t cols);

}  // namespace adamas
