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

// Weights are used in place in the mapping; float and half elements must sit at their natural alignment,
// which a file with general.alignment below 4 need not give them.
void check_aligned(const GgufFile& file, const GgufTensor& t) {
    const size_t need = t.type == GgmlType::f32                                 ? 4
                        : (t.type == GgmlType::f16 || t.type == GgmlType::bf16) ? 2
                                                                                : 1;
    if (reinterpret_cast<uintptr_t>(t.data) % need != 0)
        fail(
            "{}: tensor '{}' ({}) starts at byte {} of the file, not a multiple of {} (general.alignment {}; "
            "expected {}-byte aligned tensor data)",
            file.path(), t.name, ggml_type_name(t.type), file.data_offset() + t.offset, need,
            file.alignment(), need);
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
    check_aligned(file, t);
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
    check_aligned(file, *t);
    return reinterpret_cast<const float*>(t->data);
}

}  // namespace

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
    TokenizerVocab vocab = storage_->gguf ? vocab_from_gguf(*storage_->gguf) : vocab_from_hf(path_);
    // Every token id indexes the embedding and the logits: more tokens than rows would read past both.
    if (vocab.tokens.size() > size_t(config_.vocab))
        fail(
            "{}: the tokenizer has {} tokens but the model's embedding has {} rows (expected no more tokens "
            "than rows)",
            path_, vocab.tokens.size(), config_.vocab);
    return vocab;
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
