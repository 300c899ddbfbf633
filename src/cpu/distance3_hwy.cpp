// Vectorized L1 distances of 3-bit codes (codes.h: three 64-bit bit planes per 64 dims). A 64-bit lane
// holds one plane of one chunk, so |a − b| of 64 dims is computed bit-sliced: a borrow chain gives
// a − b mod 8 and its sign, a conditional two's complement turns that into |a − b| (at most 7, three
// planes e0..e2), and the chunk's distance is popc(e0) + 2·popc(e1) + 4·popc(e2).
// foreach_target must come first, then the ops headers.
// clang-format off
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "cpu/distance3_hwy.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
// clang-format on

#include <algorithm>
#include <cstring>
#include <vector>

#include "adamas/error.h"
#include "cpu/kernels.h"

HWY_BEFORE_NAMESPACE();
namespace adamas::cpu::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DU = hn::ScalableTag<uint64_t>;
using VU = hn::Vec<DU>;

// Σ over the 64 dims of |a − b|, per lane; a and b are the bit planes of one chunk.
HWY_INLINE VU ChunkDistance(VU a0, VU a1, VU a2, VU b0, VU b1, VU b2) {
    // a − b, bit-sliced: difference bits d0..d2 and borrows; the last borrow is the sign (a < b).
    const VU d0 = hn::Xor(a0, b0);
    const VU borrow0 = hn::AndNot(a0, b0);
    const VU x1 = hn::Xor(a1, b1);
    const VU d1 = hn::Xor(x1, borrow0);
    const VU borrow1 = hn::Or(hn::AndNot(a1, b1), hn::AndNot(x1, borrow0));
    const VU x2 = hn::Xor(a2, b2);
    const VU d2 = hn::Xor(x2, borrow1);
    const VU negative = hn::Or(hn::AndNot(a2, b2), hn::AndNot(x2, borrow1));
    // |a − b| = (d ^ negative) + negative: bit 0 stays d0, the carries run up through bits 1 and 2.
    const VU carry0 = hn::AndNot(d0, negative);
    const VU y1 = hn::Xor(d1, negative);
    const VU e1 = hn::Xor(y1, carry0);
    const VU e2 = hn::Xor(hn::Xor(d2, negative), hn::And(y1, carry0));
    return hn::Add(hn::PopulationCount(d0), hn::Add(hn::ShiftLeft<1>(hn::PopulationCount(e1)),
                                                    hn::ShiftLeft<2>(hn::PopulationCount(e2))));
}

void GroupDistances3Impl(const uint16_t* queries, int count, CodeRows keys, GqaMode mode, uint16_t* out,
                         int64_t out_stride) {
    const DU du;
    const int lanes = int(hn::Lanes(du));
    const int chunks = keys.words / 12;  // 64-dim chunks per row: 1, 2 or 4
    // A step covers whole vectors and whole rows: max(lanes, chunks) chunk triples (both powers of two).
    const int step = std::max(lanes, chunks);
    const int rows_per_step = step / chunks;
    // Per query, plane p of the chunk each lane of a step meets: pattern[(q * 3 + p) * step + lane].
    // Per-thread and reused: an estimate item must not allocate.
    static thread_local std::vector<uint64_t> pattern;
    static thread_local std::vector<uint64_t> dist;
    pattern.resize(size_t(count) * 3 * size_t(step));
    dist.resize(size_t(step));
    for (int q = 0; q < count; ++q)
        for (int p = 0; p < 3; ++p)
            for (int j = 0; j < step; ++j)
                std::memcpy(&pattern[size_t((q * 3 + p) * step + j)],
                            queries + int64_t(q) * keys.words + (j % chunks) * 12 + p * 4, 8);

    // Rows are 24·chunks bytes and the cache's blocks are page-aligned: 64-bit loads are aligned.
    const auto* base = reinterpret_cast<const uint64_t*>(keys.data);
    const int64_t full_steps = keys.tokens / rows_per_step;
    for (int64_t s = 0; s < full_steps; ++s) {
        const uint64_t* src = base + s * step * 3;
        const int64_t first_row = s * rows_per_step;
        for (int q = 0; q < count; ++q) {
            const uint64_t* pq = pattern.data() + size_t(q) * 3 * size_t(step);
            for (int m = 0; m < step; m += lanes) {
                VU a0, a1, a2;
                hn::LoadInterleaved3(du, src + 3 * m, a0, a1, a2);
                hn::StoreU(ChunkDistance(a0, a1, a2, hn::LoadU(du, pq + m), hn::LoadU(du, pq + step + m),
                                         hn::LoadU(du, pq + 2 * step + m)),
                           du, dist.data() + m);
            }
            for (int r = 0; r < rows_per_step; ++r) {
                uint64_t sum = 0;
                for (int c = 0; c < chunks; ++c)
                    sum += dist[size_t(r * chunks + c)];
                const auto value = uint16_t(sum);
                uint16_t& slot =
                    mode == GqaMode::per_head ? out[q * out_stride + first_row + r] : out[first_row + r];
                slot = mode == GqaMode::per_head || q == 0 ? value : std::min(slot, value);
            }
        }
    }
    // Tail rows: scalar.
    for (int64_t t = full_steps * rows_per_step; t < keys.tokens; ++t) {
        int best = 1 << 30;
        for (int q = 0; q < count; ++q) {
            const int d =
                code_distance(queries + int64_t(q) * keys.words, keys.row(t), keys.words, Metric::l1, 3);
            if (mode == GqaMode::per_head) out[q * out_stride + t] = uint16_t(d);
            best = std::min(best, d);
        }
        if (mode == GqaMode::shared) out[t] = uint16_t(best);
    }
}

}  // namespace adamas::cpu::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace adamas::cpu {
HWY_EXPORT(GroupDistances3Impl);
void group_distances3(const uint16_t* queries, int count, CodeRows keys, GqaMode mode, uint16_t* out,
                      int64_t out_stride) {
    HWY_DYNAMIC_DISPATCH(GroupDistances3Impl)(queries, count, keys, mode, out, out_stride);
}
}  // namespace adamas::cpu
#endif
