// Batched projections for prefill: Y[t] = W · X[t] for many tokens at once, through BLAS sgemm on a
// dequantized copy of W (made per call, in parallel), so a prompt is not fed one matvec at a time.
#pragma once
#include <cstdint>
#include <vector>

#include "adamas/llama.h"
#include "adamas/thread_pool.h"

namespace adamas {

// x: tokens × w.cols (row-major), y: tokens × w.rows. `scratch` holds the dequantized weights.
void project_tokens(const WeightMatrix& w, const float* x, int64_t tokens, float* y, ThreadPool& pool,
                    std::vector<float>& scratch);

}  // namespace adamas
