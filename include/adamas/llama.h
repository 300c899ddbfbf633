// A Llama-family decoder (Llama 2/3, Mistral, Qwen2, SmolLM) from a GGUF file or a Hugging Face
// directory: its configuration, its weights in their stored formats, and a runner that feeds tokens and
// returns next-token logits, with decode attention through the attention library under any policy.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "adamas/decode.h"
#include "adamas/gguf.h"
#include "adamas/kv_cache.h"
#include "adamas/method.h"
#include "adamas/rope.h"
#include "adamas/thread_pool.h"
#include "adamas/tokenizer.h"

namespace adamas {

// The largest context length a configuration may declare (GGUF context_length, config.json
// max_position_embeddings); the KV cache is sized by what a run asks for, not by this.
inline constexpr int64_t kMaxContextLength = int64_t(1) << 40;

struct LlamaConfig {
    std::string architecture;  // "llama", "qwen2", ...
    int n_layer = 0;
    int n_embd = 0;
    int n_head = 0;
    int n_head_kv = 0;
    int head_dim = 0;
    int n_ff = 0;
    int vocab = 0;
    int64_t context_length = 0;
    float rope_theta = 10000.0f;
    int rope_dims = 0;  // rotated dims per head (head_dim unless the model says otherwise)
    RopeStyle rope_style = RopeStyle::adjacent;
    RopeScaling rope_scaling;
    std::vector<float> rope_freq_factors;  // llama.cpp's rope_freqs.weight (rope_dims / 2); empty: none
    float rms_eps = 1e-5f;
    bool qkv_bias = false;         // the Q/K/V projections add biases (Qwen2; Llama with attention_bias)
    bool tied_embeddings = false;  // the output projection is the token embedding

    // Reads `<arch>.*` keys; Error naming the file and key when one is missing or out of range.
    static LlamaConfig from_gguf(const GgufFile& file);
    // Reads a Hugging Face config.json (model_type llama, mistral or qwen2); Error naming the file and
    // key likewise. The vocabulary size is taken from the file; tensors are checked against it at load.
    static LlamaConfig from_hf_config(const std::string& path);
};

// The checks both readers apply to the configuration's numbers (RMS epsilon, RoPE theta: finite and in
// range); Error naming `where` otherwise.
void check_config_numbers(const LlamaConfig& config, const std::string& where);

// A weight matrix as stored: `rows` outputs of `cols` inputs (ggml ne = [cols, rows]).
struct WeightMatrix {
    GgmlType type = GgmlType::f32;
    const void* data = nullptr;
    int64_t rows = 0;
    int64_t cols = 0;
};

struct LlamaLayer {
    const float* attn_norm = nullptr;
    WeightMatrix q, k, v, o;
    const float* q_bias = nullptr;  // Qwen2; null elsewhere
    const float* k_bias = nullptr;
    const float* v_bias = nullptr;
    const float* ffn_norm = nullptr;
    WeightMatrix gate, up, down;
};

class LlamaModel {
  public:
    // Opens, validates and maps a model: a GGUF file, or — when `path` is a directory — a Hugging Face
    // directory (config.json and safetensors weights in F32, F16 or BF16). Error on unsupported
    // architectures, tensor types, or shapes that do not match the configuration.
    static std::unique_ptr<LlamaModel> load(const std::string& path);
    ~LlamaModel();

    // The mapped files and the f32 buffers converted at load (internal: src/model/llama_loader.h).
    struct Storage;

    const std::string& path() const { return path_; }
    const LlamaConfig& config() const { return config_; }
    // The GGUF file the model was read from; nullptr for a Hugging Face directory.
    const GgufFile* gguf() const;
    // The GGUF file; Error naming the path for a Hugging Face directory.
    const GgufFile& file() const;
    // The vocabulary of the model's tokenizer: GGUF metadata, or tokenizer.json in a directory. Error when
    // the model has none or it is not supported.
    TokenizerVocab tokenizer_vocab() const;
    bool has_tokenizer() const;  // whether tokenizer_vocab() has something to read
    // The model's chat template (GGUF tokenizer.chat_template, or tokenizer_config.json's); empty if none.
    std::string chat_template() const;
    const WeightMatrix& token_embedding() const { return token_embd_; }  // rows = vocab, cols = n_embd
    const WeightMatrix& output() const { return output_; }               // the embedding when tied
    const float* output_norm() const { return output_norm_; }
    const LlamaLayer& layer(int i) const { return layers_[size_t(i)]; }

  private:
    friend class LlamaLoader;  // fills the model from GGUF or safetensors (src/model/llama_loader.h)
    LlamaModel();
    std::string path_;
    std::unique_ptr<Storage> storage_;
    LlamaConfig config_;
    WeightMatrix token_embd_, output_;
    const float* output_norm_ = nullptr;
    std::vector<LlamaLayer> layers_;
};

struct RunnerOptions {
    int64_t context = 0;   // KV capacity in tokens; 0: the model's context length
    PolicyConfig policy;   // for decode steps of layers >= dense_layers
    int dense_layers = 2;  // the first layers always attend densely (paper: 2)
    DType kv_dtype = DType::f16;
    // Code threshold: 0.5 × each vector's RMS, chosen by the accuracy study (docs/accuracy.md); the
    // paper's is a fixed 10 (TauMode::fixed).
    float tau = 0.5f;
    TauMode tau_mode = TauMode::relative;
    int code_bits = 2;  // 3: eight buckets τ apart (an experiment of the accuracy study)
    // Decode products of Q4_0/Q4_1/Q8_0 weights on 8-bit activations with integer dot products, as
    // llama.cpp computes them; false: float activations (slower, for numerical comparisons).
    bool quantized_activations = true;
};

// One sequence through the model. Prefill (many tokens) attends densely, as the method prescribes;
// decode steps use the policy.
struct DecodeWeights;  // the weights as the decode step's kernels read them (src/model/llama_runner.cpp)

class LlamaRunner {
  public:
    LlamaRunner(const LlamaModel& model, const RunnerOptions& options, ThreadPool& pool);
    ~LlamaRunner();

    // Appends `tokens` at the current position and returns the logits after the last one.
    // `decode` selects the policy for the attention of these tokens (false: dense, as in prefill).
    // Error when the context would overflow.
    std::span<const float> forward(std::span<const int32_t> tokens, bool decode);

    // For evaluation: appends `tokens` in batched passes in which every token attends exactly as a decode
    // step would under the policy (its own causal prefix, its own selection; the first dense_layers
    // layers dense), and hands the logits after each token to `each` (index in `tokens`, logits).
    // Projections run on float activations (prefill's sgemm), so numbers match decode with
    // --float-activations up to summation order, at prefill speed. Error when the context would overflow.
    using LogitsSink = std::function<void(size_t index, std::span<const float> logits)>;
    void score(std::span<const int32_t> tokens, const LogitsSink& each);

    int64_t position() const { return position_; }
    void reset();
    // Goes back to an earlier position, dropping the later tokens from every layer's cache.
    void rewind(int64_t position);
    // Switches the decode policy (the first dense_layers layers stay dense).
    void set_policy(const PolicyConfig& policy);
    // An attention call of one layer, as an observer sees it: one request per token (its query, its
    // causal view of the cache, its output) and the attention that ran them, whose selection(r) tells
    // what request r attended. `decode`: under the policy (decode steps and score), not dense prefill.
    struct AttentionCall {
        int layer = 0;
        bool decode = false;
        std::span<const DecodeRequest> requests;
        const DecodeAttention* attention = nullptr;
    };
    using AttentionObserver = std::function<void(const AttentionCall&)>;
    // Called after every layer's attention, on the calling thread; for evaluation tools (selection
    // quality). Empty: none.
    void set_attention_observer(AttentionObserver observer) { observer_ = std::move(observer); }
    // Seconds spent in attention (decode attention calls) since construction or reset.
    double attention_seconds() const { return attention_s_; }

  private:
    // Query heads per KV head: the size of a pooled selection set is group() × budget.
    int group() const { return model_.config().n_head / model_.config().n_head_kv; }
    void step(int32_t token, bool decode, bool want_logits);
    void check_finite(std::span<const float> logits, int64_t position) const;
    void check_tokens(std::span<const int32_t> tokens) const;
    // `decode`: attend under the policy (score) rather than densely (prompt prefill). `each`: logits of
    // every token; otherwise of the last one if want_logits.
    void prefill(std::span<const int32_t> tokens, bool decode, bool want_logits, const LogitsSink* each);

    const LlamaModel& model_;
    RunnerOptions options_;
    ThreadPool& pool_;
    std::vector<KvCache> caches_;
    // One of each, shared by the layers (they run one after another): the per-request buffers of a
    // scored pass (the oracle's exact scores: hundreds of MB at 8K) exist once, not once per layer.
    std::unique_ptr<DecodeAttention> dense_, sparse_;
    DecodeAttention& attention_of(int layer, bool decode) const;
    std::unique_ptr<DecodeWeights> weights_;
    int64_t position_ = 0;
    double attention_s_ = 0;
    AttentionObserver observer_;
    // Activations of one token.
    std::vector<float> x_, xn_, q_, k_, v_, att_, gate_, logits_;
    RopeTable rope_;
    std::vector<RopeAngles> angles_;  // per token of the step or prefill chunk
    // Activations of a prefill chunk (tokens × width) and the dequantized weights of one projection.
    std::vector<float> bx_, bxn_, bq_, bk_, bv_, batt_, bg_, bu_, blogits_, weight_scratch_;
};

}  // namespace adamas
