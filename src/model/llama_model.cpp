// Llama-family configuration and weights from GGUF: every tensor the forward pass needs is looked up,
// its type checked against the block formats we compute with, and its shape against the config.
#include <fmt/format.h>

#include "adamas/error.h"
#include "adamas/llama.h"
#include "adamas/quant.h"

namespace adamas {

namespace {

// Architectures that share the Llama block (RMSNorm, RoPE, GQA, SwiGLU), keyed by general.architecture.
bool supported_architecture(const std::string& arch) {
    return arch == "llama" || arch == "mistral" || arch == "qwen2";
}

int checked_int(const GgufFile& file, const std::string& key, int64_t value, int64_t low, int64_t high) {
    if (value < low || value > high)
        fail("{}: '{}' is {} (expected {} to {})", file.path(), key, value, low, high);
    return int(value);
}

WeightMatrix matrix(const GgufFile& file, const std::string& name, int64_t rows, int64_t cols) {
    const GgufTensor& t = file.tensor(name);
    if (!dequantize_supported(t.type))
        fail(
            "{}: tensor '{}' has type {}, which the engine does not compute with (supported: f32, f16, bf16, "
            "q8_0, q4_0, q4_1, q4_K, q5_K, q6_K)",
            file.path(), name, ggml_type_name(t.type));
    if (t.n_dims != 2 || t.ne[0] != cols || t.ne[1] != rows)
        fail("{}: tensor '{}' has shape [{}, {}] (expected [{}, {}] for this configuration)", file.path(),
             name, t.ne[0], t.ne[1], cols, rows);
    return WeightMatrix{t.type, t.data, rows, cols};
}

const float* vector_f32(const GgufFile& file, const std::string& name, int64_t size, bool required = true) {
    const GgufTensor* t = file.find_tensor(name);
    if (!t) {
        if (required) fail("{}: tensor '{}' is missing", file.path(), name);
        return nullptr;
    }
    if (t->type != GgmlType::f32 || t->elements != size)
        fail("{}: tensor '{}' is {} with {} elements (expected f32 with {})", file.path(), name,
             ggml_type_name(t->type), t->elements, size);
    return reinterpret_cast<const float*>(t->data);
}

}  // namespace

LlamaConfig LlamaConfig::from_gguf(const GgufFile& file) {
    LlamaConfig c;
    c.architecture = file.get_string("general.architecture");
    if (!supported_architecture(c.architecture))
        fail("{}: architecture '{}' is not supported (expected llama, mistral or qwen2)", file.path(),
             c.architecture);
    const std::string a = c.architecture + ".";
    c.n_layer = checked_int(file, a + "block_count", file.get_i64(a + "block_count"), 1, 1024);
    c.n_embd = checked_int(file, a + "embedding_length", file.get_i64(a + "embedding_length"), 1, 1 << 16);
    c.n_head =
        checked_int(file, a + "attention.head_count", file.get_i64(a + "attention.head_count"), 1, 1024);
    c.n_head_kv = checked_int(file, a + "attention.head_count_kv",
                              file.get_i64(a + "attention.head_count_kv", c.n_head), 1, c.n_head);
    if (c.n_head % c.n_head_kv != 0)
        fail("{}: {} attention heads are not a multiple of {} KV heads", file.path(), c.n_head, c.n_head_kv);
    if (c.n_embd % c.n_head != 0)
        fail("{}: embedding length {} is not a multiple of {} heads", file.path(), c.n_embd, c.n_head);
    c.head_dim = c.n_embd / c.n_head;
    check_head_dim(c.head_dim, file.path() + ": head dim");
    c.n_ff =
        checked_int(file, a + "feed_forward_length", file.get_i64(a + "feed_forward_length"), 1, 1 << 20);
    c.context_length = file.get_i64(a + "context_length", 4096);
    c.rope_theta = file.get_f32(a + "rope.freq_base", 10000.0f);
    c.rope_dims = checked_int(file, a + "rope.dimension_count",
                              file.get_i64(a + "rope.dimension_count", c.head_dim), 2, c.head_dim);
    c.rms_eps = file.get_f32(a + "attention.layer_norm_rms_epsilon", 1e-5f);
    if (file.has(a + "rope.scaling.type") && file.get_string(a + "rope.scaling.type") != "none")
        fail("{}: RoPE scaling '{}' is not supported yet", file.path(),
             file.get_string(a + "rope.scaling.type"));
    const GgufTensor& embd = file.tensor("token_embd.weight");
    c.vocab = checked_int(file, "token_embd.weight rows", embd.ne[1], 1, 1 << 24);
    return c;
}

std::unique_ptr<LlamaModel> LlamaModel::load(const std::string& path) {
    std::unique_ptr<LlamaModel> model(new LlamaModel(GgufFile::open(path)));
    const GgufFile& f = model->file_;
    LlamaConfig& c = model->config_;
    c = LlamaConfig::from_gguf(f);
    const int64_t q_dim = int64_t(c.n_head) * c.head_dim, kv_dim = int64_t(c.n_head_kv) * c.head_dim;
    model->token_embd_ = matrix(f, "token_embd.weight", c.vocab, c.n_embd);
    model->output_ =
        f.find_tensor("output.weight") ? matrix(f, "output.weight", c.vocab, c.n_embd) : model->token_embd_;
    model->output_norm_ = vector_f32(f, "output_norm.weight", c.n_embd);
    for (int i = 0; i < c.n_layer; ++i) {
        const std::string p = fmt::format("blk.{}.", i);
        LlamaLayer l;
        l.attn_norm = vector_f32(f, p + "attn_norm.weight", c.n_embd);
        l.q = matrix(f, p + "attn_q.weight", q_dim, c.n_embd);
        l.k = matrix(f, p + "attn_k.weight", kv_dim, c.n_embd);
        l.v = matrix(f, p + "attn_v.weight", kv_dim, c.n_embd);
        l.o = matrix(f, p + "attn_output.weight", c.n_embd, q_dim);
        l.q_bias = vector_f32(f, p + "attn_q.bias", q_dim, false);
        l.k_bias = vector_f32(f, p + "attn_k.bias", kv_dim, false);
        l.v_bias = vector_f32(f, p + "attn_v.bias", kv_dim, false);
        l.ffn_norm = vector_f32(f, p + "ffn_norm.weight", c.n_embd);
        l.gate = matrix(f, p + "ffn_gate.weight", c.n_ff, c.n_embd);
        l.up = matrix(f, p + "ffn_up.weight", c.n_ff, c.n_embd);
        l.down = matrix(f, p + "ffn_down.weight", c.n_embd, c.n_ff);
        model->layers_.push_back(l);
    }
    return model;
}

}  // namespace adamas
