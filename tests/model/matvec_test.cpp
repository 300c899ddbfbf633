// Matrix-vector products on block-format weights: the fast path against the reference (dequantize,
// dot in double) for every supported type, on random blocks with finite scales.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "adamas/dtype.h"
#include "adamas/matvec.h"
#include "test_util.h"

namespace adamas {
namespace {

// Random rows of `type`; the f16 scale fields (at these byte offsets of each block) get finite values.
std::vector<uint8_t> random_rows(GgmlType type, int64_t rows, int64_t cols, uint64_t seed) {
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

TEST(Matvec, FastMatchesReference) {
    for (GgmlType type : {GgmlType::f32, GgmlType::f16, GgmlType::bf16, GgmlType::q4_0, GgmlType::q4_1,
                          GgmlType::q8_0, GgmlType::q4_k, GgmlType::q5_k, GgmlType::q6_k})
        for (int64_t cols : {256, 576, 1536}) {
            const auto format = *ggml_block(type);
            if (cols % format.elements) continue;
            const int64_t rows = 37;
            const auto weights = random_rows(type, rows, cols, test::seed_for({int(type), cols}));
            const auto x = test::random_floats(size_t(cols), test::seed_for({cols, 7}));
            std::vector<float> want(static_cast<size_t>(rows)), got(static_cast<size_t>(rows), -1.0f);
            matvec_reference(type, weights.data(), cols, x.data(), 0, rows, want.data());
            matvec(type, weights.data(), cols, x.data(), 0, rows, got.data());
            // Per row: an f32 dot of `cols` terms against a double one.
            for (int64_t r = 0; r < rows; ++r) {
                double scale = 0;
                std::vector<float> row(static_cast<size_t>(cols));
                dequantize_reference(type, weights.data() + r * row_bytes(type, cols), cols, row.data());
                for (int64_t c = 0; c < cols; ++c)
                    scale += std::fabs(double(row[size_t(c)]) * x[size_t(c)]);
                ASSERT_NEAR(got[size_t(r)], want[size_t(r)], 1e-5 * scale + 1e-6)
                    << ggml_type_name(type) << " cols=" << cols << " row " << r;
            }
            // A row range writes only its rows.
            std::vector<float> part(3, -7.0f);
            matvec(type, weights.data(), cols, x.data(), 5, 8, part.data());
            for (int i = 0; i < 3; ++i)
                ASSERT_NEAR(part[size_t(i)], want[size_t(5 + i)],
                            1e-3 + 1e-4 * std::fabs(want[size_t(5 + i)]));
        }
}

}  // namespace
}  // namespace adamas
