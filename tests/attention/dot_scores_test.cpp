// The exact-score kernel (oracle estimate, adamas re-ranking) on every compiled SIMD target: contiguous
// tokens and index lists, every head dim and storage type, against a double-precision loop.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cmath>
#include <vector>

#include "adamas/dtype.h"
#include "cpu/kernels.h"
#include "test_util.h"

namespace adamas {
namespace {

TEST(DotScores, MatchTheReferenceOnEveryTarget) {
    for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
        hwy::SetSupportedTargetsForTest(target);
        for (int d : {32, 64, 128, 256})
            for (DType dtype : {DType::f32, DType::f16, DType::bf16}) {
                const int64_t n = 203, count = 3;  // a ragged last block
                const auto keys = test::random_floats(size_t(n * d), test::seed_for({d, int(dtype)}));
                const auto q = test::random_floats(size_t(count * d), test::seed_for({d, 7}));
                std::vector<uint8_t> stored(size_t(n * d * dtype_size(dtype)));
                std::vector<float> rounded(keys.size());
                for (size_t i = 0; i < keys.size(); ++i) {
                    const float x = keys[i];
                    if (dtype == DType::f32) {
                        reinterpret_cast<float*>(stored.data())[i] = x;
                        rounded[i] = x;
                    } else if (dtype == DType::f16) {
                        reinterpret_cast<uint16_t*>(stored.data())[i] = f32_to_f16(x);
                        rounded[i] = f16_to_f32(f32_to_f16(x));
                    } else {
                        reinterpret_cast<uint16_t*>(stored.data())[i] = f32_to_bf16(x);
                        rounded[i] = bf16_to_f32(f32_to_bf16(x));
                    }
                }
                std::vector<int32_t> indices;  // scattered, repeated and out of order
                for (int64_t i = 0; i < 77; ++i)
                    indices.push_back(int32_t((i * 37 + 11) % n));
                auto want = [&](int h, int64_t token) {
                    double dot = 0;
                    for (int j = 0; j < d; ++j)
                        dot += double(q[size_t(h * d + j)]) * rounded[size_t(token * d + j)];
                    return dot;
                };
                const int64_t stride = n + 5;
                std::vector<float> got(size_t(count * stride), -1.0f);
                cpu::dot_scores(q.data(), int(count), stored.data(), dtype, d, 10, n, got.data(), stride);
                std::vector<float> picked(size_t(count * indices.size()), -1.0f);
                cpu::dot_scores(q.data(), int(count), stored.data(), dtype, d, 0, int64_t(indices.size()),
                                picked.data(), int64_t(indices.size()), indices.data());
                const std::string where =
                    fmt::format("{} d={} {}", hwy::TargetName(target), d, dtype_name(dtype));
                for (int h = 0; h < count; ++h) {
                    EXPECT_EQ(got[size_t(h * stride + 9)], -1.0f) << where;  // before `begin`: untouched
                    for (int64_t t = 10; t < n; ++t)
                        ASSERT_NEAR(got[size_t(h * stride + t)], want(h, t), 1e-4 * d) << where << " t=" << t;
                    for (size_t i = 0; i < indices.size(); ++i)
                        ASSERT_NEAR(picked[h * indices.size() + i], want(h, indices[i]), 1e-4 * d)
                            << where << " i=" << i;
                }
            }
    }
    hwy::SetSupportedTargetsForTest(0);
}

}  // namespace
}  // namespace adamas
