// The packed integer matrix-vector kernel (layout in include/adamas/packed_matvec.h). On AVX-512 VNNI
// (Highway's AVX3_DL target) each 64-byte word of codes meets one broadcast 4-byte word of activation
// codes in a VPDPBUSD: 16 rows × 4 products per instruction, lanes = rows, so a group's 16 outputs need
// no horizontal sum. Other targets run the same arithmetic as plain loops over the packed layout (the
// compiler vectorizes them); Highway 1.0 has no portable u8 × i8 dot product to build them from.
// foreach_target must come first, then the ops headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "cpu/packed_matvec_hwy.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
// clang-format on

#include <algorithm>
#include <cmath>
#include <cstring>

#include "adamas/dtype.h"
#include "adamas/error.h"
#include "adamas/packed_matvec.h"

#if HWY_TARGET == HWY_AVX3_DL
#include <immintrin.h>
#endif

HWY_BEFORE_NAMESPACE();
namespace adamas::cpu::HWY_NAMESPACE {

constexpr int kGroup = PackedMatrix::kGroupRows;
constexpr int64_t kPrefetchBytes = 16384;

// Stores the group's valid rows: the last group of a matrix may be partly padding.
HWY_INLINE void StoreRows(const float* acc, int64_t first_row, int64_t rows, float* y) {
    const int64_t valid = std::min<int64_t>(kGroup, rows - first_row);
    std::memcpy(y + first_row, acc, size_t(valid) * sizeof(float));
}

#if HWY_TARGET == HWY_AVX3_DL

// Highway 1.0's AVX3_DL target string names "avxvnni" rather than "avx512vnni", although its runtime
// check requires AVX-512 VNNI; the kernel asks for it itself.
__attribute__((target("avx512vnni"))) void PackedMatvecImpl(const PackedMatrix& m, const QuantizedVector& x,
                                                            int64_t group_begin, int64_t group_end,
                                                            float* y) {
    const bool q8 = m.type == GgmlType::q8_0, q4_1 = m.type == GgmlType::q4_1;
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    const auto* xq = reinterpret_cast<const int32_t*>(x.q.data());  // 4 codes per word
    for (int64_t g = group_begin; g < group_end; ++g) {
        const uint8_t* p = m.codes(g);
        const uint8_t* sp = m.scales(g);
        __m512 acc = _mm512_setzero_ps();
        for (int64_t b = 0; b < m.blocks; ++b, p += m.code_bytes, sp += m.scale_bytes) {
            // One core's hardware prefetch alone streams only ~15 GB/s here: ask for the lines
            // kPrefetchBytes ahead of the codes (and the matching distance of scales).
            for (int64_t line = 0; line < m.code_bytes; line += 64)
                _mm_prefetch(reinterpret_cast<const char*>(p + kPrefetchBytes + line), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(sp + kPrefetchBytes / 4), _MM_HINT_T0);
            const int32_t* xb = xq + b * 8;
            __m512i dot0, dot1;
            __m256i scale_bits;
            if (q8) {
                dot0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_load_si512(p),
                                           _mm512_set1_epi32(xb[0]));
                dot1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_load_si512(p + 64),
                                           _mm512_set1_epi32(xb[1]));
                for (int j = 2; j < 8; j += 2) {
                    dot0 = _mm512_dpbusd_epi32(dot0, _mm512_load_si512(p + 64 * j), _mm512_set1_epi32(xb[j]));
                    dot1 = _mm512_dpbusd_epi32(dot1, _mm512_load_si512(p + 64 * (j + 1)),
                                               _mm512_set1_epi32(xb[j + 1]));
                }
                // Codes were stored + 128 (unsigned): take 128 · Σ q_x back out.
                dot0 =
                    _mm512_sub_epi32(_mm512_add_epi32(dot0, dot1), _mm512_set1_epi32(128 * x.sum[size_t(b)]));
                scale_bits = _mm256_load_si256(reinterpret_cast<const __m256i*>(sp));
            } else {
                dot0 = _mm512_setzero_si512();
                dot1 = _mm512_setzero_si512();
                for (int j = 0; j < 4; ++j) {
                    const __m512i codes = _mm512_load_si512(p + 64 * j);
                    dot0 = _mm512_dpbusd_epi32(dot0, _mm512_and_si512(codes, low4), _mm512_set1_epi32(xb[j]));
                    dot1 = _mm512_dpbusd_epi32(dot1, _mm512_and_si512(_mm512_srli_epi16(codes, 4), low4),
                                               _mm512_set1_epi32(xb[4 + j]));
                }
                dot0 = _mm512_add_epi32(dot0, dot1);
                scale_bits = _mm256_load_si256(reinterpret_cast<const __m256i*>(sp));
            }
            const __m512 scale = _mm512_mul_ps(_mm512_cvtph_ps(scale_bits), _mm512_set1_ps(x.d[size_t(b)]));
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot0), scale, acc);
            if (!q8) {
                const __m512 offset =
                    _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(sp + 2 * kGroup)));
                const float s = q4_1 ? x.d_sum[size_t(b)] : x.d[size_t(b)] * float(x.sum[size_t(b)]);
                acc = _mm512_fmadd_ps(offset, _mm512_set1_ps(s), acc);
            }
        }
        alignas(64) float out[kGroup];
        _mm512_store_ps(out, acc);
        StoreRows(out, g * kGroup, m.rows, y);
    }
}

#else

void PackedMatvecImpl(const PackedMatrix& m, const QuantizedVector& x, int64_t group_begin, int64_t group_end,
                      float* y) {
    const bool q8 = m.type == GgmlType::q8_0, q4_1 = m.type == GgmlType::q4_1;
    const int words = q8 ? 8 : 4;
    for (int64_t g = group_begin; g < group_end; ++g) {
        const uint8_t* p = m.codes(g);
        const uint8_t* scales = m.scales(g);
        float acc[kGroup] = {};
        for (int64_t b = 0; b < m.blocks; ++b, p += m.code_bytes, scales += m.scale_bytes) {
            const int8_t* q = x.q.data() + b * 32;
            int32_t dot[kGroup] = {};
            for (int j = 0; j < words; ++j)
                for (int r = 0; r < kGroup; ++r)
                    for (int i = 0; i < 4; ++i) {
                        const int32_t code = p[j * 64 + r * 4 + i];
                        if (q8) {
                            dot[r] += code * q[4 * j + i];
                        } else {
                            dot[r] += (code & 15) * q[4 * j + i] + (code >> 4) * q[16 + 4 * j + i];
                        }
                    }
            const float s = q4_1 ? x.d_sum[size_t(b)] : x.d[size_t(b)] * float(x.sum[size_t(b)]);
            for (int r = 0; r < kGroup; ++r) {
                uint16_t bits;
                std::memcpy(&bits, scales + 2 * r, 2);
                if (q8) dot[r] -= 128 * x.sum[size_t(b)];
                acc[r] = std::fma(float(dot[r]), f16_to_f32(bits) * x.d[size_t(b)], acc[r]);
                if (!q8) {
                    std::memcpy(&bits, scales + 2 * kGroup + 2 * r, 2);
                    acc[r] = std::fma(f16_to_f32(bits), s, acc[r]);
                }
            }
        }
        StoreRows(acc, g * kGroup, m.rows, y);
    }
}

#endif

}  // namespace adamas::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace adamas {
namespace cpu {
HWY_EXPORT(PackedMatvecImpl);
}  // namespace cpu

void packed_matvec(const PackedMatrix& m, const QuantizedVector& x, int64_t group_begin, int64_t group_end,
                   float* y) {
    ADAMAS_ASSERT(x.cols == m.cols && group_begin >= 0 && group_end <= m.groups());
    HWY_DYNAMIC_DISPATCH(cpu::PackedMatvecImpl)(m, x, group_begin, group_end, y);
}
}  // namespace adamas
#endif
