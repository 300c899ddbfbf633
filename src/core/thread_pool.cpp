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

struct ThreadPool::Job {
    const std::function<void(int64_t, int)>* fn = nullptr;
    int64_t count = 0;
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> done{0};
    std::mutex error_mutex;
    std::exception_ptr error;
};

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

void ThreadPool::run_items(Job& job, int thread) {
    inside_job = true;
    current_thread = thread;
    struct Reset {
        ~Reset() { inside_job = false; }
    } reset;
    for (;;) {
        const int64_t item = job.next.fetch_add(1, std::memory_order_relaxed);
        if (item >= job.count) return;
        try {
            (*job.fn)(item, thread);
        } catch (...) {
            std::lock_guard lock(job.error_mutex);
            if (!job.error) job.error = std::current_exception();
        }
        job.done.fetch_add(1, std::memory_order_acq_rel);
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
        std::shared_ptr<Job> job;
        {
            std::lock_guard lock(mutex_);
            seen = generation_.load(std::memory_order_acquire);
            job = current_;
        }
        if (!job) continue;
        run_items(*job, thread);
        if (job->done.load(std::memory_order_acquire) == job->count) {
            std::lock_guard lock(mutex_);  // pairs with the caller's predicate check under the lock
            done_.notify_all();
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
    auto job = std::make_shared<Job>();
    job->fn = &fn;
    job->count = count;
    {
        std::lock_guard lock(mutex_);  // sleepers check the generation under the lock: no lost wake-up
        current_ = job;
        generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    run_items(*job, 0);
    auto all_done = [&] { return job->done.load(std::memory_order_acquire) == count; };
    if (!spin_until(all_done)) {
        std::unique_lock lock(mutex_);
        done_.wait(lock, all_done);
    }
    {
        std::lock_guard lock(mutex_);
        current_.reset();  // late workers keep the job alive themselves; they will find it empty
    }
    if (job->error) {
        // Items after a failure still ran; the first exception is the one reported.
        std::rethrow_exception(job->error);
    }
}

}  // namespace adamas
