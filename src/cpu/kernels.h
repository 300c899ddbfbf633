// Vectorized CPU kernels (Highway, runtime dispatch to the best target). Callers validate arguments;
// these only assert. Each has a scalar reference in src/attention with the same contract.
#pragma once
#include <cstdint>

#include "adamas/distance.h"
#include "adamas/dtype.h"

namespace adamas::cpu {

// Queries one group_distances call takes; the public group_distances slices wider groups.
inline constexpr int kDistanceMaxQueries = 64;

void hadamard(float* x, int d);
void encode_codes(const float* rotated, int d, float tau, uint16_t* out);
void group_distances(const uint16_t* queries, int count, CodeRows keys, Metric metric, GqaMode mode,
                     uint16_t* out, int64_t out_stride, BlockMinima minima);
// L1 distances of 3-bit codes (keys.bits == 3), any number of queries; no block minima.
void group_distances3(const uint16_t* queries, int count, CodeRows keys, GqaMode mode, uint16_t* out,
                      int64_t out_stride);

// Rows between f32 and a storage type (vectorized; the scalar ones in dtype.h are the reference).
void store_row(const float* src, int64_t count, DType type, void* dst);
void load_row(const void* src, DType type, int64_t count, float* dst);

// Query heads one fast attention call handles at once (attend_partial splits larger groups).
inline constexpr int kAttendMaxQueries = 16;

// Name of the SIMD target the dispatcher picked (e.g. "AVX3_DL"), for benchmark reports.
const char* simd_target_name();

}  // namespace adamas::cpu

namespace adamas::cpu {

// scores[h * stride + t] = q_h · k_t for t in [begin, end) (unscaled: only the order matters), h < count.
// With `indices`, row t is key indices[t] instead (the keys of a candidate list).
void dot_scores(const float* q, int count, const void* k, DType dtype, int d, int64_t begin, int64_t end,
                float* scores, int64_t stride, const int32_t* indices = nullptr);

// Quest: out[h * stride + p] = Σ_j max(q_hj · min_pj, q_hj · max_pj) for pages p in [begin, end).
void page_scores(const float* q, int count, const float* page_min, const float* page_max, int d,
                 int64_t begin, int64_t end, float* out, int64_t stride);

}  // namespace adamas::cpu
