// Weight block formats of GGUF/ggml (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K): sizes and a
// scalar reference dequantizer, the oracle for the fast matrix-vector kernels.
#pragma once
#include <cstdint>

#include "adamas/ggml_types.h"

namespace adamas {

// Whether the reference (and the fast kernels) handle this type: F32, F16, BF16, Q8_0, Q4_0, Q4_1,
// Q4_K, Q5_K, Q6_K.
bool dequantize_supported(GgmlType type);

// Dequantizes `count` elements (a multiple of the type's block size) starting at block 0 of `blocks`;
// the type must be supported.
void dequantize_reference(GgmlType type, const void* blocks, int64_t count, float* out);

}  // namespace adamas
