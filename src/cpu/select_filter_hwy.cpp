// Vectorized scan for distances at most a threshold: compare, and compress-store the token indices
// of the rare vectors that hold a hit.
// foreach_target must come first, then the ops headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "cpu/select_filter_hwy.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
// clang-format on

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

}  // namespace adamas::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace adamas::cpu {
HWY_EXPORT(FilterAtMostImpl);
int64_t filter_at_most(const uint16_t* dist, int64_t begin, int64_t end, uint16_t threshold, int32_t* out) {
    return HWY_DYNAMIC_DISPATCH(FilterAtMostImpl)(dist, begin, end, threshold, out);
}
}  // namespace adamas::cpu
#endif
