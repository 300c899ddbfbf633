// The sampled tail: one left-out token per stratum, weighted so sums over the sample estimate sums over
// every left-out token without bias, and a decode step with a tail equals dense attention wherever the
// left-out tokens are alike (the estimate is then exact).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "adamas/attention.h"
#include "adamas/decode.h"
#include "adamas/error.h"
#include "adamas/select.h"
#include "test_util.h"

namespace adamas {
namespace {

// A random ascending subset of [0, n) of `size` tokens.
std::vector<int32_t> random_subset(int64_t n, int64_t size, uint64_t seed) {
    std::vector<int32_t> all(static_cast<size_t>(n));
    std::iota(all.begin(), all.end(), 0);
    std::mt19937_64 rng(seed);
    std::shuffle(all.begin(), all.end(), rng);
    all.resize(static_cast<size_t>(size));
    std::sort(all.begin(), all.end());
    return all;
}

TEST(TailSample, DrawsOneLeftOutTokenPerStratum) {
    for (int64_t n : {1, 2, 17, 100, 1000, 9000})
        for (int64_t selected_size : {int64_t(0), int64_t(1), n / 3, n - 1, n})
            for (int64_t count : {1, 7, 64, 2000}) {
                const uint64_t seed = test::seed_for({n, selected_size, count});
                const auto selected = random_subset(n, selected_size, seed);
                std::vector<int32_t> rest;  // the left-out tokens, in order
                for (int32_t t = 0; t < n; ++t)
                    if (!std::binary_search(selected.begin(), selected.end(), t)) rest.push_back(t);
                std::vector<int32_t> out(static_cast<size_t>(count) + 1, -7);  // poisoned
                std::vector<float> log_weights(out.size(), -7.0f);
                const int64_t got =
                    sample_unselected(selected, n, count, seed + 1, out.data(), log_weights.data());
                const std::string where = fmt::format("n={} selected={} count={}", n, selected_size, count);
                const int64_t m = int64_t(rest.size());
                if (m <= count) {  // every left-out token, as itself
                    ASSERT_EQ(got, m) << where;
                    EXPECT_TRUE(std::equal(rest.begin(), rest.end(), out.begin())) << where;
                    for (int64_t k = 0; k < m; ++k)
                        EXPECT_EQ(log_weights[size_t(k)], 0.0f) << where;
                    continue;
                }
                ASSERT_EQ(got, count) << where;
                EXPECT_EQ(out[size_t(count)], -7) << where << ": wrote past the sample";
                const double stride = double(m) / double(count);
                for (int64_t k = 0; k < count; ++k) {
                    EXPECT_FLOAT_EQ(log_weights[size_t(k)], float(std::log(stride))) << where;
                    const auto at = std::lower_bound(rest.begin(), rest.end(), out[size_t(k)]);
                    ASSERT_TRUE(at != rest.end() && *at == out[size_t(k)])
                        << where << ": sample " << k << " = " << out[size_t(k)]
                        << " was selected or out of range";
                    const int64_t rank = at - rest.begin();
                    EXPECT_GE(rank, int64_t(std::floor(double(k) * stride))) << where << " stratum " << k;
                    EXPECT_LT(rank, int64_t(std::ceil(double(k + 1) * stride))) << where << " stratum " << k;
                }
            }
}

// Estimates of sum over the left-out tokens of value(t), averaged over `draws` seeds.
template <typename Value>
double mean_estimate(const std::vector<int32_t>& selected, int64_t n, int64_t count, TailProposal proposal,
                     Value value, int draws) {
    std::vector<int32_t> out(static_cast<size_t>(count));
    std::vector<float> log_weights(static_cast<size_t>(count));
    double mean = 0;
    for (int i = 0; i < draws; ++i) {
        const int64_t m = sample_unselected(selected, n, count, uint64_t(i) * 7919 + 1, out.data(),
                                            log_weights.data(), proposal);
        double sum = 0;
        for (int64_t k = 0; k < m; ++k)
            sum += std::exp(double(log_weights[size_t(k)])) * value(out[size_t(k)]);
        mean += sum / draws;
    }
    return mean;
}

TEST(TailSample, WeightedSumsAreUnbiased) {
    // A quantity that rises along the sequence: a sample at a fixed offset would be off by half a
    // stratum (about 1/count of the sum); over many seeds the estimate must average to the truth, drawn
    // uniformly or in proportion to a proposal.
    const int64_t n = 3000, count = 16;
    const auto selected = random_subset(n, 700, 5);
    const auto noise = test::random_floats(size_t(n), 6);
    const auto value = [&](int32_t t) { return double(t) + 300.0 * double(noise[size_t(t)]); };
    double truth = 0;
    for (int32_t t = 0; t < n; ++t)
        if (!std::binary_search(selected.begin(), selected.end(), t)) truth += value(t);
    EXPECT_NEAR(mean_estimate(selected, n, count, {}, value, 4000) / truth, 1.0, 0.005);
    // A proposal by class: classes 0-9 drawn in proportion to 1, 2, ..., 10.
    std::vector<uint16_t> classes(static_cast<size_t>(n));
    for (int64_t t = 0; t < n; ++t)
        classes[size_t(t)] = uint16_t((t * 7 + t / 13) % 10);
    const std::vector<float> weights = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    const TailProposal proposal{classes.data(), weights};
    EXPECT_NEAR(mean_estimate(selected, n, count, proposal, value, 4000) / truth, 1.0, 0.005);
    // A quantity in proportion to the proposal is estimated exactly by every draw.
    const auto like_proposal = [&](int32_t t) { return double(weights[classes[size_t(t)]]); };
    double like_truth = 0;
    for (int32_t t = 0; t < n; ++t)
        if (!std::binary_search(selected.begin(), selected.end(), t)) like_truth += like_proposal(t);
    EXPECT_NEAR(mean_estimate(selected, n, count, proposal, like_proposal, 1) / like_truth, 1.0, 1e-5);
}

TEST(TailSample, EqualProposalWeightsDrawAsUniform) {
    const int64_t n = 5000, count = 40;
    const auto selected = random_subset(n, 400, 9);
    std::vector<uint16_t> classes(static_cast<size_t>(n), 3);
    const std::vector<float> weights = {0.0f, 0.0f, 0.0f, 0.25f};
    std::vector<int32_t> uniform(static_cast<size_t>(count)), proposed(static_cast<size_t>(count));
    std::vector<float> uniform_w(static_cast<size_t>(count)), proposed_w(static_cast<size_t>(count));
    for (uint64_t seed : {1, 2, 3}) {
        ASSERT_EQ(sample_unselected(selected, n, count, seed, uniform.data(), uniform_w.data()), count);
        ASSERT_EQ(sample_unselected(selected, n, count, seed, proposed.data(), proposed_w.data(),
                                    {classes.data(), weights}),
                  count);
        EXPECT_EQ(uniform, proposed) << seed;
        for (int64_t k = 0; k < count; ++k)
            EXPECT_NEAR(uniform_w[size_t(k)], proposed_w[size_t(k)], 1e-5) << seed;
    }
}

// A sequence whose tokens are all alike but the first `distinct` and the last `distinct`: whatever a
// policy leaves out of the middle, its tail sample stands for it exactly.
struct AlikeSequence {
    int q_heads, kv_heads, d;
    int64_t n;
    std::vector<float> k, v, q;
    KvCache cache;
    AlikeSequence(int qh, int kvh, int dim, int64_t tokens, int64_t distinct, uint64_t seed)
        : q_heads(qh),
          kv_heads(kvh),
          d(dim),
          n(tokens),
          k(test::random_floats(size_t(tokens * kvh * dim), seed, 2.0f)),
          v(test::random_floats(size_t(tokens * kvh * dim), seed + 1)),
          q(test::random_floats(size_t(qh * dim), seed + 2, 2.0f)),
          cache(KvCacheShape{kvh, dim, DType::f32, tokens, 1, 16}, std::vector<float>{0.5f},
                TauMode::relative) {
        const size_t row = size_t(kvh * dim);
        for (int64_t t = distinct; t < n - distinct; ++t) {  // the middle repeats token `distinct`
            std::copy_n(k.begin() + distinct * int64_t(row), row, k.begin() + t * int64_t(row));
            std::copy_n(v.begin() + distinct * int64_t(row), row, v.begin() + t * int64_t(row));
        }
        cache.append(0, KvTokens{k.data(), v.data(), n, kvh * dim, dim});
    }
    // Dense attention in double (a float sum over thousands of tokens rounds more than the tail's
    // estimate errs here).
    std::vector<float> dense_reference() const {
        std::vector<float> out(static_cast<size_t>(q_heads * d));
        const KvSequenceView view = cache.view(0);
        const int g = q_heads / kv_heads;
        for (int h = 0; h < q_heads; ++h)
            attend_reference(q.data() + h * d, 1, view.heads[size_t(h / g)], DType::f32, d,
                             TokenSet{nullptr, 0, n}, out.data() + h * d);
        return out;
    }
    std::vector<float> run(const PolicyConfig& c, int threads) {
        ThreadPool pool(threads);
        DecodeAttention step(c, q_heads, pool);
        std::vector<float> out(static_cast<size_t>(q_heads * d));
        const DecodeRequest req{q.data(), cache.view(0), out.data()};
        step.run({&req, 1});
        const Selection& sel = step.selection(0);
        EXPECT_FALSE(sel.all_tokens);
        // Every row: the sample is disjoint from the selected tokens and weighted for the rest.
        for (int r = 0; r < sel.rows && c.tail_share > 0; ++r) {
            const auto chosen = sel.row(r), tail = sel.tail(r);
            EXPECT_EQ(int64_t(chosen.size() + tail.size()), c.for_group(q_heads / kv_heads).budget) << r;
            for (int32_t t : tail)
                EXPECT_FALSE(std::binary_search(chosen.begin(), chosen.end(), t))
                    << "row " << r << " token " << t;
            double stands_for = 0;
            for (float w : sel.tail_log_weights(r))
                stands_for += std::exp(double(w));
            EXPECT_NEAR(stands_for, double(n - int64_t(chosen.size())), 1e-3 * double(n)) << r;
        }
        return out;
    }
};

TEST(Decode, SampledTailMakesAlikeTokensExact) {
    // Adamas and the oracle keep the distinct tokens (sinks and window); streaming keeps its sinks and
    // the recent ones. Split phases, fused per row and fused per KV head all weigh the tail.
    for (auto [qh, kvh, d, n] : {std::tuple{9, 3, 64, int64_t(700)}, std::tuple{9, 3, 64, int64_t(5000)},
                                 std::tuple{4, 4, 64, int64_t(700)}, std::tuple{8, 2, 128, int64_t(2000)}}) {
        for (PolicyKind kind : {PolicyKind::adamas, PolicyKind::oracle, PolicyKind::streaming})
            for (GqaMode gqa : {GqaMode::per_head, GqaMode::pooled})
                for (int threads : {1, 2, 8}) {
                    AlikeSequence seq(qh, kvh, d, n, 4, test::seed_for({qh, d, n}));
                    PolicyConfig c;
                    c.kind = kind;
                    c.budget = 64;
                    c.gqa = gqa;
                    c.sinks = 4;
                    if (kind != PolicyKind::streaming) c.recent = 8;
                    const std::string where =
                        fmt::format("{} {}/{} d={} n={} {} threads={}", policy_name(kind), qh, kvh, d, n,
                                    gqa_name(gqa), threads);
                    const auto want = seq.dense_reference();
                    const auto without = seq.run(c, threads);
                    ASSERT_GT(test::relative_error(without.data(), want.data(), want.size()), 1e-3)
                        << where << ": without a tail the step should differ from dense";
                    c.tail_share = 0.25f;
                    const auto got = seq.run(c, threads);
                    EXPECT_LT(test::relative_error(got.data(), want.data(), want.size()), 2e-5) << where;
                    // Drawn by code distance or exact score: alike tokens, alike odds.
                    if (kind == PolicyKind::streaming) continue;
                    c.tail_beta = kind == PolicyKind::adamas ? 0.2f : 1.0f;
                    const auto weighted = seq.run(c, threads);
                    EXPECT_LT(test::relative_error(weighted.data(), want.data(), want.size()), 2e-5)
                        << where << ", beta " << c.tail_beta;
                    if (kind == PolicyKind::adamas) {  // by the exact scores of re-ranked candidates
                        c.rerank = 3;
                        c.tail_beta = 1;
                        const auto reranked = seq.run(c, threads);
                        EXPECT_LT(test::relative_error(reranked.data(), want.data(), want.size()), 2e-5)
                            << where << ", rerank 3, beta 1";
                    }
                }
    }
}

TEST(Decode, SampledTailOptionsAreChecked) {
    PolicyConfig c;
    c.budget = 64;
    c.tail_share = 0.95f;
    EXPECT_THROW(c.validate(), UsageError);
    c.tail_share = -0.1f;
    EXPECT_THROW(c.validate(), UsageError);
    c.tail_share = std::nanf("");
    EXPECT_THROW(c.validate(), UsageError);
    // Per head at B = 64 the window of 16 and a tail of 0.9 × 64 = 57 leave 7 selected: too few.
    c.gqa = GqaMode::per_head;
    c.tail_share = 0.9f;
    EXPECT_THROW(c.validate(), UsageError);
    c.tail_share = 0.5f;
    EXPECT_NO_THROW(c.validate());
    // Pooled, the forced tokens are checked against the selected part of the group's set.
    c.gqa = GqaMode::pooled;
    c.recent = 100;  // 96 of the 192 are selected: a window of 100 does not fit
    EXPECT_THROW(c.validate(3), UsageError);
    c.recent = 90;
    EXPECT_NO_THROW(c.validate(3));
    // A proposal needs a tail, and scores to draw by: code distances (adamas) or exact ones (oracle).
    c.tail_beta = 1;
    EXPECT_NO_THROW(c.validate(3));
    c.kind = PolicyKind::oracle;
    EXPECT_NO_THROW(c.validate(3));
    c.kind = PolicyKind::streaming;
    c.recent = -1;
    EXPECT_THROW(c.validate(3), UsageError);
    c.kind = PolicyKind::quest;
    EXPECT_THROW(c.validate(3), UsageError);
    // Dense attends every token: it passes over the tail options, so `dense,adamas` may share them.
    c.kind = PolicyKind::dense;
    EXPECT_NO_THROW(c.validate(3));
    c.kind = PolicyKind::adamas;
    c.recent = 90;
    c.tail_share = 0;
    EXPECT_THROW(c.validate(3), UsageError);
    c.tail_beta = 11;
    c.tail_share = 0.25f;
    EXPECT_THROW(c.validate(3), UsageError);
}

}  // namespace
}  // namespace adamas
