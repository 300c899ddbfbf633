// Vectorized scan for distances at most a threshold: compare and compress-store the token indices,
// branch-free, so the cost does not depend on how many tokens pass.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "cpu/select_filter_hwy.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "cpu/select_filter.h"

HWY_BEFORE_NAMESPACE();
namespace adamas::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

int64_t FilterAtMostImpl(const uint16_t* dist, int64_t begin, int64_t end, uint16_t threshold, int32_t* out) {
    const hn::ScalableTag<int32_t> di;
    const hn::Rebind<uint16_t, decltype(di)> d16;
    const int64_t lanes = int64_t(hn::Lanes(di));
    const auto limit = hn::Set(di, int32_t(threshold) + 1);
    const auto step = hn::Set(di, int32_t(lanes));
    auto index = hn::Add(hn::Iota(di, 0), hn::Set(di, int32_t(begin)));
    int64_t count = 0, t = begin;
    for (; t + lanes <= end; t += lanes) {
        const auto v = hn::PromoteTo(di, hn::LoadU(d16, dist + t));
        count += int64_t(hn::CompressStore(index, hn::Lt(v, limit), di, out + count));
        index = hn::Add(index, step);
    }
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
