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

TEST(Codes, RelativeThresholdIsTauTimesTheVectorsRms) {
    auto x = test::random_floats(64, 11, 3.0f);
    double sum = 0;
    for (float v : x)
        sum += double(v) * v;
    const float rms = float(std::sqrt(sum / 64));
    const CodeThreshold relative{0.6f, TauMode::relative};
    EXPECT_FLOAT_EQ(relative.for_vector(x), 0.6f * rms);
    EXPECT_EQ((CodeThreshold{0.6f, TauMode::fixed}.for_vector(x)), 0.6f);
    std::vector<uint16_t> want(8), got(8), scaled_codes(8);
    rotate_encode(x, 0.6f * rms, want);
    rotate_encode(x, relative, got);
    EXPECT_EQ(got, want);
    // Scale-free: a vector 100 times longer gets the same codes (a fixed threshold would not).
    auto scaled = x;
    for (float& v : scaled)
        v *= 100.0f;
    rotate_encode(scaled, relative, scaled_codes);
    EXPECT_EQ(scaled_codes, want);
    rotate_encode(scaled, 0.6f * rms, scaled_codes);
    EXPECT_NE(scaled_codes, want);
}

}  // namespace
}  // namespace adamas
