// Thread pool: every item runs exactly once per job across many back-to-back jobs (the spin/sleep
// hand-off), thread ids stay in range, and exceptions reach the caller.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "adamas/thread_pool.h"

namespace adamas {
namespace {

TEST(ThreadPool, RunsEveryItemOnceAcrossManyJobs) {
    ThreadPool pool(3);
    for (int job = 0; job < 2000; ++job) {
        const int64_t count = 1 + job % 37;
        std::vector<std::atomic<int>> hits(static_cast<size_t>(count));
        pool.parallel_for(count, [&](int64_t item, int thread) {
            ASSERT_GE(thread, 0);
            ASSERT_LT(thread, pool.size());
            hits[size_t(item)].fetch_add(1);
        });
        for (int64_t i = 0; i < count; ++i)
            ASSERT_EQ(hits[size_t(i)].load(), 1) << "job " << job << " item " << i;
        if (job % 500 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));  // workers go to sleep
    }
}

TEST(ThreadPool, PropagatesExceptions) {
    ThreadPool pool(2);
    EXPECT_THROW(pool.parallel_for(100,
                                   [](int64_t item, int) {
                                       if (item == 42) throw std::runtime_error("boom");
                                   }),
                 std::runtime_error);
    std::atomic<int> after{0};
    pool.parallel_for(10, [&](int64_t, int) { after.fetch_add(1); });  // still usable
    EXPECT_EQ(after.load(), 10);
}

TEST(ThreadPool, NestedCallsRunInlineAsTheCallingThread) {
    ThreadPool pool(2);
    std::atomic<int> total{0};
    pool.parallel_for(8, [&](int64_t, int outer) {
        pool.parallel_for(4, [&](int64_t, int inner) {
            EXPECT_EQ(inner, outer);
            total.fetch_add(1);
        });
    });
    EXPECT_EQ(total.load(), 32);
}

TEST(ThreadPool, CallersFromSeveralThreadsTakeTurns) {
    ThreadPool pool(3);
    std::atomic<int64_t> total{0};
    auto caller = [&] {
        for (int job = 0; job < 300; ++job)
            pool.parallel_for(17, [&](int64_t item, int) { total.fetch_add(item); });
    };
    std::thread a(caller), b(caller);
    a.join();
    b.join();
    EXPECT_EQ(total.load(), 2 * 300 * (16 * 17 / 2));
}

}  // namespace
}  // namespace adamas
