// Random weight rows in a block format, with finite f16 scales: inputs of the matrix-vector tests.
#pragma once
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "adamas/dtype.h"
#include "adamas/matvec.h"

namespace adamas::test {

// Random rows of `type`; the f16 scale fields (at these byte offsets of each block) get finite values.
inline std::vector<uint8_t> random_rows(GgmlType type, int64_t rows, int64_t cols, uint64_t seed) {
    const auto format = *ggml_block(type);
    std::vector<uint8_t> out(size_t(rows * row_bytes(type, cols)));
    std::mt19937_64 rng(seed);
    for (auto& b : out)
        b = uint8_t(rng());
    std::vector<int> scale_offsets;
    switch (type) {
        case GgmlType::q4_0:
        case GgmlType::q8_0:
            scale_offsets = {0};
            break;
        case GgmlType::q4_1:
        case GgmlType::q4_k:
        case GgmlType::q5_k:
            scale_offsets = {0, 2};
            break;
        case GgmlType::q6_k:
            scale_offsets = {208};
            break;
        default:
            break;
    }
    std::uniform_real_distribution<float> scale(-0.5f, 0.5f);
    std::normal_distribution<float> value(0.0f, 1.0f);
    for (size_t block = 0; block < out.size() / size_t(format.bytes); ++block) {
        uint8_t* p = out.data() + block * size_t(format.bytes);
        for (int off : scale_offsets) {
            const uint16_t h = f32_to_f16(scale(rng));
            std::memcpy(p + off, &h, 2);
        }
        if (type == GgmlType::f32) {
            const float v = value(rng);
            std::memcpy(p, &v, 4);
        } else if (type == GgmlType::f16 || type == GgmlType::bf16) {
            const uint16_t h = type == GgmlType::f16 ? f32_to_f16(value(rng)) : f32_to_bf16(value(rng));
            std::memcpy(p, &h, 2);
        }
    }
    return out;
}

}  // namespace adamas::test
