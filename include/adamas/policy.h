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
struct Selection {
    bool all_tokens = false;
    bool per_kv_head = false;  // rows are KV heads
    int rows = 0;
    int64_t row_capacity = 0;  // stride of `indices`
    std::vector<int32_t> indices;
    std::vector<int64_t> counts;

    // Index list of row r; not for all_tokens selections, which keep none.
    std::span<const int32_t> row(int r) const {
        ADAMAS_ASSERT(!all_tokens && r >= 0 && r < rows);
        return {indices.data() + r * row_capacity, size_t(counts[r])};
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
        return prepare_step(step, selection, threads);
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
    const PolicyConfig requested_;
    PolicyConfig config_;    // this step's: requested_ resolved for its group
    int checked_group_ = 0;  // the group requested_ was last validated for
};

// Throws Error if the config is invalid.
std::unique_ptr<SelectionPolicy> make_policy(const PolicyConfig& config);

}  // namespace adamas
