// Selection policies behind one interface: dense, adamas, oracle, quest, streaming (§2). A policy
// chooses, for one decode step of one sequence, the tokens each query head attends to.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "adamas/error.h"
#include "adamas/kv_cache.h"
#include "adamas/method.h"
#include "adamas/select.h"

namespace adamas {

// What a step attends to. Rows are query heads (per-head mode) or KV heads (shared and pooled modes,
// one set per group); with all_tokens set no index lists are kept and every row covers [0, n).
// With a sampled tail (PolicyConfig::tail_share) a row's selected tokens are followed by a sample of
// the tokens it left out, each standing for exp(its log weight) of them (sample_unselected).
struct Selection {
    bool all_tokens = false;
    bool per_kv_head = false;  // rows are KV heads
    int rows = 0;
    int64_t row_capacity = 0;  // stride of `indices`
    std::vector<int32_t> indices;
    std::vector<int64_t> counts;
    int64_t tail_capacity = 0;  // room for sampled tokens at the end of each row; 0: no tail
    std::vector<int64_t> tail_counts;
    std::vector<float> log_weights;  // laid out as `indices`; only the tails' entries are used

    // Index list of row r; not for all_tokens selections, which keep none.
    std::span<const int32_t> row(int r) const {
        ADAMAS_ASSERT(!all_tokens && r >= 0 && r < rows);
        return {indices.data() + r * row_capacity, size_t(counts[r])};
    }
    // The sampled tail of row r (empty without one); its tokens follow the row's selected ones.
    std::span<const int32_t> tail(int r) const {
        ADAMAS_ASSERT(r >= 0 && r < rows);
        if (all_tokens || tail_capacity == 0) return {};
        return {indices.data() + r * row_capacity + counts[r], size_t(tail_counts[r])};
    }
    // The log weights of row r's tail, one per token of tail(r).
    std::span<const float> tail_log_weights(int r) const {
        if (all_tokens || tail_capacity == 0) return {};
        return {log_weights.data() + r * row_capacity + counts[r], size_t(tail_counts[r])};
    }
    // Makes room for `tail` sampled tokens after each row's selected ones (0: none). Called once the
    // rows are sized and before any is filled.
    void reserve_tail(int64_t tail) {
        tail_capacity = all_tokens ? 0 : tail;
        tail_counts.assign(size_t(rows), 0);
        if (tail_capacity == 0) return;
        row_capacity += tail_capacity;
        if (indices.size() < size_t(rows * row_capacity)) indices.resize(size_t(rows * row_capacity));
        if (log_weights.size() < indices.size()) log_weights.resize(indices.size());
    }
};

// The inputs of one step: queries [q_heads][d] (post-RoPE) and the sequence's cache.
struct StepInputs {
    const float* q = nullptr;
    int q_heads = 0;
    KvSequenceView kv;
    int group() const { return q_heads / kv.kv_heads(); }
};

// A policy runs in two parallel phases so the driver can spread them over threads and time them:
// estimate (work items over heads × token chunks, bandwidth-bound) then select (one item per row).
class SelectionPolicy {
  public:
    virtual ~SelectionPolicy() = default;
    // The config as asked for (a pooled budget still per query head).
    const PolicyConfig& config() const { return requested_; }

    // Sizes buffers for this step (and `threads` concurrent callers) and returns the number of
    // estimate work items. Runs on one thread. Resolves the config for the step's GQA group first
    // (PolicyConfig::for_group), so the phases below see per-head or shared only.
    int64_t prepare(const StepInputs& step, Selection& selection, int threads) {
        if (step.group() != checked_group_) {  // a pooled set's forced tokens depend on the group
            requested_.validate(step.group());
            checked_group_ = step.group();
        }
        config_ = requested_.for_group(step.group());
        // A sampled tail comes out of the set: the policy selects the rest, with the recent window
        // of the whole set, and draws the tail once a row is selected (draw_tail).
        tail_ = 0;
        if (config_.tail_share > 0 && step.kv.tokens > config_.budget) {
            tail_ = config_.tail_tokens(config_.budget);
            config_.recent = config_.effective_recent();
            config_.budget -= int(tail_);
        }
        config_.tail_share = 0;
        const int64_t items = prepare_step(step, selection, threads);
        selection.reserve_tail(tail_);
        return items;
    }
    // Both may run concurrently for different items/rows; `thread` < threads indexes scratch.
    virtual void estimate(const StepInputs& step, int64_t item, int thread) {}
    virtual void select(const StepInputs& step, int row, int thread, Selection& selection) = 0;

    // Called by a policy that finished selecting `row` inside estimate (see bind): the driver may
    // attend to that row right away, on the same thread, while the rows it needs are being chosen.
    using RowReady = std::function<void(int row, int thread)>;

    // The selection this policy's steps fill and the hook for rows finished early. A policy may fill
    // rows during estimate (fusing the phases while the data is in cache). Called once, before the
    // first prepare().
    virtual void bind(Selection& selection, RowReady row_ready) {}
    // Whether the last prepared step attends every row inside estimate (through the hook).
    virtual bool attends_in_estimate() const { return false; }
    // When estimate also selects (and attends): the shares of estimate time spent on those, so the
    // reported phase times stay meaningful. Zero otherwise.
    struct FusedShares {
        double select = 0;
        double attend = 0;
    };
    virtual FusedShares fused_shares() const { return {}; }

  protected:
    explicit SelectionPolicy(const PolicyConfig& config) : requested_(config), config_(config) {}
    virtual int64_t prepare_step(const StepInputs& step, Selection& selection, int threads) = 0;
    // Draws row `row`'s sampled tail once the row is selected (nothing without one); every policy's
    // select calls it. Seeded by the step itself: reproducible, different for every layer, head and
    // position.
    void draw_tail(const StepInputs& step, int row, Selection& selection, TailProposal proposal = {}) const;
    const PolicyConfig requested_;
    PolicyConfig config_;    // this step's: requested_ resolved for its group
    int64_t tail_ = 0;       // this step's sampled tokens per row (taken out of config_.budget)
    int checked_group_ = 0;  // the group requested_ was last validated for
};

// Throws Error if the config is invalid.
std::unique_ptr<SelectionPolicy> make_policy(const PolicyConfig& config);

}  // namespace adamas
