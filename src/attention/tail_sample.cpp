// The sampled tail of a selection: a systematic sample of the tokens a policy left out, each weighted to
// stand for the tokens of its stratum, so attention over the sample estimates the attention the
// selection drops.
#include <algorithm>
#include <cmath>

#include "adamas/error.h"
#include "adamas/select.h"

namespace adamas {

namespace {

// splitmix64: one well-mixed draw from a seed (the offset is the only random number a sample needs).
uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// Calls each(t) for every token of [0, n) not in `selected` (ascending), in order.
template <typename Each>
void for_each_unselected(std::span<const int32_t> selected, int64_t n, Each&& each) {
    size_t j = 0;
    for (int64_t t = 0; t < n; ++t) {
        if (j < selected.size() && selected[j] == t) {
            ++j;
            continue;
        }
        each(int32_t(t));
    }
}

}  // namespace

int64_t sample_unselected(std::span<const int32_t> selected, int64_t n, int64_t count, uint64_t seed,
                          int32_t* out, float* log_weights, TailProposal proposal) {
    const int64_t rest = n - int64_t(selected.size());
    ADAMAS_ASSERT(rest >= 0 && count >= 0);
    ADAMAS_ASSERT(std::is_sorted(selected.begin(), selected.end()));  // the walks below rely on it
    if (count == 0 || rest == 0) return 0;
    if (rest <= count) {
        int64_t k = 0;
        for_each_unselected(selected, n, [&](int32_t t) {
            out[k] = t;
            log_weights[k++] = 0;
        });
        return k;
    }
    const double offset = double(mix(seed) >> 11) * 0x1.0p-53;  // uniform in [0, 1)
    double total = 0;
    if (proposal.classes)
        for_each_unselected(selected, n, [&](int32_t t) { total += proposal.weights[proposal.classes[t]]; });
    if (!proposal.classes || !(total > 0) || !std::isfinite(total)) {
        // Uniform: the left-out token of rank r is r + (selected tokens below it), found by walking
        // both lists forward once rather than every token.
        const double stride = double(rest) / double(count);
        const float log_weight = float(std::log(stride));
        size_t j = 0;
        int64_t last = -1;
        for (int64_t k = 0; k < count; ++k) {
            // Ranks rise by at least one (stride > 1); the clamps only guard rounding at the ends.
            const int64_t rank =
                std::min(rest - 1, std::max(last + 1, int64_t((double(k) + offset) * stride)));
            int64_t t = rank + int64_t(j);
            while (j < selected.size() && selected[j] <= t)
                t = rank + int64_t(++j);
            out[k] = int32_t(t);
            log_weights[k] = log_weight;
            last = rank;
        }
        return count;
    }
    // In proportion to the proposal: the points (k + offset)·Z/count on the tokens laid end to end.
    const double stride = total / double(count);
    double start = 0, next = offset * stride;
    int64_t k = 0;
    for_each_unselected(selected, n, [&](int32_t t) {
        const double p = proposal.weights[proposal.classes[t]];
        for (const double end = start + p; k < count && next < end; next = (double(++k) + offset) * stride) {
            out[k] = t;
            log_weights[k] = float(std::log(stride / p));
        }
        start += p;
    });
    return k;
}

}  // namespace adamas
