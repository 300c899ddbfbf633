// Llama-family weights from a Hugging Face directory: config.json plus safetensors. Matrices stay in the
// mapped files in their stored dtype (F32, F16 or BF16 — the matvec and prefill paths read all three);
// norms and biases become f32 copies, since the runner reads them as `const float*`.
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "adamas/dtype.h"
#include "adamas/error.h"
#include "adamas/llama.h"
#include "model/llama_loader.h"

namespace adamas {

namespace {

std::optional<GgmlType> compute_type(SafetensorsDtype t) {
    switch (t) {
        case SafetensorsDtype::f32:
            return GgmlType::f32;
        case SafetensorsDtype::f16:
            return GgmlType::f16;
        case SafetensorsDtype::bf16:
            return GgmlType::bf16;
        default:
            return std::nullopt;
    }
}

std::string shape_text(const std::vector<int64_t>& shape) {
    return fmt::format("[{}]", fmt::join(shape, ", "));
}

// Tensor lookups by Hugging Face name, with shape and dtype checks that name the file holding the tensor.
class HfTensors {
  public:
    HfTensors(const SafetensorsCheckpoint& checkpoint, LlamaModel::Storage& storage, std::string model_type)
        : checkpoint_(checkpoint), storage_(storage), model_type_(std::move(model_type)) {}

    bool has(const std::string& name) const { return checkpoint_.find(name) != nullptr; }

    // A `rows` × `cols` matrix (PyTorch's Linear layout [out, in] is ggml's row-major rows × cols).
    WeightMatrix matrix(const std::string& name, int64_t rows, int64_t cols) {
        const SafetensorsTensor& t = get(name);
        const GgmlType type = float_type(t);
        if (t.shape != std::vector<int64_t>{rows, cols})
            fail("{}: tensor '{}' has shape {} (expected [{}, {}] for this configuration)",
                 checkpoint_.file_of(name), name, shape_text(t.shape), rows, cols);
        const void* data = t.data;
        // The format does not align tensor data; the kernels read whole elements, so a matrix whose
        // bytes are not aligned to its element size is copied (real files are aligned: never in practice).
        if (reinterpret_cast<uintptr_t>(data) % uintptr_t(safetensors_dtype_size(t.dtype)) != 0) {
            float* copy = storage_.keep(std::vector<float>((t.bytes() + 3) / 4));
            std::memcpy(copy, t.data, t.bytes());
            data = copy;
        }
        return WeightMatrix{type, data, rows, cols};
    }

    // A vector of `size` elements as an f32 copy; nullptr when absent and not required.
    const float* vector(const std::string& name, int64_t size, bool required = true) {
        if (!required && !has(name)) return nullptr;
        const SafetensorsTensor& t = get(name);
        const GgmlType type = float_type(t);
        if (t.shape != std::vector<int64_t>{size})
            fail("{}: tensor '{}' has shape {} (expected [{}] for this configuration)",
                 checkpoint_.file_of(name), name, shape_text(t.shape), size);
        std::vector<float> out(static_cast<size_t>(size));
        for (int64_t i = 0; i < size; ++i) {
            const uint8_t* p = t.data + i * safetensors_dtype_size(t.dtype);
            uint16_t h = 0;
            if (type == GgmlType::f32) {
                std::memcpy(&out[size_t(i)], p, 4);
                continue;
            }
            std::memcpy(&h, p, 2);
            out[size_t(i)] = type == GgmlType::f16 ? f16_to_f32(h) : bf16_to_f32(h);
        }
        return storage_.keep(std::move(out));
    }

    // A tensor that the configuration rules out must not be there: ignoring it would compute another model.
    void reject(const std::string& name, const std::string& why) const {
        if (has(name)) fail("{}: tensor '{}': {}", checkpoint_.file_of(name), name, why);
    }

  private:
    const SafetensorsTensor& get(const std::string& name) const {
        const SafetensorsTensor* t = checkpoint_.find(name);
        if (!t)
            fail("{}: tensor '{}' is missing (expected in a {} checkpoint with this config.json)",
                 checkpoint_.directory(), name, model_type_);
        return *t;
    }

    GgmlType float_type(const SafetensorsTensor& t) const {
        const auto type = compute_type(t.dtype);
        if (!type)
            fail("{}: tensor '{}' has dtype {} (expected F32, F16 or BF16)", checkpoint_.file_of(t.name),
                 t.name, safetensors_dtype_name(t.dtype));
        return *type;
    }

    const SafetensorsCheckpoint& checkpoint_;
    LlamaModel::Storage& storage_;
    std::string model_type_;
};

}  // namespace

std::unique_ptr<LlamaModel> LlamaLoader::hf(const std::string& directory) {
    namespace fs = std::filesystem;
    std::unique_ptr<LlamaModel> model = empty_model(directory);
    const fs::path config_path = fs::path(directory) / "config.json";
    std::error_code ec;
    if (!fs::exists(config_path, ec))
        fail(
            "{}: has no config.json (expected a GGUF file, or a Hugging Face model directory with "
            "config.json "
            "and safetensors weights)",
            directory);
    LlamaConfig& c = model->config_;
    c = LlamaConfig::from_hf_config(config_path.string());
    LlamaModel::Storage& storage = *model->storage_;
    HfTensors w(storage.checkpoint.emplace(SafetensorsCheckpoint::open(directory)), storage, c.architecture);

    const int64_t q_dim = int64_t(c.n_head) * c.head_dim, kv_dim = int64_t(c.n_head_kv) * c.head_dim;
    model->token_embd_ = w.matrix("model.embed_tokens.weight", c.vocab, c.n_embd);
    // Tied models may still ship lm_head.weight (a copy); the config decides, as in Hugging Face.
    model->output_ = c.tied_embeddings ? model->token_embd_ : w.matrix("lm_head.weight", c.vocab, c.n_embd);
    model->output_norm_ = w.vector("model.norm.weight", c.n_embd);
    for (int i = 0; i < c.n_layer; ++i) {
        const std::string p = fmt::format("model.layers.{}.", i);
        LlamaLayer l;
        l.attn_norm = w.vector(p + "input_layernorm.weight", c.n_embd);
        l.q = w.matrix(p + "self_attn.q_proj.weight", q_dim, c.n_embd);
        l.k = w.matrix(p + "self_attn.k_proj.weight", kv_dim, c.n_embd);
        l.v = w.matrix(p + "self_attn.v_proj.weight", kv_dim, c.n_embd);
        l.o = w.matrix(p + "self_attn.o_proj.weight", c.n_embd, q_dim);
        if (c.qkv_bias) {
            l.q_bias = w.vector(p + "self_attn.q_proj.bias", q_dim);
            l.k_bias = w.vector(p + "self_attn.k_proj.bias", kv_dim);
            l.v_bias = w.vector(p + "self_attn.v_proj.bias", kv_dim);
        } else {
            for (const char* proj : {"q_proj", "k_proj", "v_proj"})
                w.reject(p + "self_attn." + proj + ".bias", "config.json declares no attention biases");
        }
        w.reject(p + "self_attn.o_proj.bias", "output projection biases are not supported yet");
        l.ffn_norm = w.vector(p + "post_attention_layernorm.weight", c.n_embd);
        l.gate = w.matrix(p + "mlp.gate_proj.weight", c.n_ff, c.n_embd);
        l.up = w.matrix(p + "mlp.up_proj.weight", c.n_ff, c.n_embd);
        l.down = w.matrix(p + "mlp.down_proj.weight", c.n_embd, c.n_ff);
        model->layers_.push_back(l);
    }
    return model;
}

}  // namespace adamas
