// A small pool of persistent worker threads for fork-join loops over work items (heads, token chunks).
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace adamas {

class ThreadPool {
  public:
    // threads <= 0 means one per hardware thread. The calling thread also works, so `threads - 1`
    // workers are started.
    explicit ThreadPool(int threads = 0);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return int(workers_.size()) + 1; }

    // Runs fn(item, thread) for item in [0, count); returns when all are done. thread is in [0, size()).
    // Items are handed out dynamically, so uneven items balance. Exceptions propagate to the caller.
    // Callers from several threads take turns (one job runs at a time); a call from inside a job runs
    // its items inline on the calling thread, so nesting cannot deadlock.
    void parallel_for(int64_t count, const std::function<void(int64_t item, int thread)>& fn);

  private:
    void worker_loop(int thread);
    void run_items(int thread);

    std::vector<std::thread> workers_;
    std::mutex caller_mutex_;  // one job at a time
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    // A decode step runs three short jobs back to back, so workers spin briefly on `generation_`
    // before sleeping, and the caller spins on `busy_`: a futex wake-up per job cost tens of µs.
    std::atomic<uint64_t> generation_{0};
    std::atomic<int> busy_{0};
    std::atomic<bool> stopping_{false};
    const std::function<void(int64_t, int)>* job_ = nullptr;
    int64_t job_count_ = 0;
    std::atomic<int64_t> next_item_{0};
    std::exception_ptr error_;
};

}  // namespace adamas
