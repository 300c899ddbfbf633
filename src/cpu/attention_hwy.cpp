// Vectorized decode attention over a token set for the query heads of one KV head: scores for a block
// of tokens (each K row read once for all queries), a vectorized exp, then V rows accumulated with
// online-softmax rescaling between blocks. K/V are converted from f16/bf16 to f32 in registers.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "cpu/attention_hwy.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
#include <hwy/cache_control.h>
#include <hwy/contrib/math/math-inl.h>

#include <cmath>
#include <limits>

#include "adamas/attention.h"
#include "adamas/error.h"
#include "cpu/kernels.h"

HWY_BEFORE_NAMESPACE();
namespace adamas::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

constexpr int kBlock = 128;     // tokens scored before their V rows are accumulated

template <DType kType>
HWY_INLINE VF LoadRow(const void* row, int64_t i) {
    const DF df;
    if constexpr (kType == DType::f32) {
        return hn::LoadU(df, static_cast<const float*>(row) + i);
    } else if constexpr (kType == DType::f16) {
        const hn::Rebind<hwy::float16_t, DF> dh;
        return hn::PromoteTo(df, hn::LoadU(dh, static_cast<const hwy::float16_t*>(row) + i));
    } else {
        const hn::Rebind<hwy::bfloat16_t, DF> db;
        return hn::PromoteTo(df, hn::LoadU(db, static_cast<const hwy::bfloat16_t*>(row) + i));
    }
}

template <DType kType>
void AttendPartialT(const float* q, int count, const KvHeadView& kv, int d, TokenSet tokens,
                    AttentionPartial* partials) {
    const DF df;
    const int lanes = int(hn::Lanes(df));
    ADAMAS_ASSERT(count <= kAttendMaxQueries && d % lanes == 0);
    const int64_t row_bytes = int64_t(d) * dtype_size(kType);
    const auto* k_base = static_cast<const uint8_t*>(kv.k);
    const auto* v_base = static_cast<const uint8_t*>(kv.v);
    const float scale = 1.0f / std::sqrt(float(d));
    HWY_ALIGN float score[kAttendMaxQueries][kBlock];
    bool poisoned[kAttendMaxQueries] = {};  // a NaN score: the max-subtracted exp would hide it
    for (int h = 0; h < count; ++h) {
        partials[h].max = -std::numeric_limits<float>::infinity();
        partials[h].sum = 0;
        for (int j = 0; j < d; ++j) partials[h].acc[j] = 0;
    }
    const int64_t m = tokens.size();
    for (int64_t b0 = 0; b0 < m; b0 += kBlock) {
        const int len = int(std::min<int64_t>(kBlock, m - b0));
        // Scores: one pass over the block's K rows, every query per row.
        for (int i = 0; i < len; ++i) {
            const int64_t t = tokens.indices ? tokens.indices[b0 + i] : tokens.begin + b0 + i;
            const void* k = k_base + t * row_bytes;
            if (i + 4 < len) {  // gathered rows defeat the hardware prefetcher
                const int64_t ahead = tokens.indices ? tokens.indices[b0 + i + 4] : t + 4;
                hwy::Prefetch(k_base + ahead * row_bytes);
            }
            for (int h = 0; h < count; ++h) {
                const float* qh = q + int64_t(h) * d;
                VF s0 = hn::Zero(df), s1 = hn::Zero(df);
                int j = 0;
                for (; j + 2 * lanes <= d; j += 2 * lanes) {
                    s0 = hn::MulAdd(hn::LoadU(df, qh + j), LoadRow<kType>(k, j), s0);
                    s1 = hn::MulAdd(hn::LoadU(df, qh + j + lanes), LoadRow<kType>(k, j + lanes), s1);
                }
                for (; j < d; j += lanes) s0 = hn::MulAdd(hn::LoadU(df, qh + j), LoadRow<kType>(k, j), s0);
                score[h][i] = hn::GetLane(hn::SumOfLanes(df, hn::Add(s0, s1))) * scale;
            }
        }
        // Softmax bookkeeping per query: rescale what was accumulated if the max grew.
        HWY_ALIGN float weight[kAttendMaxQueries][kBlock];
        for (int h = 0; h < count; ++h) {
            float top = partials[h].max;
            bool nan_score = false;
            for (int i = 0; i < len; ++i) {
                top = std::max(top, score[h][i]);
                nan_score |= std::isnan(score[h][i]);
            }
            if (nan_score) poisoned[h] = true;
            if (top > partials[h].max) {
                const float shrink = std::exp(partials[h].max - top);  // exp(-inf) = 0 on the first block
                if (partials[h].sum != 0) {
                    partials[h].sum *= shrink;
                    for (int j = 0; j < d; ++j) partials[h].acc[j] *= shrink;
                }
                partials[h].max = top;
            }
            const VF vtop = hn::Set(df, top);
            float total = 0;
            int i = 0;
            for (; i + lanes <= len; i += lanes) {
                const VF p = hn::Exp(df, hn::Sub(hn::Load(df, score[h] + i), vtop));
                hn::Store(p, df, weight[h] + i);
                total += hn::GetLane(hn::SumOfLanes(df, p));
            }
            for (; i < len; ++i) total += (weight[h][i] = std::exp(score[h][i] - top));
            partials[h].sum += total;
        }
        // Values: one pass over the block's V rows.
        for (int i = 0; i < len; ++i) {
            const int64_t t = tokens.indices ? tokens.indices[b0 + i] : tokens.begin + b0 + i;
            const void* v = v_base + t * row_bytes;
            if (i + 4 < len) {
                const int64_t ahead = tokens.indices ? tokens.indices[b0 + i + 4] : t + 4;
                hwy::Prefetch(v_base + ahead * row_bytes);
            }
            for (int h = 0; h < count; ++h) {
                const VF p = hn::Set(df, weight[h][i]);
                float* acc = partials[h].acc;
                for (int j = 0; j < d; j += lanes)
                    hn::StoreU(hn::MulAdd(p, LoadRow<kType>(v, j), hn::LoadU(df, acc + j)), df, acc + j);
            }
        }
    }
    for (int h = 0; h < count; ++h)
        if (poisoned[h]) partials[h].max = partials[h].sum = std::numeric_limits<float>::quiet_NaN();
}

template <DType kType>
void DotScoresT(const float* q, int count, const void* k, int d, int64_t begin, int64_t end, float* scores,
                int64_t stride) {
    const DF df;
    const int lanes = int(hn::Lanes(df));
    const int64_t row_elems = d;
    for (int64_t t = begin; t < end; ++t) {
        const uint8_t* row = static_cast<const uint8_t*>(k) + t * row_elems * dtype_size(kType);
        for (int h = 0; h < count; ++h) {
            const float* qh = q + int64_t(h) * d;
            VF s = hn::Zero(df);
            for (int j = 0; j < d; j += lanes) s = hn::MulAdd(hn::LoadU(df, qh + j), LoadRow<kType>(row, j), s);
            scores[h * stride + t] = hn::GetLane(hn::SumOfLanes(df, s));
        }
    }
}

void DotScoresImpl(const float* q, int count, const void* k, DType dtype, int d, int64_t begin, int64_t end,
                   float* scores, int64_t stride) {
    switch (dtype) {
        case DType::f32: return DotScoresT<DType::f32>(q, count, k, d, begin, end, scores, stride);
        case DType::f16: return DotScoresT<DType::f16>(q, count, k, d, begin, end, scores, stride);
        case DType::bf16: return DotScoresT<DType::bf16>(q, count, k, d, begin, end, scores, stride);
    }
}

void AttendPartialImpl(const float* q, int count, const KvHeadView& kv, DType dtype, int d, TokenSet tokens,
                       AttentionPartial* partials) {
    switch (dtype) {
        case DType::f32: return AttendPartialT<DType::f32>(q, count, kv, d, tokens, partials);
        case DType::f16: return AttendPartialT<DType::f16>(q, count, kv, d, tokens, partials);
        case DType::bf16: return AttendPartialT<DType::bf16>(q, count, kv, d, tokens, partials);
    }
}

}  // namespace adamas::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace adamas::cpu {
HWY_EXPORT(AttendPartialImpl);
HWY_EXPORT(DotScoresImpl);

void dot_scores(const float* q, int count, const void* k, DType dtype, int d, int64_t begin, int64_t end,
                float* scores, int64_t stride) {
    HWY_DYNAMIC_DISPATCH(DotScoresImpl)(q, count, k, dtype, d, begin, end, scores, stride);
}
}  // namespace adamas::cpu

namespace adamas {
void attend_partial(const float* q, int count, const KvHeadView& kv, DType dtype, int d, TokenSet tokens,
                    AttentionPartial* partials) {
    for (int first = 0; first < count; first += cpu::kAttendMaxQueries) {
        const int part = std::min(count - first, cpu::kAttendMaxQueries);
        HWY_DYNAMIC_DISPATCH(cpu::AttendPartialImpl)(q + int64_t(first) * d, part, kv, dtype, d, tokens,
                                                     partials + first);
    }
}
}  // namespace adamas
#endif
