// Bytes per decode step by the §3 performance model (see bench_traffic.h).
#include "bench_traffic.h"

namespace adamas::tools {

StepTraffic step_traffic(const PolicyConfig& config, const KvSequenceView& kv, const Selection& selection) {
    const double n = double(kv.tokens);
    const double heads = kv.kv_heads();
    const double d = kv.head_dim;
    const double elem = dtype_size(kv.dtype);
    StepTraffic traffic;
    if (selection.all_tokens) {
        traffic.attend_bytes = 2 * n * heads * d * elem;
        return traffic;
    }
    double rows = 0;
    for (int r = 0; r < selection.rows; ++r)
        rows += double(selection.counts[size_t(r)]);
    traffic.attend_bytes = rows * d * elem * 2;
    switch (config.kind) {
        case PolicyKind::adamas: {
            traffic.estimate_bytes = n * heads * code_words(kv.head_dim) * 2;
            const double candidates = double(config.rerank) * config.budget;
            if (candidates > config.budget && candidates < n)
                traffic.estimate_bytes += selection.rows * candidates * d * elem;
            break;
        }
        case PolicyKind::oracle:
            traffic.estimate_bytes = n * heads * d * elem;
            break;
        case PolicyKind::quest: {
            const int64_t page = kv.page_size > 0 ? kv.page_size : 1;
            const double pages = double((kv.tokens + page - 1) / page);
            traffic.estimate_bytes = pages * heads * d * 2 * sizeof(float);
            break;
        }
        case PolicyKind::dense:
        case PolicyKind::streaming:
            break;
    }
    return traffic;
}

}  // namespace adamas::tools
