// Rotary position embedding: the per-pair frequencies, with context scaling (linear, Llama 3, YaRN) and
// llama.cpp's per-pair frequency factors, and the rotation itself in either pair layout.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace adamas {

// Which dims of a head form a rotated pair. `adjacent`: (2i, 2i+1) — GGUF llama and mistral, whose Q/K
// rows llama.cpp's converter permutes into that layout. `neox`: (i, i + dims/2) — Hugging Face's
// rotate_half, kept as is by GGUF qwen2. Both give the same attention on correspondingly ordered weights.
enum class RopeStyle : uint8_t { adjacent, neox };
std::string_view rope_style_name(RopeStyle style);  // "adjacent", "neox"

enum class RopeScalingType : uint8_t { none, linear, llama3, yarn };
std::string_view rope_scaling_name(RopeScalingType type);  // "none", "linear", "llama3", "yarn"

struct RopeScaling {
    RopeScalingType type = RopeScalingType::none;
    float factor = 1.0f;            // how many times the original context is extended
    int64_t original_context = 0;   // the context the model was trained at (llama3, yarn)
    float low_freq_factor = 1.0f;   // llama3: wavelengths above original_context / low_freq_factor are scaled
    float high_freq_factor = 4.0f;  // llama3: wavelengths below original_context / high_freq_factor are kept
    float beta_fast = 32.0f;        // yarn: pairs with more than beta_fast rotations over the original
    float beta_slow = 1.0f;         //   context are kept, fewer than beta_slow are interpolated
    float mscale = 1.0f;            // yarn: factor on cos and sin (attention magnitude); 1 otherwise
};

// YaRN's attention magnitude factor for a context extension `factor`: 0.1 · ln(factor) + 1 (1 when
// factor <= 1).
float yarn_mscale(float factor);

// Checks the parameters a scaling type uses (factor > 0, an original context for llama3 and yarn,
// low < high frequency factors, beta_fast > beta_slow > 0); Error "<where>: ..." otherwise.
void validate_rope_scaling(const RopeScaling& scaling, const std::string& where);

// The dims/2 angular frequencies (radians per position) of pairs i = 0 .. dims/2 - 1: theta^(-2i/dims),
// divided by freq_factors[i] when given (llama.cpp's rope_freqs tensor of Llama 3 GGUFs), then scaled:
// linear divides by the factor; llama3 divides long wavelengths by the factor, keeps short ones and
// blends the band between; yarn blends interpolated (÷ factor) and original frequencies by a ramp over
// the pairs' rotation counts within the original context.
std::vector<float> rope_inv_freq(int dims, float theta, const RopeScaling& scaling,
                                 std::span<const float> freq_factors = {});

// Everything apply_rope needs, computed once per model.
struct RopeTable {
    RopeStyle style = RopeStyle::adjacent;
    int dims = 0;                 // rotated dims per head (even, at most the head dim)
    std::vector<float> inv_freq;  // dims / 2
    float mscale = 1.0f;          // multiplies cos and sin (YaRN)
};
RopeTable make_rope_table(RopeStyle style, int dims, float theta, const RopeScaling& scaling,
                          std::span<const float> freq_factors = {});

// cos and sin of one position's angles, times the magnitude factor: every layer's queries and keys of a
// token turn by the same angles, so a decode step computes them once rather than twice per layer.
struct RopeAngles {
    std::vector<float> cos, sin;  // rope.dims / 2 each
};
void rope_angles(const RopeTable& rope, int64_t position, RopeAngles& out);

// Rotates the first rope.dims dims of each of `count` heads (`head_dim` floats apart) by
// position · inv_freq[i], pairing dims as rope.style says.
void apply_rope(const RopeTable& rope, const RopeAngles& angles, float* heads, int count, int head_dim);
// The same, computing the angles of `position` first.
void apply_rope(const RopeTable& rope, float* heads, int count, int head_dim, int64_t position);

}  // namespace adamas
