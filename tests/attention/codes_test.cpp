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

TEST(Codes, ThreeBitBucketsAndBitPlanesFollowTheSpec) {
    // c = Σ_{j=-3..3} [x > j·tau]: eight buckets tau apart; bit p of dim i is bit i % 64 of plane p of
    // chunk i / 64 (three 64-bit words, i.e. 16-bit words 4p..4p+3 of the chunk's 12).
    const float tau = 0.5f;
    const float values[] = {-2.0f, -1.5f, -1.2f, -0.5f, -0.2f, 0.0f, 0.3f,
                            0.5f,  0.7f,  1.0f,  1.4f,  1.5f,  9.0f, std::nanf("")};
    const int want_codes[] = {0, 0, 1, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 0};
    for (int d : {32, 64, 128}) {
        std::vector<float> x(static_cast<size_t>(d));
        for (int i = 0; i < d; ++i)
            x[size_t(i)] = values[i % 14];
        std::vector<uint16_t> words(size_t(code_words(d, 3)), 0xdead);
        encode_codes3(x, tau, words);
        for (int i = 0; i < d; ++i) {
            ASSERT_EQ(code_at(words.data(), i, 3), want_codes[i % 14]) << "d=" << d << " i=" << i;
            const uint16_t* chunk = words.data() + 12 * (i / 64);
            for (int p = 0; p < 3; ++p) {
                uint64_t plane = 0;
                for (int k = 0; k < 4; ++k)
                    plane |= uint64_t(chunk[4 * p + k]) << (16 * k);
                ASSERT_EQ(int(plane >> (i % 64) & 1), (want_codes[i % 14] >> p) & 1) << i << " " << p;
            }
        }
        if (d == 32) {  // the unused half of the chunk stays zero in every plane
            for (int p = 0; p < 3; ++p)
                EXPECT_EQ(words[size_t(4 * p + 2)] | words[size_t(4 * p + 3)], 0);
        }
    }
}

TEST(Codes, ThreeBitRotateEncodeUsesTheVectorsThreshold) {
    auto x = test::random_floats(64, 13, 2.0f);
    auto rotated = x;
    hadamard_reference(rotated);
    const CodeThreshold relative{0.35f, TauMode::relative, 3};
    std::vector<uint16_t> want(12), got(12, 0xdead);
    encode_codes3(rotated, relative.for_vector(x), want);
    rotate_encode(x, relative, got);
    EXPECT_EQ(got, want);
    // A Gaussian-like vector at 0.35 RMS steps uses every one of the eight buckets.
    auto many = test::random_floats(256, 17, 1.0f);
    std::vector<uint16_t> codes(size_t(code_words(256, 3)));
    rotate_encode(many, relative, codes);
    std::vector<int> seen(8);
    for (int i = 0; i < 256; ++i)
        ++seen[size_t(code_at(codes.data(), i, 3))];
    for (int b = 0; b < 8; ++b)
        EXPECT_GT(seen[size_t(b)], 0) << "bucket " << b;
}

}  // namespace
}  // namespace adamas
