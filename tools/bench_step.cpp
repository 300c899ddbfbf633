// Times DecodeAttention::run for one policy with rotated inputs (see bench_step.h).
#include "bench_step.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "adamas/decode.h"
#include "bench_traffic.h"

namespace adamas::tools {
namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> values) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const size_t mid = values.size() / 2;
    return values.size() % 2 ? values[mid] : 0.5 * (values[mid - 1] + values[mid]);
}

// A bound on repeats for steps of a few microseconds, so --min-time stays the only knob that matters.
constexpr int kMaxRepeats = 100000;

}  // namespace

StepMeasurement measure_step(const PolicyConfig& config, const BenchShape& shape,
                             std::span<const KvCache> copies, std::span<const std::vector<float>> queries,
                             ThreadPool& pool, CacheFlusher& flusher, const TimingOptions& options) {
    const int batch = copies.front().shape().sequences;
    const int64_t q_stride = int64_t(shape.q_heads) * shape.head_dim;
    std::vector<std::vector<KvSequenceView>> views(copies.size());
    for (size_t c = 0; c < copies.size(); ++c)
        for (int s = 0; s < batch; ++s)
            views[c].push_back(copies[c].view(s));
    std::vector<float> out(static_cast<size_t>(batch * q_stride));
    std::vector<DecodeRequest> requests(static_cast<size_t>(batch));
    DecodeAttention attention(config, shape.q_heads, pool);

    // Repeat i uses copy i mod C and query set i mod Q, so consecutive steps share no K/V rows.
    size_t last_copy = 0;
    auto run_once = [&](int64_t i, DecodeTimings* timings) {
        last_copy = size_t(i) % copies.size();
        const std::vector<float>& q = queries[size_t(i) % queries.size()];
        for (int s = 0; s < batch; ++s)
            requests[size_t(s)] = DecodeRequest{q.data() + s * q_stride, views[last_copy][size_t(s)],
                                                out.data() + s * q_stride};
        attention.run(requests, timings);
    };
    auto traffic_of_last = [&] {
        StepTraffic total;
        for (int s = 0; s < batch; ++s) {
            StepTraffic t = step_traffic(config.for_group(shape.q_heads / shape.kv_heads),
                                         views[last_copy][size_t(s)], attention.selection(size_t(s)));
            total.estimate_bytes += t.estimate_bytes;
            total.attend_bytes += t.attend_bytes;
        }
        return total;
    };

    // Warm-up: sizes the policies' buffers and faults in their pages.
    run_once(0, nullptr);
    run_once(1, nullptr);
    StepMeasurement m;
    // Bytes the rotation touches before it comes back to a copy; when they fit in twice the LLC the
    // next visit would partly hit the cache, so flush it before each repeat instead (outside the timing).
    m.flushed = traffic_of_last().total() * double(copies.size()) <= 2.0 * double(options.llc_bytes);

    std::vector<double> total_us, estimate_us, select_us, attend_us;
    const auto start = Clock::now();
    for (int64_t i = 0;; ++i) {
        const bool enough =
            i >= options.min_repeats &&
            std::chrono::duration<double>(Clock::now() - start).count() >= options.min_seconds;
        if (enough || i >= kMaxRepeats) break;
        if (m.flushed) {
            flusher.flush(pool);
            // In a model the previous op (a matmul) has just used the pool; a no-op job recreates that,
            // so a step is not charged the deeper wake-up of workers idle through the whole flush.
            pool.parallel_for(pool.size(), [](int64_t, int) {});
        }
        DecodeTimings timings;
        const auto t0 = Clock::now();
        run_once(i + 2, &timings);
        const auto t1 = Clock::now();
        total_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        estimate_us.push_back(timings.estimate_s * 1e6);
        select_us.push_back(timings.select_s * 1e6);
        attend_us.push_back(timings.attend_s * 1e6);
        const StepTraffic traffic = traffic_of_last();
        m.bytes += traffic.total();
        m.estimate_bytes += traffic.estimate_bytes;
    }
    m.repeats = int(total_us.size());
    m.bytes /= m.repeats;
    m.estimate_bytes /= m.repeats;
    m.us = median(total_us);
    m.estimate_us = median(estimate_us);
    m.select_us = median(select_us);
    m.attend_us = median(attend_us);
    // A benchmark of wrong results is worthless: catch kernels that produce NaN or infinities.
    for (float x : out)
        if (!std::isfinite(x))
            throw std::runtime_error(fmt::format("bench: {} produced a non-finite output for {} n={}",
                                                 config.describe(shape.q_heads / shape.kv_heads), shape.name,
                                                 views[0][0].tokens));
    return m;
}

}  // namespace adamas::tools
