// 2-bit bucket codes of rotated vectors (§2.2–2.3): c = [x > -tau] + [x > 0] + [x > tau], packed
// eight dims per 16-bit word, dim 8j+i at bits 2i..2i+1 of word j. NaN coordinates get code 0.
#pragma once
#include <cstdint>
#include <span>

#include "adamas/method.h"

namespace adamas {

// `rotated` holds d already-rotated coordinates; `out` receives d/8 words.
void encode_codes_reference(std::span<const float> rotated, float tau, std::span<uint16_t> out);
void encode_codes(std::span<const float> rotated, float tau, std::span<uint16_t> out);

// Hadamard-rotates a copy of `x` (d = x.size()) and encodes it: what the cache stores for a key and
// what a decode step computes for a query.
void rotate_encode(std::span<const float> x, float tau, std::span<uint16_t> out);

// A vector's threshold: τ itself (TauMode::fixed) or τ·rms of the vector (TauMode::relative).
struct CodeThreshold {
    float tau = 10.0f;
    TauMode mode = TauMode::fixed;
    // The threshold for one vector (rotation keeps the norm, so x or x̂ alike).
    float for_vector(std::span<const float> x) const;
};
void rotate_encode(std::span<const float> x, const CodeThreshold& threshold, std::span<uint16_t> out);

// Unpacks dim i of a packed row (tests and tools).
inline int code_at(const uint16_t* row, int i) {
    return (row[i / 8] >> (2 * (i % 8))) & 3;
}

}  // namespace adamas
