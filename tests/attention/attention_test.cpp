// Decode attention: the fast kernel (with split partials) against the double reference for every
// storage type, dense and gathered token sets, GQA groups, long contexts and NaN inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "adamas/attention.h"
#include "test_util.h"

namespace adamas {
namespace {

struct Rows {
    std::vector<uint8_t> k, v;
};

Rows make_rows(int64_t n, int d, DType dtype, uint64_t seed, float scale) {
    const auto kf = test::random_floats(size_t(n * d), seed, scale);
    const auto vf = test::random_floats(size_t(n * d), seed + 1);
    Rows r;
    r.k.resize(size_t(n * d * dtype_size(dtype)));
    r.v.resize(r.k.size());
    store_row(kf.data(), n * d, dtype, r.k.data());
    store_row(vf.data(), n * d, dtype, r.v.data());
    return r;
}

// Runs the fast path split into `parts` chunks and merges, as the decode driver does.
std::vector<float> fast_attention(const float* q, int count, const KvHeadView& kv, DType dtype, int d,
                                  const std::vector<int32_t>* idx, int64_t n, int parts) {
    const int64_t m = idx ? int64_t(idx->size()) : n;
    std::vector<float> acc(size_t(parts * count * d)), out(size_t(count * d));
    std::vector<AttentionPartial> partials(size_t(parts * count));
    for (size_t i = 0; i < partials.size(); ++i)
        partials[i].acc = acc.data() + i * size_t(d);
    for (int p = 0; p < parts; ++p) {
        const int64_t b = m * p / parts, e = m * (p + 1) / parts;
        const TokenSet set = idx ? TokenSet{idx->data() + b, 0, e - b} : TokenSet{nullptr, b, e};
        attend_partial(q, count, kv, dtype, d, set, partials.data() + p * count);
    }
    for (int h = 0; h < count; ++h) {
        std::vector<AttentionPartial> mine;
        for (int p = 0; p < parts; ++p)
            mine.push_back(partials[size_t(p * count + h)]);
        merge_partials(mine.data(), parts, d, out.data() + h * d);
    }
    return out;
}

TEST(Attention, FastMatchesReference) {
    for (DType dtype : {DType::f32, DType::f16, DType::bf16})
        for (int d : {64, 128})
            for (int64_t n : {1, 17, 128, 129, 1000})
                for (int count : {1, 3, 8})
                    for (bool gathered : {false, true}) {
                        const uint64_t seed = test::seed_for({int(dtype), d, n, count, gathered});
                        const Rows rows = make_rows(n, d, dtype, seed, 3.0f);
                        const auto q = test::random_floats(size_t(count * d), seed + 2);
                        const KvHeadView kv{rows.k.data(), rows.v.data()};
                        std::vector<int32_t> idx;
                        for (int64_t t = 0; t < n; t += 3)
                            idx.push_back(int32_t(t));
                        const int64_t m = gathered ? int64_t(idx.size()) : n;
                        std::vector<float> want(size_t(count * d));
                        attend_reference(q.data(), count, kv, dtype, d,
                                         gathered ? TokenSet{idx.data(), 0, m} : TokenSet{nullptr, 0, n},
                                         want.data());
                        for (int parts : {1, 3}) {
                            if (parts > m) continue;
                            const auto got = fast_attention(q.data(), count, kv, dtype, d,
                                                            gathered ? &idx : nullptr, n, parts);
                            // f32 accumulation over m terms: a naive float loop gets ~m·2^-24.
                            EXPECT_LT(test::relative_error(got.data(), want.data(), want.size()), 2e-5)
                                << "dtype=" << dtype_name(dtype) << " d=" << d << " n=" << n
                                << " count=" << count << " gathered=" << gathered << " parts=" << parts;
                        }
                    }
}

// Per-token log weights (a sampled tail): the fast path equals the reference, and a token of log
// weight log(c) counts as c copies of itself.
TEST(Attention, LogWeightsCountTokensAsCopies) {
    for (DType dtype : {DType::f32, DType::f16})
        for (int d : {32, 64, 128})
            for (int64_t m : {1, 7, 40, 300})
                for (int count : {1, 3}) {
                    const uint64_t seed = test::seed_for({int(dtype), d, m, count});
                    const int64_t n = 3 * m;
                    const Rows rows = make_rows(n, d, dtype, seed, 3.0f);
                    const auto q = test::random_floats(size_t(count * d), seed + 2);
                    const KvHeadView kv{rows.k.data(), rows.v.data()};
                    std::vector<int32_t> idx, copies;
                    std::vector<float> log_weights;
                    for (int64_t i = 0; i < m; ++i) {
                        const int32_t t = int32_t((i * 7) % n);
                        const int c = 1 + int(i % 4);
                        idx.push_back(t);
                        log_weights.push_back(std::log(float(c)));
                        copies.insert(copies.end(), size_t(c), t);
                    }
                    std::vector<float> want(size_t(count * d)), weighted(want.size());
                    attend_reference(q.data(), count, kv, dtype, d,
                                     TokenSet{copies.data(), 0, int64_t(copies.size())}, want.data());
                    attend_reference(q.data(), count, kv, dtype, d,
                                     TokenSet{idx.data(), 0, m, log_weights.data()}, weighted.data());
                    const std::string where =
                        fmt::format("{} d={} m={} count={}", dtype_name(dtype), d, m, count);
                    EXPECT_LT(test::relative_error(weighted.data(), want.data(), want.size()), 1e-6) << where;
                    std::vector<float> acc(size_t(count * d)), got(size_t(count * d));
                    std::vector<AttentionPartial> partials(static_cast<size_t>(count));
                    for (int h = 0; h < count; ++h)
                        partials[size_t(h)].acc = acc.data() + h * d;
                    attend_partial(q.data(), count, kv, dtype, d,
                                   TokenSet{idx.data(), 0, m, log_weights.data()}, partials.data());
                    for (int h = 0; h < count; ++h)
                        merge_partials(&partials[size_t(h)], 1, d, got.data() + h * d);
                    EXPECT_LT(test::relative_error(got.data(), want.data(), want.size()), 2e-5) << where;
                }
}

TEST(Attention, LongContextAndLargeScores) {
    const int d = 128;
    const int64_t n = 131072;
    const Rows rows = make_rows(n, d, DType::f16, 5, 8.0f);  // large logits: softmax must subtract the max
    const auto q = test::random_floats(size_t(d), 6, 4.0f);
    const KvHeadView kv{rows.k.data(), rows.v.data()};
    std::vector<float> want(static_cast<size_t>(d));
    attend_reference(q.data(), 1, kv, DType::f16, d, TokenSet{nullptr, 0, n}, want.data());
    const auto got = fast_attention(q.data(), 1, kv, DType::f16, d, nullptr, n, 64);
    EXPECT_LT(test::relative_error(got.data(), want.data(), size_t(d)), 2e-5);
}

TEST(Attention, NaNInKeysPropagates) {
    const int d = 64;
    const int64_t n = 40;
    Rows rows = make_rows(n, d, DType::f32, 8, 1.0f);
    reinterpret_cast<float*>(rows.k.data())[5 * d + 3] = std::numeric_limits<float>::quiet_NaN();
    const auto q = test::random_floats(size_t(d), 9);
    const KvHeadView kv{rows.k.data(), rows.v.data()};
    const auto got = fast_attention(q.data(), 1, kv, DType::f32, d, nullptr, n, 2);
    bool any_nan = false;
    for (float x : got)
        any_nan |= std::isnan(x);
    EXPECT_TRUE(any_nan) << "a NaN key must not vanish silently";
}

}  // namespace
}  // namespace adamas
