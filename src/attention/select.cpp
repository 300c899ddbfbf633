// Scalar reference selection: sort every candidate by (rank, recency) and take the best. Obviously
// right and O(n log n); the oracle for the histogram-based fast path in src/cpu/select_fast.cpp.
#include "adamas/select.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "adamas/error.h"

namespace adamas {

namespace {

// Shared skeleton: forced set + the `better`-ordered best of the rest, written ascending.
template <typename Better>
int64_t select_reference(int64_t n, SelectionRule rule, int32_t* out, Better better) {
    rule.validate();
    if (n <= rule.budget) {
        for (int64_t t = 0; t < n; ++t)
            out[t] = int32_t(t);
        return n;
    }
    const int64_t lo = rule.forced_prefix(), hi = n - rule.forced_suffix();
    const int64_t rest = rule.budget - lo - rule.forced_suffix();
    std::vector<int32_t> candidates;
    for (int64_t t = lo; t < hi; ++t)
        candidates.push_back(int32_t(t));
    std::sort(candidates.begin(), candidates.end(), [&](int32_t a, int32_t b) {
        if (better(a, b)) return true;
        if (better(b, a)) return false;
        return a > b;  // ties: the more recent token first
    });
    candidates.resize(size_t(rest));
    for (int64_t t = hi; t < n; ++t)
        candidates.push_back(int32_t(t));
    for (int64_t t = 0; t < lo; ++t)
        candidates.push_back(int32_t(t));
    std::sort(candidates.begin(), candidates.end());
    std::copy(candidates.begin(), candidates.end(), out);
    return int64_t(candidates.size());
}

}  // namespace

int64_t select_by_distance_reference(std::span<const uint16_t> distances, int max_dist, SelectionRule rule,
                                     int32_t* out) {
    return select_reference(int64_t(distances.size()), rule, out,
                            [&](int32_t a, int32_t b) { return distances[a] < distances[b]; });
}

int64_t select_by_score_reference(std::span<const float> scores, SelectionRule rule, int32_t* out) {
    // NaN ranks below every number; equal scores (+0 and -0 too) tie.
    return select_reference(int64_t(scores.size()), rule, out, [&](int32_t a, int32_t b) {
        const float x = scores[a], y = scores[b];
        if (std::isnan(x)) return false;
        if (std::isnan(y)) return true;
        return x > y;
    });
}

}  // namespace adamas
