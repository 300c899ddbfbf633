// Distances: packed L1 and xor exhaustively against per-dimension sums, and the fast kernel against
// the reference on awkward shapes, per-head and shared (minimum over the group).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "adamas/distance.h"
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
