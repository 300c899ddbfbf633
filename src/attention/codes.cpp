// Scalar reference bucketizer/packer and the rotate-then-encode entry point.
#include "adamas/codes.h"

#include <cmath>

#include "adamas/error.h"
#include "adamas/hadamard.h"
#include "adamas/method.h"
#include "cpu/kernels.h"

namespace adamas {

namespace {
void check_sizes(size_t d, size_t words) {
    check_head_dim(int64_t(d), "codes");
    ADAMAS_ASSERT(words == d / 8);
}
}  // namespace

void encode_codes_reference(std::span<const float> rotated, float tau, std::span<uint16_t> out) {
    check_sizes(rotated.size(), out.size());
    for (auto& w : out)
        w = 0;
    for (size_t i = 0; i < rotated.size(); ++i) {
        const float x = rotated[i];
        const int code = int(x > -tau) + int(x > 0.0f) + int(x > tau);
        out[i / 8] = uint16_t(out[i / 8] | (code << (2 * (i % 8))));
    }
}

void encode_codes(std::span<const float> rotated, float tau, std::span<uint16_t> out) {
    check_sizes(rotated.size(), out.size());
    cpu::encode_codes(rotated.data(), int(rotated.size()), tau, out.data());
}

void encode_codes3(std::span<const float> rotated, float tau, std::span<uint16_t> out) {
    check_head_dim(int64_t(rotated.size()), "codes");
    ADAMAS_ASSERT(out.size() == size_t(code_words(int(rotated.size()), 3)));
    for (auto& w : out)
        w = 0;
    // Written as 16-bit quarters of each 64-bit plane: the same bytes on little-endian hosts, and no
    // unaligned 64-bit stores.
    for (size_t i = 0; i < rotated.size(); ++i) {
        const float x = rotated[i];
        int code = 0;  // NaN compares false everywhere: code 0
        for (int j = -3; j <= 3; ++j)
            code += int(x > float(j) * tau);
        uint16_t* chunk = out.data() + 12 * (i / 64);
        for (int p = 0; p < 3; ++p)
            if ((code >> p) & 1) chunk[4 * p + (i % 64) / 16] |= uint16_t(1u << (i % 16));
    }
}

void rotate_encode(std::span<const float> x, float tau, std::span<uint16_t> out) {
    rotate_encode(x, CodeThreshold{tau, TauMode::fixed, 2}, out);
}

float CodeThreshold::for_vector(std::span<const float> x) const {
    if (mode == TauMode::fixed) return tau;
    double sum = 0;
    for (float v : x)
        sum += double(v) * v;
    return tau * float(std::sqrt(sum / double(x.size())));
}

void rotate_encode(std::span<const float> x, const CodeThreshold& threshold, std::span<uint16_t> out) {
    check_head_dim(int64_t(x.size()), "codes");
    ADAMAS_ASSERT(out.size() == size_t(code_words(int(x.size()), threshold.bits)));
    alignas(64) float rotated[256];
    std::copy(x.begin(), x.end(), rotated);
    cpu::hadamard(rotated, int(x.size()));
    if (threshold.bits == 3)
        encode_codes3({rotated, x.size()}, threshold.for_vector(x), out);
    else
        cpu::encode_codes(rotated, int(x.size()), threshold.for_vector(x), out.data());
}

}  // namespace adamas
