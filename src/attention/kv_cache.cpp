// Per-layer KV cache: contiguous K, V, code and page-statistic streams per (sequence, KV head), so
// the estimate pass streams one head's codes and attention reads whole rows.
#include "adamas/kv_cache.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <limits>
#include <string>

#include "adamas/codes.h"
#include "adamas/error.h"
#include "adamas/method.h"
#include "core/large_block.h"
#include "cpu/kernels.h"

namespace adamas {

namespace {

using Block = LargeBlock;

Block allocate(size_t bytes, const char* what) {
    return allocate_large_block(bytes, (std::string("the KV cache's ") + what).c_str());
}

// Folds one stored key into its Quest page's element-wise bounds (`first`: the page's first key). A NaN
// anywhere in the page poisons its bounds, wherever it sits.
void widen_page_bounds(const float* key, int d, bool first, float* mn, float* mx) {
    for (int j = 0; j < d; ++j) {
        const float x = key[j];
        if (first) {
            mn[j] = mx[j] = x;
        } else {
            if (x < mn[j] || std::isnan(x)) mn[j] = x;
            if (x > mx[j] || std::isnan(x)) mx[j] = x;
        }
    }
}

}  // namespace

// RMS over every coordinate of head h's keys in `in`, as the cache stores them (TauMode::calibrated).
float KvCache::stored_keys_rms(const KvTokens& in, int h) const {
    const int d = shape_.head_dim;
    alignas(64) float stored[256];
    alignas(64) std::byte row[256 * sizeof(float)];  // one key in the storage type
    double sum = 0;
    for (int64_t i = 0; i < in.tokens; ++i) {
        cpu::store_row(in.k + i * in.token_stride + h * in.head_stride, d, shape_.dtype, row);
        cpu::load_row(row, shape_.dtype, d, stored);
        for (int j = 0; j < d; ++j)
            sum += double(stored[j]) * stored[j];
    }
    return float(std::sqrt(sum / (double(in.tokens) * d)));
}

struct KvCache::Sequence {
    int64_t length = 0;
    std::vector<Block> k, v, codes, page_min, page_max;
    std::vector<KvHeadView> views;
};

KvCache::KvCache(const KvCacheShape& shape, std::span<const float> tau, TauMode mode)
    : shape_(shape), tau_mode_(mode) {
    check_head_dim(shape.head_dim, "KV cache");
    if (shape.kv_heads < 1) fail("KV cache: {} KV heads (expected at least 1)", shape.kv_heads);
    if (shape.capacity < 1 || shape.capacity > std::numeric_limits<int32_t>::max())
        fail("KV cache: capacity {} tokens (expected 1 to 2^31-1)", shape.capacity);
    if (shape.sequences < 1) fail("KV cache: {} sequences (expected at least 1)", shape.sequences);
    if (shape.page_size < 0) fail("KV cache: page size {} is negative", shape.page_size);
    check_code_bits(shape.code_bits, "KV cache");
    if (tau.size() != 1 && tau.size() != size_t(shape.kv_heads))
        fail("KV cache: {} thresholds for {} KV heads (expected 1 or one per KV head)", tau.size(),
             shape.kv_heads);
    tau_.assign(size_t(shape.kv_heads), tau[0]);
    if (tau.size() > 1) tau_.assign(tau.begin(), tau.end());

    const size_t d = size_t(shape.head_dim), cap = size_t(shape.capacity);
    const size_t row_bytes = d * size_t(dtype_size(shape.dtype));
    const size_t pages = shape.page_size ? (cap + size_t(shape.page_size) - 1) / size_t(shape.page_size) : 0;
    for (int s = 0; s < shape.sequences; ++s) {
        auto seq = std::make_unique<Sequence>();
        for (int h = 0; h < shape.kv_heads; ++h) {
            seq->k.push_back(allocate(cap * row_bytes, "keys"));
            seq->v.push_back(allocate(cap * row_bytes, "values"));
            seq->codes.push_back(
                allocate(cap * size_t(code_words(int(d), shape.code_bits)) * 2, "key codes"));
            if (pages) {
                seq->page_min.push_back(allocate(pages * d * 4, "page minima"));
                seq->page_max.push_back(allocate(pages * d * 4, "page maxima"));
            }
            KvHeadView view;
            view.k = seq->k.back().get();
            view.v = seq->v.back().get();
            view.codes = reinterpret_cast<const uint16_t*>(seq->codes.back().get());
            if (pages) {
                view.page_min = reinterpret_cast<const float*>(seq->page_min.back().get());
                view.page_max = reinterpret_cast<const float*>(seq->page_max.back().get());
            }
            view.tau = tau_[size_t(h)];
            view.tau_mode = tau_mode_;
            view.code_bits = shape.code_bits;
            seq->views.push_back(view);
        }
        sequences_.push_back(std::move(seq));
    }
}

KvCache::~KvCache() = default;
KvCache::KvCache(KvCache&&) noexcept = default;
KvCache& KvCache::operator=(KvCache&&) noexcept = default;

int64_t KvCache::length(int sequence) const {
    ADAMAS_ASSERT(sequence >= 0 && sequence < shape_.sequences);
    return sequences_[size_t(sequence)]->length;
}

void KvCache::clear(int sequence) {
    ADAMAS_ASSERT(sequence >= 0 && sequence < shape_.sequences);
    sequences_[size_t(sequence)]->length = 0;
}

void KvCache::append(int sequence, const KvTokens& in, ThreadPool* pool) {
    if (sequence < 0 || sequence >= shape_.sequences)
        fail("KV cache: sequence {} does not exist (the cache holds {})", sequence, shape_.sequences);
    Sequence& seq = *sequences_[size_t(sequence)];
    if (in.tokens < 0 || in.tokens > shape_.capacity - seq.length)
        fail("KV cache: sequence {} holds {} of {} tokens; cannot append {} more", sequence, seq.length,
             shape_.capacity, in.tokens);
    const int d = shape_.head_dim, words = code_words(d, shape_.code_bits), page = shape_.page_size;
    const int64_t row_bytes = int64_t(d) * dtype_size(shape_.dtype);
    auto append_head = [&](int h) {
        alignas(64) float stored[256];
        auto* k_out = seq.k[size_t(h)].get();
        auto* v_out = seq.v[size_t(h)].get();
        auto* codes = reinterpret_cast<uint16_t*>(seq.codes[size_t(h)].get());
        KvHeadView& view = seq.views[size_t(h)];
        if (view.tau_mode == TauMode::calibrated && seq.length == 0 && in.tokens > 0)
            view.calibration_rms = stored_keys_rms(in, h);
        const CodeThreshold threshold = view.key_threshold();
        for (int64_t i = 0; i < in.tokens; ++i) {
            const int64_t t = seq.length + i;
            const float* k = in.k + i * in.token_stride + h * in.head_stride;
            const float* v = in.v + i * in.token_stride + h * in.head_stride;
            cpu::store_row(k, d, shape_.dtype, k_out + t * row_bytes);
            cpu::store_row(v, d, shape_.dtype, v_out + t * row_bytes);
            // Codes and Quest bounds derive from the key as stored, so every policy ranks exactly
            // the keys that attention reads.
            cpu::load_row(k_out + t * row_bytes, shape_.dtype, d, stored);
            rotate_encode({stored, size_t(d)}, threshold, {codes + t * words, size_t(words)});
            if (page) {
                float* mn = reinterpret_cast<float*>(seq.page_min[size_t(h)].get()) + (t / page) * d;
                float* mx = reinterpret_cast<float*>(seq.page_max[size_t(h)].get()) + (t / page) * d;
                widen_page_bounds(stored, d, t % page == 0, mn, mx);
            }
        }
    };
    // Heads are independent streams: spread them over the pool when there is one.
    if (pool && shape_.kv_heads > 1)
        pool->parallel_for(shape_.kv_heads, [&](int64_t h, int) { append_head(int(h)); });
    else
        for (int h = 0; h < shape_.kv_heads; ++h)
            append_head(h);
    seq.length += in.tokens;
}

void KvCache::truncate(int sequence, int64_t length) {
    ADAMAS_ASSERT(sequence >= 0 && sequence < shape_.sequences);
    Sequence& seq = *sequences_[size_t(sequence)];
    if (length < 0 || length > seq.length)
        fail("KV cache: cannot truncate sequence {} of {} tokens to {}", sequence, seq.length, length);
    const int page = shape_.page_size, d = shape_.head_dim;
    if (page && length % page != 0) {
        // The last kept page lost some of its keys: rebuild its bounds from those that remain.
        const int64_t first = length / page * page;
        const int64_t row_bytes = int64_t(d) * dtype_size(shape_.dtype);
        alignas(64) float stored[256];
        for (int h = 0; h < shape_.kv_heads; ++h) {
            float* mn = reinterpret_cast<float*>(seq.page_min[size_t(h)].get()) + (first / page) * d;
            float* mx = reinterpret_cast<float*>(seq.page_max[size_t(h)].get()) + (first / page) * d;
            for (int64_t t = first; t < length; ++t) {
                cpu::load_row(seq.k[size_t(h)].get() + t * row_bytes, shape_.dtype, d, stored);
                widen_page_bounds(stored, d, t == first, mn, mx);
            }
        }
    }
    seq.length = length;
}

KvSequenceView KvCache::view(int sequence) const {
    ADAMAS_ASSERT(sequence >= 0 && sequence < shape_.sequences);
    const Sequence& seq = *sequences_[size_t(sequence)];
    KvSequenceView v;
    v.head_dim = shape_.head_dim;
    v.dtype = shape_.dtype;
    v.tokens = seq.length;
    v.page_size = shape_.page_size;
    v.code_bits = shape_.code_bits;
    v.heads = seq.views;
    return v;
}

}  // namespace adamas
