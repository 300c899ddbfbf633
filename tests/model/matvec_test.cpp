// Matrix-vector products on block-format weights: the fast path against the reference (dequantize,
// dot in double) for every supported type, on random blocks with finite scales; the packed integer
// products bit for bit against their row-by-row reference, and both near the float product.
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "adamas/dtype.h"
#include "adamas/error.h"
#include "adamas/matvec.h"
#include "adamas/packed_matvec.h"
#include "model/random_blocks.h"
#include "test_util.h"

namespace adamas {
namespace {

// Σ |w·x| over row r: the scale a dot product's rounding error is measured against.
double abs_dot(GgmlType type, const uint8_t* weights, int64_t r, int64_t cols, const float* x) {
    std::vector<float> row(static_cast<size_t>(cols));
    dequantize_reference(type, weights + r * row_bytes(type, cols), cols, row.data());
    double scale = 0;
    for (int64_t c = 0; c < cols; ++c)
        scale += std::fabs(double(row[size_t(c)]) * x[c]);
    return scale;
}

TEST(Matvec, FastMatchesReference) {
    for (GgmlType type : {GgmlType::f32, GgmlType::f16, GgmlType::bf16, GgmlType::q4_0, GgmlType::q4_1,
                          GgmlType::q8_0, GgmlType::q4_k, GgmlType::q5_k, GgmlType::q6_k})
        for (int64_t cols : {256, 576, 1536}) {
            const auto format = *ggml_block(type);
            if (cols % format.elements) continue;
            const int64_t rows = 37;
            const auto weights = test::random_rows(type, rows, cols, test::seed_for({int(type), cols}));
            const auto x = test::random_floats(size_t(cols), test::seed_for({cols, 7}));
            std::vector<float> want(static_cast<size_t>(rows)), got(static_cast<size_t>(rows), -1.0f);
            matvec_reference(type, weights.data(), cols, x.data(), 0, rows, want.data());
            matvec(type, weights.data(), cols, x.data(), 0, rows, got.data());
            // Per row: an f32 dot of `cols` terms against a double one.
            for (int64_t r = 0; r < rows; ++r) {
                const double scale = abs_dot(type, weights.data(), r, cols, x.data());
                ASSERT_NEAR(got[size_t(r)], want[size_t(r)], 1e-5 * scale + 1e-6)
                    << ggml_type_name(type) << " cols=" << cols << " row " << r;
            }
            // A row range writes only its rows.
            std::vector<float> part(3, -7.0f);
            matvec(type, weights.data(), cols, x.data(), 5, 8, part.data());
            for (int i = 0; i < 3; ++i)
                ASSERT_NEAR(part[size_t(i)], want[size_t(5 + i)],
                            1e-3 + 1e-4 * std::fabs(want[size_t(5 + i)]));
        }
}

TEST(PackedMatvec, QuantizedVectorFollowsQ8Rules) {
    auto x = test::random_floats(96, test::seed_for({96, 3}), 4.0f);
    for (int i = 32; i < 64; ++i)
        x[size_t(i)] = 0.0f;  // an all-zero block: d = 0, codes 0
    x[70] = -50.0f;           // the block's max |x| sits on a negative value: its code is -127
    QuantizedVector q;
    quantize_vector(x.data(), 96, q);
    ASSERT_EQ(q.d.size(), 3u);
    EXPECT_EQ(q.d[1], 0.0f);
    EXPECT_EQ(q.q[70], -127);
    for (int b = 0; b < 3; ++b) {
        float amax = 0;
        int32_t sum = 0;
        for (int i = 0; i < 32; ++i)
            amax = std::max(amax, std::fabs(x[size_t(32 * b + i)]));
        for (int i = 0; i < 32; ++i) {
            const float want = amax == 0.0f ? 0.0f : std::nearbyint(x[size_t(32 * b + i)] * (127.0f / amax));
            EXPECT_EQ(q.q[size_t(32 * b + i)], int(want)) << "element " << 32 * b + i;
            sum += q.q[size_t(32 * b + i)];
        }
        EXPECT_EQ(q.sum[size_t(b)], sum);
        EXPECT_EQ(q.d[size_t(b)], f16_to_f32(f32_to_f16(amax / 127.0f)));
        EXPECT_EQ(q.d_sum[size_t(b)], f16_to_f32(f32_to_f16(amax / 127.0f * float(sum))));
    }
}

TEST(PackedMatvec, FastMatchesReferenceExactlyAndFloatClosely) {
    for (GgmlType type : {GgmlType::q4_0, GgmlType::q4_1, GgmlType::q8_0})
        for (int64_t cols : {32, 576, 1536})
            for (int64_t rows : {1, 16, 37, 192}) {
                const auto weights =
                    test::random_rows(type, rows, cols, test::seed_for({int(type), cols, rows}));
                const auto x = test::random_floats(size_t(cols), test::seed_for({cols, 11}));
                QuantizedVector qx;
                quantize_vector(x.data(), cols, qx);
                const PackedMatrix packed = PackedMatrix::pack(type, weights.data(), rows, cols);
                ASSERT_EQ(packed.groups(), (rows + 15) / 16);
                std::vector<float> want(static_cast<size_t>(rows));
                packed_matvec_reference(type, weights.data(), cols, qx, 0, rows, want.data());
                // Every compiled target: AVX-512 VNNI intrinsics and the portable loops alike.
                for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
                    hwy::SetSupportedTargetsForTest(target);
                    std::vector<float> got(static_cast<size_t>(rows) + 1, -3.0f);
                    packed_matvec(packed, qx, 0, packed.groups(), got.data());
                    for (int64_t r = 0; r < rows; ++r)
                        ASSERT_EQ(got[size_t(r)], want[size_t(r)])
                            << ggml_type_name(type) << " " << rows << "x" << cols << " row " << r << " on "
                            << hwy::TargetName(target);
                    EXPECT_EQ(got[size_t(rows)], -3.0f) << "wrote past the last row";
                }
                hwy::SetSupportedTargetsForTest(0);
                // Against the float product: the error is what 8-bit activations cost (≤ ~1/127 of
                // the row's Σ|w·x| per block, far less on average).
                std::vector<float> exact(static_cast<size_t>(rows));
                matvec_reference(type, weights.data(), cols, x.data(), 0, rows, exact.data());
                for (int64_t r = 0; r < rows; ++r) {
                    const double scale = abs_dot(type, weights.data(), r, cols, x.data());
                    ASSERT_NEAR(want[size_t(r)], exact[size_t(r)], scale / 100 + 1e-6)
                        << ggml_type_name(type) << " row " << r;
                }
            }
}

TEST(PackedMatvec, GroupRangesWriteOnlyTheirRows) {
    const int64_t rows = 40, cols = 64;
    const auto weights = test::random_rows(GgmlType::q4_1, rows, cols, 5);
    const auto x = test::random_floats(size_t(cols), 6);
    QuantizedVector qx;
    quantize_vector(x.data(), cols, qx);
    const PackedMatrix packed = PackedMatrix::pack(GgmlType::q4_1, weights.data(), rows, cols);
    std::vector<float> all(static_cast<size_t>(rows)), part(static_cast<size_t>(rows), -1.0f);
    packed_matvec(packed, qx, 0, packed.groups(), all.data());
    packed_matvec(packed, qx, 1, 2, part.data());
    for (int64_t r = 0; r < rows; ++r)
        EXPECT_EQ(part[size_t(r)], r >= 16 && r < 32 ? all[size_t(r)] : -1.0f) << "row " << r;
}

TEST(PackedMatvec, RejectsOtherTypesAndShapes) {
    const std::vector<uint8_t> bytes(4096);
    EXPECT_FALSE(PackedMatrix::packable(GgmlType::q6_k));
    EXPECT_THROW(PackedMatrix::pack(GgmlType::q6_k, bytes.data(), 4, 256), Error);
    EXPECT_THROW(PackedMatrix::pack(GgmlType::f32, bytes.data(), 4, 32), Error);
    EXPECT_THROW(PackedMatrix::pack(GgmlType::q8_0, bytes.data(), 4, 48), Error);
}

}  // namespace
}  // namespace adamas
