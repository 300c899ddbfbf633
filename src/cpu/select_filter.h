// Vectorized pre-filter of the selection: the tokens whose distance is at most a threshold.
#pragma once
#include <cstdint>
#include <vector>

namespace adamas::cpu {

// Appends every t in [begin, end) with dist[t] <= threshold to `out`, ascending.
void filter_at_most(const uint16_t* dist, int64_t begin, int64_t end, uint16_t threshold, std::vector<int32_t>& out);

}  // namespace adamas::cpu
