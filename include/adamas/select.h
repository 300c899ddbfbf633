// Budgeted token selection for one head and one decode step (§2.5): the forced set (current token,
// S sinks, W recent) plus the best-ranked remaining tokens, ties to the more recent token. Output
// indices are ascending; the count is min(budget, n).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace adamas {

struct SelectionRule {
    int budget = 256;
    int sinks = 0;
    int recent = 0;
    bool force_current = true;

    // Tokens [0, forced_prefix) and [n - forced_suffix, n) are forced when n > budget.
    int forced_prefix() const { return sinks; }
    int forced_suffix() const { return recent > 0 ? recent : (force_current ? 1 : 0); }
    void validate() const;  // throws Error when budget < forced set or values are negative
};

// Reusable buffers so the fast path allocates nothing per step once warmed up.
struct SelectScratch {
    std::vector<uint32_t> histogram;
    std::vector<uint32_t> histogram_lanes;  // four interleaved partial histograms
    std::vector<int32_t> candidates;        // the chosen non-forced tokens
    std::vector<int32_t> filtered;          // tokens that passed the pre-filter
    std::vector<int32_t> blocks;            // distance blocks that passed it
    std::vector<uint64_t> keyed;            // oracle: (score, recency) keys
    std::vector<float> sample;              // oracle: sampled scores for the pre-filter threshold
};

// Smallest distance wins. Distances must lie in [0, max_dist]. Returns the number of indices written.
int64_t select_by_distance_reference(std::span<const uint16_t> distances, int max_dist, SelectionRule rule,
                                     int32_t* out);
// block_min (optional): the distances' block minima (distance.h), which let the pre-filter skip blocks.
int64_t select_by_distance(std::span<const uint16_t> distances, int max_dist, SelectionRule rule,
                           int32_t* out, SelectScratch& scratch, const uint16_t* block_min = nullptr);

// Highest score wins (oracle: exact q·k). NaN ranks below every number.
int64_t select_by_score_reference(std::span<const float> scores, SelectionRule rule, int32_t* out);
int64_t select_by_score(std::span<const float> scores, SelectionRule rule, int32_t* out,
                        SelectScratch& scratch);

}  // namespace adamas
