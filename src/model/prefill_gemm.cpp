// Prefill projections through OpenBLAS sgemm on weights dequantized per call.
#include "model/prefill_gemm.h"

#include <cblas.h>

#include <algorithm>

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
    // Y (tokens × rows) = X (tokens × cols) · Wᵀ (cols × rows), the rows split over our own threads with
    // single-threaded OpenBLAS: its own threads yield-spin between calls and competed with the pool here.
    static const bool single_threaded_blas = [] {
        openblas_set_num_threads(1);
        return true;
    }();
    (void)single_threaded_blas;
    const int64_t slices = std::min<int64_t>(pool.size(), (w.rows + 63) / 64);
    pool.parallel_for(slices, [&](int64_t slice, int) {
        const int64_t begin = w.rows * slice / slices, end = w.rows * (slice + 1) / slices;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(tokens), int(end - begin), int(w.cols), 1.0f,
                    x, int(w.cols), scratch.data() + begin * w.cols, int(w.cols), 0.0f, y + begin,
                    int(w.rows));
    });
}

}  // namespace adamas
