// The KV cache and the decode driver: stored codes and Quest pages follow the formulas, chunked
// appends equal token-by-token ones, and every policy's step equals its reference selection plus the
// reference attention.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "adamas/codes.h"
#include "adamas/decode.h"
#include "adamas/distance.h"
#include "adamas/error.h"
#include "adamas/select.h"
#include "test_util.h"

namespace adamas {
namespace {

struct Fixture {
    int q_heads, kv_heads, d;
    int64_t n;
    std::vector<float> k, v, q;  // k, v: [n][kv_heads][d]
    DType dtype;
    KvCache cache;

    Fixture(int qh, int kvh, int dim, int64_t tokens, DType dtype, float tau, uint64_t seed,
            TauMode tau_mode = TauMode::fixed, int code_bits = 2)
        : q_heads(qh),
          kv_heads(kvh),
          d(dim),
          n(tokens),
          k(test::random_floats(size_t(tokens * kvh * dim), seed, 2.0f)),
          v(test::random_floats(size_t(tokens * kvh * dim), seed + 1)),
          q(test::random_floats(size_t(qh * dim), seed + 2, 2.0f)),
          dtype(dtype),
          cache(KvCacheShape{kvh, dim, dtype, tokens + 8, 1, 16, code_bits}, std::vector<float>{tau},
                tau_mode) {
        // Append in uneven chunks, as prefill then decode would.
        for (int64_t t = 0; t < n;) {
            const int64_t len = std::min<int64_t>(n - t, t == 0 ? 37 : 1 + t % 5);
            cache.append(0,
                         KvTokens{k.data() + t * kvh * dim, v.data() + t * kvh * dim, len, kvh * dim, dim});
            t += len;
        }
    }
};

TEST(KvCache, StoresCodesAndPagesByTheFormula) {
    Fixture f(4, 2, 64, 100, DType::f32, 0.5f, 1);
    const KvSequenceView view = f.cache.view(0);
    ASSERT_EQ(view.tokens, 100);
    for (int h = 0; h < 2; ++h)
        for (int64_t t = 0; t < f.n; ++t) {
            std::vector<uint16_t> want(8);
            rotate_encode({f.k.data() + (t * 2 + h) * 64, 64}, 0.5f, want);
            ASSERT_TRUE(std::equal(want.begin(), want.end(), view.heads[size_t(h)].codes + t * 8))
                << h << " " << t;
        }
    for (int h = 0; h < 2; ++h)
        for (int64_t p = 0; p < 7; ++p)
            for (int j = 0; j < 64; ++j) {
                float mn = 1e30f, mx = -1e30f;
                for (int64_t t = p * 16; t < std::min<int64_t>(100, (p + 1) * 16); ++t) {
                    mn = std::min(mn, f.k[size_t((t * 2 + h) * 64 + j)]);
                    mx = std::max(mx, f.k[size_t((t * 2 + h) * 64 + j)]);
                }
                ASSERT_EQ(view.heads[size_t(h)].page_min[p * 64 + j], mn);
                ASSERT_EQ(view.heads[size_t(h)].page_max[p * 64 + j], mx);
            }
}

TEST(KvCache, CodesAndPagesDeriveFromTheStoredKeys) {
    // bf16 rounds the keys: codes and Quest bounds must follow the rounded values attention reads.
    const int d = 64;
    auto k = test::random_floats(40 * d, 5, 3.0f);
    k[size_t(20 * d + 7)] = std::nanf("");  // mid-page NaN: poisons the bounds of page 1
    KvCache cache(KvCacheShape{1, d, DType::bf16, 64, 1, 16}, std::vector<float>{0.5f});
    cache.append(0, KvTokens{k.data(), k.data(), 40, d, 0});
    const KvHeadView head = cache.view(0).heads[0];
    for (int64_t t = 0; t < 40; ++t) {
        std::vector<float> stored(static_cast<size_t>(d));
        for (int j = 0; j < d; ++j)
            stored[size_t(j)] = bf16_to_f32(f32_to_bf16(k[size_t(t * d + j)]));
        std::vector<uint16_t> want(8);
        rotate_encode(stored, 0.5f, want);
        ASSERT_TRUE(std::equal(want.begin(), want.end(), head.codes + t * 8)) << t;
    }
    EXPECT_TRUE(std::isnan(head.page_min[1 * d + 7]) && std::isnan(head.page_max[1 * d + 7]));
    EXPECT_FALSE(std::isnan(head.page_min[0 * d + 7]) || std::isnan(head.page_min[2 * d + 7]));
}

TEST(KvCache, CalibratedThresholdsComeFromEachHeadsFirstAppend) {
    // Two heads of very different scale: each gets τ × the RMS of its own prompt keys (as stored), later
    // appends keep that threshold, clear() recalibrates; queries stay relative to themselves.
    const int d = 64, heads = 2;
    auto k = test::random_floats(size_t(50 * heads * d), 9, 1.0f);
    for (int64_t t = 0; t < 50; ++t)
        for (int j = 0; j < d; ++j)
            k[size_t((t * heads + 1) * d + j)] *= 30.0f;
    KvCache cache(KvCacheShape{heads, d, DType::f16, 64, 1, 16}, std::vector<float>{0.5f},
                  TauMode::calibrated);
    auto rms_of = [&](int h, int64_t first, int64_t count) {
        double sum = 0;
        for (int64_t t = first; t < first + count; ++t)
            for (int j = 0; j < d; ++j) {
                const double x = f16_to_f32(f32_to_f16(k[size_t((t * heads + h) * d + j)]));
                sum += x * x;
            }
        return float(std::sqrt(sum / double(count * d)));
    };
    auto check_codes = [&](int h, float threshold, int64_t first, int64_t last) {
        const KvHeadView head = cache.view(0).heads[size_t(h)];
        for (int64_t t = first; t < last; ++t) {
            std::vector<float> stored(static_cast<size_t>(d));
            for (int j = 0; j < d; ++j)
                stored[size_t(j)] = f16_to_f32(f32_to_f16(k[size_t((t * heads + h) * d + j)]));
            std::vector<uint16_t> want(8);
            rotate_encode(stored, threshold, want);
            ASSERT_TRUE(std::equal(want.begin(), want.end(), head.codes + t * 8)) << h << " " << t;
        }
    };
    cache.append(0, KvTokens{k.data(), k.data(), 30, heads * d, d});
    cache.append(0, KvTokens{k.data() + 30 * heads * d, k.data(), 20, heads * d, d});
    for (int h = 0; h < heads; ++h) {
        const KvHeadView head = cache.view(0).heads[size_t(h)];
        EXPECT_NEAR(head.calibration_rms, rms_of(h, 0, 30), 1e-4f * rms_of(h, 0, 30)) << h;
        EXPECT_EQ(head.key_threshold().mode, TauMode::fixed);
        EXPECT_EQ(head.query_threshold().mode, TauMode::relative);
        check_codes(h, 0.5f * head.calibration_rms, 0, 50);  // the second append kept the threshold
    }
    EXPECT_GT(cache.view(0).heads[1].calibration_rms, 20 * cache.view(0).heads[0].calibration_rms);
    cache.clear(0);  // a new prompt: its own calibration
    cache.append(0, KvTokens{k.data() + 30 * heads * d, k.data(), 20, heads * d, d});
    EXPECT_NEAR(cache.view(0).heads[0].calibration_rms, rms_of(0, 30, 20), 1e-4f * rms_of(0, 30, 20));
}

TEST(KvCache, OverflowIsAnErrorAndLeavesTheSequenceUnchanged) {
    KvCache cache(KvCacheShape{1, 32, DType::f16, 10, 2, 16}, std::vector<float>{1.0f});
    std::vector<float> rows(32 * 11, 1.0f);
    cache.append(1, KvTokens{rows.data(), rows.data(), 6, 32, 0});
    EXPECT_THROW(cache.append(1, KvTokens{rows.data(), rows.data(), 5, 32, 0}), Error);
    EXPECT_EQ(cache.length(1), 6);
    EXPECT_EQ(cache.length(0), 0);
    EXPECT_THROW(cache.append(2, KvTokens{rows.data(), rows.data(), 1, 32, 0}), Error);
    EXPECT_THROW(KvCache(KvCacheShape{1, 96, DType::f16, 10, 1, 16}, std::vector<float>{1.0f}), Error);
}

float stored_value(float x, DType dtype) {
    if (dtype == DType::f16) return f16_to_f32(f32_to_f16(x));
    if (dtype == DType::bf16) return bf16_to_f32(f32_to_bf16(x));
    return x;
}

// What a step must attend to, computed from the references alone (a pooled config resolved for the
// fixture's group first, as the policies resolve it).
std::vector<std::vector<int32_t>> expected_rows(const Fixture& f, const PolicyConfig& requested) {
    const KvSequenceView view = f.cache.view(0);
    const int bits = view.code_bits, g = f.q_heads / f.kv_heads, words = code_words(f.d, bits);
    const PolicyConfig c = requested.for_group(g);
    const bool shared = c.gqa == GqaMode::shared;
    const SelectionRule rule{c.budget, c.effective_sinks(), c.effective_recent(), c.force_current};
    std::vector<std::vector<int32_t>> rows;
    const int row_count = shared ? f.kv_heads : f.q_heads;
    for (int r = 0; r < row_count; ++r) {
        const int kvh = shared ? r : r / g;
        const int first = shared ? r * g : r, count = shared ? g : 1;
        std::vector<int32_t> out(size_t(f.n));
        int64_t m = 0;
        // The row's best exact q·k of token t (double accumulation), over the key as stored.
        auto exact_score = [&](int64_t t) {
            float best = -1e30f;
            for (int i = 0; i < count; ++i) {
                double dot = 0;
                for (int j = 0; j < f.d; ++j)
                    dot += double(f.q[size_t((first + i) * f.d + j)]) *
                           stored_value(f.k[size_t((t * f.kv_heads + kvh) * f.d + j)], f.dtype);
                best = std::max(best, float(dot));
            }
            return best;
        };
        if (c.kind == PolicyKind::adamas) {
            std::vector<uint16_t> qc(size_t(count * words)), dist(size_t(count * f.n));
            for (int i = 0; i < count; ++i)
                rotate_encode({f.q.data() + (first + i) * f.d, size_t(f.d)},
                              view.heads[size_t(kvh)].query_threshold(),
                              {qc.data() + i * words, size_t(words)});
            group_distances_reference(qc.data(), count,
                                      CodeRows{view.heads[size_t(kvh)].codes, f.n, words, bits}, c.metric,
                                      c.gqa, dist.data(), f.n);
            const int64_t candidates = std::min(int64_t(c.rerank) * c.budget, f.n);
            if (c.rerank > 1 &&
                f.n > c.budget) {  // the nearest by code (all, if fewer), then the best by q·k
                SelectionRule wide = rule;
                wide.budget = int(candidates);
                std::vector<int32_t> near(static_cast<size_t>(candidates)),
                    chosen(static_cast<size_t>(c.budget));
                const int64_t found = select_by_distance_reference(
                    {dist.data(), size_t(f.n)}, max_distance(f.d, bits), wide, near.data());
                std::vector<float> score;
                for (int64_t i = 0; i < found; ++i)
                    score.push_back(exact_score(near[size_t(i)]));
                m = select_by_score_reference(score, rule, chosen.data());
                for (int64_t i = 0; i < m; ++i)
                    out[size_t(i)] = near[size_t(chosen[size_t(i)])];
            } else {
                m = select_by_distance_reference({dist.data(), size_t(f.n)}, max_distance(f.d, bits), rule,
                                                 out.data());
            }
        } else if (c.kind == PolicyKind::oracle) {
            std::vector<float> score(size_t(f.n));
            for (int64_t t = 0; t < f.n; ++t)
                score[size_t(t)] = exact_score(t);
            m = select_by_score_reference(score, rule, out.data());
        } else if (c.kind == PolicyKind::quest) {
            const int64_t pages = (f.n + 15) / 16;
            std::vector<float> score(size_t(pages), -1e30f);
            for (int64_t p = 0; p < pages; ++p)
                for (int i = 0; i < count; ++i) {
                    double s = 0;
                    for (int j = 0; j < f.d; ++j) {
                        float mn = 1e30f, mx = -1e30f;
                        for (int64_t t = p * 16; t < std::min(f.n, (p + 1) * 16); ++t) {
                            mn = std::min(mn, f.k[size_t((t * f.kv_heads + kvh) * f.d + j)]);
                            mx = std::max(mx, f.k[size_t((t * f.kv_heads + kvh) * f.d + j)]);
                        }
                        const float qj = f.q[size_t((first + i) * f.d + j)];
                        s += std::max(qj * mn, qj * mx);
                    }
                    score[size_t(p)] = std::max(score[size_t(p)], float(s));
                }
            std::vector<int32_t> kept(static_cast<size_t>(pages));
            const int64_t kept_count =
                select_by_score_reference(score, {(c.budget + 15) / 16, 0, 0, true}, kept.data());
            for (int64_t i = 0; i < kept_count; ++i)
                for (int64_t t = kept[size_t(i)] * 16; t < std::min<int64_t>(f.n, (kept[size_t(i)] + 1) * 16);
                     ++t)
                    out[size_t(m++)] = int32_t(t);
        }
        out.resize(size_t(m));
        rows.push_back(out);
    }
    return rows;
}

TEST(Decode, EveryPolicyMatchesItsReference) {
    ThreadPool pool(2);
    for (auto [qh, kvh, d] :
         {std::tuple{4, 4, 64}, std::tuple{9, 3, 64}, std::tuple{8, 2, 128}, std::tuple{8, 1, 32}})
        for (int64_t n : {1, 63, 64, 65, 700, 9000})
            for (PolicyKind kind : {PolicyKind::dense, PolicyKind::adamas, PolicyKind::oracle,
                                    PolicyKind::quest, PolicyKind::streaming})
                for (GqaMode gqa : {GqaMode::per_head, GqaMode::shared, GqaMode::pooled}) {
                    if ((kind == PolicyKind::dense || kind == PolicyKind::streaming) &&
                        gqa == GqaMode::shared)
                        continue;
                    Fixture f(qh, kvh, d, n, DType::f32, 0.7f, test::seed_for({qh, d, n}));
                    PolicyConfig c;
                    c.kind = kind;
                    c.budget = 64;
                    c.gqa = gqa;
                    if (n == 700 && kind != PolicyKind::quest) {
                        c.sinks = 2;
                        if (kind != PolicyKind::streaming) c.recent = 4;
                    }
                    DecodeAttention step(c, qh, pool);
                    std::vector<float> out(size_t(qh * d), -1.0f);
                    const DecodeRequest req{f.q.data(), f.cache.view(0), out.data()};
                    step.run({&req, 1});
                    const Selection& sel = step.selection(0);
                    const std::string where = fmt::format("{} {}/{} d={} n={} gqa={}", policy_name(kind), qh,
                                                          kvh, d, n, gqa_name(gqa));
                    // Rows the reference expects (streaming/dense are checked by construction below).
                    if (kind == PolicyKind::adamas || kind == PolicyKind::oracle ||
                        kind == PolicyKind::quest) {
                        // Compared per query head: a step whose budget covers every token is run
                        // as dense (all_tokens), whatever the reference's row layout.
                        const auto want = expected_rows(f, c);
                        const int g = qh / kvh;
                        const bool one_set = c.for_group(g).gqa == GqaMode::shared;
                        for (int h = 0; h < qh; ++h) {
                            const auto& want_row = want[size_t(one_set ? h / g : h)];
                            std::vector<int32_t> got;
                            if (sel.all_tokens) {
                                for (int64_t t = 0; t < n; ++t)
                                    got.push_back(int32_t(t));
                            } else {
                                const auto r = sel.row(sel.per_kv_head ? h / g : h);
                                got.assign(r.begin(), r.end());
                            }
                            ASSERT_EQ(got, want_row) << where << " head " << h;
                        }
                    }
                    const int64_t set = c.for_group(qh / kvh).budget;  // pooled: the group's
                    if (kind == PolicyKind::streaming && n > set) {
                        const auto row = sel.row(0);
                        ASSERT_EQ(int64_t(row.size()), set);
                        EXPECT_EQ(row[0], 0);
                        EXPECT_EQ(row[n == 700 ? 1 : 3], n == 700 ? 1 : 3);
                        EXPECT_EQ(row.back(), n - 1);
                    }
                    // Output: reference attention over the selected rows.
                    const int g = qh / kvh;
                    for (int h = 0; h < qh; ++h) {
                        const int row = sel.per_kv_head ? h / g : h;
                        std::vector<int32_t> idx;
                        if (sel.all_tokens) {
                            for (int64_t t = 0; t < n; ++t)
                                idx.push_back(int32_t(t));
                        } else {
                            const auto r = sel.row(row);
                            idx.assign(r.begin(), r.end());
                        }
                        std::vector<float> want(static_cast<size_t>(d));
                        attend_reference(f.q.data() + h * d, 1, f.cache.view(0).heads[size_t(h / g)],
                                         DType::f32, d, TokenSet{idx.data(), 0, int64_t(idx.size())},
                                         want.data());
                        EXPECT_LT(test::relative_error(out.data() + h * d, want.data(), size_t(d)), 2e-5)
                            << where << " head " << h;
                    }
                }
}

// Re-ranking and per-vector thresholds, on every fusion layout (one item per KV head, per row, split
// phases): the rows equal the reference's, and differ from plain adamas (so the options take effect).
TEST(Decode, AdamasRerankAndRelativeThresholdsMatchTheReference) {
    ThreadPool pool(2);
    for (auto [qh, kvh, d] : {std::tuple{4, 4, 64}, std::tuple{9, 3, 64}, std::tuple{8, 1, 128}})
        for (int64_t n : {65, 700, 5000})
            for (GqaMode gqa : {GqaMode::per_head, GqaMode::shared, GqaMode::pooled})
                for (int rerank : {0, 2, 8}) {
                    Fixture f(qh, kvh, d, n, DType::f16, 0.6f, test::seed_for({qh, d, n}), TauMode::relative);
                    PolicyConfig c;
                    c.kind = PolicyKind::adamas;
                    c.budget = 64;
                    c.gqa = gqa;
                    c.rerank = rerank;
                    if (n == 700) {
                        c.sinks = 2;
                        c.recent = 4;
                    }
                    DecodeAttention step(c, qh, pool);
                    std::vector<float> out(size_t(qh * d));
                    const DecodeRequest req{f.q.data(), f.cache.view(0), out.data()};
                    step.run({&req, 1});
                    const Selection& sel = step.selection(0);
                    const auto want = expected_rows(f, c);
                    const std::string where =
                        fmt::format("{}/{} d={} n={} gqa={} rerank={}", qh, kvh, d, n, gqa_name(gqa), rerank);
                    const int64_t set = c.for_group(qh / kvh).budget;
                    if (n <= set) continue;
                    PolicyConfig plain = c;
                    plain.rerank = 0;
                    const auto unranked = expected_rows(f, plain);
                    for (size_t r = 0; r < want.size(); ++r) {
                        const auto row = sel.row(int(r));
                        ASSERT_EQ(std::vector<int32_t>(row.begin(), row.end()), want[r])
                            << where << " row " << r;
                    }
                    if (rerank > 1 && n >= 700) EXPECT_NE(want, unranked) << where;
                    if (rerank > 1 && rerank * set >= n) {  // every token re-ranked: the exact top set
                        PolicyConfig oracle = c;
                        oracle.kind = PolicyKind::oracle;
                        oracle.rerank = 0;
                        oracle.recent = c.for_group(qh / kvh).effective_recent();  // adamas's window
                        EXPECT_EQ(want, expected_rows(f, oracle)) << where;
                    }
                }
}

// Runs one decode step of policy `c` over the fixture and checks every selection row against
// expected_rows (wrap calls in ASSERT_NO_FATAL_FAILURE).
void expect_rows_match_reference(Fixture& f, const PolicyConfig& c, ThreadPool& pool,
                                 const std::string& where) {
    DecodeAttention step(c, f.q_heads, pool);
    std::vector<float> out(size_t(f.q_heads * f.d));
    const DecodeRequest req{f.q.data(), f.cache.view(0), out.data()};
    step.run({&req, 1});
    const auto want = expected_rows(f, c);
    const Selection& sel = step.selection(0);
    ASSERT_EQ(sel.rows, int(want.size())) << where;
    for (int r = 0; r < sel.rows; ++r) {
        const auto got = sel.row(r);
        ASSERT_EQ(std::vector<int32_t>(got.begin(), got.end()), want[size_t(r)]) << where << " row " << r;
    }
}

TEST(Decode, AdamasCalibratedThresholdsMatchTheReference) {
    ThreadPool pool(2);
    for (auto [qh, kvh, d] : {std::tuple{9, 3, 64}, std::tuple{8, 2, 128}})
        for (int bits : {2, 3}) {
            Fixture f(qh, kvh, d, 2000, DType::f16, 0.5f, test::seed_for({qh, d, bits}), TauMode::calibrated,
                      bits);
            PolicyConfig c;
            c.budget = 64;
            ASSERT_NO_FATAL_FAILURE(
                expect_rows_match_reference(f, c, pool, fmt::format("{}/{} d={} bits {}", qh, kvh, d, bits)));
        }
}

TEST(Decode, AdamasThreeBitCodesMatchTheReference) {
    ThreadPool pool(2);
    for (auto [qh, kvh, d] : {std::tuple{9, 3, 64}, std::tuple{8, 2, 128}, std::tuple{4, 1, 32}})
        for (GqaMode gqa : {GqaMode::per_head, GqaMode::shared})
            for (int rerank : {0, 4}) {
                Fixture f(qh, kvh, d, 3000, DType::f16, 0.35f, test::seed_for({qh, d, 3}), TauMode::relative,
                          3);
                ASSERT_EQ(f.cache.view(0).code_bits, 3);
                PolicyConfig c;
                c.budget = 64;
                c.gqa = gqa;
                c.rerank = rerank;
                ASSERT_NO_FATAL_FAILURE(expect_rows_match_reference(
                    f, c, pool, fmt::format("{}/{} d={} {} rerank {}", qh, kvh, d, gqa_name(gqa), rerank)));
            }
    // The xor metric is defined on 2-bit codes only.
    Fixture f(4, 1, 64, 200, DType::f16, 0.35f, 5, TauMode::relative, 3);
    PolicyConfig x;
    x.budget = 64;
    x.metric = Metric::xor_weighted;
    DecodeAttention step(x, 4, pool);
    std::vector<float> out(4 * 64);
    const DecodeRequest req{f.q.data(), f.cache.view(0), out.data()};
    EXPECT_THROW(step.run({&req, 1}), Error);
}

TEST(Decode, GroupsWiderThanTheDistanceKernelAreSliced) {
    // 130 query heads on one KV head: the distance kernel takes 64 queries per call.
    ThreadPool pool(2);
    for (GqaMode gqa : {GqaMode::per_head, GqaMode::shared}) {
        Fixture f(130, 1, 64, 5000, DType::f32, 0.7f, 31);
        PolicyConfig c;
        c.budget = 64;
        c.gqa = gqa;
        ASSERT_NO_FATAL_FAILURE(expect_rows_match_reference(f, c, pool, std::string(gqa_name(gqa))));
    }
}

TEST(Decode, PoliciesRejectOptionsTheyWouldIgnore) {
    PolicyConfig c;
    c.kind = PolicyKind::streaming;
    c.recent = 8;
    EXPECT_THROW(c.validate(), UsageError);
    c.recent = 0;
    c.force_current = false;
    EXPECT_THROW(c.validate(), UsageError);
    c.kind = PolicyKind::quest;
    EXPECT_THROW(c.validate(), UsageError);
    c.force_current = true;
    c.sinks = 2;
    EXPECT_THROW(c.validate(), UsageError);
}

// The recent window defaults per policy: a budget/4 window for adamas, none for the others (which take
// the default without complaint); an explicit value wins.
TEST(Decode, RecentWindowDefaultsPerPolicy) {
    PolicyConfig c;
    c.budget = 128;
    EXPECT_EQ(c.effective_recent(), 32);
    c.budget = 64;
    EXPECT_EQ(c.effective_recent(), 16);
    c.recent = 0;
    EXPECT_EQ(c.effective_recent(), 0);
    c.recent = 3;
    EXPECT_EQ(c.effective_recent(), 3);
    for (PolicyKind kind :
         {PolicyKind::dense, PolicyKind::oracle, PolicyKind::quest, PolicyKind::streaming}) {
        PolicyConfig other;
        other.kind = kind;
        EXPECT_EQ(other.effective_recent(), 0) << policy_name(kind);
        EXPECT_NO_THROW(other.validate()) << policy_name(kind);
    }
}

// One step of `run` on the fixture's sequence 0; the select phase's time must be reported.
std::vector<float> step_output(DecodeAttention& run, const Fixture& f, int q_heads, int d) {
    std::vector<float> out(static_cast<size_t>(q_heads * d));
    const DecodeRequest r{f.q.data(), f.cache.view(0), out.data()};
    DecodeTimings timings;
    run.run({&r, 1}, &timings);
    EXPECT_GT(timings.select_s, 0.0) << "select time must be reported, fused or not";
    return out;
}

// Two runs of the same step chose the same tokens in every row and computed the same output.
void expect_same_step(const DecodeAttention& x, const std::vector<float>& x_out, const DecodeAttention& y,
                      const std::vector<float>& y_out, const std::string& what) {
    const Selection &a = x.selection(0), &b = y.selection(0);
    ASSERT_EQ(a.rows, b.rows) << what;
    for (int r = 0; r < a.rows; ++r) {
        const auto ra = a.row(r), rb = b.row(r);
        ASSERT_EQ(std::vector<int32_t>(ra.begin(), ra.end()), std::vector<int32_t>(rb.begin(), rb.end()))
            << what << " row " << r;
    }
    EXPECT_LT(test::relative_error(y_out.data(), x_out.data(), x_out.size()), 1e-6) << what;
}

// Pooled GQA is shared selection at the group's budget: the config resolves so, sinks and an explicit
// window stay as given, the default window is a quarter of the pooled set, and MHA is per-head.
TEST(Decode, PooledConfigResolvesPerGroup) {
    PolicyConfig c;
    ASSERT_EQ(c.gqa, GqaMode::pooled);  // the default
    c.budget = 64;
    const PolicyConfig three = c.for_group(3);
    EXPECT_EQ(three.gqa, GqaMode::shared);
    EXPECT_EQ(three.budget, 192);
    EXPECT_EQ(three.effective_recent(), 48);
    const PolicyConfig one = c.for_group(1);
    EXPECT_EQ(one.gqa, GqaMode::per_head);
    EXPECT_EQ(one.budget, 64);
    EXPECT_EQ(one.effective_recent(), 16);
    c.sinks = 4;
    c.recent = 8;
    EXPECT_EQ(c.for_group(4).effective_sinks(), 4);
    EXPECT_EQ(c.for_group(4).effective_recent(), 8);
    for (GqaMode other : {GqaMode::per_head, GqaMode::shared}) {
        c.gqa = other;
        EXPECT_EQ(c.for_group(3).gqa, other);
        EXPECT_EQ(c.for_group(3).budget, 64);
    }
    c.gqa = GqaMode::pooled;
    c.budget = std::numeric_limits<int>::max() / 2;
    EXPECT_EQ(c.for_group(3).budget, std::numeric_limits<int>::max());  // saturates
    // A window wider than B fits a pooled set of g·B: refused at g = 1 and 2, taken at 3, and left to
    // that check while the group is unknown. Per-head keeps the budget B whatever the group.
    PolicyConfig wide;
    wide.budget = 16;
    wide.recent = 40;
    EXPECT_NO_THROW(wide.validate());
    EXPECT_THROW(wide.validate(1), UsageError);
    EXPECT_THROW(wide.validate(2), UsageError);
    EXPECT_NO_THROW(wide.validate(3));
    wide.sinks = 9;  // 9 + 40 > 48
    EXPECT_THROW(wide.validate(3), UsageError);
    wide.sinks = -1;
    wide.gqa = GqaMode::per_head;
    EXPECT_THROW(wide.validate(), UsageError);
    EXPECT_THROW(wide.validate(3), UsageError);
    PolicyConfig stream;  // 4 sinks leave no recent token in a set of 4, some in a pooled set of 12
    stream.kind = PolicyKind::streaming;
    stream.budget = 4;
    EXPECT_THROW(stream.validate(1), UsageError);
    EXPECT_NO_THROW(stream.validate(3));
    stream.gqa = GqaMode::shared;
    EXPECT_THROW(stream.validate(3), UsageError);
    PolicyConfig logged;
    logged.budget = 64;
    EXPECT_EQ(logged.describe(), "adamas(B=64, l1, pooled, S=0, W=B·g/4)");
    EXPECT_EQ(logged.describe(3), "adamas(B=64, l1, pooled: 192 per KV head, S=0, W=48)");
    EXPECT_EQ(parse_gqa("pooled"), GqaMode::pooled);
    EXPECT_EQ(gqa_name(GqaMode::pooled), "pooled");
    EXPECT_THROW(parse_gqa("pool"), UsageError);
}

// Every policy: pooled at B selects, on every row, what shared at g·B selects (per-head at B for
// MHA), on every fusion layout, and attends alike.
TEST(Decode, PooledSelectsWhatSharedSelectsAtTheGroupBudget) {
    for (auto [qh, kvh, d] : {std::tuple{9, 3, 64}, std::tuple{8, 2, 128}, std::tuple{4, 4, 64}})
        for (int64_t n : {100, 700, 9000})
            for (PolicyKind kind :
                 {PolicyKind::adamas, PolicyKind::oracle, PolicyKind::quest, PolicyKind::streaming})
                for (int threads : {1, 2, 8}) {
                    Fixture f(qh, kvh, d, n, DType::f16, 0.5f, test::seed_for({qh, d, n, 7}),
                              TauMode::relative);
                    const int g = qh / kvh;
                    PolicyConfig pooled;
                    pooled.kind = kind;
                    pooled.budget = 48;
                    if (kind == PolicyKind::adamas) pooled.rerank = n == 9000 ? 4 : 0;
                    PolicyConfig same = pooled;
                    same.gqa = g > 1 ? GqaMode::shared : GqaMode::per_head;
                    same.budget = 48 * g;
                    ThreadPool pool(threads);
                    DecodeAttention a(pooled, qh, pool), b(same, qh, pool);
                    const std::string where = fmt::format("{} {}/{} d={} n={} threads {}", policy_name(kind),
                                                          qh, kvh, d, n, threads);
                    auto run = [&](DecodeAttention& step) {
                        std::vector<float> out(size_t(qh * d));
                        const DecodeRequest req{f.q.data(), f.cache.view(0), out.data()};
                        step.run({&req, 1});
                        return out;
                    };
                    const auto out_a = run(a), out_b = run(b);
                    const Selection &sa = a.selection(0), &sb = b.selection(0);
                    ASSERT_EQ(sa.all_tokens, sb.all_tokens) << where;
                    EXPECT_EQ(sa.all_tokens, n <= 48 * g) << where;
                    if (!sa.all_tokens) {
                        ASSERT_NO_FATAL_FAILURE(expect_same_step(a, out_a, b, out_b, where));
                    }
                    EXPECT_LT(test::relative_error(out_a.data(), out_b.data(), out_a.size()), 1e-6) << where;
                }
}

TEST(Decode, FusedAndSplitEstimateSelectAgree) {
    // With 8 KV heads, one thread runs adamas fused (estimate then select per head); eight threads run
    // the split phases over token chunks. Same selections, same outputs.
    Fixture f(16, 8, 128, 20000, DType::f16, 0.5f, 41);
    for (GqaMode gqa : {GqaMode::per_head, GqaMode::shared}) {
        PolicyConfig c;
        c.budget = 128;
        c.gqa = gqa;
        ThreadPool one(1), many(8);
        DecodeAttention fused(c, 16, one), split(c, 16, many);
        const auto out_fused = step_output(fused, f, 16, 128), out_split = step_output(split, f, 16, 128);
        expect_same_step(fused, out_fused, split, out_split, std::string(gqa_name(gqa)));
    }
}

TEST(Decode, FusedRowsMatchFusedHeadsAndSplitPhases) {
    // 3 KV heads, 9 query heads (SmolLM2's shape): one thread fuses per KV head, two threads fuse per
    // query row (too few KV heads to balance), eight threads run the split phases. All agree.
    Fixture f(9, 3, 64, 9000, DType::f16, 0.5f, 43);
    for (GqaMode gqa : {GqaMode::per_head, GqaMode::shared}) {
        PolicyConfig c;
        c.budget = 100;
        c.gqa = gqa;
        ThreadPool one(1), two(2), eight(8);
        DecodeAttention heads(c, 9, one), rows(c, 9, two), split(c, 9, eight);
        const auto out_heads = step_output(heads, f, 9, 64);
        expect_same_step(heads, out_heads, rows, step_output(rows, f, 9, 64),
                         std::string(gqa_name(gqa)) + ", per row");
        expect_same_step(heads, out_heads, split, step_output(split, f, 9, 64),
                         std::string(gqa_name(gqa)) + ", split");
    }
}

TEST(Decode, BatchOfSequencesEqualsOneByOne) {
    ThreadPool pool(2);
    Fixture a(8, 2, 128, 3000, DType::f16, 0.5f, 21), b(8, 2, 128, 1500, DType::f16, 0.5f, 22);
    PolicyConfig c;
    c.budget = 128;
    DecodeAttention batched(c, 8, pool), single(c, 8, pool);
    std::vector<float> out_a(8 * 128), out_b(8 * 128), one(8 * 128);
    const DecodeRequest reqs[2] = {{a.q.data(), a.cache.view(0), out_a.data()},
                                   {b.q.data(), b.cache.view(0), out_b.data()}};
    batched.run(reqs);
    const DecodeRequest only_b{b.q.data(), b.cache.view(0), one.data()};
    single.run({&only_b, 1});
    EXPECT_EQ(out_b, one);
}

TEST(Decode, RejectsInconsistentShapes) {
    ThreadPool pool(1);
    Fixture f(4, 2, 64, 10, DType::f32, 0.5f, 3);
    PolicyConfig c;
    DecodeAttention step(c, 3, pool);  // 3 query heads over 2 KV heads
    std::vector<float> out(3 * 64);
    const DecodeRequest req{f.q.data(), f.cache.view(0), out.data()};
    EXPECT_THROW(step.run({&req, 1}), Error);
    PolicyConfig bad;
    bad.budget = 2;
    bad.sinks = 2;
    bad.gqa = GqaMode::per_head;
    EXPECT_THROW(DecodeAttention(bad, 4, pool), Error);
    // Pooled, the set's size waits for the step's group: 4 query heads over 2 KV heads hold 4 tokens,
    // enough for 2 sinks and the current token; over 4 KV heads they hold 2, which is not.
    bad.gqa = GqaMode::pooled;
    DecodeAttention pooled(bad, 4, pool);
    std::vector<float> wide_out(4 * 64);
    const DecodeRequest pair{f.q.data(), f.cache.view(0), wide_out.data()};
    EXPECT_NO_THROW(pooled.run({&pair, 1}));
    Fixture mha(4, 4, 64, 10, DType::f32, 0.5f, 3);
    const DecodeRequest single{mha.q.data(), mha.cache.view(0), wide_out.data()};
    EXPECT_THROW(pooled.run({&single, 1}), Error);
}

}  // namespace
}  // namespace adamas
