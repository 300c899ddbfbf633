// Shared helpers of the unit tests: seeded random inputs (the seed is printed on failure) and
// float comparisons against double references.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace adamas::test {

// A deterministic seed derived from the test's parameters.
uint64_t seed_for(std::initializer_list<int64_t> parts);

std::vector<float> random_floats(size_t count, uint64_t seed, float scale = 1.0f);
std::vector<uint16_t> random_words(size_t count, uint64_t seed);

// ||got - want|| / ||want|| in double; NaN in got yields +inf so it never passes.
double relative_error(const float* got, const double* want, size_t count);
double relative_error(const float* got, const float* want, size_t count);

}  // namespace adamas::test
