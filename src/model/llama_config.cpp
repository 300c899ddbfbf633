// LlamaConfig from a GGUF file's `<arch>.*` metadata (llama, mistral, qwen2), as llama.cpp reads it, and
// the checks of the numbers both configuration readers share (this one and config.json's).
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "adamas/error.h"
#include "adamas/llama.h"

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

// llama.cpp's rope_freqs.weight: rope_dims / 2 f32 divisors of the frequencies (Llama 3's scaling);
// empty when absent. Copied, since a file with a small general.alignment may not align its floats.
std::vector<float> read_rope_freqs(const GgufFile& file, int64_t size) {
    const GgufTensor* t = file.find_tensor("rope_freqs.weight");
    if (!t) return {};
    if (t->type != GgmlType::f32 || t->elements != size)
        fail("{}: tensor 'rope_freqs.weight' is {} with {} elements (expected f32 with {})", file.path(),
             ggml_type_name(t->type), t->elements, size);
    std::vector<float> factors(static_cast<size_t>(size));
    std::memcpy(factors.data(), t->data, factors.size() * sizeof(float));
    return factors;
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

void check_config_numbers(const LlamaConfig& c, const std::string& where) {
    if (!(c.rms_eps > 0.0f && c.rms_eps < 1.0f))
        fail("{}: the RMS norm epsilon is {} (expected a positive number below 1)", where, c.rms_eps);
    if (!(c.rope_theta > 1.0f) || !std::isfinite(c.rope_theta))
        fail("{}: the RoPE base frequency (theta) is {} (expected a finite number above 1)", where,
             c.rope_theta);
}

LlamaConfig LlamaConfig::from_gguf(const GgufFile& file) {
    LlamaConfig c;
    c.architecture = file.get_string("general.architecture");
    if (!supported_architecture(c.architecture))
        fail("{}: architecture '{}' is not supported (expected llama, mistral or qwen2)", file.path(),
             printable(c.architecture));
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
    if (c.context_length < 1 || c.context_length > kMaxContextLength)
        fail("{}: '{}context_length' is {} (expected 1 to {})", file.path(), a, c.context_length,
             kMaxContextLength);
    c.rope_theta = file.get_f32(a + "rope.freq_base", 10000.0f);
    c.rope_dims = checked_int(file, a + "rope.dimension_count",
                              file.get_i64(a + "rope.dimension_count", c.head_dim), 2, c.head_dim);
    if (c.rope_dims % 2 != 0)
        fail("{}: '{}rope.dimension_count' is {} (expected an even number)", file.path(), a, c.rope_dims);
    // llama.cpp's converter permutes llama/mistral Q/K rows into adjacent pairs; qwen2 keeps rotate_half.
    c.rope_style = c.architecture == "qwen2" ? RopeStyle::neox : RopeStyle::adjacent;
    c.rope_scaling = gguf_rope_scaling(file, a, c.context_length);
    c.rope_freq_factors = read_rope_freqs(file, c.rope_dims / 2);
    for (float f : c.rope_freq_factors)
        if (!(f > 0.0f) || !std::isfinite(f))
            fail("{}: tensor 'rope_freqs.weight' holds {} (expected positive frequency divisors)",
                 file.path(), f);
    c.rms_eps = file.get_f32(a + "attention.layer_norm_rms_epsilon", 1e-5f);
    check_config_numbers(c, file.path());
    c.qkv_bias = file.find_tensor("blk.0.attn_q.bias") != nullptr;
    c.tied_embeddings = file.find_tensor("output.weight") == nullptr;
    const GgufTensor& embd = file.tensor("token_embd.weight");
    c.vocab = checked_int(file, "token_embd.weight rows", embd.ne[1], 1, 1 << 24);
    return c;
}

}  // namespace adamas
