// Vectorized bucketize + pack: three compares give the 2-bit code per lane; codes are narrowed to
// bytes and four bytes are packed into one by a multiply that moves byte k's two bits to bits 24+2k.
// foreach_target must come first, then the ops headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "cpu/codes_hwy.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
// clang-format on

#include <cstring>

#include "adamas/error.h"
#include "cpu/kernels.h"

HWY_BEFORE_NAMESPACE();
namespace adamas::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void EncodeCodesImpl(const float* x, int d, float tau, uint16_t* out) {
    const hn::ScalableTag<float> df;
    const hn::RebindToSigned<decltype(df)> di;
    const int lanes = int(hn::Lanes(df));
    ADAMAS_ASSERT(d % lanes == 0);
    HWY_ALIGN uint8_t bytes[256];  // one code per byte
    const auto neg_tau = hn::Set(df, -tau), pos_tau = hn::Set(df, tau), zero = hn::Zero(df);
    const auto one = hn::Set(di, 1);
    for (int i = 0; i < d; i += lanes) {
        const auto v = hn::LoadU(df, x + i);
        // NaN compares false everywhere: code 0.
        auto code = hn::IfThenElseZero(hn::RebindMask(di, hn::Gt(v, neg_tau)), one);
        code = hn::Add(code, hn::IfThenElseZero(hn::RebindMask(di, hn::Gt(v, zero)), one));
        code = hn::Add(code, hn::IfThenElseZero(hn::RebindMask(di, hn::Gt(v, pos_tau)), one));
        const hn::Rebind<uint8_t, decltype(di)> du8;
        hn::StoreU(hn::DemoteTo(du8, code), du8, bytes + i);
    }
    // (b0 + b1·2^8 + b2·2^16 + b3·2^24) · (2^24 + 2^18 + 2^12 + 2^6): bits 24..31 hold
    // b0 | b1<<2 | b2<<4 | b3<<6, and the lower partial products (< 2^24) never carry into them.
    auto* packed = reinterpret_cast<uint8_t*>(out);
    for (int i = 0; i < d; i += 4) {
        uint32_t quad;
        std::memcpy(&quad, bytes + i, 4);
        packed[i / 4] = uint8_t((quad * 0x01041040u) >> 24);
    }
}

}  // namespace adamas::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace adamas::cpu {
HWY_EXPORT(EncodeCodesImpl);
// Little-endian: byte 2j is the low half of 16-bit word j, so the byte stream is the §2.3 layout.
void encode_codes(const float* rotated, int d, float tau, uint16_t* out) {
    HWY_DYNAMIC_DISPATCH(EncodeCodesImpl)(rotated, d, tau, out);
}
}  // namespace adamas::cpu
#endif
