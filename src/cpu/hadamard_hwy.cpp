// Vectorized fast Walsh–Hadamard transform: butterflies across vectors for strides >= the lane count,
// and lane permutations (y = ±x + x[i ^ h]) for the strides inside one vector.
// foreach_target must come first, then the ops headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "cpu/hadamard_hwy.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
// clang-format on

#include <cmath>

#include "adamas/error.h"
#include "cpu/kernels.h"

HWY_BEFORE_NAMESPACE();
namespace adamas::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void HadamardImpl(float* x, int d) {
    const hn::ScalableTag<float> df;
    const int lanes = int(hn::Lanes(df));
    ADAMAS_ASSERT(lanes <= 64 && d % lanes == 0);
    // In-vector stages: lane i pairs with lane i ^ h; the lower lane adds, the upper subtracts.
    for (int h = 1; h < lanes; h *= 2) {
        HWY_ALIGN int32_t perm[64];
        HWY_ALIGN float sign[64];
        for (int i = 0; i < lanes; ++i) {
            perm[i] = i ^ h;
            sign[i] = (i & h) ? -1.0f : 1.0f;
        }
        const auto indices = hn::SetTableIndices(df, perm);
        const auto signs = hn::Load(df, sign);
        for (int i = 0; i < d; i += lanes) {
            const auto v = hn::LoadU(df, x + i);
            hn::StoreU(hn::MulAdd(v, signs, hn::TableLookupLanes(v, indices)), df, x + i);
        }
    }
    // Cross-vector stages.
    for (int h = lanes; h < d; h *= 2)
        for (int i = 0; i < d; i += 2 * h)
            for (int j = i; j < i + h; j += lanes) {
                const auto a = hn::LoadU(df, x + j), b = hn::LoadU(df, x + j + h);
                hn::StoreU(hn::Add(a, b), df, x + j);
                hn::StoreU(hn::Sub(a, b), df, x + j + h);
            }
    const auto scale = hn::Set(df, 1.0f / std::sqrt(float(d)));
    for (int i = 0; i < d; i += lanes)
        hn::StoreU(hn::Mul(hn::LoadU(df, x + i), scale), df, x + i);
}

}  // namespace adamas::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace adamas::cpu {
HWY_EXPORT(HadamardImpl);

void hadamard(float* x, int d) {
    HWY_DYNAMIC_DISPATCH(HadamardImpl)(x, d);
}

const char* simd_target_name() {
    const int64_t usable = hwy::SupportedTargets() & HWY_TARGETS;
    return hwy::TargetName(usable & -usable);  // lower bits are the better targets
}
}  // namespace adamas::cpu
#endif
