// Distances: packed L1 and xor exhaustively against per-dimension sums, and the fast kernel against
// the reference on awkward shapes, per-head and shared (minimum over the group).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include <hwy/targets.h>

#include "adamas/codes.h"
#include "adamas/distance.h"
#include "adamas/error.h"
#include "test_util.h"

namespace adamas {
namespace {

TEST(Distance, PackedWordMatchesPerDimensionSumsExhaustively) {
    // Every pair of 8-dim words (2^32 pairs would be slow; all pairs of 4-dim halves cover every
    // per-lane case, and words mix them at every lane position).
    for (uint32_t a = 0; a < 256; ++a)
        for (uint32_t b = 0; b < 256; ++b) {
            int l1 = 0, xr = 0;
            for (int i = 0; i < 4; ++i) {
                const int ca = (a >> (2 * i)) & 3, cb = (b >> (2 * i)) & 3;
                l1 += std::abs(ca - cb);
                xr += ((ca ^ cb) & 1) + 2 * ((ca ^ cb) >> 1);
            }
            for (int shift : {0, 8}) {
                // 32-dim rows whose first word holds the pair at bits `shift`, other words equal.
                uint16_t qa[4] = {uint16_t(a << shift), 0x1234, 0xffff, 0},
                         qb[4] = {uint16_t(b << shift), 0x1234, 0xffff, 0};
                ASSERT_EQ(code_distance(qa, qb, 4, Metric::l1), l1) << a << " " << b;
                ASSERT_EQ(code_distance(qa, qb, 4, Metric::xor_weighted), xr) << a << " " << b;
                uint16_t out[1];
                group_distances(qa, 1, CodeRows{qb, 1, 4}, Metric::l1, GqaMode::per_head, out, 1);
                ASSERT_EQ(out[0], l1) << a << " " << b;
                group_distances(qa, 1, CodeRows{qb, 1, 4}, Metric::xor_weighted, GqaMode::per_head, out, 1);
                ASSERT_EQ(out[0], xr) << a << " " << b;
            }
        }
}

TEST(Distance, FastMatchesReferenceOnAwkwardShapes) {
    for (int d : {32, 64, 128, 256})
        for (int64_t n : {1, 7, 15, 16, 17, 63, 64, 65, 4097, 131072})
            for (int group : {1, 3, 4, 8})
                for (Metric metric : {Metric::l1, Metric::xor_weighted})
                    for (GqaMode mode : {GqaMode::per_head, GqaMode::shared}) {
                        if (n == 131072 && (group > 1 || d > 128)) continue;  // keep the suite fast
                        const int words = d / 8;
                        auto keys = test::random_words(size_t(n * words), test::seed_for({d, n, 1}));
                        auto queries = test::random_words(size_t(group * words), test::seed_for({d, n, 2}));
                        const size_t rows = mode == GqaMode::per_head ? size_t(group) : 1;
                        std::vector<uint16_t> want(rows * size_t(n)), got(rows * size_t(n), 0xdead);
                        const CodeRows view{keys.data(), n, words};
                        group_distances_reference(queries.data(), group, view, metric, mode, want.data(), n);
                        group_distances(queries.data(), group, view, metric, mode, got.data(), n);
                        ASSERT_EQ(got, want) << "d=" << d << " n=" << n << " g=" << group
                                             << " metric=" << int(metric) << " mode=" << int(mode);
                    }
}

TEST(Distance, ThreeBitBitSlicedDifferenceIsExactForEveryPairOfCodes) {
    // Dim i of the query holds code a_i and of the key b_i; 64 dims cover all 64 pairs (a, b) at once,
    // and the rotations put every pair at every bit position of the planes.
    for (int shift = 0; shift < 64; ++shift) {
        std::vector<uint16_t> q(12, 0), k(12, 0);
        int want = 0;
        for (int i = 0; i < 64; ++i) {
            const int pair = (i + shift) % 64, a = pair / 8, b = pair % 8;
            want += std::abs(a - b);
            for (int p = 0; p < 3; ++p) {
                if ((a >> p) & 1) q[size_t(4 * p + i / 16)] |= uint16_t(1u << (i % 16));
                if ((b >> p) & 1) k[size_t(4 * p + i / 16)] |= uint16_t(1u << (i % 16));
            }
        }
        ASSERT_EQ(code_distance(q.data(), k.data(), 12, Metric::l1, 3), want);
        // Enough rows for the vector loop (at most 32 lanes), this pair in row 40.
        std::vector<uint16_t> keys(size_t(64 * 12), 0), out(64);
        std::copy(k.begin(), k.end(), keys.begin() + 40 * 12);
        group_distances(q.data(), 1, CodeRows{keys.data(), 64, 12, 3}, Metric::l1, GqaMode::per_head,
                        out.data(), 64);
        ASSERT_EQ(out[40], want) << shift;
    }
}

TEST(Distance, ThreeBitFastMatchesReferenceOnEveryTarget) {
    for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
        hwy::SetSupportedTargetsForTest(target);
        for (int d : {32, 64, 128, 256})
            for (int64_t n : {1, 7, 16, 17, 63, 1000})
                for (int group : {1, 3, 8})
                    for (GqaMode mode : {GqaMode::per_head, GqaMode::shared}) {
                        const int words = code_words(d, 3);
                        auto keys = test::random_words(size_t(n * words), test::seed_for({d, n, 3}));
                        auto queries = test::random_words(size_t(group * words), test::seed_for({d, n, 4}));
                        const size_t rows = mode == GqaMode::per_head ? size_t(group) : 1;
                        std::vector<uint16_t> want(rows * size_t(n)), got(rows * size_t(n), 0xdead);
                        const int64_t blocks = distance_blocks(n);
                        std::vector<uint16_t> want_min(rows * size_t(blocks)), got_min(rows * size_t(blocks));
                        const CodeRows view{keys.data(), n, words, 3};
                        group_distances_reference(queries.data(), group, view, Metric::l1, mode, want.data(),
                                                  n, BlockMinima{want_min.data(), blocks});
                        group_distances(queries.data(), group, view, Metric::l1, mode, got.data(), n,
                                        BlockMinima{got_min.data(), blocks});
                        const auto where = ::testing::Message()
                                           << hwy::TargetName(target) << " d=" << d << " n=" << n
                                           << " g=" << group << " mode=" << int(mode);
                        ASSERT_EQ(got, want) << where;
                        ASSERT_EQ(got_min, want_min) << where;
                    }
    }
    hwy::SetSupportedTargetsForTest(0);
}

TEST(Distance, ThreeBitCodesRejectTheXorMetric) {
    std::vector<uint16_t> q(12), k(12), out(1);
    EXPECT_THROW(group_distances(q.data(), 1, CodeRows{k.data(), 1, 12, 3}, Metric::xor_weighted,
                                 GqaMode::per_head, out.data(), 1),
                 Error);
}

TEST(Distance, BlockMinimaMatchTheReference) {
    for (int d : {32, 64, 128, 256})
        for (int64_t n : {1, 15, 16, 17, 100, 4097})
            for (int group : {1, 3, 8})
                for (GqaMode mode : {GqaMode::per_head, GqaMode::shared}) {
                    const int words = d / 8;
                    auto keys = test::random_words(size_t(n * words), test::seed_for({d, n, 3}));
                    auto queries = test::random_words(size_t(group * words), test::seed_for({d, n, 4}));
                    const int rows = mode == GqaMode::per_head ? group : 1;
                    const int64_t blocks = distance_blocks(n);
                    std::vector<uint16_t> dist_want(size_t(rows * n)), dist_got(size_t(rows * n));
                    std::vector<uint16_t> want(size_t(rows * blocks)), got(size_t(rows * blocks), 0xdead);
                    const CodeRows view{keys.data(), n, words};
                    group_distances_reference(queries.data(), group, view, Metric::l1, mode, dist_want.data(),
                                              n, BlockMinima{want.data(), blocks});
                    group_distances(queries.data(), group, view, Metric::l1, mode, dist_got.data(), n,
                                    BlockMinima{got.data(), blocks});
                    ASSERT_EQ(dist_got, dist_want);
                    ASSERT_EQ(got, want)
                        << "d=" << d << " n=" << n << " g=" << group << " mode=" << int(mode);
                }
}

TEST(Distance, SharedIsTheGroupMinimum) {
    const int words = 16, group = 4;
    const int64_t n = 100;
    auto keys = test::random_words(size_t(n * words), 11);
    auto queries = test::random_words(size_t(group * words), 12);
    std::vector<uint16_t> per_head(static_cast<size_t>(group * n)), shared(static_cast<size_t>(n));
    const CodeRows view{keys.data(), n, words};
    group_distances(queries.data(), group, view, Metric::l1, GqaMode::per_head, per_head.data(), n);
    group_distances(queries.data(), group, view, Metric::l1, GqaMode::shared, shared.data(), n);
    for (int64_t t = 0; t < n; ++t) {
        uint16_t best = 0xffff;
        for (int q = 0; q < group; ++q)
            best = std::min(best, per_head[size_t(q * n + t)]);
        EXPECT_EQ(shared[size_t(t)], best) << t;
    }
}

TEST(Distance, ExtremesAreZeroAndThreeD) {
    std::vector<uint16_t> zeros(16, 0), threes(16, 0xffff);
    EXPECT_EQ(code_distance(zeros.data(), threes.data(), 16, Metric::l1), 384);
    EXPECT_EQ(code_distance(zeros.data(), zeros.data(), 16, Metric::l1), 0);
    // 1 vs 2 in every dim: L1 charges 1, xor charges 3.
    std::vector<uint16_t> ones(16, 0x5555), twos(16, 0xaaaa);
    EXPECT_EQ(code_distance(ones.data(), twos.data(), 16, Metric::l1), 128);
    EXPECT_EQ(code_distance(ones.data(), twos.data(), 16, Metric::xor_weighted), 384);
}

}  // namespace
}  // namespace adamas
