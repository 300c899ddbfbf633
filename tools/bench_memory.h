// The machine side of a benchmark: cache and memory sizes, a STREAM-like triad that measures the DRAM
// bandwidth results are compared against (DESIGN.md §3), and an LLC flush for between timed repeats.
#pragma once
#include <cstdint>
#include <vector>

namespace adamas {
class ThreadPool;
}

namespace adamas::tools {

// Size of the last-level cache: sysfs (the level-3 cache cpu0 sees), else sysconf, else 32 MiB.
// sysfs comes first because in VMs sysconf may report the host's total L3 rather than the part
// this machine's cores share.
int64_t last_level_cache_bytes();

// Physical memory, or the cgroup limit when that is smaller.
int64_t physical_memory_bytes();

struct TriadResult {
    double best_gbps = 0;  // STREAM convention: the best trial
    double median_gbps = 0;
    int64_t array_bytes = 0;  // each of the three arrays
    int trials = 0;
};

// a[i] = b[i] + s * c[i] over three double arrays of max(4 × LLC, 64 MiB) each, split over the pool.
// Counts 24 bytes per element (two reads, one write), as STREAM does: write-allocate traffic is not
// counted, so the figure is what a kernel that reads its inputs once can hope to reach.
TriadResult measure_triad(ThreadPool& pool, int64_t llc_bytes, int trials = 10);

// Evicts the caches by reading a buffer of twice the LLC. Reading rather than writing leaves the
// cache clean, so the timed step that follows pays no write-back for the flush.
class CacheFlusher {
  public:
    explicit CacheFlusher(int64_t llc_bytes);
    void flush(ThreadPool& pool);
    int64_t bytes() const { return int64_t(buffer_.size() * sizeof(uint64_t)); }

  private:
    std::vector<uint64_t> buffer_;
    uint64_t sink_ = 0;  // keeps the reads observable
};

}  // namespace adamas::tools
