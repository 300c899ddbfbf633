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

// How likely each left-out token is to be drawn: token t in proportion to weights[classes[t]] (e.g.
// classes: code distances, weights: exp(-β·distance)). Without classes, every token alike.
struct TailProposal {
    const uint16_t* classes = nullptr;
    std::span<const float> weights;
};

// A systematic sample of the tokens of [0, n) that `selected` (ascending, distinct, in [0, n)) leaves
// out. Those `rest` tokens, in order, are laid end to end, each as long as its proposal weight p_t (total
// Z), and cut into `count` strata of Z/count; the token under the same offset u·Z/count of each
// stratum is taken, u uniform in [0, 1) drawn from `seed`. A token drawn stands for Z/(count·p_t)
// tokens (log_weights receives the log), so the weighted sum of any quantity over the sample estimates
// its sum over the rest without bias; neighbouring tokens, whose attention is alike, share a stratum.
// Uniform (no proposal): one token of every rest/count. When rest <= count every left-out token is
// taken, as itself. `out` receives ascending indices (a token as likely as a whole stratum may repeat);
// returns how many (at most `count`).
int64_t sample_unselected(std::span<const int32_t> selected, int64_t n, int64_t count, uint64_t seed,
                          int32_t* out, float* log_weights, TailProposal proposal = {});

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
