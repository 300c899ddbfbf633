// Vectorized pre-filter of the selection: the tokens whose distance is at most a threshold.
#pragma once
#include <cstdint>

namespace adamas::cpu {

// Writes every t in [begin, end) with dist[t] <= threshold to out (ascending) and returns how many.
// `out` must have room for end - begin + 64 entries (whole vectors are stored).
int64_t filter_at_most(const uint16_t* dist, int64_t begin, int64_t end, uint16_t threshold, int32_t* out);

// The same result, reading only the blocks whose minimum (block_min, kDistanceBlock tokens each from
// token 0) is at most the threshold. `blocks` is scratch with room for the block count + 64.
int64_t filter_blocks_at_most(const uint16_t* dist, const uint16_t* block_min, int64_t begin, int64_t end,
                              uint16_t threshold, int32_t* blocks, int32_t* out);

}  // namespace adamas::cpu
