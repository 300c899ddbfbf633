// f16/bf16 conversions: exhaustive round trips and rounding against the hardware/compiler types.
#include <gtest/gtest.h>

#include <cmath>

#include "adamas/dtype.h"
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
