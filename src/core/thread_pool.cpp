// Fork-join thread pool: workers pull items from an atomic counter, spin briefly between jobs (the
// jobs of a decode step come microseconds apart) and sleep on a condition variable after that.
#include "adamas/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ADAMAS_PAUSE() _mm_pause()
#else
#define ADAMAS_PAUSE() std::this_thread::yield()
#endif

namespace adamas {

namespace {
// Set while a thread runs items of some pool's job: a nested parallel_for then runs inline, as that
// thread (the caller may index per-thread scratch with the id).
thread_local bool inside_job = false;
thread_local int current_thread = 0;

// How long an idle thread spins before it sleeps: longer than the gaps inside a decode step, short
// enough that an idle pool gives its cores back quickly.
constexpr auto kSpinTime = std::chrono::microseconds(200);

// Spins until done() or the spin time is over; returns done().
template <typename Done>
bool spin_until(Done done) {
    const auto until = std::chrono::steady_clock::now() + kSpinTime;
    for (int i = 0;; ++i) {
        if (done()) return true;
        ADAMAS_PAUSE();
        if ((i & 255) == 255 && std::chrono::steady_clock::now() > until) return done();
    }
}
}  // namespace

ThreadPool::ThreadPool(int threads) {
    if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
    for (int t = 1; t < threads; ++t)
        workers_.emplace_back([this, t] { worker_loop(t); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(mutex_);
        stopping_.store(true);
    }
    wake_.notify_all();
    for (auto& w : workers_)
        w.join();
}

void ThreadPool::run_items(int thread) {
    inside_job = true;
    current_thread = thread;
    struct Reset {
        ~Reset() { inside_job = false; }
    } reset;
    for (;;) {
        const int64_t item = next_item_.fetch_add(1, std::memory_order_relaxed);
        if (item >= job_count_) return;
        try {
            (*job_)(item, thread);
        } catch (...) {
            std::lock_guard lock(mutex_);
            if (!error_) error_ = std::current_exception();
            next_item_.store(job_count_, std::memory_order_relaxed);  // stop handing out items
        }
    }
}

void ThreadPool::worker_loop(int thread) {
    uint64_t seen = 0;
    for (;;) {
        auto has_job = [&] {
            return stopping_.load() || generation_.load(std::memory_order_acquire) != seen;
        };
        if (!spin_until(has_job)) {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, has_job);
        }
        if (stopping_.load()) return;
        seen = generation_.load(std::memory_order_acquire);
        run_items(thread);
        if (busy_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            std::lock_guard lock(mutex_);  // pairs with the caller's predicate check under the lock
            done_.notify_one();
        }
    }
}

void ThreadPool::parallel_for(int64_t count, const std::function<void(int64_t, int)>& fn) {
    if (count <= 0) return;
    if (inside_job) {  // nested: run inline as the thread we are, whose scratch the caller may index
        for (int64_t i = 0; i < count; ++i)
            fn(i, current_thread);
        return;
    }
    if (workers_.empty() || count == 1) {
        for (int64_t i = 0; i < count; ++i)
            fn(i, 0);
        return;
    }
    std::lock_guard caller(caller_mutex_);
    job_ = &fn;
    job_count_ = count;
    error_ = nullptr;
    next_item_.store(0, std::memory_order_relaxed);
    busy_.store(int(workers_.size()), std::memory_order_relaxed);
    {
        std::lock_guard lock(mutex_);  // sleepers check the generation under the lock: no lost wake-up
        generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    run_items(0);
    auto all_done = [&] { return busy_.load(std::memory_order_acquire) == 0; };
    if (!spin_until(all_done)) {
        std::unique_lock lock(mutex_);
        done_.wait(lock, all_done);
    }
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
}

}  // namespace adamas
