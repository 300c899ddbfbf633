// Sampling: greedy argmax, or softmax at a temperature restricted to the top-k and the top-p mass.
#include "adamas/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "adamas/error.h"

namespace adamas {

Sampler::Sampler(const SamplerOptions& options) : options_(options), rng_(options.seed) {
    if (!(options.top_p > 0.0f)) fail_usage("--top-p {} must be positive", options.top_p);
}

int32_t argmax(std::span<const float> logits) {
    // 16 independent running maxima (the compiler keeps them in vector registers), then the lowest index
    // among the lanes that hold the overall maximum. NaN never compares greater, so it is never chosen.
    constexpr size_t kLanes = 16;
    const size_t n = logits.size();
    float value[kLanes];
    int32_t index[kLanes];
    for (size_t l = 0; l < kLanes; ++l) {
        value[l] = -std::numeric_limits<float>::infinity();
        index[l] = -1;
    }
    size_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (size_t l = 0; l < kLanes; ++l)
            if (logits[i + l] > value[l]) {
                value[l] = logits[i + l];
                index[l] = int32_t(i + l);
            }
    for (; i < n; ++i)  // the tail goes to lane 0's running maximum
        if (logits[i] > value[0]) {
            value[0] = logits[i];
            index[0] = int32_t(i);
        }
    int32_t best = -1;
    float top = -std::numeric_limits<float>::infinity();
    for (size_t l = 0; l < kLanes; ++l)
        if (index[l] >= 0 && (best < 0 || value[l] > top || (value[l] == top && index[l] < best))) {
            best = index[l];
            top = value[l];
        }
    return best < 0 ? 0 : best;  // every logit NaN or -inf: the first
}

int32_t Sampler::sample(std::span<const float> logits) {
    ADAMAS_ASSERT(!logits.empty());
    if (options_.temperature <= 0.0f) return argmax(logits);
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
