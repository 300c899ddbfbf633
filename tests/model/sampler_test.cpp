// Sampling: the vectorized greedy argmax against a plain scan (ties, tails, NaN, -inf), and the seeded
// temperature / top-k / top-p sampler's basic contracts.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "adamas/sampler.h"

namespace adamas {
namespace {

// The plain definition: the lowest index of the largest non-NaN value; 0 when there is none.
int32_t plain_argmax(const std::vector<float>& x) {
    int32_t best = -1;
    for (size_t i = 0; i < x.size(); ++i)
        if (!std::isnan(x[i]) && (best < 0 || x[i] > x[size_t(best)])) best = int32_t(i);
    return best < 0 || x[size_t(best)] == -std::numeric_limits<float>::infinity() ? 0 : best;
}

TEST(Sampler, ArgmaxMatchesAPlainScan) {
    std::mt19937 rng(5);
    for (size_t n : {1, 2, 15, 16, 17, 33, 1000, 49152}) {
        for (int trial = 0; trial < 20; ++trial) {
            std::vector<float> x(n);
            // Few distinct values: many ties, in every lane and in the tail.
            std::uniform_int_distribution<int> level(0, trial % 2 ? 3 : 1000);
            for (auto& v : x)
                v = float(level(rng));
            if (trial % 5 == 1) x[rng() % n] = std::numeric_limits<float>::quiet_NaN();
            if (trial % 5 == 2) x[0] = std::numeric_limits<float>::quiet_NaN();
            EXPECT_EQ(argmax(x), plain_argmax(x)) << "n=" << n << " trial " << trial;
        }
    }
    EXPECT_EQ(argmax(std::vector<float>(40, std::numeric_limits<float>::quiet_NaN())), 0);
    EXPECT_EQ(argmax(std::vector<float>(40, -std::numeric_limits<float>::infinity())), 0);
    std::vector<float> last(100, -1.0f);
    last[99] = 2.0f;  // in the tail after the lanes
    EXPECT_EQ(argmax(last), 99);
}

TEST(Sampler, GreedyIsArgmaxAndSeededSamplingRepeats) {
    std::vector<float> logits = {0.1f, 3.0f, 2.9f, -1.0f, 3.0f};
    Sampler greedy(SamplerOptions{});
    EXPECT_EQ(greedy.sample(logits), 1);
    SamplerOptions o;
    o.temperature = 0.8f;
    o.top_k = 3;
    o.seed = 42;
    Sampler a(o), b(o);
    for (int i = 0; i < 50; ++i) {
        const int32_t t = a.sample(logits);
        EXPECT_EQ(t, b.sample(logits));
        EXPECT_TRUE(t == 1 || t == 2 || t == 4) << t;  // top 3 only
    }
}

}  // namespace
}  // namespace adamas
