// Timing of one policy's decode step over a set of cache copies: inputs rotate across copies and
// query sets, the LLC is flushed when the rotation alone would leave the step's data cached, and
// medians are reported.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "adamas/kv_cache.h"
#include "adamas/method.h"
#include "bench_inputs.h"
#include "bench_memory.h"

namespace adamas::tools {

struct TimingOptions {
    int min_repeats = 5;
    double min_seconds = 0.5;  // keep repeating until this much wall time has passed
    int64_t llc_bytes = 0;
};

struct StepMeasurement {
    double us = 0;  // median wall time of DecodeAttention::run over the batch
    double estimate_us = 0, select_us = 0, attend_us = 0;  // medians of DecodeTimings
    double bytes = 0;  // model bytes per step (mean over repeats, whole batch)
    double estimate_bytes = 0;
    int repeats = 0;
    bool flushed = false;  // LLC flushed before each repeat
};

StepMeasurement measure_step(const PolicyConfig& config, const BenchShape& shape,
                             std::span<const KvCache> copies, std::span<const std::vector<float>> queries,
                             ThreadPool& pool, CacheFlusher& flusher, const TimingOptions& options);

}  // namespace adamas::tools
