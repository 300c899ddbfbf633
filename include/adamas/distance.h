// Distances between queries' packed codes and many keys' codes (§2.4), per query head or as the
// minimum over a GQA group (§2.6). Integer results: every backend agrees bit for bit.
#pragma once
#include <cstdint>
#include <span>

#include "adamas/method.h"

namespace adamas {

// Codes of one KV head: `tokens` rows of `words` 16-bit words (code_words(d, bits) per row), row-major.
struct CodeRows {
    const uint16_t* data;
    int64_t tokens;
    int words;
    int bits = 2;  // 3: the bit-plane rows of codes.h (L1 only)
    const uint16_t* row(int64_t t) const { return data + t * words; }
};

// Distance of two packed rows of `words` words of `bits`-bit codes.
int code_distance(const uint16_t* a, const uint16_t* b, int words, Metric metric, int bits = 2);

// Optional summary written beside the distances: the minimum over each block of kDistanceBlock
// consecutive rows (the last block may be partial), one row of blocks per output row with the same
// per-head/shared layout as the distances. Selection scans it instead of every distance.
inline constexpr int kDistanceBlock = 16;
struct BlockMinima {
    uint16_t* data = nullptr;  // null: not wanted
    int64_t stride = 0;        // between output rows, in blocks
};
constexpr int64_t distance_blocks(int64_t tokens) {
    return (tokens + kDistanceBlock - 1) / kDistanceBlock;
}

// `queries` holds `count` rows of keys.words words. per_head: out[q * out_stride + t] for each query q;
// shared (and pooled, which ranks alike): out[t] = min over the queries. Fast path and reference share
// this contract.
void group_distances_reference(const uint16_t* queries, int count, CodeRows keys, Metric metric, GqaMode mode,
                               uint16_t* out, int64_t out_stride, BlockMinima minima = {});
void group_distances(const uint16_t* queries, int count, CodeRows keys, Metric metric, GqaMode mode,
                     uint16_t* out, int64_t out_stride, BlockMinima minima = {});

}  // namespace adamas
