// A small pool of persistent worker threads for fork-join loops over work items (heads, token chunks).
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
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
    struct Job;
    void worker_loop(int thread);
    static void run_items(Job& job, int thread);

    std::vector<std::thread> workers_;
    std::mutex caller_mutex_;  // one job at a time
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    // A decode step runs many short jobs back to back, so idle workers spin briefly on `generation_`
    // before sleeping. A job is finished when all its items are, whichever threads ran them: a worker
    // the OS has descheduled never holds the caller up (jobs are reference-counted, so a late worker
    // finds its old job empty and leaves).
    std::atomic<uint64_t> generation_{0};
    std::shared_ptr<Job> current_;  // guarded by mutex_
    std::atomic<bool> stopping_{false};
};

}  // namespace adamas
