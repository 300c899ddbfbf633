// Vectorized conversion of rows between f32 and the K/V storage types (f16, bf16), round to nearest
// even like the scalar conversions in src/core/dtype.cpp, which remain the reference.
// foreach_target must come first, then the ops headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "cpu/convert_hwy.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
// clang-format on

#include <cstring>

#include "cpu/kernels.h"

HWY_BEFORE_NAMESPACE();
namespace adamas::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void StoreRowImpl(const float* src, int64_t count, DType type, void* dst) {
    const hn::ScalableTag<float> df;
    const int64_t lanes = int64_t(hn::Lanes(df));
    int64_t i = 0;
    if (type == DType::f32) {
        std::memcpy(dst, src, size_t(count) * 4);
        return;
    }
    if (type == DType::f16) {
        const hn::Rebind<hwy::float16_t, decltype(df)> dh;
        auto* out = static_cast<hwy::float16_t*>(dst);
        for (; i + lanes <= count; i += lanes)
            hn::StoreU(hn::DemoteTo(dh, hn::LoadU(df, src + i)), dh, out + i);
        for (; i < count; ++i)
            static_cast<uint16_t*>(dst)[i] = f32_to_f16(src[i]);
        return;
    }
    // bf16: Highway 1.0's DemoteTo truncates on some targets, so round to nearest even here by hand.
    const hn::RebindToUnsigned<decltype(df)> du;
    const hn::Rebind<uint16_t, decltype(du)> du16;
    auto* out = static_cast<uint16_t*>(dst);
    const auto one = hn::Set(du, 1u), bias = hn::Set(du, 0x7fffu);
    for (; i + lanes <= count; i += lanes) {
        const auto v = hn::LoadU(df, src + i);
        const auto bits = hn::BitCast(du, v);
        const auto rounded =
            hn::ShiftRight<16>(hn::Add(bits, hn::Add(bias, hn::And(hn::ShiftRight<16>(bits), one))));
        // NaN stays a quiet NaN: keep the top half and set the quiet bit.
        const auto nan = hn::Or(hn::ShiftRight<16>(bits), hn::Set(du, 0x40u));
        const auto result = hn::IfThenElse(hn::RebindMask(du, hn::Ne(v, v)), nan, rounded);
        hn::StoreU(hn::DemoteTo(du16, hn::BitCast(hn::RebindToSigned<decltype(du)>(), result)), du16,
                   out + i);
    }
    for (; i < count; ++i)
        out[i] = f32_to_bf16(src[i]);
}

void LoadRowImpl(const void* src, DType type, int64_t count, float* dst) {
    const hn::ScalableTag<float> df;
    const int64_t lanes = int64_t(hn::Lanes(df));
    int64_t i = 0;
    if (type == DType::f32) {
        std::memcpy(dst, src, size_t(count) * 4);
        return;
    }
    if (type == DType::f16) {
        const hn::Rebind<hwy::float16_t, decltype(df)> dh;
        const auto* in = static_cast<const hwy::float16_t*>(src);
        for (; i + lanes <= count; i += lanes)
            hn::StoreU(hn::PromoteTo(df, hn::LoadU(dh, in + i)), df, dst + i);
        for (; i < count; ++i)
            dst[i] = f16_to_f32(static_cast<const uint16_t*>(src)[i]);
        return;
    }
    const hn::Rebind<hwy::bfloat16_t, decltype(df)> db;
    const auto* in = static_cast<const hwy::bfloat16_t*>(src);
    for (; i + lanes <= count; i += lanes)
        hn::StoreU(hn::PromoteTo(df, hn::LoadU(db, in + i)), df, dst + i);
    for (; i < count; ++i)
        dst[i] = bf16_to_f32(static_cast<const uint16_t*>(src)[i]);
}

}  // namespace adamas::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace adamas::cpu {
HWY_EXPORT(StoreRowImpl);
HWY_EXPORT(LoadRowImpl);
void store_row(const float* src, int64_t count, DType type, void* dst) {
    HWY_DYNAMIC_DISPATCH(StoreRowImpl)(src, count, type, dst);
}
void load_row(const void* src, DType type, int64_t count, float* dst) {
    HWY_DYNAMIC_DISPATCH(LoadRowImpl)(src, type, count, dst);
}
}  // namespace adamas::cpu
#endif
