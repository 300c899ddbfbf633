// Vectorized scan for distances at most a threshold. Hits are rare (a few × budget out of n), so a
// vector compare per 8–32 tokens skips almost everything and hits are collected lane by lane.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "cpu/select_filter_hwy.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "cpu/select_filter.h"

HWY_BEFORE_NAMESPACE();
namespace adamas::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void FilterAtMostImpl(const uint16_t* dist, int64_t begin, int64_t end, uint16_t threshold,
                      std::vector<int32_t>& out) {
    const hn::ScalableTag<uint16_t> d16;
    const int64_t lanes = int64_t(hn::Lanes(d16));
    // Unsigned a <= t  <=>  min(a, t) == a.
    const auto limit = hn::Set(d16, threshold);
    int64_t t = begin;
    for (; t + lanes <= end; t += lanes) {
        const auto v = hn::LoadU(d16, dist + t);
        if (hn::AllFalse(d16, hn::Eq(hn::Min(v, limit), v))) continue;
        for (int64_t i = 0; i < lanes; ++i)
            if (dist[t + i] <= threshold) out.push_back(int32_t(t + i));
    }
    for (; t < end; ++t)
        if (dist[t] <= threshold) out.push_back(int32_t(t));
}

}  // namespace adamas::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace adamas::cpu {
HWY_EXPORT(FilterAtMostImpl);
void filter_at_most(const uint16_t* dist, int64_t begin, int64_t end, uint16_t threshold, std::vector<int32_t>& out) {
    HWY_DYNAMIC_DISPATCH(FilterAtMostImpl)(dist, begin, end, threshold, out);
}
}  // namespace adamas::cpu
#endif
