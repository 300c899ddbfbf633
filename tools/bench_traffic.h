// The bytes a decode step must read by the performance model (DESIGN.md §3): what the policy's
// estimate streams plus the K/V rows it attends. Achieved GB/s in the benchmark is this over time.
#pragma once
#include <cstdint>

#include "adamas/method.h"
#include "adamas/policy.h"

namespace adamas::tools {

struct StepTraffic {
    double estimate_bytes = 0;  // codes and re-ranked keys (adamas), keys (oracle), page min/max (quest)
    double attend_bytes = 0;    // K and V rows attended
    double total() const { return estimate_bytes + attend_bytes; }
};

// Traffic of one sequence's step given what it selected. A selection of all tokens (dense, or
// n ≤ budget) reads K and V once per KV head and estimates nothing. Otherwise every attended row
// counts: in per-head mode a group's query heads each read their own rows, so the same row may
// count g times, which is what the kernel actually loads.
// Adamas with re-ranking also reads the keys of its R·budget candidates, per selection row. `config`
// is the step's (PolicyConfig::for_group), so a pooled budget is the group's.
StepTraffic step_traffic(const PolicyConfig& config, const KvSequenceView& kv, const Selection& selection);

}  // namespace adamas::tools
