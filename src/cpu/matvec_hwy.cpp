// Vectorized matrix-vector products on block-format weights. Q8_0 and Q4_1 (the default model's
// types), F32, F16 and BF16 (Hugging Face weights) dot their blocks in registers: per block a partial dot of
// the integer codes with x, scaled once by the block's d (plus m · Σx for Q4_1). Other types dequantize one
// row with the reference and dot it, correct but not yet fast. foreach_target must come first, then the ops
// headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "cpu/matvec_hwy.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
// clang-format on

#include <cstring>
#include <vector>

#include "adamas/dtype.h"
#include "adamas/error.h"
#include "adamas/matvec.h"

HWY_BEFORE_NAMESPACE();
namespace adamas::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// A block's f16 scale. _Float16 compiles to one F16C conversion inside the AVX2/AVX-512 targets (the
// software conversion cost more than the block's arithmetic). Compilers without _Float16 on x86 (clang
// before 15, used for the fuzz build) take the software one.
HWY_INLINE float Half(const uint8_t* p) {
#ifdef __FLT16_MANT_DIG__
    _Float16 h;
    std::memcpy(&h, p, 2);
    return float(h);
#else
    uint16_t bits;
    std::memcpy(&bits, p, 2);
    return f16_to_f32(bits);
#endif
}

float DotQ8_0(const uint8_t* row, int64_t blocks, const float* x) {
    const DF df;
    const hn::RebindToSigned<DF> di;
    const hn::Rebind<int8_t, DF> d8;
    const int lanes = int(hn::Lanes(df));
    VF acc = hn::Zero(df);
    for (int64_t b = 0; b < blocks; ++b, row += 34, x += 32) {
        VF partial = hn::Zero(df);
        for (int j = 0; j < 32; j += lanes) {
            const auto q = hn::ConvertTo(
                df, hn::PromoteTo(di, hn::LoadU(d8, reinterpret_cast<const int8_t*>(row + 2 + j))));
            partial = hn::MulAdd(q, hn::LoadU(df, x + j), partial);
        }
        acc = hn::MulAdd(hn::Set(df, Half(row)), partial, acc);
    }
    return hn::GetLane(hn::SumOfLanes(df, acc));
}

// block_sums[b] = Σ x over block b, computed once per call: Q4_1's offset term is m_b · block_sums[b].
float DotQ4_1(const uint8_t* row, int64_t blocks, const float* x, const float* block_sums) {
    const DF df;
    const hn::RebindToSigned<DF> di;
    const hn::Rebind<uint8_t, DF> d8;
    const int lanes = int(hn::Lanes(df));
    const auto low4 = hn::Set(di, 15);
    VF acc = hn::Zero(df);
    float offset = 0;
    for (int64_t b = 0; b < blocks; ++b, row += 20, x += 32) {
        VF partial = hn::Zero(df);
        for (int j = 0; j < 16; j += lanes) {
            // Byte j holds element j (low nibble) and element 16 + j (high nibble).
            const auto bytes = hn::PromoteTo(di, hn::LoadU(d8, row + 4 + j));
            const VF lo = hn::ConvertTo(df, hn::And(bytes, low4));
            const VF hi = hn::ConvertTo(df, hn::ShiftRight<4>(bytes));
            partial =
                hn::MulAdd(lo, hn::LoadU(df, x + j), hn::MulAdd(hi, hn::LoadU(df, x + 16 + j), partial));
        }
        acc = hn::MulAdd(hn::Set(df, Half(row)), partial, acc);
        offset += Half(row + 2) * block_sums[b];
    }
    return hn::GetLane(hn::SumOfLanes(df, acc)) + offset;
}

float DotF32(const float* row, int64_t cols, const float* x) {
    const DF df;
    const int64_t lanes = int64_t(hn::Lanes(df));
    VF acc = hn::Zero(df);
    int64_t c = 0;
    for (; c + lanes <= cols; c += lanes)
        acc = hn::MulAdd(hn::LoadU(df, row + c), hn::LoadU(df, x + c), acc);
    float sum = hn::GetLane(hn::SumOfLanes(df, acc));
    for (; c < cols; ++c)
        sum += row[c] * x[c];
    return sum;
}

float DotF16(const uint8_t* row, int64_t cols, const float* x) {
    const DF df;
    const hn::Rebind<hwy::float16_t, DF> dh;
    const int64_t lanes = int64_t(hn::Lanes(df));
    const auto* h = reinterpret_cast<const hwy::float16_t*>(row);
    VF acc = hn::Zero(df);
    int64_t c = 0;
    for (; c + lanes <= cols; c += lanes)
        acc = hn::MulAdd(hn::PromoteTo(df, hn::LoadU(dh, h + c)), hn::LoadU(df, x + c), acc);
    float sum = hn::GetLane(hn::SumOfLanes(df, acc));
    for (; c < cols; ++c) {
        uint16_t bits;
        std::memcpy(&bits, row + 2 * c, 2);
        sum += f16_to_f32(bits) * x[c];
    }
    return sum;
}

// bf16 is the top half of an f32: widen to 32 bits and shift into place.
float DotBF16(const uint8_t* row, int64_t cols, const float* x) {
    const DF df;
    const hn::RebindToUnsigned<DF> du;
    const hn::Rebind<uint16_t, DF> d16;
    const int64_t lanes = int64_t(hn::Lanes(df));
    const auto* h = reinterpret_cast<const uint16_t*>(row);
    VF acc = hn::Zero(df);
    int64_t c = 0;
    for (; c + lanes <= cols; c += lanes) {
        const VF w = hn::BitCast(df, hn::ShiftLeft<16>(hn::PromoteTo(du, hn::LoadU(d16, h + c))));
        acc = hn::MulAdd(w, hn::LoadU(df, x + c), acc);
    }
    float sum = hn::GetLane(hn::SumOfLanes(df, acc));
    for (; c < cols; ++c) {
        uint16_t bits;
        std::memcpy(&bits, row + 2 * c, 2);
        sum += bf16_to_f32(bits) * x[c];
    }
    return sum;
}

void MatvecImpl(GgmlType type, const void* weights, int64_t cols, const float* x, int64_t row_begin,
                int64_t row_end, float* y) {
    const int64_t stride = row_bytes(type, cols);
    const auto* base = static_cast<const uint8_t*>(weights);
    std::vector<float> scratch, block_sums;
    if (type == GgmlType::q4_1) {
        block_sums.resize(size_t(cols / 32));
        for (int64_t b = 0; b < cols / 32; ++b) {
            float sum = 0;
            for (int j = 0; j < 32; ++j)
                sum += x[b * 32 + j];
            block_sums[size_t(b)] = sum;
        }
    }
    for (int64_t r = row_begin; r < row_end; ++r) {
        const uint8_t* row = base + r * stride;
        float& out = y[r - row_begin];
        switch (type) {
            case GgmlType::q8_0:
                out = DotQ8_0(row, cols / 32, x);
                break;
            case GgmlType::q4_1:
                out = DotQ4_1(row, cols / 32, x, block_sums.data());
                break;
            case GgmlType::f32:
                out = DotF32(reinterpret_cast<const float*>(row), cols, x);
                break;
            case GgmlType::f16:
                out = DotF16(row, cols, x);
                break;
            case GgmlType::bf16:
                out = DotBF16(row, cols, x);
                break;
            default:
                scratch.resize(size_t(cols));
                dequantize_reference(type, row, cols, scratch.data());
                out = DotF32(scratch.data(), cols, x);
                break;
        }
    }
}

}  // namespace adamas::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace adamas {
namespace cpu {
HWY_EXPORT(MatvecImpl);
}  // namespace cpu

void matvec(GgmlType type, const void* weights, int64_t cols, const float* x, int64_t row_begin,
            int64_t row_end, float* y) {
    HWY_DYNAMIC_DISPATCH(cpu::MatvecImpl)(type, weights, cols, x, row_begin, row_end, y);
}
}  // namespace adamas
#endif
