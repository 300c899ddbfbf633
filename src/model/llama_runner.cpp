// The Llama forward pass for one token at a time: RMSNorm, Q/K/V projections on block-format weights,
// RoPE in the model's pair layout (adjacent for GGUF llama, neox otherwise), KV-cache append, attention
// through DecodeAttention (dense for prefill and the first layers, the policy otherwise), SwiGLU
// feed-forward, tied or separate output.
#include <chrono>
#include <cmath>

#include "adamas/error.h"
#include "adamas/llama.h"
#include "adamas/matvec.h"
#include "adamas/quant.h"
#include "core/large_block.h"
#include "model/decode_matvec.h"
#include "model/prefill_gemm.h"

namespace adamas {

namespace {

constexpr int64_t kPrefillChunk = 256;  // prompt tokens per batched pass: bounds activation memory
// Scored tokens per batched pass: larger, since every pass also dequantizes each weight matrix once and
// the logits of every token are kept (1024 × vocab floats: 200 MB for a 49K vocabulary).
constexpr int64_t kScoreChunk = 1024;

void rms_norm(const float* x, const float* weight, int n, float eps, float* out) {
    // Eight partial sums in double: vectorizable (one running sum is a chain of dependent adds).
    double partial[8] = {};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j)
            partial[j] += double(x[i + j]) * x[i + j];
    double sum = 0;
    for (; i < n; ++i)
        sum += double(x[i]) * x[i];
    for (double p : partial)
        sum += p;
    const float scale = 1.0f / std::sqrt(float(sum / n) + eps);
    for (int i = 0; i < n; ++i)
        out[i] = x[i] * scale * weight[i];
}

void add_bias(float* x, const float* bias, int64_t n) {
    if (bias)
        for (int64_t i = 0; i < n; ++i)
            x[i] += bias[i];
}

}  // namespace

struct DecodeWeights {
    struct Layer {
        DecodeMatrix q, k, v, o, gate, up, down;
    };
    std::vector<Layer> layers;
    DecodeMatrix output;
    DecodeScratch scratch;
    LargeBlock arena;  // every packed matrix, back to back on huge pages: ~100 MB streamed per token

    // Packs every matrix that can be (in parallel over matrices: ~0.1 s for the default model).
    DecodeWeights(const LlamaModel& model, bool quantized, ThreadPool& pool) {
        const int n = model.config().n_layer;
        layers.resize(size_t(n));
        // Matrix i of the step's order: 7 per layer, then the output projection.
        auto source = [&](int64_t i) -> const WeightMatrix& {
            if (i == int64_t(n) * 7) return model.output();
            const LlamaLayer& w = model.layer(int(i / 7));
            const WeightMatrix* all[] = {&w.q, &w.k, &w.v, &w.o, &w.gate, &w.up, &w.down};
            return *all[i % 7];
        };
        auto target = [&](int64_t i) -> DecodeMatrix& {
            if (i == int64_t(n) * 7) return output;
            Layer& l = layers[size_t(i / 7)];
            DecodeMatrix* all[] = {&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down};
            return *all[i % 7];
        };
        const int64_t count = int64_t(n) * 7 + 1;
        std::vector<int64_t> offsets(size_t(count) + 1, 0);
        for (int64_t i = 0; i < count; ++i)
            offsets[size_t(i) + 1] = offsets[size_t(i)] + DecodeMatrix::arena_bytes(source(i), quantized);
        if (offsets.back() > 0) arena = allocate_large_block(size_t(offsets.back()), "the packed weights");
        pool.parallel_for(count, [&](int64_t i, int) {
            // Two contiguous row ranges per thread and product (see DecodeMatrix::items).
            target(i) = DecodeMatrix(source(i), quantized, 2 * pool.size(),
                                     arena ? arena.get() + offsets[size_t(i)] : nullptr);
        });
    }
};

LlamaRunner::LlamaRunner(const LlamaModel& model, const RunnerOptions& options, ThreadPool& pool)
    : model_(model), options_(options), pool_(pool) {
    const LlamaConfig& c = model.config();
    if (options_.context <= 0) options_.context = c.context_length;
    if (options_.dense_layers < 0)
        fail_usage("--dense-layers {} must not be negative", options_.dense_layers);
    PolicyConfig dense;
    dense.kind = PolicyKind::dense;
    options_.policy.validate(group());
    for (int i = 0; i < c.n_layer; ++i) {
        KvCacheShape shape;
        shape.kv_heads = c.n_head_kv;
        shape.head_dim = c.head_dim;
        shape.dtype = options_.kv_dtype;
        shape.capacity = options_.context;
        shape.sequences = 1;
        shape.page_size = options_.policy.page_size;  // Quest bounds always kept: any policy, any step
        shape.code_bits = options_.code_bits;
        const float tau[] = {options_.tau};
        caches_.emplace_back(shape, tau, options_.tau_mode);
    }
    dense_ = std::make_unique<DecodeAttention>(dense, c.n_head, pool);
    sparse_ = std::make_unique<DecodeAttention>(options_.policy, c.n_head, pool);
    const int64_t q_dim = int64_t(c.n_head) * c.head_dim, kv_dim = int64_t(c.n_head_kv) * c.head_dim;
    x_.resize(size_t(c.n_embd));
    xn_.resize(size_t(c.n_embd));
    q_.resize(size_t(q_dim));
    k_.resize(size_t(kv_dim));
    v_.resize(size_t(kv_dim));
    att_.resize(size_t(q_dim));
    gate_.resize(size_t(c.n_ff));
    logits_.resize(size_t(c.vocab));
    weights_ = std::make_unique<DecodeWeights>(model, options_.quantized_activations, pool);
    rope_ = make_rope_table(c.rope_style, c.rope_dims, c.rope_theta, c.rope_scaling, c.rope_freq_factors);
}

LlamaRunner::~LlamaRunner() = default;

void LlamaRunner::reset() {
    for (auto& cache : caches_)
        cache.clear(0);
    position_ = 0;
    attention_s_ = 0;
}

void LlamaRunner::rewind(int64_t position) {
    if (position < 0 || position > position_)
        fail("cannot rewind from position {} to {}", position_, position);
    for (auto& cache : caches_)
        cache.truncate(0, position);
    position_ = position;
}

void LlamaRunner::set_policy(const PolicyConfig& policy) {
    policy.validate(group());
    if (policy.kind == PolicyKind::quest && policy.page_size != options_.policy.page_size)
        fail_usage("quest page size {} differs from the cache's {}", policy.page_size,
                   options_.policy.page_size);
    options_.policy = policy;
    sparse_ = std::make_unique<DecodeAttention>(policy, model_.config().n_head, pool_);
}

DecodeAttention& LlamaRunner::attention_of(int layer, bool decode) const {
    return decode && layer >= options_.dense_layers ? *sparse_ : *dense_;
}

void LlamaRunner::check_tokens(std::span<const int32_t> tokens) const {
    const LlamaConfig& c = model_.config();
    if (position_ + int64_t(tokens.size()) > options_.context)
        fail("context overflow: {} tokens cached plus {} new exceed the context of {} tokens", position_,
             tokens.size(), options_.context);
    for (int32_t t : tokens)
        if (t < 0 || t >= c.vocab) fail("token id {} is outside the vocabulary (0 to {})", t, c.vocab - 1);
}

// NaN or infinite logits mean weights (or configuration numbers) the computation cannot use: an error
// naming the position, not a sampled token or a perplexity of NaN. One pass over the vocabulary costs far
// less than the output projection that produced it.
void LlamaRunner::check_finite(std::span<const float> logits, int64_t position) const {
    for (float x : logits)
        if (!std::isfinite(x))
            fail(
                "{}: the model's output at position {} is {} (non-finite logits: the weights hold NaN or "
                "infinite values, or values that overflow)",
                model_.path(), position, x);
}

std::span<const float> LlamaRunner::forward(std::span<const int32_t> tokens, bool decode) {
    check_tokens(tokens);
    if (decode || tokens.size() == 1) {
        for (size_t i = 0; i < tokens.size(); ++i)
            step(tokens[i], decode, i + 1 == tokens.size());
    } else {
        for (size_t first = 0; first < tokens.size(); first += kPrefillChunk) {
            const size_t count = std::min(tokens.size() - first, size_t(kPrefillChunk));
            prefill(tokens.subspan(first, count), false, first + count == tokens.size(), nullptr);
        }
    }
    return logits_;
}

void LlamaRunner::score(std::span<const int32_t> tokens, const LogitsSink& each) {
    check_tokens(tokens);
    for (size_t first = 0; first < tokens.size(); first += kScoreChunk) {
        const size_t count = std::min(tokens.size() - first, size_t(kScoreChunk));
        const LogitsSink shifted = [&](size_t i, std::span<const float> logits) { each(first + i, logits); };
        prefill(tokens.subspan(first, count), true, false, &shifted);
    }
}

void LlamaRunner::step(int32_t token, bool decode, bool want_logits) {
    const LlamaConfig& c = model_.config();
    const int64_t q_dim = int64_t(c.n_head) * c.head_dim, kv_dim = int64_t(c.n_head_kv) * c.head_dim;
    const WeightMatrix& embd = model_.token_embedding();
    dequantize_reference(embd.type,
                         static_cast<const uint8_t*>(embd.data) + token * row_bytes(embd.type, embd.cols),
                         embd.cols, x_.data());
    if (angles_.empty()) angles_.resize(1);
    rope_angles(rope_, position_, angles_[0]);
    for (int l = 0; l < c.n_layer; ++l) {
        const LlamaLayer& w = model_.layer(l);
        const DecodeWeights::Layer& dw = weights_->layers[size_t(l)];
        DecodeScratch& scratch = weights_->scratch;
        rms_norm(x_.data(), w.attn_norm, c.n_embd, c.rms_eps, xn_.data());
        decode_matvecs(
            pool_,
            {{dw.q, xn_.data(), q_.data()}, {dw.k, xn_.data(), k_.data()}, {dw.v, xn_.data(), v_.data()}},
            scratch);
        add_bias(q_.data(), w.q_bias, q_dim);
        add_bias(k_.data(), w.k_bias, kv_dim);
        add_bias(v_.data(), w.v_bias, kv_dim);
        apply_rope(rope_, angles_[0], q_.data(), c.n_head, c.head_dim);
        apply_rope(rope_, angles_[0], k_.data(), c.n_head_kv, c.head_dim);
        caches_[size_t(l)].append(0, KvTokens{k_.data(), v_.data(), 1, kv_dim, c.head_dim});
        const auto start = std::chrono::steady_clock::now();
        const DecodeRequest request{q_.data(), caches_[size_t(l)].view(0), att_.data()};
        DecodeAttention& attention = attention_of(l, decode);
        attention.run({&request, 1});
        attention_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (observer_) observer_({l, decode, {&request, 1}, &attention});
        decode_matvec_add(pool_, dw.o, att_.data(), x_.data(), scratch);  // x += o · att

        rms_norm(x_.data(), w.ffn_norm, c.n_embd, c.rms_eps, xn_.data());
        decode_swiglu(pool_, dw.gate, dw.up, xn_.data(), gate_.data(), scratch);  // SiLU(gate) · up
        decode_matvec_add(pool_, dw.down, gate_.data(), x_.data(), scratch);      // x += down · ffn
    }
    ++position_;
    if (!want_logits) return;  // inside a prompt only the last token's logits are needed
    rms_norm(x_.data(), model_.output_norm(), c.n_embd, c.rms_eps, xn_.data());
    decode_matvecs(pool_, {{weights_->output, xn_.data(), logits_.data()}}, weights_->scratch);
    check_finite(logits_, position_ - 1);
}

// A chunk of tokens in one pass per layer: projections through sgemm, then causal attention of every
// token over its own prefix (one batched DecodeAttention call per layer), dense or under the policy.
void LlamaRunner::prefill(std::span<const int32_t> tokens, bool decode, bool want_logits,
                          const LogitsSink* each) {
    const LlamaConfig& c = model_.config();
    const int64_t n = int64_t(tokens.size());
    const int64_t q_dim = int64_t(c.n_head) * c.head_dim, kv_dim = int64_t(c.n_head_kv) * c.head_dim;
    auto grow = [](std::vector<float>& v, int64_t size) {
        if (v.size() < size_t(size)) v.resize(size_t(size));
    };
    grow(bx_, n * c.n_embd);
    grow(bxn_, n * c.n_embd);
    grow(bq_, n * q_dim);
    grow(bk_, n * kv_dim);
    grow(bv_, n * kv_dim);
    grow(batt_, n * q_dim);
    grow(bg_, n * c.n_ff);
    grow(bu_, n * c.n_ff);
    if (angles_.size() < size_t(n)) angles_.resize(size_t(n));
    for (int64_t t = 0; t < n; ++t)
        rope_angles(rope_, position_ + t, angles_[size_t(t)]);
    const WeightMatrix& embd = model_.token_embedding();
    for (int64_t t = 0; t < n; ++t)
        dequantize_reference(
            embd.type,
            static_cast<const uint8_t*>(embd.data) + tokens[size_t(t)] * row_bytes(embd.type, embd.cols),
            embd.cols, bx_.data() + t * c.n_embd);
    std::vector<DecodeRequest> requests(static_cast<size_t>(n));
    for (int l = 0; l < c.n_layer; ++l) {
        const LlamaLayer& w = model_.layer(l);
        for (int64_t t = 0; t < n; ++t)
            rms_norm(bx_.data() + t * c.n_embd, w.attn_norm, c.n_embd, c.rms_eps, bxn_.data() + t * c.n_embd);
        project_tokens(w.q, bxn_.data(), n, bq_.data(), pool_, weight_scratch_);
        project_tokens(w.k, bxn_.data(), n, bk_.data(), pool_, weight_scratch_);
        project_tokens(w.v, bxn_.data(), n, bv_.data(), pool_, weight_scratch_);
        for (int64_t t = 0; t < n; ++t) {
            add_bias(bq_.data() + t * q_dim, w.q_bias, q_dim);
            add_bias(bk_.data() + t * kv_dim, w.k_bias, kv_dim);
            add_bias(bv_.data() + t * kv_dim, w.v_bias, kv_dim);
            apply_rope(rope_, angles_[size_t(t)], bq_.data() + t * q_dim, c.n_head, c.head_dim);
            apply_rope(rope_, angles_[size_t(t)], bk_.data() + t * kv_dim, c.n_head_kv, c.head_dim);
        }
        KvCache& cache = caches_[size_t(l)];
        cache.append(0, KvTokens{bk_.data(), bv_.data(), n, kv_dim, c.head_dim}, &pool_);
        const KvSequenceView all = cache.view(0);
        for (int64_t t = 0; t < n; ++t) {
            KvSequenceView prefix = all;
            prefix.tokens = position_ + t + 1;  // causal: the token and everything before it
            requests[size_t(t)] = DecodeRequest{bq_.data() + t * q_dim, prefix, batt_.data() + t * q_dim};
        }
        const auto start = std::chrono::steady_clock::now();
        DecodeAttention& attention = attention_of(l, decode);
        attention.run(requests);
        attention_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (observer_) observer_({l, decode, requests, &attention});
        project_tokens(w.o, batt_.data(), n, bxn_.data(), pool_, weight_scratch_);
        for (int64_t i = 0; i < n * c.n_embd; ++i)
            bx_[size_t(i)] += bxn_[size_t(i)];

        for (int64_t t = 0; t < n; ++t)
            rms_norm(bx_.data() + t * c.n_embd, w.ffn_norm, c.n_embd, c.rms_eps, bxn_.data() + t * c.n_embd);
        project_tokens(w.gate, bxn_.data(), n, bg_.data(), pool_, weight_scratch_);
        project_tokens(w.up, bxn_.data(), n, bu_.data(), pool_, weight_scratch_);
        for (int64_t i = 0; i < n * c.n_ff; ++i) {
            const float g = bg_[size_t(i)];
            bg_[size_t(i)] = g / (1.0f + std::exp(-g)) * bu_[size_t(i)];
        }
        project_tokens(w.down, bg_.data(), n, bxn_.data(), pool_, weight_scratch_);
        for (int64_t i = 0; i < n * c.n_embd; ++i)
            bx_[size_t(i)] += bxn_[size_t(i)];
    }
    position_ += n;
    if (each) {  // final norm and output projection of every token, in one sgemm
        const int64_t vocab = c.vocab;
        grow(blogits_, n * vocab);
        for (int64_t t = 0; t < n; ++t)
            rms_norm(bx_.data() + t * c.n_embd, model_.output_norm(), c.n_embd, c.rms_eps,
                     bxn_.data() + t * c.n_embd);
        project_tokens(model_.output(), bxn_.data(), n, blogits_.data(), pool_, weight_scratch_);
        for (int64_t t = 0; t < n; ++t) {
            const std::span<const float> logits{blogits_.data() + t * vocab, size_t(vocab)};
            check_finite(logits, position_ - n + t);
            (*each)(size_t(t), logits);
        }
    }
    if (!want_logits) return;
    std::copy(bx_.begin() + (n - 1) * c.n_embd, bx_.begin() + n * c.n_embd, x_.begin());
    rms_norm(x_.data(), model_.output_norm(), c.n_embd, c.rms_eps, xn_.data());
    decode_matvecs(pool_, {{weights_->output, xn_.data(), logits_.data()}}, weights_->scratch);
    check_finite(logits_, position_ - 1);
}

}  // namespace adamas
