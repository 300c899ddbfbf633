// Scalar reference distances between packed code rows, and the dispatch to the vectorized kernel.
#include "adamas/distance.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "adamas/codes.h"
#include "adamas/error.h"
#include "cpu/kernels.h"

namespace adamas {

namespace {

// The minimum of each kDistanceBlock run of every output row, from the distances already written.
void write_block_minima(const uint16_t* out, int64_t out_stride, int rows, int64_t tokens,
                        BlockMinima minima) {
    for (int r = 0; r < rows; ++r)
        for (int64_t b = 0; b < distance_blocks(tokens); ++b) {
            const uint16_t* first = out + r * out_stride + b * kDistanceBlock;
            minima.data[r * minima.stride + b] = *std::min_element(
                first, first + std::min<int64_t>(kDistanceBlock, tokens - b * kDistanceBlock));
        }
}

int code_distance3(const uint16_t* a, const uint16_t* b, int words) {
    int total = 0;
    for (int i = 0; i < words / 12 * 64; ++i)
        total += std::abs(code_at(a, i, 3) - code_at(b, i, 3));
    return total;
}

}  // namespace

int code_distance(const uint16_t* a, const uint16_t* b, int words, Metric metric, int bits) {
    if (bits == 3) {
        ADAMAS_ASSERT(metric == Metric::l1);
        return code_distance3(a, b, words);
    }
    int total = 0;
    for (int w = 0; w < words; ++w)
        for (int i = 0; i < 8; ++i) {
            const int ca = (a[w] >> (2 * i)) & 3, cb = (b[w] >> (2 * i)) & 3;
            if (metric == Metric::l1) {
                total += std::abs(ca - cb);
            } else {
                const int x = ca ^ cb;  // the authors' kernel: low bit costs 1, high bit costs 2
                total += (x & 1) + 2 * (x >> 1);
            }
        }
    return total;
}

void group_distances_reference(const uint16_t* queries, int count, CodeRows keys, Metric metric, GqaMode mode,
                               uint16_t* out, int64_t out_stride, BlockMinima minima) {
    if (keys.bits == 3 && metric != Metric::l1) fail_usage("3-bit codes take the l1 metric only (got xor)");
    if (mode == GqaMode::pooled) mode = GqaMode::shared;  // ranks as shared; only its budget differs
    for (int64_t t = 0; t < keys.tokens; ++t) {
        int best = 1 << 30;
        for (int q = 0; q < count; ++q) {
            const int dist =
                code_distance(queries + q * keys.words, keys.row(t), keys.words, metric, keys.bits);
            if (mode == GqaMode::per_head) out[q * out_stride + t] = uint16_t(dist);
            best = std::min(best, dist);
        }
        if (mode == GqaMode::shared) out[t] = uint16_t(best);
    }
    if (minima.data)
        write_block_minima(out, out_stride, mode == GqaMode::per_head ? count : 1, keys.tokens, minima);
}

void group_distances(const uint16_t* queries, int count, CodeRows keys, Metric metric, GqaMode mode,
                     uint16_t* out, int64_t out_stride, BlockMinima minima) {
    if (mode == GqaMode::pooled) mode = GqaMode::shared;  // ranks as shared; only its budget differs
    if (keys.bits == 3) {
        if (metric != Metric::l1) fail_usage("3-bit codes take the l1 metric only (got xor)");
        ADAMAS_ASSERT(count >= 1 && keys.words >= 12 && keys.words % 12 == 0);
        cpu::group_distances3(queries, count, keys, mode, out, out_stride);
        if (minima.data)
            write_block_minima(out, out_stride, mode == GqaMode::per_head ? count : 1, keys.tokens, minima);
        return;
    }
    ADAMAS_ASSERT(count >= 1 && keys.words >= 4 && keys.words % 4 == 0);
    if (count <= cpu::kDistanceMaxQueries)
        return cpu::group_distances(queries, count, keys, metric, mode, out, out_stride, minima);
    // Groups wider than the kernel takes go in slices: per-head rows are independent, shared rows
    // take the minimum over the slices (of the distances and of their block minima alike).
    std::vector<uint16_t> slice_out, slice_minima;
    for (int first = 0; first < count; first += cpu::kDistanceMaxQueries) {
        const int part = std::min(count - first, cpu::kDistanceMaxQueries);
        const uint16_t* slice_queries = queries + int64_t(first) * keys.words;
        if (mode == GqaMode::per_head) {
            const BlockMinima slice_minima_view{minima.data ? minima.data + first * minima.stride : nullptr,
                                                minima.stride};
            cpu::group_distances(slice_queries, part, keys, metric, mode, out + first * out_stride,
                                 out_stride, slice_minima_view);
        } else if (first == 0) {
            cpu::group_distances(slice_queries, part, keys, metric, mode, out, out_stride, minima);
        } else {
            slice_out.resize(size_t(keys.tokens));
            slice_minima.resize(size_t(distance_blocks(keys.tokens)));
            cpu::group_distances(slice_queries, part, keys, metric, mode, slice_out.data(), keys.tokens,
                                 BlockMinima{minima.data ? slice_minima.data() : nullptr, 0});
            for (int64_t t = 0; t < keys.tokens; ++t)
                out[t] = std::min(out[t], slice_out[size_t(t)]);
            if (minima.data)
                for (int64_t b = 0; b < distance_blocks(keys.tokens); ++b)
                    minima.data[b] = std::min(minima.data[b], slice_minima[size_t(b)]);
        }
    }
}

}  // namespace adamas
