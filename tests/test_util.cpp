// Shared helpers of the unit tests.
#include "test_util.h"

#include <cmath>
#include <limits>

namespace adamas::test {

uint64_t seed_for(std::initializer_list<int64_t> parts) {
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (int64_t p : parts)
        h = (h ^ uint64_t(p)) * 0x100000001b3ull + 0x7f4a7c15ull;
    return h;
}

std::vector<float> random_floats(size_t count, uint64_t seed, float scale) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, scale);
    std::vector<float> out(count);
    for (auto& x : out)
        x = normal(rng);
    return out;
}

std::vector<uint16_t> random_words(size_t count, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<uint16_t> out(count);
    for (auto& x : out)
        x = uint16_t(rng());
    return out;
}

double relative_error(const float* got, const double* want, size_t count) {
    double num = 0, den = 0;
    for (size_t i = 0; i < count; ++i) {
        if (std::isnan(got[i])) return std::numeric_limits<double>::infinity();
        num += (double(got[i]) - want[i]) * (double(got[i]) - want[i]);
        den += want[i] * want[i];
    }
    return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
}

double relative_error(const float* got, const float* want, size_t count) {
    std::vector<double> w(want, want + count);
    return relative_error(got, w.data(), count);
}

}  // namespace adamas::test
