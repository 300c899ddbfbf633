// RoPE frequencies and rotation. The frequency formulas follow the papers and the Hugging Face
// definitions (Llama 3's wavelength bands; YaRN, Peng et al. 2023, §3.2-3.4), computed in double.
#include "adamas/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "adamas/error.h"

namespace adamas {

std::string_view rope_style_name(RopeStyle style) {
    return style == RopeStyle::adjacent ? "adjacent" : "neox";
}

std::string_view rope_scaling_name(RopeScalingType type) {
    switch (type) {
        case RopeScalingType::none:
            return "none";
        case RopeScalingType::linear:
            return "linear";
        case RopeScalingType::llama3:
            return "llama3";
        case RopeScalingType::yarn:
            return "yarn";
    }
    return "unknown";
}

float yarn_mscale(float factor) {
    return factor <= 1.0f ? 1.0f : float(0.1 * std::log(double(factor)) + 1.0);
}

void validate_rope_scaling(const RopeScaling& s, const std::string& where) {
    if (s.type == RopeScalingType::none) return;
    const std::string_view name = rope_scaling_name(s.type);
    if (!(s.factor > 0.0f) || !std::isfinite(s.factor))
        fail("{}: {} RoPE scaling factor is {} (expected a positive number)", where, name, s.factor);
    if (s.type == RopeScalingType::linear) return;
    for (float x : {s.low_freq_factor, s.high_freq_factor, s.beta_fast, s.beta_slow, s.mscale})
        if (!std::isfinite(x))
            fail("{}: {} RoPE scaling has a parameter that is {} (expected finite numbers)", where, name, x);
    if (s.original_context <= 0)
        fail("{}: {} RoPE scaling needs the original context length (got {})", where, name,
             s.original_context);
    if (s.type == RopeScalingType::llama3 &&
        !(s.low_freq_factor > 0.0f && s.high_freq_factor > s.low_freq_factor))
        fail(
            "{}: llama3 RoPE scaling has low_freq_factor {} and high_freq_factor {} (expected 0 < low < "
            "high)",
            where, s.low_freq_factor, s.high_freq_factor);
    if (s.type == RopeScalingType::yarn && !(s.beta_slow > 0.0f && s.beta_fast > s.beta_slow))
        fail("{}: yarn RoPE scaling has beta_fast {} and beta_slow {} (expected beta_fast > beta_slow > 0)",
             where, s.beta_fast, s.beta_slow);
    if (s.type == RopeScalingType::yarn && !(s.mscale > 0.0f))
        fail("{}: yarn attention factor is {} (expected a positive number)", where, s.mscale);
}

namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;

// Llama 3: a pair whose wavelength 2π/f exceeds original/low_freq_factor is interpolated (f / factor),
// one shorter than original/high_freq_factor is kept, and between them the two are mixed linearly in
// original/wavelength (the number of full turns within the original context).
double llama3_frequency(double f, const RopeScaling& s) {
    const double wavelength = kTwoPi / f, original = double(s.original_context);
    if (wavelength < original / s.high_freq_factor) return f;
    if (wavelength > original / s.low_freq_factor) return f / s.factor;
    const double smooth =
        (original / wavelength - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    return (1.0 - smooth) * f / s.factor + smooth * f;
}

// YaRN ("NTK-by-parts"): the pair index at which a dimension makes `rotations` full turns over the
// original context, from original / (2π · theta^(2i/dims)) = rotations.
double yarn_correction_dim(double rotations, int dims, double theta, double original) {
    return dims * std::log(original / (rotations * kTwoPi)) / (2.0 * std::log(theta));
}

}  // namespace

std::vector<float> rope_inv_freq(int dims, float theta, const RopeScaling& s,
                                 std::span<const float> freq_factors) {
    ADAMAS_ASSERT(dims >= 2 && dims % 2 == 0);
    ADAMAS_ASSERT(freq_factors.empty() || freq_factors.size() == size_t(dims / 2));
    const int pairs = dims / 2;
    // YaRN's ramp runs between the pairs that turn beta_fast and beta_slow times in the original context:
    // below `low` frequencies are kept (extrapolated), above `high` interpolated.
    double low = 0, high = 0;
    if (s.type == RopeScalingType::yarn) {
        low = std::max(0.0,
                       std::floor(yarn_correction_dim(s.beta_fast, dims, theta, double(s.original_context))));
        high = std::min(double(dims - 1),
                        std::ceil(yarn_correction_dim(s.beta_slow, dims, theta, double(s.original_context))));
    }
    std::vector<float> out(static_cast<size_t>(pairs));
    for (int i = 0; i < pairs; ++i) {
        double f = std::pow(double(theta), -2.0 * i / dims);
        if (!freq_factors.empty()) f /= double(freq_factors[size_t(i)]);
        switch (s.type) {
            case RopeScalingType::none:
                break;
            case RopeScalingType::linear:
                f /= s.factor;
                break;
            case RopeScalingType::llama3:
                f = llama3_frequency(f, s);
                break;
            case RopeScalingType::yarn: {
                const double ramp = std::clamp((i - low) / std::max(high - low, 0.001), 0.0, 1.0);
                const double keep = 1.0 - ramp;  // share of the original (extrapolated) frequency
                f = f / s.factor * (1.0 - keep) + f * keep;
                break;
            }
        }
        out[size_t(i)] = float(f);
    }
    return out;
}

RopeTable make_rope_table(RopeStyle style, int dims, float theta, const RopeScaling& scaling,
                          std::span<const float> freq_factors) {
    RopeTable t;
    t.style = style;
    t.dims = dims;
    t.inv_freq = rope_inv_freq(dims, theta, scaling, freq_factors);
    t.mscale = scaling.type == RopeScalingType::yarn ? scaling.mscale : 1.0f;
    return t;
}

void rope_angles(const RopeTable& rope, int64_t position, RopeAngles& out) {
    const int pairs = rope.dims / 2;
    ADAMAS_ASSERT(rope.inv_freq.size() == size_t(pairs));
    out.cos.resize(size_t(pairs));
    out.sin.resize(size_t(pairs));
    for (int i = 0; i < pairs; ++i) {
        // The angle in double keeps long positions exact enough.
        const double angle = double(position) * double(rope.inv_freq[size_t(i)]);
        out.cos[size_t(i)] = float(std::cos(angle)) * rope.mscale;
        out.sin[size_t(i)] = float(std::sin(angle)) * rope.mscale;
    }
}

void apply_rope(const RopeTable& rope, const RopeAngles& angles, float* heads, int count, int head_dim) {
    const int pairs = rope.dims / 2;
    ADAMAS_ASSERT(rope.dims <= head_dim && angles.cos.size() == size_t(pairs));
    const float* cos_t = angles.cos.data();
    const float* sin_t = angles.sin.data();
    const bool adjacent = rope.style == RopeStyle::adjacent;
    const int stride = adjacent ? 2 : 1, partner = adjacent ? 1 : pairs;
    for (int h = 0; h < count; ++h) {
        float* x = heads + int64_t(h) * head_dim;
        for (int i = 0; i < pairs; ++i) {
            float& first = x[i * stride];
            float& second = x[i * stride + partner];
            const float a = first, b = second;
            first = a * cos_t[i] - b * sin_t[i];
            second = a * sin_t[i] + b * cos_t[i];
        }
    }
}

void apply_rope(const RopeTable& rope, float* heads, int count, int head_dim, int64_t position) {
    RopeAngles angles;
    rope_angles(rope, position, angles);
    apply_rope(rope, angles, heads, count, head_dim);
}

}  // namespace adamas
