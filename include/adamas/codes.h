// 2-bit bucket codes of rotated vectors (§2.2–2.3): c = [x > -tau] + [x > 0] + [x > tau], packed
// eight dims per 16-bit word, dim 8j+i at bits 2i..2i+1 of word j. NaN coordinates get code 0.
// The 3-bit experiment: c = Σ_{j=-3..3} [x > j·tau] (eight buckets, tau apart), stored as bit planes:
// dims 64c..64c+63 take three 64-bit words, bit i of word p being bit p of dim 64c+i's code, so a
// distance kernel gets whole bit planes (method.h code_words).
#pragma once
#include <cstdint>
#include <span>

#include "adamas/method.h"

namespace adamas {

// `rotated` holds d already-rotated coordinates; `out` receives d/8 words.
void encode_codes_reference(std::span<const float> rotated, float tau, std::span<uint16_t> out);
void encode_codes(std::span<const float> rotated, float tau, std::span<uint16_t> out);
// 3-bit codes with thresholds tau apart; `out` receives code_words(d, 3) words.
void encode_codes3(std::span<const float> rotated, float tau, std::span<uint16_t> out);

// Hadamard-rotates a copy of `x` (d = x.size()) and encodes it: what the cache stores for a key and
// what a decode step computes for a query.
void rotate_encode(std::span<const float> x, float tau, std::span<uint16_t> out);

// A vector's threshold: τ itself (TauMode::fixed) or τ·rms of the vector (TauMode::relative, and
// TauMode::calibrated for a vector on its own); and the bits per coordinate of its code (2, or 3 with
// thresholds τ apart).
struct CodeThreshold {
    float tau = 10.0f;
    TauMode mode = TauMode::fixed;
    int bits = 2;
    // The threshold for one vector (rotation keeps the norm, so x or x̂ alike).
    float for_vector(std::span<const float> x) const;
};
void rotate_encode(std::span<const float> x, const CodeThreshold& threshold, std::span<uint16_t> out);

// Unpacks dim i of a packed row (tests and tools).
inline int code_at(const uint16_t* row, int i, int bits = 2) {
    if (bits == 3) {
        const uint16_t* chunk = row + 12 * (i / 64);
        int code = 0;
        for (int p = 0; p < 3; ++p)
            code |= ((chunk[4 * p + (i % 64) / 16] >> (i % 16)) & 1) << p;
        return code;
    }
    return (row[i / 8] >> (2 * (i % 8))) & 3;
}

}  // namespace adamas
