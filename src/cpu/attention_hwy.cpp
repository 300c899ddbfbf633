// Vectorized decode attention over a token set for the query heads of one KV head: scores for a block
// of tokens, a vectorized exp, then V rows accumulated with online-softmax rescaling between blocks.
// K/V are converted from f16/bf16 to f32 in registers; the head dim is a template parameter so
// queries and accumulators stay in registers. A block's rows are re-read per query from L1.
// foreach_target must come first, then the ops headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "cpu/attention_hwy.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
#include <hwy/cache_control.h>
#include <hwy/contrib/math/math-inl.h>
// clang-format on

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

constexpr int kBlock = 128;  // tokens scored before their V rows are accumulated

// Rows ahead to prefetch when gathering: enough cache lines in flight to cover DRAM latency.
constexpr int kPrefetchRows = 16;

HWY_INLINE void PrefetchRow(const uint8_t* row, int64_t bytes) {
    for (int64_t line = 0; line < bytes; line += 64)
        hwy::Prefetch(row + line);
}

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

// Sums each of `kLanes` vectors across its lanes at once: a ConcatEven/ConcatOdd tree leaves lane i
// holding the sum of v[i] (15 shuffle-add steps for 16 vectors instead of 16 horizontal reductions).
HWY_INLINE VF TransposeSum(VF* v) {
#if HWY_TARGET == HWY_SCALAR
    return v[0];
#else
    const DF df;
    for (int count = int(HWY_LANES(float)); count > 1; count /= 2)
        for (int i = 0; i < count / 2; ++i)
            v[i] = hn::Add(hn::ConcatEven(df, v[2 * i + 1], v[2 * i]),
                           hn::ConcatOdd(df, v[2 * i + 1], v[2 * i]));
    return v[0];
#endif
}

template <DType kType, int kD>
void AttendPartialT(const float* q, int count, const KvHeadView& kv, TokenSet tokens,
                    AttentionPartial* partials) {
    // Compile-time head dim: the query and the accumulator of one head live in registers.
    constexpr int kLanes = int(HWY_LANES(float));
    constexpr int kVecs = kD / kLanes;
    static_assert(kD % kLanes == 0 && kBlock % kLanes == 0);
    const DF df;
    ADAMAS_ASSERT(count <= kAttendMaxQueries && int(hn::Lanes(df)) == kLanes);
    constexpr int64_t kRowBytes = int64_t(kD) * dtype_size(kType);
    const auto* k_base = static_cast<const uint8_t*>(kv.k);
    const auto* v_base = static_cast<const uint8_t*>(kv.v);
    const VF scale = hn::Set(df, 1.0f / std::sqrt(float(kD)));
    HWY_ALIGN float score[kAttendMaxQueries][kBlock];
    bool poisoned[kAttendMaxQueries] = {};  // a NaN score: the max-subtracted exp would hide it
    for (int h = 0; h < count; ++h) {
        partials[h].max = -std::numeric_limits<float>::infinity();
        partials[h].sum = 0;
        for (int j = 0; j < kD; ++j)
            partials[h].acc[j] = 0;
    }
    auto token_at = [&](int64_t i) { return tokens.indices ? int64_t(tokens.indices[i]) : tokens.begin + i; };
    const int64_t m = tokens.size();
    for (int64_t b0 = 0; b0 < m; b0 += kBlock) {
        const int len = int(std::min<int64_t>(kBlock, m - b0));
        const int padded = (len + kLanes - 1) / kLanes * kLanes;
        if (b0 == 0)  // the first rows, which the in-loop prefetch (kPrefetchRows ahead) does not cover
            for (int i = 0; i < std::min(len, kPrefetchRows); ++i) {
                PrefetchRow(k_base + token_at(i) * kRowBytes, kRowBytes);
                PrefetchRow(v_base + token_at(i) * kRowBytes, kRowBytes);
            }
        // Scores, kLanes tokens at a time per query: per-token product vectors, then one transpose-sum.
        for (int h = 0; h < count; ++h) {
            VF qv[kVecs];
            for (int j = 0; j < kVecs; ++j)
                qv[j] = hn::LoadU(df, q + int64_t(h) * kD + j * kLanes);
            for (int i0 = 0; i0 < padded; i0 += kLanes) {
                VF prod[kLanes];
                for (int r = 0; r < kLanes; ++r) {
                    const int i = i0 + r;
                    if (i >= len) {
                        prod[r] = hn::Zero(df);
                        continue;
                    }
                    const uint8_t* k = k_base + token_at(b0 + i) * kRowBytes;
                    if (h == 0 && b0 + i + kPrefetchRows < m) {
                        // Gathers defeat the hardware prefetcher, and contiguous blocks switch between
                        // the K and V streams every block: request both rows ahead ourselves (into
                        // the next block too), so the value pass finds V in cache.
                        const int64_t ahead = token_at(b0 + i + kPrefetchRows) * kRowBytes;
                        PrefetchRow(k_base + ahead, kRowBytes);
                        PrefetchRow(v_base + ahead, kRowBytes);
                    }
                    VF s0 = hn::Mul(qv[0], LoadRow<kType>(k, 0));
                    VF s1 = hn::Zero(df);
                    for (int j = 1; j < kVecs; j += 2) {
                        s1 = hn::MulAdd(qv[j], LoadRow<kType>(k, j * kLanes), s1);
                        if (j + 1 < kVecs)
                            s0 = hn::MulAdd(qv[j + 1], LoadRow<kType>(k, (j + 1) * kLanes), s0);
                    }
                    prod[r] = hn::Add(s0, s1);
                }
                VF s = hn::Mul(TransposeSum(prod), scale);
                if (tokens.log_weights) {  // a sampled tail: padding lanes are masked below
                    HWY_ALIGN float w[kLanes] = {};
                    for (int r = 0; r < kLanes && i0 + r < len; ++r)
                        w[r] = tokens.log_weights[b0 + i0 + r];
                    s = hn::Add(s, hn::Load(df, w));
                }
                hn::Store(s, df, score[h] + i0);
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
                    for (int j = 0; j < kD; ++j)
                        partials[h].acc[j] *= shrink;
                }
                partials[h].max = top;
            }
            const VF vtop = hn::Set(df, top);
            VF total = hn::Zero(df);
            for (int i = 0; i < padded; i += kLanes) {
                VF p = hn::Exp(df, hn::Sub(hn::Load(df, score[h] + i), vtop));
                if (i + kLanes > len) p = hn::IfThenElseZero(hn::FirstN(df, size_t(len - i)), p);  // padding
                hn::Store(p, df, weight[h] + i);
                total = hn::Add(total, p);
            }
            partials[h].sum += hn::GetLane(hn::SumOfLanes(df, total));
        }
        // Values: the accumulator of one query stays in registers over the block.
        for (int h = 0; h < count; ++h) {
            VF acc[kVecs];
            for (int j = 0; j < kVecs; ++j)
                acc[j] = hn::LoadU(df, partials[h].acc + j * kLanes);
            for (int i = 0; i < len; ++i) {
                const uint8_t* v = v_base + token_at(b0 + i) * kRowBytes;
                const VF p = hn::Set(df, weight[h][i]);
                for (int j = 0; j < kVecs; ++j)
                    acc[j] = hn::MulAdd(p, LoadRow<kType>(v, j * kLanes), acc[j]);
            }
            for (int j = 0; j < kVecs; ++j)
                hn::StoreU(acc[j], df, partials[h].acc + j * kLanes);
        }
    }
    for (int h = 0; h < count; ++h)
        if (poisoned[h]) partials[h].max = partials[h].sum = std::numeric_limits<float>::quiet_NaN();
}

template <DType kType>
void AttendPartialD(const float* q, int count, const KvHeadView& kv, int d, TokenSet tokens,
                    AttentionPartial* partials) {
    switch (d) {
        case 32:
            return AttendPartialT<kType, 32>(q, count, kv, tokens, partials);
        case 64:
            return AttendPartialT<kType, 64>(q, count, kv, tokens, partials);
        case 128:
            return AttendPartialT<kType, 128>(q, count, kv, tokens, partials);
        case 256:
            return AttendPartialT<kType, 256>(q, count, kv, tokens, partials);
    }
    ADAMAS_ASSERT(false && "head dim must be 32, 64, 128 or 256");
}

// Exact scores of `count` queries over tokens [begin, end) (or the keys indices[begin..end)):
// kLanes tokens at a time, each query's per-token products reduced by one transpose-sum, the block's
// K rows staying in L1 across the queries. Gathered rows are prefetched ahead, as in attention.
template <DType kType, int kD>
void DotScoresT(const float* q, int count, const void* k, int64_t begin, int64_t end, float* scores,
                int64_t stride, const int32_t* indices) {
    constexpr int kLanes = int(HWY_LANES(float));
    constexpr int kVecs = kD / kLanes;
    static_assert(kD % kLanes == 0);
    const DF df;
    constexpr int64_t kRowBytes = int64_t(kD) * dtype_size(kType);
    const auto* k_base = static_cast<const uint8_t*>(k);
    auto token_at = [&](int64_t i) { return indices ? int64_t(indices[i]) : i; };
    if (indices)
        for (int64_t i = begin; i < std::min(end, begin + kPrefetchRows); ++i)
            PrefetchRow(k_base + token_at(i) * kRowBytes, kRowBytes);
    HWY_ALIGN float block[kLanes];
    for (int64_t t0 = begin; t0 < end; t0 += kLanes) {
        const int len = int(std::min<int64_t>(kLanes, end - t0));
        const uint8_t* rows[kLanes];
        for (int r = 0; r < kLanes; ++r) {
            rows[r] = r < len ? k_base + token_at(t0 + r) * kRowBytes : nullptr;
            if (indices && r < len && t0 + r + kPrefetchRows < end)
                PrefetchRow(k_base + token_at(t0 + r + kPrefetchRows) * kRowBytes, kRowBytes);
        }
        for (int h = 0; h < count; ++h) {
            const float* qh = q + int64_t(h) * kD;
            VF prod[kLanes];
            for (int r = 0; r < kLanes; ++r) {
                if (!rows[r]) {
                    prod[r] = hn::Zero(df);
                    continue;
                }
                VF s0 = hn::Mul(hn::LoadU(df, qh), LoadRow<kType>(rows[r], 0));
                VF s1 = hn::Zero(df);
                for (int j = 1; j < kVecs; j += 2) {
                    s1 = hn::MulAdd(hn::LoadU(df, qh + j * kLanes), LoadRow<kType>(rows[r], j * kLanes), s1);
                    if (j + 1 < kVecs)
                        s0 = hn::MulAdd(hn::LoadU(df, qh + (j + 1) * kLanes),
                                        LoadRow<kType>(rows[r], (j + 1) * kLanes), s0);
                }
                prod[r] = hn::Add(s0, s1);
            }
            hn::Store(TransposeSum(prod), df, block);
            float* out = scores + h * stride + t0;
            for (int r = 0; r < len; ++r)
                out[r] = block[r];
        }
    }
}

template <DType kType>
void DotScoresD(const float* q, int count, const void* k, int d, int64_t begin, int64_t end, float* scores,
                int64_t stride, const int32_t* indices) {
    switch (d) {
        case 32:
            return DotScoresT<kType, 32>(q, count, k, begin, end, scores, stride, indices);
        case 64:
            return DotScoresT<kType, 64>(q, count, k, begin, end, scores, stride, indices);
        case 128:
            return DotScoresT<kType, 128>(q, count, k, begin, end, scores, stride, indices);
        case 256:
            return DotScoresT<kType, 256>(q, count, k, begin, end, scores, stride, indices);
    }
    ADAMAS_ASSERT(false && "head dim must be 32, 64, 128 or 256");
}

void DotScoresImpl(const float* q, int count, const void* k, DType dtype, int d, int64_t begin, int64_t end,
                   float* scores, int64_t stride, const int32_t* indices) {
    switch (dtype) {
        case DType::f32:
            return DotScoresD<DType::f32>(q, count, k, d, begin, end, scores, stride, indices);
        case DType::f16:
            return DotScoresD<DType::f16>(q, count, k, d, begin, end, scores, stride, indices);
        case DType::bf16:
            return DotScoresD<DType::bf16>(q, count, k, d, begin, end, scores, stride, indices);
    }
}

// Quest page scores: out[h * stride + p] = Σ_j max(q_hj · min_pj, q_hj · max_pj) for p in [begin, end).
void PageScoresImpl(const float* q, int count, const float* page_min, const float* page_max, int d,
                    int64_t begin, int64_t end, float* out, int64_t stride) {
    const DF df;
    const int lanes = int(hn::Lanes(df));
    for (int64_t p = begin; p < end; ++p) {
        const float* mn = page_min + p * d;
        const float* mx = page_max + p * d;
        for (int h = 0; h < count; ++h) {
            const float* qh = q + int64_t(h) * d;
            VF acc = hn::Zero(df);
            for (int j = 0; j < d; j += lanes) {
                const VF qv = hn::LoadU(df, qh + j);
                acc = hn::Add(
                    acc, hn::Max(hn::Mul(qv, hn::LoadU(df, mn + j)), hn::Mul(qv, hn::LoadU(df, mx + j))));
            }
            out[h * stride + p] = hn::GetLane(hn::SumOfLanes(df, acc));
        }
    }
}

void AttendPartialImpl(const float* q, int count, const KvHeadView& kv, DType dtype, int d, TokenSet tokens,
                       AttentionPartial* partials) {
    switch (dtype) {
        case DType::f32:
            return AttendPartialD<DType::f32>(q, count, kv, d, tokens, partials);
        case DType::f16:
            return AttendPartialD<DType::f16>(q, count, kv, d, tokens, partials);
        case DType::bf16:
            return AttendPartialD<DType::bf16>(q, count, kv, d, tokens, partials);
    }
}

}  // namespace adamas::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace adamas::cpu {
HWY_EXPORT(AttendPartialImpl);
HWY_EXPORT(DotScoresImpl);
HWY_EXPORT(PageScoresImpl);

void page_scores(const float* q, int count, const float* page_min, const float* page_max, int d,
                 int64_t begin, int64_t end, float* out, int64_t stride) {
    HWY_DYNAMIC_DISPATCH(PageScoresImpl)(q, count, page_min, page_max, d, begin, end, out, stride);
}

void dot_scores(const float* q, int count, const void* k, DType dtype, int d, int64_t begin, int64_t end,
                float* scores, int64_t stride, const int32_t* indices) {
    HWY_DYNAMIC_DISPATCH(DotScoresImpl)(q, count, k, dtype, d, begin, end, scores, stride, indices);
}
}  // namespace adamas::cpu

namespace adamas {
void attend_partial(const float* q, int count, const KvHeadView& kv, DType dtype, int d, TokenSet tokens,
                    AttentionPartial* partials) {
    for (int first = 0; first < count; first += cpu::kAttendMaxQueries) {
        const int part = std::min(count - first, cpu::kAttendMaxQueries);
        HWY_DYNAMIC_DISPATCH(cpu::AttendPartialImpl)
        (q + int64_t(first) * d, part, kv, dtype, d, tokens, partials + first);
    }
}

void attention_logits(const float* q, const KvHeadView& kv, DType dtype, int d, int64_t n, float* logits) {
    cpu::dot_scores(q, 1, kv.k, dtype, d, 0, n, logits, 0);
    const float scale = 1.0f / std::sqrt(float(d));
    for (int64_t t = 0; t < n; ++t)
        logits[t] *= scale;
}
}  // namespace adamas
#endif
