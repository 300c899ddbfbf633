// Llama-family models: the choice between the two sources (a GGUF file, a Hugging Face directory), and
// the GGUF configuration and weights — every tensor the forward pass needs is looked up, its type checked
// against the block formats we compute with, and its shape against the config.
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "adamas/error.h"
#include "adamas/llama.h"
#include "adamas/quant.h"
#include "model/llama_loader.h"

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

// `<arch>.rope.scaling.*` (or the older `<arch>.rope.scale_linear`), as llama.cpp reads them. Llama 3
// GGUFs carry no scaling type: their scaling is the rope_freqs tensor, read by from_gguf.
RopeScaling gguf_rope_scaling(const GgufFile& file, const std::string& a, int64_t context_length) {
    RopeScaling s;
    const std::string type = file.get_string(a + "rope.scaling.type", "");
    const float legacy_linear = file.get_f32(a + "rope.scale_linear", 1.0f);
    if (type.empty() || type == "none") {
        if (legacy_linear != 1.0f) {
            s.type = RopeScalingType::linear;
            s.factor = legacy_linear;
        }
    } else if (type == "linear") {
        s.type = RopeScalingType::linear;
        s.factor = file.get_f32(a + "rope.scaling.factor");
    } else if (type == "yarn") {
        s.type = RopeScalingType::yarn;
        s.factor = file.get_f32(a + "rope.scaling.factor");
        s.original_context = file.get_i64(a + "rope.scaling.original_context_length", context_length);
        s.beta_fast = file.get_f32(a + "rope.scaling.yarn_beta_fast", s.beta_fast);
        s.beta_slow = file.get_f32(a + "rope.scaling.yarn_beta_slow", s.beta_slow);
        // llama.cpp multiplies its default magnitude factor by yarn_attn_factor (1 when absent).
        s.mscale = yarn_mscale(s.factor) * file.get_f32(a + "rope.scaling.yarn_attn_factor", 1.0f);
        const float ext_factor = file.get_f32(a + "rope.scaling.yarn_ext_factor", 1.0f);
        if (ext_factor != 1.0f && ext_factor != -1.0f)  // -1 is llama.cpp's "default" (1 for yarn)
            fail("{}: '{}rope.scaling.yarn_ext_factor' is {} (only the standard 1 is supported)", file.path(),
                 a, ext_factor);
    } else {
        fail("{}: RoPE scaling type '{}' is not supported (expected none, linear or yarn)", file.path(),
             type);
    }
    validate_rope_scaling(s, file.path());
    return s;
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
    if (file.has(a + "attention.key_length")) {  // a head dim other than embedding / heads
        c.head_dim =
            checked_int(file, a + "attention.key_length", file.get_i64(a + "attention.key_length"), 1, 1024);
        const int64_t value_length = file.get_i64(a + "attention.value_length", c.head_dim);
        if (value_length != c.head_dim)
            fail("{}: '{}attention.value_length' {} differs from the key length {} (expected equal)",
                 file.path(), a, value_length, c.head_dim);
    } else {
        if (c.n_embd % c.n_head != 0)
            fail("{}: embedding length {} is not a multiple of {} heads", file.path(), c.n_embd, c.n_head);
        c.head_dim = c.n_embd / c.n_head;
    }
    check_head_dim(c.head_dim, file.path());
    c.n_ff =
        checked_int(file, a + "feed_forward_length", file.get_i64(a + "feed_forward_length"), 1, 1 << 20);
    c.context_length = file.get_i64(a + "context_length", 4096);
    c.rope_theta = file.get_f32(a + "rope.freq_base", 10000.0f);
    c.rope_dims = checked_int(file, a + "rope.dimension_count",
                              file.get_i64(a + "rope.dimension_count", c.head_dim), 2, c.head_dim);
    if (c.rope_dims % 2 != 0)
        fail("{}: '{}rope.dimension_count' is {} (expected an even number)", file.path(), a, c.rope_dims);
    // llama.cpp's converter permutes llama/mistral Q/K rows into adjacent pairs; qwen2 keeps rotate_half.
    c.rope_style = c.architecture == "qwen2" ? RopeStyle::neox : RopeStyle::adjacent;
    c.rope_scaling = gguf_rope_scaling(file, a, c.context_length);
    if (const float* factors = vector_f32(file, "rope_freqs.weight", c.rope_dims / 2, /*required=*/false))
        c.rope_freq_factors.assign(factors, factors + c.rope_dims / 2);
    for (float f : c.rope_freq_factors)
        if (!(f > 0.0f) || !std::isfinite(f))
            fail("{}: tensor 'rope_freqs.weight' holds {} (expected positive frequency divisors)",
                 file.path(), f);
    c.rms_eps = file.get_f32(a + "attention.layer_norm_rms_epsilon", 1e-5f);
    c.qkv_bias = file.find_tensor("blk.0.attn_q.bias") != nullptr;
    c.tied_embeddings = file.find_tensor("output.weight") == nullptr;
    const GgufTensor& embd = file.tensor("token_embd.weight");
    c.vocab = checked_int(file, "token_embd.weight rows", embd.ne[1], 1, 1 << 24);
    return c;
}

LlamaModel::LlamaModel() = default;
LlamaModel::~LlamaModel() = default;

std::unique_ptr<LlamaModel> LlamaModel::load(const std::string& path) {
    std::error_code ec;
    return std::filesystem::is_directory(path, ec) ? LlamaLoader::hf(path) : LlamaLoader::gguf(path);
}

const GgufFile* LlamaModel::gguf() const {
    return storage_->gguf ? &*storage_->gguf : nullptr;
}

const GgufFile& LlamaModel::file() const {
    if (!storage_->gguf) fail("{}: is a Hugging Face model directory, not a GGUF file", path_);
    return *storage_->gguf;
}

TokenizerVocab LlamaModel::tokenizer_vocab() const {
    return storage_->gguf ? vocab_from_gguf(*storage_->gguf) : vocab_from_hf(path_);
}

std::string LlamaModel::chat_template() const {
    return storage_->gguf ? storage_->gguf->get_string("tokenizer.chat_template", "")
                          : chat_template_from_hf(path_);
}

bool LlamaModel::has_tokenizer() const {
    std::error_code ec;
    return storage_->gguf ? storage_->gguf->has("tokenizer.ggml.model")
                          : std::filesystem::exists(std::filesystem::path(path_) / "tokenizer.json", ec);
}

std::unique_ptr<LlamaModel> LlamaLoader::empty_model(const std::string& path) {
    std::unique_ptr<LlamaModel> model(new LlamaModel());
    model->path_ = path;
    model->storage_ = std::make_unique<LlamaModel::Storage>();
    return model;
}

std::unique_ptr<LlamaModel> LlamaLoader::gguf(const std::string& path) {
    std::unique_ptr<LlamaModel> model = empty_model(path);
    const GgufFile& f = model->storage_->gguf.emplace(GgufFile::open(path));
    LlamaConfig& c = model->config_;
    c = LlamaConfig::from_gguf(f);
    const int64_t q_dim = int64_t(c.n_head) * c.head_dim, kv_dim = int64_t(c.n_head_kv) * c.head_dim;
    model->token_embd_ = matrix(f, "token_embd.weight", c.vocab, c.n_embd);
    model->output_ = c.tied_embeddings ? model->token_embd_ : matrix(f, "output.weight", c.vocab, c.n_embd);
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
        if (f.find_tensor(p + "attn_output.bias"))
            fail("{}: tensor '{}attn_output.bias': output projection biases are not supported yet", f.path(),
                 p);
        l.ffn_norm = vector_f32(f, p + "ffn_norm.weight", c.n_embd);
        l.gate = matrix(f, p + "ffn_gate.weight", c.n_ff, c.n_embd);
        l.up = matrix(f, p + "ffn_up.weight", c.n_ff, c.n_embd);
        l.down = matrix(f, p + "ffn_down.weight", c.n_embd, c.n_ff);
        model->layers_.push_back(l);
    }
    return model;
}

}  // namespace adamas
