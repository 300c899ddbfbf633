// Vectorized code distances. Key rows are read as 32-bit lanes (16 dims each); per lane
//   l1:  popc(lo) + 2·popc(hi & ~(lo & s))     xor: popc(lo) + 2·popc(hi)
// with x = q ^ k, lo = x & 0x5555…, hi = (x >> 1) & 0x5555…, s = (q ^ (q >> 1)) & 0x5555… (query
// dims coded 1 or 2). This equals DESIGN.md §2.4: lo & hi & s marks the 1↔2 pairs charged 1, not 3.
// Row sums come from a tree of ConcatEven + ConcatOdd adds over a group of vectors, which leaves one
// vector holding the distances of `lanes` consecutive rows in order: no per-row horizontal sums.
// foreach_target must come first, then the ops headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "cpu/distance_hwy.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
#include <hwy/cache_control.h>
// clang-format on

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
constexpr int kPrefetchU32 = 1024;                // 4 KiB ahead
constexpr int kMaxQueries = kDistanceMaxQueries;  // the public group_distances slices wider groups

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
HWY_INLINE VU ReduceTree(VU* v, int count) {  // count is a compile-time constant at every call
#if HWY_TARGET == HWY_SCALAR
    ADAMAS_ASSERT(count == 1);  // one lane: every group is a single vector already
#else
    const DU du;
    for (; count > 1; count /= 2)
        for (int i = 0; i < count / 2; ++i)
            v[i] = hn::Add(hn::ConcatEven(du, v[2 * i + 1], v[2 * i]),
                           hn::ConcatOdd(du, v[2 * i + 1], v[2 * i]));
#endif
    return v[0];
}

// One query's lane patterns: a row of `lanes32` 32-bit words repeated across a vector (rows shorter than
// a vector) or split over several vectors (rows longer than a vector).
struct QueryPattern {
    HWY_ALIGN uint32_t code[kMaxLanes * 8];
    HWY_ALIGN uint32_t mid[kMaxLanes * 8];
};

template <Metric kMetric, GqaMode kMode, int kRowLanes>
void DistancesT(const uint16_t* queries, int count, CodeRows keys, uint16_t* out, int64_t out_stride,
                BlockMinima minima) {
    // Compile-time shapes so the group's vectors stay in registers and every loop unrolls.
    constexpr int kLanes = int(HWY_LANES(uint32_t));
    constexpr int kVectorsPerRow = kRowLanes > kLanes ? kRowLanes / kLanes : 1;  // rows longer than a vector
    constexpr int kGroupVectors = kRowLanes < kLanes ? kRowLanes : kLanes;       // reduction inputs
    constexpr int kRowsPerGroup = kLanes;                                        // one output vector
    const DU du;
    const hn::Rebind<uint16_t, DU> du16;
    const hn::RebindToSigned<DU> di;
    // Block minima: a group is kLanes rows, so one block spans kGroupsPerBlock groups.
    static_assert(kDistanceBlock % kRowsPerGroup == 0, "vectors wider than a minima block");
    constexpr int kGroupsPerBlock = kDistanceBlock / kRowsPerGroup;
    ADAMAS_ASSERT(int(hn::Lanes(du)) == kLanes && keys.words == 2 * kRowLanes && count <= kMaxQueries);
    VU block_min[kMaxQueries];  // running minimum of the current block, per output row
    for (auto& v : block_min)
        v = hn::Set(du, 0xffffffffu);

    // Query patterns, built once per call (a call covers many rows).
    // Per-thread and reused: an estimate item must not allocate.
    static thread_local std::vector<QueryPattern> patterns;
    if (patterns.size() < size_t(count)) patterns.resize(size_t(count));
    for (int q = 0; q < count; ++q) {
        uint32_t row[kRowLanes];
        std::memcpy(row, queries + q * keys.words, sizeof(row));
        for (int i = 0; i < kVectorsPerRow * kLanes; ++i) {
            const uint32_t c = row[i % kRowLanes];
            patterns[size_t(q)].code[i] = c;
            patterns[size_t(q)].mid[i] = (c ^ (c >> 1)) & 0x55555555u;
        }
    }

    const auto* base = reinterpret_cast<const uint32_t*>(keys.data);
    const int64_t full_groups = keys.tokens / kRowsPerGroup;
    const int rows = kMode == GqaMode::per_head ? count : 1;
    for (int64_t g = 0; g < full_groups; ++g) {
        const uint32_t* src = base + g * int64_t(kRowsPerGroup * kRowLanes);
        // Codes stream from DRAM: ask for lines a few groups ahead of the hardware prefetcher.
        hwy::Prefetch(src + kPrefetchU32);
        const bool block_start = g % kGroupsPerBlock == 0,
                   block_end = g % kGroupsPerBlock == kGroupsPerBlock - 1;
        VU best = hn::Set(du, 0xffffffffu);
        for (int q = 0; q < count; ++q) {
            const QueryPattern& p = patterns[size_t(q)];
            VU partial[kGroupVectors];
            for (int v = 0; v < kGroupVectors; ++v) {
                VU sum = hn::Zero(du);
                for (int part = 0; part < kVectorsPerRow; ++part)
                    sum = hn::Add(
                        sum, LaneDistance<kMetric>(hn::LoadU(du, src + (v * kVectorsPerRow + part) * kLanes),
                                                   hn::Load(du, p.code + part * kLanes),
                                                   hn::Load(du, p.mid + part * kLanes)));
                partial[v] = sum;
            }
            const VU dist = ReduceTree(partial, kGroupVectors);
            if constexpr (kMode == GqaMode::per_head) {
                hn::StoreU(hn::DemoteTo(du16, hn::BitCast(di, dist)), du16,
                           out + q * out_stride + g * kRowsPerGroup);
                if (minima.data) block_min[q] = block_start ? dist : hn::Min(block_min[q], dist);
            } else {
                best = hn::Min(best, dist);
            }
        }
        if constexpr (kMode == GqaMode::shared) {
            hn::StoreU(hn::DemoteTo(du16, hn::BitCast(di, best)), du16, out + g * kRowsPerGroup);
            if (minima.data) block_min[0] = block_start ? best : hn::Min(block_min[0], best);
        }
        if (minima.data && block_end)
            for (int r = 0; r < rows; ++r)
                minima.data[r * minima.stride + g / kGroupsPerBlock] =
                    uint16_t(hn::GetLane(hn::MinOfLanes(du, block_min[r])));
    }
    // Tail rows (and the blocks they finish): scalar.
    const int64_t tail = full_groups * kRowsPerGroup;
    for (int64_t t = tail; t < keys.tokens; ++t) {
        int best = 1 << 30;
        for (int q = 0; q < count; ++q) {
            const int dist = code_distance(queries + q * keys.words, keys.row(t), keys.words, kMetric);
            if constexpr (kMode == GqaMode::per_head) out[q * out_stride + t] = uint16_t(dist);
            best = std::min(best, dist);
        }
        if constexpr (kMode == GqaMode::shared) out[t] = uint16_t(best);
    }
    if (minima.data)
        for (int64_t b = tail / kDistanceBlock; b < distance_blocks(keys.tokens); ++b)
            for (int r = 0; r < rows; ++r) {
                const uint16_t* first = out + r * out_stride + b * kDistanceBlock;
                minima.data[r * minima.stride + b] = *std::min_element(
                    first, first + std::min<int64_t>(kDistanceBlock, keys.tokens - b * kDistanceBlock));
            }
}

template <Metric kMetric, GqaMode kMode>
void DistancesImpl(const uint16_t* queries, int count, CodeRows keys, uint16_t* out, int64_t out_stride,
                   BlockMinima minima) {
    switch (keys.words) {
        case 4:
            return DistancesT<kMetric, kMode, 2>(queries, count, keys, out, out_stride, minima);
        case 8:
            return DistancesT<kMetric, kMode, 4>(queries, count, keys, out, out_stride, minima);
        case 16:
            return DistancesT<kMetric, kMode, 8>(queries, count, keys, out, out_stride, minima);
        case 32:
            return DistancesT<kMetric, kMode, 16>(queries, count, keys, out, out_stride, minima);
    }
    ADAMAS_ASSERT(false && "head dim must be 32, 64, 128 or 256");
}

void GroupDistancesImpl(const uint16_t* queries, int count, CodeRows keys, Metric metric, GqaMode mode,
                        uint16_t* out, int64_t out_stride, BlockMinima minima) {
    if (metric == Metric::l1) {
        if (mode == GqaMode::per_head)
            return DistancesImpl<Metric::l1, GqaMode::per_head>(queries, count, keys, out, out_stride,
                                                                minima);
        return DistancesImpl<Metric::l1, GqaMode::shared>(queries, count, keys, out, out_stride, minima);
    }
    if (mode == GqaMode::per_head)
        return DistancesImpl<Metric::xor_weighted, GqaMode::per_head>(queries, count, keys, out, out_stride,
                                                                      minima);
    return DistancesImpl<Metric::xor_weighted, GqaMode::shared>(queries, count, keys, out, out_stride,
                                                                minima);
}

}  // namespace adamas::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace adamas::cpu {
HWY_EXPORT(GroupDistancesImpl);
void group_distances(const uint16_t* queries, int count, CodeRows keys, Metric metric, GqaMode mode,
                     uint16_t* out, int64_t out_stride, BlockMinima minima) {
    HWY_DYNAMIC_DISPATCH(GroupDistancesImpl)(queries, count, keys, metric, mode, out, out_stride, minima);
}
}  // namespace adamas::cpu
#endif
