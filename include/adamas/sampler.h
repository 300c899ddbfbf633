// Next-token choice from logits: greedy (temperature 0) or temperature with top-k and top-p, seeded.
#pragma once
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace adamas {

struct SamplerOptions {
    float temperature = 0.0f;  // <= 0: greedy (argmax, lowest id on ties)
    int top_k = 40;            // <= 0: no limit
    float top_p = 0.95f;       // >= 1: no limit
    uint64_t seed = 0;
};

// The index of the largest logit, the lowest index on a tie; NaN is never chosen (0 when every logit is
// NaN or -inf). Vectorized: greedy decoding calls it on the whole vocabulary every step.
int32_t argmax(std::span<const float> logits);

class Sampler {
  public:
    explicit Sampler(const SamplerOptions& options);
    int32_t sample(std::span<const float> logits);

  private:
    SamplerOptions options_;
    std::mt19937_64 rng_;
    std::vector<std::pair<float, int32_t>> candidates_;
};

}  // namespace adamas
