// Fast budgeted selection. Distances: a histogram of at most 3d+1 bins finds the cutoff distance,
// after a cheap pre-filter (a threshold from a sample of ~1/16 of the tokens, at most 2048, in 16 runs,
// then a vectorized scan)
// shrinks the candidates to a few times the budget; if the sample misjudged, the exact path runs on
// everything, so the result never depends on the sample. Scores (oracle): nth_element on 64-bit keys that
// order by score and then recency. Both match the reference in src/attention/select.cpp bit for bit.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>

#include "adamas/distance.h"
#include "adamas/error.h"
#include "adamas/select.h"
#include "cpu/select_filter.h"

namespace adamas {

namespace {

constexpr int64_t kSegments = 16;        // contiguous runs a pre-filter's threshold sample is read in
constexpr int64_t kScoreSamples = 2048;  // sample size of the score pre-filter, whatever n

// Writes forced prefix [0, lo), then `chosen` (ascending, within [lo, hi)), then [hi, n).
int64_t write_with_forced(int64_t lo, int64_t hi, int64_t n, std::span<const int32_t> chosen, int32_t* out) {
    int64_t k = 0;
    for (int64_t t = 0; t < lo; ++t)
        out[k++] = int32_t(t);
    for (int32_t t : chosen)
        out[k++] = t;
    for (int64_t t = hi; t < n; ++t)
        out[k++] = int32_t(t);
    return k;
}

// Adds the distances dist[index_at(i)], i in [0, count), to `histogram` (max_dist + 1 bins). Four
// interleaved sub-histograms: neighbouring tokens often share a distance, and one table would make every
// increment wait for the previous one's store.
template <typename IndexAt>
void add_to_histogram(const uint16_t* dist, int max_dist, int64_t count, IndexAt index_at,
                      std::vector<uint32_t>& histogram, std::vector<uint32_t>& lanes) {
    const size_t bins = size_t(max_dist) + 1;
    lanes.assign(4 * bins, 0);
    uint32_t* h = lanes.data();
    int64_t i = 0;
    for (; i + 4 <= count; i += 4) {
        ++h[dist[index_at(i)]];
        ++h[bins + dist[index_at(i + 1)]];
        ++h[2 * bins + dist[index_at(i + 2)]];
        ++h[3 * bins + dist[index_at(i + 3)]];
    }
    for (; i < count; ++i)
        ++h[dist[index_at(i)]];
    histogram.assign(bins, 0);
    for (size_t b = 0; b < bins; ++b)
        histogram[b] = h[b] + h[bins + b] + h[2 * bins + b] + h[3 * bins + b];
}

// The cutoff distance of the `rest` best in a histogram, and how many at the cutoff are kept.
struct Cutoff {
    int distance = 0;
    int64_t at_cutoff = 0;
};

Cutoff find_cutoff(const std::vector<uint32_t>& histogram, int64_t rest) {
    Cutoff c;
    int64_t below = 0;  // candidates with distance < cutoff
    while (below + histogram[size_t(c.distance)] < rest)
        below += histogram[size_t(c.distance++)];
    c.at_cutoff = rest - below;
    return c;
}

// Exact choice of the `rest` best among ascending candidate indices: cutoff distance from the
// histogram, then the most recent tokens at the cutoff. Writes ascending indices into `chosen`.
template <typename IndexAt>
void choose_by_histogram(std::span<const uint16_t> dist, int max_dist, int64_t count, IndexAt index_at,
                         int64_t rest, SelectScratch& scratch, std::vector<int32_t>& chosen) {
    add_to_histogram(dist.data(), max_dist, count, index_at, scratch.histogram, scratch.histogram_lanes);
    const Cutoff cut = find_cutoff(scratch.histogram, rest);
    int64_t at_cutoff = cut.at_cutoff;  // how many of the distance == cutoff ones to keep, newest first
    int64_t first_kept = count;         // position (in candidate order) of the oldest kept one at cutoff
    for (int64_t i = count - 1; i >= 0 && at_cutoff > 0; --i)
        if (dist[index_at(i)] == cut.distance) {
            first_kept = i;
            --at_cutoff;
        }
    // Branch-free compaction: whether a candidate is kept is close to a coin flip, and mispredicted
    // branches here were most of the selection's time.
    chosen.resize(size_t(count));
    int32_t* out = chosen.data();
    int64_t kept = 0;
    for (int64_t i = 0; i < count; ++i) {
        const int32_t t = index_at(i);
        const int d = dist[t];
        out[kept] = t;
        kept += int64_t(d < cut.distance) | (int64_t(d == cut.distance) & int64_t(i >= first_kept));
    }
    chosen.resize(size_t(kept));
}

// choose_by_histogram over the whole range [lo, hi), written with the vectorized filter: the tokens
// below the cutoff before the oldest kept tie, then those at or below it from there on.
void choose_in_range(std::span<const uint16_t> dist, int max_dist, int64_t lo, int64_t hi, int64_t rest,
                     SelectScratch& scratch, std::vector<int32_t>& chosen) {
    add_to_histogram(
        dist.data(), max_dist, hi - lo, [lo](int64_t i) { return lo + i; }, scratch.histogram,
        scratch.histogram_lanes);
    const Cutoff cut = find_cutoff(scratch.histogram, rest);
    int64_t at_cutoff = cut.at_cutoff, first_kept = hi;
    for (int64_t t = hi - 1; t >= lo && at_cutoff > 0; --t)
        if (dist[t] == cut.distance) {
            first_kept = t;
            --at_cutoff;
        }
    auto& out = scratch.filtered;
    if (out.size() < size_t(hi - lo + 64)) out.resize(size_t(hi - lo + 64));
    int64_t count = 0;
    if (cut.distance > 0)
        count = cpu::filter_at_most(dist.data(), lo, first_kept, uint16_t(cut.distance - 1), out.data());
    count += cpu::filter_at_most(dist.data(), first_kept, hi, uint16_t(cut.distance), out.data() + count);
    chosen.assign(out.begin(), out.begin() + count);
}

}  // namespace

int64_t select_by_distance(std::span<const uint16_t> dist, int max_dist, SelectionRule rule, int32_t* out,
                           SelectScratch& scratch, const uint16_t* block_min) {
    rule.validate();
    const int64_t n = int64_t(dist.size());
    if (n <= rule.budget) {
        for (int64_t t = 0; t < n; ++t)
            out[t] = int32_t(t);
        return n;
    }
    const int64_t lo = rule.forced_prefix(), hi = n - rule.forced_suffix();
    const int64_t rest = rule.budget - lo - rule.forced_suffix();
    auto& chosen = scratch.candidates;
    chosen.clear();
    if (rest > 0) {
        const int64_t span = hi - lo;
        bool done = false;
        if (span >= 64 * rest && span >= 4096) {
            // Threshold: the distance below which ~2× the needed share of the sample lies (+ slack).
            // The sample is read as kSegments contiguous runs spread over the range: a strided sample
            // misses the cache on every read (measured: it dominated selection at 128K tokens). Its
            // size: about 1/16 of the range, runs of 32 to 128 tokens (a power of two).
            const int shift = std::clamp(int(std::bit_width(uint64_t(span / 16 / kSegments))) - 1, 5, 7);
            const int64_t run = int64_t(1) << shift, samples = run * kSegments;
            for (int64_t seg = 0; seg < kSegments; ++seg)  // all sample lines in flight at once
                for (int64_t t = 0; t < run; t += 32)
                    __builtin_prefetch(dist.data() + lo + seg * (span / kSegments) + t);
            const int64_t gap = span / kSegments;
            add_to_histogram(
                dist.data(), max_dist, samples,
                [&](int64_t i) { return lo + (i >> shift) * gap + (i & (run - 1)); }, scratch.histogram,
                scratch.histogram_lanes);
            const auto& h = scratch.histogram;
            const int64_t want = 2 * rest * samples / span + 8;
            int threshold = 0;
            for (int64_t cum = h[0]; cum < want && threshold < max_dist;)
                cum += h[size_t(++threshold)];
            auto& filtered = scratch.filtered;
            if (filtered.size() < size_t(span + 64))
                filtered.resize(size_t(span + 64));  // grows, never refills
            int64_t passed;
            if (block_min) {
                auto& blocks = scratch.blocks;
                if (blocks.size() < size_t(distance_blocks(n) + 64))
                    blocks.resize(size_t(distance_blocks(n) + 64));
                passed = cpu::filter_blocks_at_most(dist.data(), block_min, lo, hi, uint16_t(threshold),
                                                    blocks.data(), filtered.data());
            } else {
                passed = cpu::filter_at_most(dist.data(), lo, hi, uint16_t(threshold), filtered.data());
            }
            if (passed >= rest) {
                choose_by_histogram(
                    dist, max_dist, passed, [&](int64_t i) { return filtered[size_t(i)]; }, rest, scratch,
                    chosen);
                done = true;
            }
        }
        if (!done) choose_in_range(dist, max_dist, lo, hi, rest, scratch, chosen);
    }
    return write_with_forced(lo, hi, n, chosen, out);
}

int64_t select_by_score(std::span<const float> scores, SelectionRule rule, int32_t* out,
                        SelectScratch& scratch) {
    rule.validate();
    const int64_t n = int64_t(scores.size());
    if (n <= rule.budget) {
        for (int64_t t = 0; t < n; ++t)
            out[t] = int32_t(t);
        return n;
    }
    const int64_t lo = rule.forced_prefix(), hi = n - rule.forced_suffix();
    const int64_t rest = rule.budget - lo - rule.forced_suffix();
    auto& chosen = scratch.candidates;
    chosen.clear();
    if (rest > 0) {
        // Pre-filter as for distances: a threshold from a segment sample; when at least `rest` tokens
        // score at or above it, the best `rest` (and every tie at the cutoff) are among them.
        const int64_t span = hi - lo;
        auto& passed = scratch.filtered;
        passed.clear();
        if (span >= 64 * rest && span >= 4096) {
            std::vector<float>& sample = scratch.sample;
            sample.clear();
            const int64_t run = kScoreSamples / kSegments;
            for (int64_t seg = 0; seg < kSegments; ++seg)
                for (int64_t t = lo + seg * (span / kSegments), e = t + run; t < e; ++t)
                    if (!std::isnan(scores[t])) sample.push_back(scores[t]);
            const int64_t want = 2 * rest * kScoreSamples / span + 8;
            if (int64_t(sample.size()) > want) {
                std::nth_element(sample.begin(), sample.begin() + (want - 1), sample.end(),
                                 std::greater<float>());
                const float threshold = sample[size_t(want - 1)];
                for (int64_t t = lo; t < hi; ++t)
                    if (scores[t] >= threshold) passed.push_back(int32_t(t));
            }
        }
        const bool filtered = int64_t(passed.size()) >= rest;
        const int64_t count = filtered ? int64_t(passed.size()) : span;
        // Key: high 32 bits order by score (best = smallest), low 32 bits by recency (newest smallest).
        auto& keyed = scratch.keyed;
        keyed.resize(size_t(count));
        for (int64_t i = 0; i < count; ++i) {
            const int64_t t = filtered ? passed[size_t(i)] : lo + i;
            float s = scores[t];
            uint32_t rank;
            if (std::isnan(s)) {
                rank = 0xffffffffu;
            } else {
                if (s == 0.0f) s = 0.0f;  // -0 ties with +0
                const uint32_t u = std::bit_cast<uint32_t>(s);
                const uint32_t ascending = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
                rank = ~ascending;
            }
            keyed[size_t(i)] = (uint64_t(rank) << 32) | uint32_t(~uint32_t(t));
        }
        std::nth_element(keyed.begin(), keyed.begin() + (rest - 1), keyed.end());
        for (int64_t i = 0; i < rest; ++i)
            chosen.push_back(int32_t(~uint32_t(keyed[size_t(i)])));
        std::sort(chosen.begin(), chosen.end());
    }
    return write_with_forced(lo, hi, n, chosen, out);
}

}  // namespace adamas
