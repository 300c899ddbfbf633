// Exact decode attention of query heads over a KV head: all tokens (dense) or a selected index set,
// softmax(q·K_Sᵀ / sqrt(d)) · V_S with fp32 accumulation (§2.7).
#pragma once
#include <cstdint>

#include "adamas/dtype.h"
#include "adamas/kv_cache.h"

namespace adamas {

// Tokens one attention call covers: a contiguous range [begin, end) or a list of indices.
struct TokenSet {
    const int32_t* indices = nullptr;  // null: the range
    int64_t begin = 0;
    int64_t end = 0;  // range end, or the index count when indices is set
    // Optional, with indices: token i stands for exp(log_weights[i]) tokens like it (a sampled tail),
    // i.e. its score gains log_weights[i].
    const float* log_weights = nullptr;
    int64_t size() const { return indices ? end : end - begin; }
};

// Partial result over part of the token set, merged later (split-K decode, "flash-decoding").
// acc is unnormalized: out = acc / sum, every term scaled by exp(score - max).
struct AttentionPartial {
    float max;
    float sum;
    float* acc;  // d floats
};

// Reference: double accumulation, obviously right. q: `count` rows of d floats (query heads sharing
// the KV head); out: `count` rows of d floats.
void attend_reference(const float* q, int count, const KvHeadView& kv, DType dtype, int d, TokenSet tokens,
                      float* out);
// Fast path: partial over the given tokens for each of the `count` queries (partials[count]).
void attend_partial(const float* q, int count, const KvHeadView& kv, DType dtype, int d, TokenSet tokens,
                    AttentionPartial* partials);
// logits[t] = q·k_t / sqrt(d) for the first n tokens: what dense attention softmaxes (for evaluation
// tools that compare a selection with the full distribution).
void attention_logits(const float* q, const KvHeadView& kv, DType dtype, int d, int64_t n, float* logits);

// Combines partials[0..parts) of one query into out[d].
void merge_partials(const AttentionPartial* partials, int parts, int d, float* out);

}  // namespace adamas
