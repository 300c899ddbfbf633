// Cache and memory sizes, the STREAM-like triad and the cache flusher (see bench_memory.h).
#include "bench_memory.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "adamas/thread_pool.h"

namespace adamas::tools {
namespace {

constexpr int64_t kMiB = int64_t(1) << 20;

// Parses sysfs sizes such as "32768K" or "1M".
int64_t parse_sysfs_size(const std::string& text) {
    char* end = nullptr;
    long long value = std::strtoll(text.c_str(), &end, 10);
    if (end == text.c_str() || value <= 0) return 0;
    if (*end == 'K') value <<= 10;
    if (*end == 'M') value <<= 20;
    return int64_t(value);
}

std::string read_first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

// Runs fn(begin, end) over `count` elements in contiguous chunks, several per pool thread: the pool
// hands items out dynamically, so with one item per thread a late-waking worker could leave the
// caller streaming alone and halve the measured bandwidth.
template <typename Fn>
void for_chunks(ThreadPool& pool, int64_t count, Fn&& fn) {
    const int64_t parts = int64_t(pool.size()) * 16;
    pool.parallel_for(parts,
                      [&](int64_t part, int) { fn(count * part / parts, count * (part + 1) / parts); });
}

}  // namespace

int64_t last_level_cache_bytes() {
    for (int index = 0; index < 8; ++index) {
        std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
        if (read_first_line(dir + "level") != "3") continue;
        if (int64_t bytes = parse_sysfs_size(read_first_line(dir + "size")); bytes > 0) return bytes;
    }
    long bytes = sysconf(_SC_LEVEL3_CACHE_SIZE);
    return bytes > 0 ? int64_t(bytes) : 32 * kMiB;
}

int64_t physical_memory_bytes() {
    int64_t bytes = int64_t(sysconf(_SC_PHYS_PAGES)) * int64_t(sysconf(_SC_PAGE_SIZE));
    // A container may be limited below the machine's memory (cgroup v2, then v1).
    for (const char* path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
        int64_t limit = parse_sysfs_size(read_first_line(path));  // "max" parses as 0
        if (limit > 0 && limit < bytes) bytes = limit;
    }
    return bytes;
}

TriadResult measure_triad(ThreadPool& pool, int64_t llc_bytes, int trials) {
    TriadResult result;
    result.array_bytes = std::max(4 * llc_bytes, 64 * kMiB);
    const int64_t count = result.array_bytes / int64_t(sizeof(double));
    // Uninitialized storage, first touched by the threads that later stream it (NUMA placement).
    std::unique_ptr<double[]> a(new double[count]), b(new double[count]), c(new double[count]);
    for_chunks(pool, count, [&](int64_t begin, int64_t end) {
        std::fill(a.get() + begin, a.get() + end, 0.0);
        std::fill(b.get() + begin, b.get() + end, 1.0);
        std::fill(c.get() + begin, c.get() + end, 2.0);
    });
    const double scalar = 3.0;
    std::vector<double> rates;
    for (int trial = 0; trial < trials; ++trial) {
        auto start = std::chrono::steady_clock::now();
        for_chunks(pool, count, [&](int64_t begin, int64_t end) {
            double* __restrict out = a.get();
            const double* __restrict x = b.get();
            const double* __restrict y = c.get();
            for (int64_t i = begin; i < end; ++i)
                out[i] = x[i] + scalar * y[i];
        });
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        rates.push_back(3.0 * double(result.array_bytes) / seconds / 1e9);
    }
    std::sort(rates.begin(), rates.end());
    result.best_gbps = rates.back();
    result.median_gbps = rates[rates.size() / 2];
    result.trials = trials;
    volatile double observed = a[count / 2];  // the stores are observable, so no compiler may drop them
    (void)observed;
    return result;
}

CacheFlusher::CacheFlusher(int64_t llc_bytes) : buffer_(size_t(2 * llc_bytes) / sizeof(uint64_t), 1) {}

void CacheFlusher::flush(ThreadPool& pool) {
    std::vector<uint64_t> sums(size_t(pool.size()), 0);  // one per thread: no shared writes
    const int64_t parts = int64_t(pool.size()) * 16;     // several items per thread, as in for_chunks
    const int64_t count = int64_t(buffer_.size());
    pool.parallel_for(parts, [&](int64_t part, int thread) {
        uint64_t sum = 0;
        for (int64_t i = count * part / parts; i < count * (part + 1) / parts; ++i)
            sum += buffer_[size_t(i)];
        sums[size_t(thread)] += sum;
    });
    for (uint64_t s : sums)
        sink_ += s;
}

}  // namespace adamas::tools
