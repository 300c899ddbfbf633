// One decode step of attention for a batch of sequences under a policy: estimate, select, attend,
// spread over a thread pool. The entry point tools and the model runtime call.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "adamas/attention.h"
#include "adamas/policy.h"
#include "adamas/thread_pool.h"

namespace adamas {

// Wall time of each phase of the last step, summed over the batch.
struct DecodeTimings {
    double estimate_s = 0;
    double select_s = 0;
    double attend_s = 0;
    double total() const { return estimate_s + select_s + attend_s; }
};

// One sequence's request: queries [q_heads][d] and the output [q_heads][d].
struct DecodeRequest {
    const float* q = nullptr;
    KvSequenceView kv;
    float* out = nullptr;
};

class DecodeAttention {
  public:
    DecodeAttention(const PolicyConfig& config, int q_heads, ThreadPool& pool);
    ~DecodeAttention();

    // Runs one step for every request. Throws Error on inconsistent shapes (q_heads not a multiple
    // of the KV heads, head dims that differ).
    void run(std::span<const DecodeRequest> requests, DecodeTimings* timings = nullptr);

    // What request `r` of the last run attended (rows per Selection's convention).
    const Selection& selection(size_t r) const { return *slots_[r].selection; }
    const PolicyConfig& config() const { return config_; }

  private:
    struct Slot {
        std::unique_ptr<SelectionPolicy> policy;
        std::unique_ptr<Selection> selection;
        StepInputs step;
        const DecodeRequest* request = nullptr;  // of the running step
    };
    void attend_all(std::span<const DecodeRequest> requests);
    // Attends one selected row of a slot right away (called from inside a fused estimate item).
    void attend_row(size_t slot, int row, int thread);

    PolicyConfig config_;
    int q_heads_;
    ThreadPool& pool_;
    std::vector<Slot> slots_;
    std::vector<float> partial_acc_;
    std::vector<AttentionPartial> partials_;
    // Per-step bookkeeping, kept to avoid allocating in every step.
    struct AttendItem {
        uint32_t request;
        int32_t row;
        int64_t begin, end;  // range within the row's token set
        int64_t partial;     // first partial (one per query of the row)
        bool tail = false;   // a sampled tail: its tokens carry log weights
    };
    std::vector<AttendItem> attend_items_;
    std::vector<AttentionPartial> merge_parts_;
    std::vector<int64_t> estimate_starts_, select_starts_;
    std::vector<float> row_acc_;  // per thread: q_heads × d, for attend_row
    std::vector<AttentionPartial> row_partials_;
};

}  // namespace adamas
