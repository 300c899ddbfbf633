// A tiny random Llama-family model written both ways: as a Hugging Face directory (config.json plus
// safetensors, optionally sharded) and as a GGUF file with the Q/K rows permuted the way llama.cpp's
// converter does for llama/mistral (qwen2 is written as is). The two must give the same logits.
#pragma once
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "adamas/dtype.h"
#include "adamas/tokenizer.h"
#include "model/gguf_writer.h"
#include "model/safetensors_writer.h"

namespace adamas::test {

struct TinySpec {
    std::string arch = "llama";  // llama, mistral or qwen2
    int layers = 2, embd = 128, heads = 4, kv_heads = 2, ff = 160, vocab = 101;
    int head_dim = 32;  // may differ from embd / heads (config head_dim, GGUF attention.key_length)
    bool tied = false;
    std::string dtype = "F32";  // of every tensor in the HF files and of the GGUF matrices
    float theta = 10000.0f;
    float rms_eps = 1e-5f;
    int64_t context = 512;
    nlohmann::json rope_scaling = nullptr;  // config.json's rope_scaling
    // GGUF only: every matrix written as Q5_0 blocks of zeros, a format the engine does not compute with.
    bool q5_0_matrices = false;
    bool qkv_bias() const { return arch == "qwen2"; }
};

// The model's tensors by Hugging Face name (row-major, rows = outputs), rounded to spec.dtype so both
// files hold exactly the same values.
struct TinyModel {
    TinySpec spec;
    std::map<std::string, std::vector<float>> tensors;
    std::map<std::string, std::vector<int64_t>> shapes;
};

inline float round_to(float x, const std::string& dtype) {
    if (dtype == "F16") return f16_to_f32(f32_to_f16(x));
    if (dtype == "BF16") return bf16_to_f32(f32_to_bf16(x));
    return x;
}

inline TinyModel make_tiny_model(const TinySpec& spec, uint64_t seed) {
    TinyModel m{spec, {}, {}};
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    auto add = [&](const std::string& name, std::vector<int64_t> shape, float mean, float scale) {
        int64_t n = 1;
        for (int64_t d : shape)
            n *= d;
        std::vector<float> v(static_cast<size_t>(n));
        for (auto& x : v)
            x = round_to(mean + scale * normal(rng), spec.dtype);
        m.tensors[name] = std::move(v);
        m.shapes[name] = std::move(shape);
    };
    const int64_t q = int64_t(spec.heads) * spec.head_dim, kv = int64_t(spec.kv_heads) * spec.head_dim;
    const float in_scale = 1.0f / std::sqrt(float(spec.embd));
    add("model.embed_tokens.weight", {spec.vocab, spec.embd}, 0.0f, 1.0f);
    if (!spec.tied) add("lm_head.weight", {spec.vocab, spec.embd}, 0.0f, in_scale);
    add("model.norm.weight", {spec.embd}, 1.0f, 0.1f);
    for (int l = 0; l < spec.layers; ++l) {
        const std::string p = fmt::format("model.layers.{}.", l);
        add(p + "input_layernorm.weight", {spec.embd}, 1.0f, 0.1f);
        // Q and K a little larger than 1/sqrt(n) so attention is far from uniform and RoPE matters.
        add(p + "self_attn.q_proj.weight", {q, spec.embd}, 0.0f, 3 * in_scale);
        add(p + "self_attn.k_proj.weight", {kv, spec.embd}, 0.0f, 3 * in_scale);
        add(p + "self_attn.v_proj.weight", {kv, spec.embd}, 0.0f, in_scale);
        add(p + "self_attn.o_proj.weight", {spec.embd, q}, 0.0f, 1.0f / std::sqrt(float(q)));
        if (spec.qkv_bias()) {
            add(p + "self_attn.q_proj.bias", {q}, 0.0f, 0.5f);
            add(p + "self_attn.k_proj.bias", {kv}, 0.0f, 0.5f);
            add(p + "self_attn.v_proj.bias", {kv}, 0.0f, 0.1f);
        }
        add(p + "post_attention_layernorm.weight", {spec.embd}, 1.0f, 0.1f);
        add(p + "mlp.gate_proj.weight", {spec.ff, spec.embd}, 0.0f, in_scale);
        add(p + "mlp.up_proj.weight", {spec.ff, spec.embd}, 0.0f, in_scale);
        add(p + "mlp.down_proj.weight", {spec.embd, spec.ff}, 0.0f, 1.0f / std::sqrt(float(spec.ff)));
    }
    return m;
}

inline nlohmann::ordered_json tiny_config(const TinySpec& s) {
    const char* cls = s.arch == "qwen2"     ? "Qwen2ForCausalLM"
                      : s.arch == "mistral" ? "MistralForCausalLM"
                                            : "LlamaForCausalLM";
    nlohmann::ordered_json c = {{"architectures", {cls}},
                                {"model_type", s.arch},
                                {"hidden_act", "silu"},
                                {"hidden_size", s.embd},
                                {"num_hidden_layers", s.layers},
                                {"num_attention_heads", s.heads},
                                {"num_key_value_heads", s.kv_heads},
                                {"head_dim", s.head_dim},
                                {"intermediate_size", s.ff},
                                {"vocab_size", s.vocab},
                                {"rms_norm_eps", s.rms_eps},
                                {"rope_theta", s.theta},
                                {"max_position_embeddings", s.context},
                                {"tie_word_embeddings", s.tied},
                                {"rope_scaling", s.rope_scaling},
                                {"torch_dtype", "float32"}};
    return c;
}

// Writes config.json and the weights: model.safetensors, or `shards` files with an index.
inline void write_hf_model(const TinyModel& m, const std::filesystem::path& dir, int shards = 1) {
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "config.json") << tiny_config(m.spec).dump(2);
    std::vector<std::vector<StTensor>> files(static_cast<size_t>(shards));
    size_t i = 0;
    for (const auto& [name, values] : m.tensors)
        files[i++ % files.size()].push_back(
            {name, m.spec.dtype, m.shapes.at(name), encode_floats(values, m.spec.dtype)});
    if (shards == 1) {
        std::ofstream(dir / "model.safetensors", std::ios::binary) << safetensors_file(files[0]);
        return;
    }
    nlohmann::ordered_json index = {{"metadata", {{"total_size", 0}}},
                                    {"weight_map", nlohmann::ordered_json::object()}};
    for (int s = 0; s < shards; ++s) {
        const std::string file = fmt::format("model-{:05}-of-{:05}.safetensors", s + 1, shards);
        std::ofstream(dir / file, std::ios::binary) << safetensors_file(files[size_t(s)]);
        for (const StTensor& t : files[size_t(s)])
            index["weight_map"][t.name] = file;
    }
    std::ofstream(dir / "model.safetensors.index.json") << index.dump(2);
}

// llama.cpp's converter permutation of Q/K rows (and biases) for llama/mistral: within each head, the
// rotate_half pairs (i, i + d/2) become adjacent rows (2i, 2i + 1).
inline std::vector<float> permute_rows(const std::vector<float>& w, int heads, int64_t cols) {
    const int64_t rows = int64_t(w.size()) / cols, d = rows / heads;
    std::vector<float> out(w.size());
    for (int h = 0; h < heads; ++h)
        for (int64_t i = 0; i < d / 2; ++i)
            for (int half = 0; half < 2; ++half) {
                const int64_t from = h * d + half * (d / 2) + i, to = h * d + 2 * i + half;
                std::copy_n(w.begin() + from * cols, cols, out.begin() + to * cols);
            }
    return out;
}

inline uint32_t gguf_type_of(const std::string& dtype) {
    return dtype == "F16" ? 1 : dtype == "BF16" ? 30 : 0;
}

// The same model as a GGUF file's bytes (matrices in spec.dtype, vectors in f32). `extra` adds metadata
// (RoPE scaling keys) and tensors (rope_freqs.weight). `permute_qk` false leaves llama/mistral Q/K rows
// in Hugging Face order, which makes another model under GGUF's adjacent-pair RoPE.
inline std::string tiny_gguf(const TinyModel& m, const std::function<void(GgufWriter&)>& extra = {},
                             bool permute_qk = true, GgufWriter::Layout* layout = nullptr) {
    using namespace gguf_enc;
    const TinySpec& s = m.spec;
    const std::string a = s.arch + ".";
    GgufWriter w;
    w.kv("general.architecture", kString, str(s.arch))
        .kv(a + "block_count", kU32, scalar<uint32_t>(uint32_t(s.layers)))
        .kv(a + "context_length", kU32, scalar<uint32_t>(uint32_t(s.context)))
        .kv(a + "embedding_length", kU32, scalar<uint32_t>(uint32_t(s.embd)))
        .kv(a + "feed_forward_length", kU32, scalar<uint32_t>(uint32_t(s.ff)))
        .kv(a + "attention.head_count", kU32, scalar<uint32_t>(uint32_t(s.heads)))
        .kv(a + "attention.head_count_kv", kU32, scalar<uint32_t>(uint32_t(s.kv_heads)))
        .kv(a + "rope.freq_base", kF32, scalar<float>(s.theta))
        .kv(a + "rope.dimension_count", kU32, scalar<uint32_t>(uint32_t(s.head_dim)))
        .kv(a + "attention.layer_norm_rms_epsilon", kF32, scalar<float>(s.rms_eps));
    if (s.head_dim * s.heads != s.embd)
        w.kv(a + "attention.key_length", kU32, scalar<uint32_t>(uint32_t(s.head_dim)));
    if (extra) extra(w);
    const bool permute = permute_qk && s.arch != "qwen2";
    auto put = [&](const std::string& hf, const std::string& gguf, int permute_heads = 0) {
        std::vector<float> v = m.tensors.at(hf);
        const std::vector<int64_t>& shape = m.shapes.at(hf);
        const int64_t cols = shape.size() == 2 ? shape[1] : 1;
        if (permute && permute_heads) v = permute_rows(v, permute_heads, cols);
        std::vector<uint64_t> dims;
        for (auto it = shape.rbegin(); it != shape.rend(); ++it)  // ggml: innermost first
            dims.push_back(uint64_t(*it));
        const std::string dtype = shape.size() == 2 ? s.dtype : "F32";
        if (s.q5_0_matrices && shape.size() == 2) {  // 22 bytes per 32 elements; ggml type 6
            w.tensor(gguf, 6, dims, std::string(size_t(int64_t(v.size()) / 32 * 22), '\0'));
            return;
        }
        w.tensor(gguf, gguf_type_of(dtype), dims, encode_floats(v, dtype));
    };
    put("model.embed_tokens.weight", "token_embd.weight");
    if (!s.tied) put("lm_head.weight", "output.weight");
    put("model.norm.weight", "output_norm.weight");
    for (int l = 0; l < s.layers; ++l) {
        const std::string p = fmt::format("model.layers.{}.", l), b = fmt::format("blk.{}.", l);
        put(p + "input_layernorm.weight", b + "attn_norm.weight");
        put(p + "self_attn.q_proj.weight", b + "attn_q.weight", s.heads);
        put(p + "self_attn.k_proj.weight", b + "attn_k.weight", s.kv_heads);
        put(p + "self_attn.v_proj.weight", b + "attn_v.weight");
        put(p + "self_attn.o_proj.weight", b + "attn_output.weight");
        if (s.qkv_bias()) {
            put(p + "self_attn.q_proj.bias", b + "attn_q.bias", s.heads);
            put(p + "self_attn.k_proj.bias", b + "attn_k.bias", s.kv_heads);
            put(p + "self_attn.v_proj.bias", b + "attn_v.bias");
        }
        put(p + "post_attention_layernorm.weight", b + "ffn_norm.weight");
        put(p + "mlp.gate_proj.weight", b + "ffn_gate.weight");
        put(p + "mlp.up_proj.weight", b + "ffn_up.weight");
        put(p + "mlp.down_proj.weight", b + "ffn_down.weight");
    }
    std::string bytes = w.build();
    if (layout) *layout = w.layout;
    return bytes;
}

// tokenizer.ggml.* of a byte-level vocabulary, as GGUF metadata (for tiny_gguf's `extra`).
inline void add_vocab_metadata(GgufWriter& w, const TokenizerVocab& v) {
    using namespace gguf_enc;
    w.kv("tokenizer.ggml.model", kString, str(v.model))
        .kv("tokenizer.ggml.pre", kString, str(v.pre))
        .kv("tokenizer.ggml.tokens", kArray, string_array(v.tokens))
        .kv("tokenizer.ggml.token_type", kArray, array_of<int32_t>(kI32, v.token_types))
        .kv("tokenizer.ggml.merges", kArray, string_array(v.merges))
        .kv("tokenizer.ggml.eos_token_id", kU32, scalar<uint32_t>(uint32_t(v.eos)));
}

}  // namespace adamas::test
