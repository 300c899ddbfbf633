// Selection: fast histogram path against the reference (random, tie-heavy, huge n), the rules
// themselves on hand-made inputs, and the oracle's score selection.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "adamas/distance.h"
#include "adamas/error.h"
#include "adamas/select.h"
#include "test_util.h"

namespace adamas {
namespace {

std::vector<uint16_t> random_distances(int64_t n, int max_dist, uint64_t seed, bool ties) {
    std::mt19937_64 rng(seed);
    std::vector<uint16_t> out(static_cast<size_t>(n));
    // Tie-heavy inputs use only four values; realistic ones cluster around the middle like real codes.
    std::binomial_distribution<int> binom(max_dist, 0.4);
    for (auto& x : out)
        x = ties ? uint16_t(rng() % 4) : uint16_t(binom(rng));
    return out;
}

// Minimum of every kDistanceBlock distances, as the estimate kernel writes them.
std::vector<uint16_t> block_minima(const std::vector<uint16_t>& dist) {
    std::vector<uint16_t> out;
    for (size_t b = 0; b < dist.size(); b += kDistanceBlock)
        out.push_back(*std::min_element(dist.begin() + long(b),
                                        dist.begin() + long(std::min(dist.size(), b + kDistanceBlock))));
    return out;
}

TEST(Select, FastMatchesReference) {
    SelectScratch scratch;
    for (int budget : {1, 2, 16, 64, 256})
        for (int64_t n : {1, 2, 63, 64, 65, 255, 256, 257, 1000, 5000, 40000})
            for (int variant = 0; variant < 6; ++variant) {
                SelectionRule rule{budget, 0, 0, true};
                if (variant == 1) rule.force_current = false;
                if (variant == 2 && budget >= 8) rule.sinks = 4;
                if (variant == 3 && budget >= 16) rule.sinks = 2, rule.recent = 8;
                const bool ties = variant >= 4;
                const auto dist = random_distances(n, 384, test::seed_for({budget, n, variant}), ties);
                std::vector<int32_t> want(static_cast<size_t>(budget)), got(static_cast<size_t>(budget), -7);
                const int64_t want_count = select_by_distance_reference(dist, 384, rule, want.data());
                const int64_t got_count = select_by_distance(dist, 384, rule, got.data(), scratch);
                // The block-minima pre-filter must choose exactly the same tokens.
                std::vector<int32_t> via_blocks(static_cast<size_t>(budget), -7);
                const auto minima = block_minima(dist);
                ASSERT_EQ(select_by_distance(dist, 384, rule, via_blocks.data(), scratch, minima.data()),
                          got_count);
                ASSERT_EQ(via_blocks, got);
                ASSERT_EQ(got_count, std::min<int64_t>(budget, n));
                ASSERT_EQ(got_count, want_count);
                want.resize(size_t(want_count));
                got.resize(size_t(got_count));
                ASSERT_EQ(got, want) << "B=" << budget << " n=" << n << " variant=" << variant;
            }
}

TEST(Select, HugeContextAndSampleMisses) {
    SelectScratch scratch;
    const int64_t n = 131072;
    for (int trial = 0; trial < 4; ++trial) {
        auto dist = random_distances(n, 384, test::seed_for({n, trial}), false);
        // Trial 2: the sampled runs (16 runs of 128 tokens over [4, n - 16), see select_fast.cpp) hold
        // the smallest, distinct distances, so the sampled threshold admits only a few dozen tokens,
        // fewer than the budget, and the exact fallback must run. Trial 3: one huge tie.
        if (trial == 2) {
            const int64_t lo = 4, span = n - 16 - lo;
            for (int64_t seg = 0; seg < 16; ++seg)
                for (int64_t i = 0; i < 128; ++i)
                    dist[size_t(lo + seg * (span / 16) + i)] = uint16_t(seg * 8 + i / 16);
        }
        if (trial == 3) std::fill(dist.begin(), dist.end(), 200);
        for (int budget : {64, 256, 1024}) {
            std::vector<int32_t> want(static_cast<size_t>(budget)), got(static_cast<size_t>(budget));
            const SelectionRule rule{budget, 4, 16, true};
            select_by_distance_reference(dist, 384, rule, want.data());
            select_by_distance(dist, 384, rule, got.data(), scratch);
            ASSERT_EQ(got, want) << "trial=" << trial << " B=" << budget;
            const auto minima = block_minima(dist);
            select_by_distance(dist, 384, rule, got.data(), scratch, minima.data());
            ASSERT_EQ(got, want) << "blocks, trial=" << trial << " B=" << budget;
        }
    }
}

TEST(Select, RulesOnAHandMadeExample) {
    // n = 10, budget 4: current token 9 forced; best distances 1 at tokens 2, 5, 7 (tie) and 0 at 3.
    const std::vector<uint16_t> dist = {5, 5, 1, 0, 9, 1, 9, 1, 9, 9};
    int32_t out[4];
    ASSERT_EQ(select_by_distance_reference(dist, 10, {4, 0, 0, true}, out), 4);
    // Token 3 (distance 0), then ties at distance 1 go to the most recent: 7 and 5. Plus 9.
    EXPECT_EQ(std::vector<int32_t>(out, out + 4), (std::vector<int32_t>{3, 5, 7, 9}));
    // Without the forced current token (paper eval mode) the slot goes to token 2.
    select_by_distance_reference(dist, 10, {4, 0, 0, false}, out);
    EXPECT_EQ(std::vector<int32_t>(out, out + 4), (std::vector<int32_t>{2, 3, 5, 7}));
    // One sink and a recent window of 2: tokens 0, 8, 9 forced, one slot left: token 3.
    select_by_distance_reference(dist, 10, {4, 1, 2, true}, out);
    EXPECT_EQ(std::vector<int32_t>(out, out + 4), (std::vector<int32_t>{0, 3, 8, 9}));
    // n <= budget keeps everything.
    int32_t all[16];
    EXPECT_EQ(select_by_distance_reference(dist, 10, {16, 0, 0, true}, all), 10);
    EXPECT_EQ(all[9], 9);
}

TEST(Select, RejectsBudgetsSmallerThanTheForcedSet) {
    const std::vector<uint16_t> dist(100, 1);
    int32_t out[8];
    SelectScratch scratch;
    EXPECT_THROW(select_by_distance_reference(dist, 10, {4, 2, 3, true}, out), Error);
    EXPECT_THROW(select_by_distance_reference(dist, 10, {0, 0, 0, true}, out), Error);
    EXPECT_THROW((SelectionRule{2, 2, 0, true}.validate()), Error);
    EXPECT_NO_THROW((SelectionRule{3, 2, 0, true}.validate()));
}

TEST(Select, ScoreFastMatchesReferenceWithTiesAndNaN) {
    SelectScratch scratch;
    for (int64_t n : {1, 63, 64, 65, 300, 5000, 40000})
        for (int variant = 0; variant < 4; ++variant) {
            auto scores = test::random_floats(size_t(n), test::seed_for({n, variant}));
            if (variant == 1)
                for (auto& s : scores)
                    s = std::round(s * 2);  // many ties, +0 and -0 among them
            if (variant == 2)
                for (size_t i = 0; i < scores.size(); i += 3)
                    scores[i] = std::numeric_limits<float>::quiet_NaN();
            if (variant == 3 && n > 2) scores[1] = std::numeric_limits<float>::infinity(), scores[2] = -0.0f;
            for (int budget : {1, 64}) {
                const SelectionRule rule{budget, budget >= 8 ? 2 : 0, 0, true};
                std::vector<int32_t> want(static_cast<size_t>(budget)), got(static_cast<size_t>(budget));
                const int64_t c1 = select_by_score_reference(scores, rule, want.data());
                const int64_t c2 = select_by_score(scores, rule, got.data(), scratch);
                ASSERT_EQ(c1, c2);
                want.resize(size_t(c1));
                got.resize(size_t(c2));
                ASSERT_EQ(got, want) << "n=" << n << " variant=" << variant << " B=" << budget;
            }
        }
}

TEST(Select, ScorePreFilterFallsBackWhenTheSampleMisleads) {
    // The sampled runs (16 runs of 128 tokens, see select_fast.cpp) hold the highest scores, so the
    // sampled threshold admits only a few dozen tokens, fewer than the budget: the exact path must
    // take over and still pick the sampled ones first, then the best of the rest.
    const int64_t n = 65537, span = n - 1;
    std::vector<float> scores(static_cast<size_t>(n));
    for (int64_t t = 0; t < n; ++t)
        scores[size_t(t)] = float(t % 97);
    for (int64_t seg = 0; seg < 16; ++seg)
        for (int64_t t = seg * (span / 16); t < seg * (span / 16) + 128; ++t)
            scores[size_t(t)] = 1000.0f + float(t);
    std::vector<int32_t> want(256), got(256);
    SelectScratch scratch;
    select_by_score_reference(scores, {256, 0, 0, true}, want.data());
    select_by_score(scores, {256, 0, 0, true}, got.data(), scratch);
    EXPECT_EQ(got, want);
    // The pre-filter ran and admitted too few, so the answer came from the exact path.
    EXPECT_GT(scratch.filtered.size(), 0u);
    EXPECT_LT(int64_t(scratch.filtered.size()), 255);
}

TEST(Select, OracleEqualsBruteForceTopB) {
    // Without forced tokens the oracle keeps exactly the B largest scores (distinct values here).
    const int64_t n = 2000;
    const auto scores = test::random_floats(size_t(n), 99);
    std::vector<int32_t> order(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
        order[size_t(i)] = int32_t(i);
    std::sort(order.begin(), order.end(),
              [&](int32_t a, int32_t b) { return scores[size_t(a)] > scores[size_t(b)]; });
    order.resize(128);
    std::sort(order.begin(), order.end());
    std::vector<int32_t> got(128);
    SelectScratch scratch;
    select_by_score(scores, {128, 0, 0, false}, got.data(), scratch);
    EXPECT_EQ(got, order);
}

}  // namespace
}  // namespace adamas
