// RoPE: the frequencies of every scaling type against values computed independently in float64 (a NumPy
// transcription of the Hugging Face / paper formulas), and the rotation's properties — the adjacent and
// neox layouts agree on permuted dims, dot products depend only on relative position, untouched dims
// stay untouched, YaRN scales magnitudes.
#include "adamas/rope.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "adamas/error.h"
#include "test_util.h"

namespace adamas {
namespace {

constexpr int kDims = 16;
constexpr float kTheta = 10000.0f;

void expect_frequencies(const std::vector<float>& got, const std::vector<double>& want, const char* what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t i = 0; i < want.size(); ++i)
        EXPECT_NEAR(got[i], want[i], 2e-7 * want[i]) << what << " pair " << i;
}

TEST(RopeFrequencies, Unscaled) {
    expect_frequencies(
        rope_inv_freq(kDims, kTheta, {}),
        {1.0, 3.162277660e-01, 1.0e-01, 3.162277660e-02, 1.0e-02, 3.162277660e-03, 1.0e-03, 3.162277660e-04},
        "none");
}

TEST(RopeFrequencies, LinearDividesByTheFactor) {
    RopeScaling s;
    s.type = RopeScalingType::linear;
    s.factor = 4;
    expect_frequencies(rope_inv_freq(kDims, kTheta, s),
                       {2.5e-01, 7.905694150e-02, 2.5e-02, 7.905694150e-03, 2.5e-03, 7.905694150e-04, 2.5e-04,
                        7.905694150e-05},
                       "linear");
}

TEST(RopeFrequencies, Llama3KeepsShortWavelengthsScalesLongOnesAndBlendsBetween) {
    // Wavelengths 2π·10000^(i/8): pairs 0-5 are under 8192/4, pair 6 (6283) is in the band, pair 7
    // (19869) is over 8192.
    RopeScaling s;
    s.type = RopeScalingType::llama3;
    s.factor = 8;
    s.low_freq_factor = 1;
    s.high_freq_factor = 4;
    s.original_context = 8192;
    expect_frequencies(rope_inv_freq(kDims, kTheta, s),
                       {1.0, 3.162277660e-01, 1.0e-01, 3.162277660e-02, 1.0e-02, 3.162277660e-03,
                        2.136075440e-04, 3.952847075e-05},
                       "llama3");
}

TEST(RopeFrequencies, YarnRampsFromExtrapolationToInterpolation) {
    // Correction range for 16 dims, theta 1e4, 4096 original tokens: pairs 2.62 -> 2 and 5.63 -> 6.
    RopeScaling s;
    s.type = RopeScalingType::yarn;
    s.factor = 4;
    s.original_context = 4096;
    expect_frequencies(
        rope_inv_freq(kDims, kTheta, s),
        {1.0, 3.162277660e-01, 1.0e-01, 2.569350599e-02, 6.25e-03, 1.383496476e-03, 2.5e-04, 7.905694150e-05},
        "yarn");
    EXPECT_NEAR(yarn_mscale(4), 1.138629436, 1e-7);
    EXPECT_EQ(yarn_mscale(1), 1.0f);
    EXPECT_EQ(yarn_mscale(0.5f), 1.0f);
    s.mscale = yarn_mscale(4);
    EXPECT_FLOAT_EQ(make_rope_table(RopeStyle::neox, kDims, kTheta, s).mscale, s.mscale);
    s.type = RopeScalingType::linear;  // mscale only means something for yarn
    EXPECT_EQ(make_rope_table(RopeStyle::neox, kDims, kTheta, s).mscale, 1.0f);
}

TEST(RopeFrequencies, FrequencyFactorsDivide) {
    const std::vector<float> factors = {1, 1, 1, 1, 2, 4, 8, 8};
    expect_frequencies(
        rope_inv_freq(kDims, kTheta, {}, factors),
        {1.0, 3.162277660e-01, 1.0e-01, 3.162277660e-02, 5.0e-03, 7.905694150e-04, 1.25e-04, 3.952847075e-05},
        "rope_freqs");
}

TEST(RopeFrequencies, InvalidParametersAreErrors) {
    auto expect_invalid = [](RopeScaling s, const char* needle) {
        try {
            validate_rope_scaling(s, "cfg");
            ADD_FAILURE() << "no error for " << needle;
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
            EXPECT_EQ(std::string(e.what()).rfind("cfg: ", 0), 0u) << e.what();
        }
    };
    RopeScaling s;
    s.type = RopeScalingType::linear;
    s.factor = 0;
    expect_invalid(s, "factor is 0");
    s.factor = NAN;
    expect_invalid(s, "factor is nan");
    s = {};
    s.type = RopeScalingType::yarn;
    s.factor = 4;
    expect_invalid(s, "needs the original context length");
    s.original_context = 4096;
    s.beta_fast = 1;
    expect_invalid(s, "beta_fast 1 and beta_slow 1");
    s = {};
    s.type = RopeScalingType::llama3;
    s.factor = 8;
    s.original_context = 8192;
    s.low_freq_factor = 4;
    s.high_freq_factor = 1;
    expect_invalid(s, "low_freq_factor 4 and high_freq_factor 1");
    s = {};
    EXPECT_NO_THROW(validate_rope_scaling(s, "cfg"));
}

// Rotating x's dims in the neox layout equals rotating them permuted into the adjacent layout
// (neox dim i -> adjacent 2i, neox i + dims/2 -> adjacent 2i+1), llama.cpp's converter permutation.
TEST(ApplyRope, AdjacentAndNeoxAgreeOnPermutedDims) {
    for (int rope_dims : {64, 32, 2}) {
        const int head_dim = 64, heads = 3;
        const RopeTable neox = make_rope_table(RopeStyle::neox, rope_dims, 500000.0f, {});
        const RopeTable adjacent = make_rope_table(RopeStyle::adjacent, rope_dims, 500000.0f, {});
        const auto x = test::random_floats(size_t(heads * head_dim), test::seed_for({rope_dims}));
        std::vector<float> a = x, b(x.size());
        for (int h = 0; h < heads; ++h) {
            const float* src = x.data() + h * head_dim;
            float* dst = b.data() + h * head_dim;
            for (int i = 0; i < rope_dims / 2; ++i) {
                dst[2 * i] = src[i];
                dst[2 * i + 1] = src[i + rope_dims / 2];
            }
            for (int i = rope_dims; i < head_dim; ++i)
                dst[i] = src[i];
        }
        for (int64_t position : {0, 1, 17, 4095, 131071}) {
            std::vector<float> ra = a, rb = b;
            apply_rope(neox, ra.data(), heads, head_dim, position);
            apply_rope(adjacent, rb.data(), heads, head_dim, position);
            for (int h = 0; h < heads; ++h)
                for (int i = 0; i < rope_dims / 2; ++i) {
                    ASSERT_EQ(ra[size_t(h * head_dim + i)], rb[size_t(h * head_dim + 2 * i)]);
                    ASSERT_EQ(ra[size_t(h * head_dim + i + rope_dims / 2)],
                              rb[size_t(h * head_dim + 2 * i + 1)]);
                }
            // Dims past rope_dims are not rotated.
            for (int h = 0; h < heads; ++h)
                for (int i = rope_dims; i < head_dim; ++i)
                    ASSERT_EQ(ra[size_t(h * head_dim + i)], x[size_t(h * head_dim + i)]);
        }
    }
}

TEST(ApplyRope, MatchesTheRotationInDouble) {
    const RopeTable t = make_rope_table(RopeStyle::neox, 8, 10000.0f, {});
    const auto x = test::random_floats(8, 5);
    std::vector<float> got = x;
    const int64_t position = 1234;
    apply_rope(t, got.data(), 1, 8, position);
    std::vector<double> want(8);
    for (int i = 0; i < 4; ++i) {
        const double angle = position * std::pow(10000.0, -2.0 * i / 8);
        want[size_t(i)] = x[size_t(i)] * std::cos(angle) - x[size_t(i + 4)] * std::sin(angle);
        want[size_t(i + 4)] = x[size_t(i)] * std::sin(angle) + x[size_t(i + 4)] * std::cos(angle);
    }
    EXPECT_LT(test::relative_error(got.data(), want.data(), 8), 1e-6);
}

// q·k after RoPE depends only on the distance between the positions; YaRN's mscale multiplies it by
// mscale² (it scales cos and sin of both).
TEST(ApplyRope, DotProductsDependOnRelativePositionOnly) {
    RopeScaling yarn;
    yarn.type = RopeScalingType::yarn;
    yarn.factor = 8;
    yarn.original_context = 4096;
    yarn.mscale = yarn_mscale(8);
    for (const RopeScaling& s : {RopeScaling{}, yarn})
        for (RopeStyle style : {RopeStyle::adjacent, RopeStyle::neox}) {
            const RopeTable t = make_rope_table(style, 64, 10000.0f, s);
            const auto q = test::random_floats(64, 1), k = test::random_floats(64, 2);
            auto dot_at = [&](int64_t m, int64_t n) {
                std::vector<float> a = q, b = k;
                apply_rope(t, a.data(), 1, 64, m);
                apply_rope(t, b.data(), 1, 64, n);
                double sum = 0;
                for (int i = 0; i < 64; ++i)
                    sum += double(a[size_t(i)]) * b[size_t(i)];
                return sum;
            };
            double plain = 0;
            for (int i = 0; i < 64; ++i)
                plain += double(q[size_t(i)]) * k[size_t(i)];
            const double m2 = double(t.mscale) * t.mscale;
            EXPECT_NEAR(dot_at(5, 5), plain * m2, 1e-4 * m2) << rope_scaling_name(s.type);
            EXPECT_NEAR(dot_at(100, 40), dot_at(1060, 1000), 1e-3) << rope_scaling_name(s.type);
            EXPECT_NEAR(dot_at(7, 3), dot_at(7007, 7003), 1e-3) << rope_scaling_name(s.type);
        }
}

}  // namespace
}  // namespace adamas
