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
constexpr int64_t kPrefetchBytes = 8192;

// Stores the group's valid rows: the last group of a matrix may be partly padding.
HWY_INLINE void StoreRows(const float* acc, int64_t first_row, int64_t rows, float* y) {
    const int64_t valid = std::min<int64_t>(kGroup, rows - first_row);
    std::memcpy(y + first_row, acc, size_t(valid) * sizeof(float));
}

#if HWY_TARGET == HWY_AVX3_DL

// Highway 1.0's AVX3_DL target string names "avxvnni" rather than "avx512vnni", although its runtime
// check requires AVX-512 VNNI; the kernels ask for it themselves.
#define ADAMAS_VNNI __attribute__((target("avx512vnni")))

// kGroups consecutive groups at once: each block's 8 activation words are broadcast once for all of
// them, and their accumulators are independent chains. The format is a template parameter so the
// block loop has no branches. Codes of Q4: low nibbles ∧ 0x0f, high nibbles ∧ 0xf0 (16× their value;
// that sum is divided back exactly with one shift per block instead of one per word).
template <bool kQ8, bool kQ4_1, int kGroups>
ADAMAS_VNNI HWY_INLINE void Groups(const PackedMatrix& m, const QuantizedVector& x, int64_t g0, float* y) {
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    const auto* xq = reinterpret_cast<const int32_t*>(x.q.data());  // 4 codes per word
    const uint8_t* p[kGroups];
    const uint8_t* sp[kGroups];
    __m512 acc[kGroups];
    for (int i = 0; i < kGroups; ++i) {
        p[i] = m.codes(g0 + i);
        sp[i] = m.scales(g0 + i);
        acc[i] = _mm512_setzero_ps();
    }
    constexpr int kWords = kQ8 ? 8 : 4;
    for (int64_t b = 0; b < m.blocks; ++b) {
        // One core's hardware prefetch alone streams only ~15 GB/s here: ask for the lines
        // kPrefetchBytes ahead of the codes (and the matching distance of scales).
        for (int i = 0; i < kGroups; ++i) {
            for (int line = 0; line < kWords * 64; line += 64)
                _mm_prefetch(reinterpret_cast<const char*>(p[i] + kPrefetchBytes + line), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(sp[i] + kPrefetchBytes / 4), _MM_HINT_T0);
        }
        __m512i words[8];
        for (int j = 0; j < 8; ++j)
            words[j] = _mm512_set1_epi32(xq[b * 8 + j]);
        const __m512 dx = _mm512_set1_ps(x.d[size_t(b)]);
        for (int i = 0; i < kGroups; ++i) {
            __m512i dot;
            if constexpr (kQ8) {
                __m512i d0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_load_si512(p[i]), words[0]);
                __m512i d1 =
                    _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_load_si512(p[i] + 64), words[1]);
                for (int j = 2; j < 8; j += 2) {
                    d0 = _mm512_dpbusd_epi32(d0, _mm512_load_si512(p[i] + 64 * j), words[j]);
                    d1 = _mm512_dpbusd_epi32(d1, _mm512_load_si512(p[i] + 64 * (j + 1)), words[j + 1]);
                }
                // Codes were stored + 128 (unsigned): take 128 · Σ q_x back out.
                dot = _mm512_sub_epi32(_mm512_add_epi32(d0, d1), _mm512_set1_epi32(128 * x.sum[size_t(b)]));
            } else {
                __m512i lo = _mm512_setzero_si512(), hi16 = _mm512_setzero_si512();
                for (int j = 0; j < 4; ++j) {
                    const __m512i codes = _mm512_load_si512(p[i] + 64 * j);
                    lo = _mm512_dpbusd_epi32(lo, _mm512_and_si512(codes, low4), words[j]);
                    hi16 = _mm512_dpbusd_epi32(hi16, _mm512_andnot_si512(low4, codes), words[4 + j]);
                }
                dot = _mm512_add_epi32(lo, _mm512_srai_epi32(hi16, 4));
            }
            const __m512 d = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(sp[i])));
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(d, dx), acc[i]);
            if constexpr (!kQ8) {
                const __m512 offset =
                    _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(sp[i] + 2 * kGroup)));
                const float s = kQ4_1 ? x.d_sum[size_t(b)] : x.d[size_t(b)] * float(x.sum[size_t(b)]);
                acc[i] = _mm512_fmadd_ps(offset, _mm512_set1_ps(s), acc[i]);
            }
            p[i] += m.code_bytes;
            sp[i] += m.scale_bytes;
        }
    }
    for (int i = 0; i < kGroups; ++i) {
        alignas(64) float out[kGroup];
        _mm512_store_ps(out, acc[i]);
        StoreRows(out, (g0 + i) * kGroup, m.rows, y);
    }
}

template <bool kQ8, bool kQ4_1>
ADAMAS_VNNI void GroupRange(const PackedMatrix& m, const QuantizedVector& x, int64_t group_begin,
                            int64_t group_end, float* y) {
    int64_t g = group_begin;
    for (; g + 2 <= group_end; g += 2)
        Groups<kQ8, kQ4_1, 2>(m, x, g, y);
    if (g < group_end) Groups<kQ8, kQ4_1, 1>(m, x, g, y);
}

void PackedMatvecImpl(const PackedMatrix& m, const QuantizedVector& x, int64_t group_begin, int64_t group_end,
                      float* y) {
    if (m.type == GgmlType::q8_0) return GroupRange<true, false>(m, x, group_begin, group_end, y);
    if (m.type == GgmlType::q4_1) return GroupRange<false, true>(m, x, group_begin, group_end, y);
    return GroupRange<false, false>(m, x, group_begin, group_end, y);
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
