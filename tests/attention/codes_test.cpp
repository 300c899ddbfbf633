// Bucket codes: fast encoder against the reference, bucket boundaries, packing layout, NaN.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "adamas/codes.h"
#include "adamas/hadamard.h"
#include "test_util.h"

namespace adamas {
namespace {

TEST(Codes, FastMatchesReference) {
    for (int d : {32, 64, 128, 256})
        for (float tau : {0.0f, 0.5f, 10.0f})
            for (int trial = 0; trial < 20; ++trial) {
                auto x =
                    test::random_floats(size_t(d), test::seed_for({d, trial}), trial % 3 == 0 ? 20.0f : 1.0f);
                if (trial == 1) x[3] = std::numeric_limits<float>::quiet_NaN();
                if (trial == 2) x[5] = tau, x[6] = -tau, x[7] = 0.0f, x[8] = -0.0f;  // boundaries
                if (trial == 3) x[9] = std::numeric_limits<float>::infinity(), x[10] = -x[9];
                std::vector<uint16_t> want(size_t(d / 8)), got(size_t(d / 8), 0xdead);
                encode_codes_reference(x, tau, want);
                encode_codes(x, tau, got);
                ASSERT_EQ(got, want) << "d=" << d << " tau=" << tau << " trial=" << trial;
            }
}

TEST(Codes, BucketsAndLayoutFollowTheSpec) {
    // Dim i gets value v_i; check c = [x > -tau] + [x > 0] + [x > tau] at bits 2(i%8) of word i/8.
    const float tau = 2.0f;
    const float values[] = {-3.0f, -2.0f, -1.0f, 0.0f, 1.0f, 2.0f, 3.0f, std::nanf("")};
    const int want_codes[] = {0, 0, 1, 1, 2, 2, 3, 0};
    std::vector<float> x(32);
    for (int i = 0; i < 32; ++i)
        x[size_t(i)] = values[i % 8];
    std::vector<uint16_t> words(4);
    encode_codes(x, tau, words);
    for (int i = 0; i < 32; ++i)
        EXPECT_EQ(code_at(words.data(), i), want_codes[i % 8]) << i;
    // Word j packs dims 8j..8j+7 least significant first: 0,0,1,1,2,2,3,0 -> 0b00'11'10'10'01'01'00'00.
    EXPECT_EQ(words[0], 0b0011101001010000);
}

TEST(Codes, RotateEncodeRotatesFirst) {
    auto x = test::random_floats(128, 7);
    auto rotated = x;
    hadamard_reference(rotated);
    std::vector<uint16_t> want(16), got(16);
    encode_codes_reference(rotated, 0.3f, want);
    rotate_encode(x, 0.3f, got);
    EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace adamas
