// Prefill projections through OpenBLAS sgemm on weights dequantized per call.
#include "model/prefill_gemm.h"

#include <cblas.h>

#include "adamas/matvec.h"
#include "adamas/quant.h"

namespace adamas {

void project_tokens(const WeightMatrix& w, const float* x, int64_t tokens, float* y, ThreadPool& pool,
                    std::vector<float>& scratch) {
    if (scratch.size() < size_t(w.rows * w.cols)) scratch.resize(size_t(w.rows * w.cols));
    const int64_t stride = row_bytes(w.type, w.cols);
    constexpr int64_t kRowsPerItem = 64;
    pool.parallel_for((w.rows + kRowsPerItem - 1) / kRowsPerItem, [&](int64_t item, int) {
        for (int64_t r = item * kRowsPerItem; r < std::min(w.rows, (item + 1) * kRowsPerItem); ++r)
            dequantize_reference(w.type, static_cast<const uint8_t*>(w.data) + r * stride, w.cols,
                                 scratch.data() + r * w.cols);
    });
    // Y (tokens × rows) = X (tokens × cols) · Wᵀ (cols × rows).
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(tokens), int(w.rows), int(w.cols), 1.0f, x,
                int(w.cols), scratch.data(), int(w.cols), 0.0f, y, int(w.rows));
}

}  // namespace adamas
