// f16/bf16 conversions: exhaustive round trips and rounding against the hardware/compiler types.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "adamas/dtype.h"
#include "cpu/kernels.h"
#include "test_util.h"

namespace adamas {
namespace {

TEST(DType, F16RoundTripsEveryValue) {
    for (uint32_t h = 0; h < 65536; ++h) {
        const float f = f16_to_f32(uint16_t(h));
        if (std::isnan(f)) {
            EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(f))));
            continue;
        }
        ASSERT_EQ(f32_to_f16(f), h) << std::hex << h;
        ASSERT_EQ(float(_Float16(f)), f) << std::hex << h;  // the compiler's own conversion agrees
    }
}

TEST(DType, F16RoundsToNearestEvenLikeTheCompiler) {
    const auto xs = test::random_floats(200000, 3, 3000.0f);
    for (float x : xs) {
        for (float s : {x, x * 1e-6f, x * 1e-9f, x * 40.0f}) {
            const _Float16 want = _Float16(s);
            uint16_t bits;
            std::memcpy(&bits, &want, 2);
            ASSERT_EQ(f32_to_f16(s), bits) << s;
        }
    }
}

TEST(DType, Bf16RoundsToNearestEven) {
    EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
    EXPECT_EQ(bf16_to_f32(f32_to_bf16(3.140625f)), 3.140625f);
    EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f808000u)), 0x3f80);  // tie to even
    EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f818000u)), 0x3f82);
    EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::nanf("")))));
}

}  // namespace
}  // namespace adamas

namespace adamas {
namespace {

// The vectorized row conversions against the scalar reference, ties, NaN, infinities and tails.
TEST(DType, VectorRowConversionsMatchTheScalarOnes) {
    auto xs = test::random_floats(1003, 17, 100.0f);
    xs[0] = std::nanf("");
    xs[1] = std::numeric_limits<float>::infinity();
    xs[2] = -xs[1];
    xs[3] = std::bit_cast<float>(0x3f808000u);  // bf16 tie
    xs[4] = 65520.0f;                           // f16 overflow
    xs[5] = 1e-8f;                              // f16 subnormal
    for (DType t : {DType::f32, DType::f16, DType::bf16}) {
        std::vector<uint8_t> want(xs.size() * 4), got(xs.size() * 4, 0xee);
        store_row(xs.data(), int64_t(xs.size()), t, want.data());
        cpu::store_row(xs.data(), int64_t(xs.size()), t, got.data());
        const size_t bytes = xs.size() * size_t(dtype_size(t));
        for (size_t i = 0; i < bytes; i += size_t(dtype_size(t))) {
            const float a = load_element(want.data(), t, int64_t(i) / dtype_size(t));
            const float b = load_element(got.data(), t, int64_t(i) / dtype_size(t));
            if (std::isnan(a)) {
                ASSERT_TRUE(std::isnan(b)) << dtype_name(t) << " at " << i;
            } else {
                ASSERT_EQ(std::memcmp(want.data() + i, got.data() + i, size_t(dtype_size(t))), 0)
                    << dtype_name(t) << " element " << i / size_t(dtype_size(t)) << " value "
                    << xs[i / size_t(dtype_size(t))];
            }
        }
        std::vector<float> back(xs.size(), -1.0f);
        cpu::load_row(got.data(), t, int64_t(xs.size()), back.data());
        for (size_t i = 0; i < xs.size(); ++i) {
            const float want_back = load_element(got.data(), t, int64_t(i));
            if (std::isnan(want_back))
                ASSERT_TRUE(std::isnan(back[i]));
            else
                ASSERT_EQ(back[i], want_back) << dtype_name(t) << " " << i;
        }
    }
}

}  // namespace
}  // namespace adamas
