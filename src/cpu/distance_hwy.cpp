// Vectorized code distances. Key rows are read as 32-bit lanes (16 dims each); per lane
//   l1:  popc(lo) + 2·popc(hi & ~(lo & s))     xor: popc(lo) + 2·popc(hi)
// with x = q ^ k, lo = x & 0x5555…, hi = (x >> 1) & 0x5555…, s = (q ^ (q >> 1)) & 0x5555… (query
// dims coded 1 or 2). This equals DESIGN.md §2.4: lo & hi & s marks the 1↔2 pairs charged 1, not 3.
// Row sums come from a tree of ConcatEven + ConcatOdd adds over a group of vectors, which leaves one
// vector holding the distances of `lanes` consecutive rows in order: no per-row horizontal sums.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "cpu/distance_hwy.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cstring>

#include "adamas/error.h"
#include "cpu/kernels.h"

HWY_BEFORE_NAMESPACE();
namespace adamas::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DU = hn::ScalableTag<uint32_t>;
using VU = hn::Vec<DU>;

constexpr int kMaxLanes = 64;
constexpr int kMaxQueries = 64;  // larger groups are processed in slices

// Per-lane distance contribution of one 32-bit slice of 16 dims.
template <Metric kMetric>
HWY_INLINE VU LaneDistance(VU key, VU query, VU query_mid) {
    const DU du;
    const auto m = hn::Set(du, 0x55555555u);
    const auto x = hn::Xor(key, query);
    const auto lo = hn::And(x, m);
    auto hi = hn::And(hn::ShiftRight<1>(x), m);
    if constexpr (kMetric == Metric::l1) hi = hn::AndNot(hn::And(lo, query_mid), hi);
    return hn::Add(hn::PopulationCount(lo), hn::ShiftLeft<1>(hn::PopulationCount(hi)));
}

// Sums adjacent lanes pairwise across `count` vectors (count a power of two) until one vector is left.
HWY_INLINE VU ReduceTree(VU* v, int count) {
#if HWY_TARGET == HWY_SCALAR
    ADAMAS_ASSERT(count == 1);  // one lane: every group is a single vector already
#else
    const DU du;
    for (; count > 1; count /= 2)
        for (int i = 0; i < count / 2; ++i)
            v[i] = hn::Add(hn::ConcatEven(du, v[2 * i + 1], v[2 * i]), hn::ConcatOdd(du, v[2 * i + 1], v[2 * i]));
#endif
    return v[0];
}

// One query's lane patterns: a row of `lanes32` 32-bit words repeated across a vector (rows shorter than
// a vector) or split over several vectors (rows longer than a vector).
struct QueryPattern {
    HWY_ALIGN uint32_t code[kMaxLanes * 8];
    HWY_ALIGN uint32_t mid[kMaxLanes * 8];
};

template <Metric kMetric, GqaMode kMode>
void DistancesImpl(const uint16_t* queries, int count, CodeRows keys, uint16_t* out, int64_t out_stride) {
    const DU du;
    const hn::Rebind<uint16_t, DU> du16;
    const int lanes = int(hn::Lanes(du));
    const int row_lanes = keys.words / 2;                        // 32-bit words per row
    const int vectors_per_row = std::max(1, row_lanes / lanes);  // rows longer than a vector
    const int group_vectors = std::min(row_lanes, lanes);        // reduction inputs per group
    const int rows_per_group = lanes;                            // one output vector per group
    ADAMAS_ASSERT(lanes <= kMaxLanes && row_lanes * 2 == keys.words && vectors_per_row <= 8);
    ADAMAS_ASSERT(count <= kMaxQueries);

    // Query patterns, built once per call (a call covers many rows).
    std::vector<QueryPattern> patterns(static_cast<size_t>(count));
    for (int q = 0; q < count; ++q) {
        uint32_t row[16];
        std::memcpy(row, queries + q * keys.words, size_t(keys.words) * 2);
        const int span = vectors_per_row * lanes;
        for (int i = 0; i < span; ++i) {
            const uint32_t c = row[i % row_lanes];
            patterns[q].code[i] = c;
            patterns[q].mid[i] = (c ^ (c >> 1)) & 0x55555555u;
        }
    }

    const auto* base = reinterpret_cast<const uint32_t*>(keys.data);
    const int64_t full_groups = keys.tokens / rows_per_group;
    const int64_t group_u32 = int64_t(rows_per_group) * row_lanes;
    VU partial[kMaxLanes];
    for (int64_t g = 0; g < full_groups; ++g) {
        const uint32_t* src = base + g * group_u32;
        VU best = hn::Set(du, 0xffffffffu);
        for (int q = 0; q < count; ++q) {
            const QueryPattern& p = patterns[q];
            for (int v = 0; v < group_vectors; ++v) {
                VU sum = hn::Zero(du);
                for (int part = 0; part < vectors_per_row; ++part) {
                    const uint32_t* at = src + (int64_t(v) * vectors_per_row + part) * lanes;
                    sum = hn::Add(sum, LaneDistance<kMetric>(hn::LoadU(du, at), hn::Load(du, p.code + part * lanes),
                                                             hn::Load(du, p.mid + part * lanes)));
                }
                partial[v] = sum;
            }
            const VU dist = ReduceTree(partial, group_vectors);
            if constexpr (kMode == GqaMode::per_head) {
                hn::StoreU(hn::DemoteTo(du16, hn::BitCast(hn::RebindToSigned<DU>(), dist)), du16,
                           out + q * out_stride + g * rows_per_group);
            } else {
                best = hn::Min(best, dist);
            }
        }
        if constexpr (kMode == GqaMode::shared)
            hn::StoreU(hn::DemoteTo(du16, hn::BitCast(hn::RebindToSigned<DU>(), best)), du16,
                       out + g * rows_per_group);
    }
    // Tail rows: scalar.
    for (int64_t t = full_groups * rows_per_group; t < keys.tokens; ++t) {
        int best = 1 << 30;
        for (int q = 0; q < count; ++q) {
            const int dist = code_distance(queries + q * keys.words, keys.row(t), keys.words, kMetric);
            if constexpr (kMode == GqaMode::per_head) out[q * out_stride + t] = uint16_t(dist);
            best = std::min(best, dist);
        }
        if constexpr (kMode == GqaMode::shared) out[t] = uint16_t(best);
    }
}

void GroupDistancesImpl(const uint16_t* queries, int count, CodeRows keys, Metric metric, GqaMode mode,
                        uint16_t* out, int64_t out_stride) {
    if (metric == Metric::l1) {
        if (mode == GqaMode::per_head) return DistancesImpl<Metric::l1, GqaMode::per_head>(queries, count, keys, out, out_stride);
        return DistancesImpl<Metric::l1, GqaMode::shared>(queries, count, keys, out, out_stride);
    }
    if (mode == GqaMode::per_head) return DistancesImpl<Metric::xor_weighted, GqaMode::per_head>(queries, count, keys, out, out_stride);
    return DistancesImpl<Metric::xor_weighted, GqaMode::shared>(queries, count, keys, out, out_stride);
}

}  // namespace adamas::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace adamas::cpu {
HWY_EXPORT(GroupDistancesImpl);
void group_distances(const uint16_t* queries, int count, CodeRows keys, Metric metric, GqaMode mode,
                     uint16_t* out, int64_t out_stride) {
    HWY_DYNAMIC_DISPATCH(GroupDistancesImpl)(queries, count, keys, metric, mode, out, out_stride);
}
}  // namespace adamas::cpu
#endif
