// Scalar reference decode attention in double precision: the oracle for the fast kernels, and the
// merge of split partials (shared by every backend).
#include <cmath>
#include <limits>
#include <vector>

#include "adamas/attention.h"

namespace adamas {

void attend_reference(const float* q, int count, const KvHeadView& kv, DType dtype, int d, TokenSet tokens,
                      float* out) {
    const int64_t m = tokens.size();
    const size_t row_bytes = size_t(d) * size_t(dtype_size(dtype));
    const auto* k_base = static_cast<const uint8_t*>(kv.k);
    const auto* v_base = static_cast<const uint8_t*>(kv.v);
    auto token_at = [&](int64_t i) { return tokens.indices ? int64_t(tokens.indices[i]) : tokens.begin + i; };
    const double scale = 1.0 / std::sqrt(double(d));
    std::vector<double> score(static_cast<size_t>(m)), acc(static_cast<size_t>(d));
    for (int h = 0; h < count; ++h) {
        const float* qh = q + int64_t(h) * d;
        double top = -std::numeric_limits<double>::infinity();
        for (int64_t i = 0; i < m; ++i) {
            const void* k = k_base + size_t(token_at(i)) * row_bytes;
            double dot = 0;
            for (int j = 0; j < d; ++j)
                dot += double(qh[j]) * double(load_element(k, dtype, j));
            score[size_t(i)] = dot * scale + (tokens.log_weights ? double(tokens.log_weights[i]) : 0.0);
            top = std::max(top, score[size_t(i)]);
        }
        double total = 0;
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t i = 0; i < m; ++i) {
            const double p = std::exp(score[size_t(i)] - top);
            total += p;
            const void* v = v_base + size_t(token_at(i)) * row_bytes;
            for (int j = 0; j < d; ++j)
                acc[size_t(j)] += p * double(load_element(v, dtype, j));
        }
        for (int j = 0; j < d; ++j)
            out[int64_t(h) * d + j] = float(acc[size_t(j)] / total);
    }
}

void merge_partials(const AttentionPartial* partials, int parts, int d, float* out) {
    float top = -std::numeric_limits<float>::infinity();
    for (int p = 0; p < parts; ++p)
        top = std::max(top, partials[p].max);
    float total = 0;
    for (int j = 0; j < d; ++j)
        out[j] = 0;
    for (int p = 0; p < parts; ++p) {
        if (partials[p].sum == 0) continue;  // empty part
        const float w = std::exp(partials[p].max - top);
        total += w * partials[p].sum;
        for (int j = 0; j < d; ++j)
            out[j] += w * partials[p].acc[j];
    }
    const float inv = 1.0f / total;
    for (int j = 0; j < d; ++j)
        out[j] *= inv;
}

}  // namespace adamas
