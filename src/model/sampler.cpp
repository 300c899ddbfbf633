// Sampling: greedy argmax, or softmax at a temperature restricted to the top-k and the top-p mass.
#include "adamas/sampler.h"

#include <algorithm>
#include <cmath>

#include "adamas/error.h"

namespace adamas {

Sampler::Sampler(const SamplerOptions& options) : options_(options), rng_(options.seed) {
    if (!(options.top_p > 0.0f)) fail_usage("--top-p {} must be positive", options.top_p);
}

int32_t Sampler::sample(std::span<const float> logits) {
    ADAMAS_ASSERT(!logits.empty());
    if (options_.temperature <= 0.0f) {
        int32_t best = 0;
        for (size_t i = 1; i < logits.size(); ++i)
            if (logits[i] > logits[size_t(best)]) best = int32_t(i);
        return best;
    }
    candidates_.clear();
    for (size_t i = 0; i < logits.size(); ++i)
        candidates_.emplace_back(logits[i], int32_t(i));
    const size_t k =
        options_.top_k > 0 ? std::min(candidates_.size(), size_t(options_.top_k)) : candidates_.size();
    auto by_logit = [](const auto& a, const auto& b) {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    std::partial_sort(candidates_.begin(), candidates_.begin() + long(k), candidates_.end(), by_logit);
    candidates_.resize(k);
    const float top = candidates_[0].first;
    double total = 0;
    std::vector<double> weights(k);
    for (size_t i = 0; i < k; ++i)
        total += weights[i] = std::exp(double(candidates_[i].first - top) / options_.temperature);
    // Keep the smallest prefix whose probability mass reaches top_p.
    size_t keep = k;
    double mass = 0;
    for (size_t i = 0; i < k; ++i) {
        mass += weights[i] / total;
        if (mass >= options_.top_p) {
            keep = i + 1;
            break;
        }
    }
    std::discrete_distribution<size_t> pick(weights.begin(), weights.begin() + long(keep));
    return candidates_[pick(rng_)].second;
}

}  // namespace adamas
