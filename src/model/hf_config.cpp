// LlamaConfig from a Hugging Face config.json (llama, mistral, qwen2), with the same range checks as the
// GGUF keys and rope_scaling (linear, llama3, yarn). Hugging Face weights use rotate_half, so the RoPE
// style is always neox and no Q/K permutation is needed.
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "adamas/error.h"
#include "adamas/llama.h"
#include "model/json_file.h"

namespace adamas {

namespace {

constexpr uint64_t kMaxConfigBytes = 16 << 20;

// Typed access to config.json keys; every Error names the file, the key, what was found and expected.
class ConfigJson {
  public:
    ConfigJson(std::string path, const nlohmann::json& json) : path_(std::move(path)), json_(json) {}

    const std::string& path() const { return path_; }

    // Absent and null both count as absent: Hugging Face writes `"head_dim": null`.
    const nlohmann::json* find(const std::string& key) const {
        auto it = json_.find(key);
        return it == json_.end() || it->is_null() ? nullptr : &*it;
    }

    int64_t integer(const std::string& key, int64_t low, int64_t high) const {
        const nlohmann::json* v = find(key);
        if (!v) fail("{}: '{}' is missing (expected an integer from {} to {})", path_, key, low, high);
        return checked(key, *v, low, high);
    }
    int64_t integer(const std::string& key, int64_t low, int64_t high, int64_t fallback) const {
        const nlohmann::json* v = find(key);
        return v ? checked(key, *v, low, high) : fallback;
    }

    double number(const std::string& key, double fallback) const {
        const nlohmann::json* v = find(key);
        if (!v) return fallback;
        return number_value(key, *v);
    }
    // Every number of a config is used as a float: one beyond float's range is an error, not infinity.
    double number_value(const std::string& key, const nlohmann::json& v) const {
        if (!v.is_number() || !(std::abs(v.get<double>()) <= double(std::numeric_limits<float>::max())))
            fail("{}: '{}' is {} (expected a number within float range)", path_, key, json_excerpt(v));
        return v.get<double>();
    }

    bool boolean(const std::string& key, bool fallback) const {
        const nlohmann::json* v = find(key);
        if (!v) return fallback;
        if (!v->is_boolean()) fail("{}: '{}' is {} (expected true or false)", path_, key, json_excerpt(*v));
        return v->get<bool>();
    }

    std::string string(const std::string& key) const {
        const nlohmann::json* v = find(key);
        if (!v) return "";
        if (!v->is_string()) fail("{}: '{}' is {} (expected a string)", path_, key, json_excerpt(*v));
        return v->get<std::string>();
    }

  private:
    int64_t checked(const std::string& key, const nlohmann::json& v, int64_t low, int64_t high) const {
        if (!v.is_number_integer())
            fail("{}: '{}' is {} (expected an integer from {} to {})", path_, key, json_excerpt(v), low,
                 high);
        const bool fits = v.is_number_unsigned() ? v.get<uint64_t>() <= uint64_t(high) : true;
        const int64_t x = fits ? v.get<int64_t>() : high + 1;
        if (x < low || x > high)
            fail("{}: '{}' is {} (expected {} to {})", path_, key, json_excerpt(v), low, high);
        return x;
    }

    std::string path_;
    const nlohmann::json& json_;
};

// model_type, else the first of `architectures` (older configs).
std::string model_type(const ConfigJson& config) {
    std::string type = config.string("model_type");
    std::string architecture;
    if (const nlohmann::json* a = config.find("architectures")) {
        if (!a->is_array() || a->empty() || !(*a)[0].is_string())
            fail("{}: 'architectures' is {} (expected a list of class names)", config.path(),
                 json_excerpt(*a));
        architecture = (*a)[0].get<std::string>();
        static const std::pair<const char*, const char*> kCausalLm[] = {
            {"LlamaForCausalLM", "llama"}, {"MistralForCausalLM", "mistral"}, {"Qwen2ForCausalLM", "qwen2"}};
        std::string from_architecture;
        for (const auto& [name, t] : kCausalLm)
            if (architecture == name) from_architecture = t;
        // A classification or embedding head has no lm_head: the weights would not make a generator.
        if (from_architecture.empty())
            fail(
                "{}: architecture '{}' is not supported (expected LlamaForCausalLM, MistralForCausalLM or "
                "Qwen2ForCausalLM)",
                config.path(), printable(architecture));
        if (type.empty()) type = from_architecture;
    }
    if (type.empty())
        fail(
            "{}: neither 'model_type' nor 'architectures' says what the model is (expected llama, mistral "
            "or qwen2)",
            config.path());
    if (type != "llama" && type != "mistral" && type != "qwen2")
        fail("{}: model_type '{}' is not supported (expected llama, mistral or qwen2)", config.path(),
             printable(type));
    return type;
}

// config.json's rope_scaling, as Hugging Face defines it ("rope_type", or "type" in older files).
RopeScaling hf_rope_scaling(const ConfigJson& config, int64_t max_positions) {
    RopeScaling s;
    const nlohmann::json* r = config.find("rope_scaling");
    if (!r) return s;
    if (!r->is_object())
        fail("{}: 'rope_scaling' is {} (expected an object or null)", config.path(), json_excerpt(*r));
    const ConfigJson scaling(config.path(), *r);
    std::string type = scaling.string("rope_type");
    if (type.empty()) type = scaling.string("type");
    auto number = [&](const char* key) {
        const nlohmann::json* v = scaling.find(key);
        if (!v) fail("{}: rope_scaling of type '{}' has no '{}'", config.path(), type, key);
        return scaling.number_value(std::string("rope_scaling.") + key, *v);
    };
    const std::string where = config.path() + ": rope_scaling";
    if (type.empty() || type == "default") return s;
    if (type == "linear") {
        s.type = RopeScalingType::linear;
        s.factor = float(number("factor"));
    } else if (type == "llama3") {
        s.type = RopeScalingType::llama3;
        s.factor = float(number("factor"));
        s.low_freq_factor = float(number("low_freq_factor"));
        s.high_freq_factor = float(number("high_freq_factor"));
        s.original_context = scaling.integer("original_max_position_embeddings", 1, int64_t(1) << 40);
    } else if (type == "yarn") {
        s.type = RopeScalingType::yarn;
        s.factor = float(number("factor"));
        s.original_context =
            scaling.integer("original_max_position_embeddings", 1, int64_t(1) << 40, max_positions);
        s.beta_fast = float(scaling.number("beta_fast", s.beta_fast));
        s.beta_slow = float(scaling.number("beta_slow", s.beta_slow));
        if (scaling.find("mscale") || scaling.find("mscale_all_dim"))
            fail("{}: rope_scaling 'mscale'/'mscale_all_dim' (DeepSeek's YaRN variant) is not supported",
                 config.path());
        s.mscale = float(scaling.number("attention_factor", yarn_mscale(s.factor)));
    } else {
        fail("{}: RoPE scaling type '{}' is not supported (expected linear, llama3 or yarn)", where, type);
    }
    validate_rope_scaling(s, where);
    return s;
}

}  // namespace

LlamaConfig LlamaConfig::from_hf_config(const std::string& path) {
    const nlohmann::json json = read_json_object(path, kMaxConfigBytes, "a small JSON config");
    const ConfigJson config(path, json);

    LlamaConfig c;
    c.architecture = model_type(config);
    if (const std::string act = config.string("hidden_act"); !act.empty() && act != "silu")
        fail("{}: hidden_act '{}' is not supported (expected silu)", path, act);
    c.n_layer = int(config.integer("num_hidden_layers", 1, 1024));
    c.n_embd = int(config.integer("hidden_size", 1, 1 << 16));
    c.n_head = int(config.integer("num_attention_heads", 1, 1024));
    c.n_head_kv = int(config.integer("num_key_value_heads", 1, c.n_head, c.n_head));
    if (c.n_head % c.n_head_kv != 0)
        fail("{}: {} attention heads are not a multiple of {} KV heads", path, c.n_head, c.n_head_kv);
    if (!config.find("head_dim") && c.n_embd % c.n_head != 0)
        fail("{}: hidden_size {} is not a multiple of {} heads (and no head_dim is given)", path, c.n_embd,
             c.n_head);
    c.head_dim = int(config.integer("head_dim", 1, 1024, c.n_embd / c.n_head));
    check_head_dim(c.head_dim, path);
    c.n_ff = int(config.integer("intermediate_size", 1, 1 << 20));
    c.vocab = int(config.integer("vocab_size", 1, 1 << 24));
    // Hugging Face's defaults per model type when the key is absent.
    const int64_t default_positions = c.architecture == "llama" ? 2048 : 32768;
    c.context_length = config.integer("max_position_embeddings", 1, kMaxContextLength, default_positions);
    c.rms_eps = float(config.number("rms_norm_eps", 1e-6));
    c.rope_theta = float(config.number("rope_theta", 10000.0));
    check_config_numbers(c, path);
    const double partial = config.number("partial_rotary_factor", 1.0);
    c.rope_dims = int(std::lround(c.head_dim * partial));
    if (!(partial > 0.0 && partial <= 1.0) || c.rope_dims < 2 || c.rope_dims % 2 != 0)
        fail(
            "{}: 'partial_rotary_factor' {} leaves {} rotated dims of {} (expected an even number, at least "
            "2)",
            path, partial, c.rope_dims, c.head_dim);
    c.rope_style = RopeStyle::neox;  // rotate_half on the weights as trained
    c.rope_scaling = hf_rope_scaling(config, c.context_length);
    c.tied_embeddings = config.boolean("tie_word_embeddings", false);
    // Qwen2 always has Q/K/V biases (its config has no switch); Llama's attention_bias also adds one to
    // the output projection, which the loader reports as unsupported when it finds it.
    c.qkv_bias = c.architecture == "qwen2" || config.boolean("attention_bias", false);
    if (config.boolean("mlp_bias", false))
        fail("{}: mlp_bias is true: feed-forward biases are not supported yet", path);
    if (c.architecture == "qwen2" && config.boolean("use_sliding_window", false))
        fail("{}: use_sliding_window is true: Qwen2 sliding-window attention is not supported", path);
    // Mistral's sliding window (v0.1: 4096 tokens) equals full attention up to the window, so the usable
    // context stops there.
    if (c.architecture == "mistral")
        c.context_length = std::min(c.context_length,
                                    config.integer("sliding_window", 1, int64_t(1) << 40, c.context_length));
    return c;
}

}  // namespace adamas
