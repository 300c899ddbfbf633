// Vectorized scan for distances at most a threshold: compare, and compress-store the token indices
// of the rare vectors that hold a hit.
// foreach_target must come first, then the ops headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "cpu/select_filter_hwy.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
#include <hwy/cache_control.h>
// clang-format on

#include <algorithm>

#include "adamas/distance.h"
#include "cpu/select_filter.h"

HWY_BEFORE_NAMESPACE();
namespace adamas::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

int64_t FilterAtMostImpl(const uint16_t* dist, int64_t begin, int64_t end, uint16_t threshold, int32_t* out) {
    int64_t count = 0, t = begin;
#if HWY_TARGET != HWY_SCALAR
    // Most vectors have no hit: test a full vector of 16-bit distances, and only compress the index
    // lanes (32-bit, half as many per vector) of the halves that do.
    const hn::ScalableTag<uint16_t> d16;
    const hn::Half<decltype(d16)> dh16;
    const hn::Repartition<int32_t, decltype(d16)> di;
    const int64_t lanes = int64_t(hn::Lanes(d16)), half = lanes / 2;
    const auto limit16 = hn::Set(d16, threshold);
    const auto limit = hn::Set(di, int32_t(threshold) + 1);
    const auto iota = hn::Iota(di, 0);
    for (; t + lanes <= end; t += lanes) {
        const auto v = hn::LoadU(d16, dist + t);
        if (hn::AllFalse(d16, hn::Eq(hn::Min(v, limit16), v))) continue;
        const auto lo = hn::PromoteTo(di, hn::LowerHalf(dh16, v));
        const auto hi = hn::PromoteTo(di, hn::UpperHalf(dh16, v));
        count += int64_t(
            hn::CompressStore(hn::Add(iota, hn::Set(di, int32_t(t))), hn::Lt(lo, limit), di, out + count));
        count += int64_t(hn::CompressStore(hn::Add(iota, hn::Set(di, int32_t(t + half))), hn::Lt(hi, limit),
                                           di, out + count));
    }
#endif
    for (; t < end; ++t)
        if (dist[t] <= threshold) out[count++] = int32_t(t);
    return count;
}

constexpr int64_t kPrefetchBlocks = 16;

int64_t FilterBlocksAtMostImpl(const uint16_t* dist, const uint16_t* block_min, int64_t begin, int64_t end,
                               uint16_t threshold, int32_t* blocks, int32_t* out) {
    if (begin >= end) return 0;
    const hn::ScalableTag<int32_t> di;
    const hn::Rebind<uint16_t, decltype(di)> d16;
    const int64_t lanes = int64_t(hn::Lanes(di));
    const auto limit = hn::Set(di, int32_t(threshold) + 1);
    const auto iota = hn::Iota(di, 0);
    // Pass 1: the blocks that may hold a hit, compress-stored (no per-lane branches).
    const int64_t first = begin / kDistanceBlock, last = (end - 1) / kDistanceBlock + 1;
    int64_t hit_blocks = 0, b = first;
    for (; b + lanes <= last; b += lanes) {
        const auto v = hn::PromoteTo(di, hn::LoadU(d16, block_min + b));
        hit_blocks += int64_t(hn::CompressStore(hn::Add(iota, hn::Set(di, int32_t(b))), hn::Lt(v, limit), di,
                                                blocks + hit_blocks));
    }
    for (; b < last; ++b)
        if (block_min[b] <= threshold) blocks[hit_blocks++] = int32_t(b);
    // Pass 2: the tokens of those blocks; blocks cut by [begin, end) go one token at a time.
    int64_t count = 0;
    for (int64_t i = 0; i < hit_blocks; ++i) {
        // Hit blocks are scattered; after the estimate pass their distances are often out of cache.
        if (i + kPrefetchBlocks < hit_blocks)
            hwy::Prefetch(dist + int64_t(blocks[i + kPrefetchBlocks]) * kDistanceBlock);
        const int64_t t0 = std::max<int64_t>(begin, int64_t(blocks[i]) * kDistanceBlock);
        const int64_t t1 = std::min<int64_t>(end, int64_t(blocks[i] + 1) * kDistanceBlock);
        if (t1 - t0 == kDistanceBlock && kDistanceBlock % lanes == 0) {
            for (int64_t t = t0; t < t1; t += lanes) {
                const auto v = hn::PromoteTo(di, hn::LoadU(d16, dist + t));
                count += int64_t(hn::CompressStore(hn::Add(iota, hn::Set(di, int32_t(t))), hn::Lt(v, limit),
                                                   di, out + count));
            }
        } else {
            for (int64_t t = t0; t < t1; ++t)
                if (dist[t] <= threshold) out[count++] = int32_t(t);
        }
    }
    return count;
}

}  // namespace adamas::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace adamas::cpu {
HWY_EXPORT(FilterAtMostImpl);
HWY_EXPORT(FilterBlocksAtMostImpl);
int64_t filter_blocks_at_most(const uint16_t* dist, const uint16_t* block_min, int64_t begin, int64_t end,
                              uint16_t threshold, int32_t* blocks, int32_t* out) {
    return HWY_DYNAMIC_DISPATCH(FilterBlocksAtMostImpl)(dist, block_min, begin, end, threshold, blocks, out);
}
int64_t filter_at_most(const uint16_t* dist, int64_t begin, int64_t end, uint16_t threshold, int32_t* out) {
    return HWY_DYNAMIC_DISPATCH(FilterAtMostImpl)(dist, begin, end, threshold, out);
}
}  // namespace adamas::cpu
#endif
