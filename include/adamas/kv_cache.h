// The KV cache of one layer: K and V rows (f32/f16/bf16) per sequence and KV head, with the 2-bit key
// codes (and Quest page min/max) written as keys arrive, so any policy can run at any step.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "adamas/codes.h"
#include "adamas/dtype.h"
#include "adamas/thread_pool.h"

namespace adamas {

struct KvCacheShape {
    int kv_heads = 0;
    int head_dim = 0;          // 32, 64, 128 or 256
    DType dtype = DType::f16;  // storage of K and V
    int64_t capacity = 0;      // tokens per sequence
    int sequences = 1;
    int page_size = 16;  // Quest pages; 0 keeps no page metadata
    int code_bits = 2;   // bits per coordinate of the key codes: 2, or 3 (an experiment; codes.h)
};

// One KV head of one sequence; rows are contiguous.
struct KvHeadView {
    const void* k = nullptr;  // tokens × head_dim elements of dtype
    const void* v = nullptr;
    const uint16_t* codes = nullptr;  // tokens × code_words(head_dim, code_bits) words
    const float* page_min = nullptr;  // ceil(tokens / page_size) × head_dim, or null
    const float* page_max = nullptr;
    float tau = 0.0f;  // τ as configured
    TauMode tau_mode = TauMode::fixed;
    int code_bits = 2;
    // TauMode::calibrated: RMS of this head's keys in the sequence's first append (0 before it).
    float calibration_rms = 0.0f;
    // How the cache codes this head's keys, and how a decode step codes a query against them (alike,
    // except that calibrated keys share one threshold while each query is coded relative to itself).
    CodeThreshold key_threshold() const {
        if (tau_mode == TauMode::calibrated) return {tau * calibration_rms, TauMode::fixed, code_bits};
        return {tau, tau_mode, code_bits};
    }
    CodeThreshold query_threshold() const {
        return {tau, tau_mode == TauMode::calibrated ? TauMode::relative : tau_mode, code_bits};
    }
};

// One sequence of one layer as a decode step sees it.
struct KvSequenceView {
    int head_dim = 0;
    DType dtype = DType::f16;
    int64_t tokens = 0;  // n: cached tokens, the current one (n-1) included
    int page_size = 0;
    int code_bits = 2;
    std::span<const KvHeadView> heads;
    int kv_heads() const { return int(heads.size()); }
};

// Tokens to append: element (t, h, i) of K is k[t * token_stride + h * head_stride + i], same for V.
// Keys are post-RoPE. The common layouts are [tokens][heads][d] and [heads][tokens][d].
struct KvTokens {
    const float* k = nullptr;
    const float* v = nullptr;
    int64_t tokens = 0;
    int64_t token_stride = 0;
    int64_t head_stride = 0;
};

class KvCache {
  public:
    // `tau` holds one threshold per KV head (size kv_heads) or one for all (size 1), used as `mode` says.
    KvCache(const KvCacheShape& shape, std::span<const float> tau, TauMode mode = TauMode::fixed);
    ~KvCache();
    KvCache(KvCache&&) noexcept;
    KvCache& operator=(KvCache&&) noexcept;

    const KvCacheShape& shape() const { return shape_; }
    int64_t length(int sequence) const;
    // Appends tokens to a sequence: converts K/V to the storage type and writes codes and page
    // statistics, both computed from the keys as stored (after rounding to the storage type), so
    // every policy ranks exactly what attention reads. With TauMode::calibrated, the first append to
    // an empty sequence fixes each head's key threshold from the RMS of its keys. Throws Error on capacity
    // overflow, leaving the sequence unchanged. With a pool, KV heads are appended in parallel. Appends to
    // different sequences (or caches) may run concurrently; one sequence takes one append at a time.
    void append(int sequence, const KvTokens& tokens, ThreadPool* pool = nullptr);
    void clear(int sequence);
    // Drops the tokens after the first `length` (Error if length exceeds the sequence); Quest bounds of
    // the page that becomes the last are recomputed from its remaining keys.
    void truncate(int sequence, int64_t length);
    KvSequenceView view(int sequence) const;

  private:
    struct Sequence;
    float stored_keys_rms(const KvTokens& in, int h) const;
    KvCacheShape shape_;
    std::vector<float> tau_;
    TauMode tau_mode_ = TauMode::fixed;
    std::vector<std::unique_ptr<Sequence>> sequences_;
};

}  // namespace adamas
