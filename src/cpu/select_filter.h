// Vectorized pre-filter of the selection: the tokens whose distance is at most a threshold.
#pragma once
#include <cstdint>

namespace adamas::cpu {

// Writes every t in [begin, end) with dist[t] <= threshold to out (ascending) and returns how many.
// `out` must have room for end - begin + 64 entries (whole vectors are stored).
int64_t filter_at_most(const uint16_t* dist, int64_t begin, int64_t end, uint16_t threshold, int32_t* out);

}  // namespace adamas::cpu
