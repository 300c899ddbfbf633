// Byte-level BPE tokenizer (GPT-2 family: SmolLM2, Llama 3, Qwen 2) built from the vocabulary a model
// carries in its GGUF metadata: tokens, token types, ranked merges and the declared pre-tokenizer.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace adamas {

class GgufFile;

// Token types as GGUF numbers them (tokenizer.ggml.token_type).
enum class TokenType : int32_t {
    undefined = 0,
    normal = 1,
    unknown = 2,
    control = 3,       // <|im_start|>, <|endoftext|>: matched in the input only when parse_special is on
    user_defined = 4,  // added tokens: always matched as whole strings
    unused = 5,
    byte = 6,
};

// What the tokenizer needs from a model file; independent of how the file is read.
struct TokenizerVocab {
    std::string model;                 // tokenizer.ggml.model: "gpt2" (byte-level BPE) is supported
    std::string pre;                   // tokenizer.ggml.pre: "smollm", "gpt2", "llama3"/"llama-bpe", "qwen2"
    std::vector<std::string> tokens;   // as stored: byte-level spelling ("Ġthe") for normal tokens
    std::vector<int32_t> token_types;  // TokenType values; empty means all normal
    std::vector<std::string> merges;   // "left right", highest priority first
    int32_t bos = -1, eos = -1;        // -1: the model has none
    bool add_bos = false;              // tokenizer.ggml.add_bos_token
};

// tokenizer.ggml.* of a GGUF file (defined in src/model/tokenizer_gguf.cpp). Error when the vocabulary
// keys are missing or have the wrong type.
TokenizerVocab vocab_from_gguf(const GgufFile& file);

// tokenizer.json of a Hugging Face model directory (defined in src/model/tokenizer_hf.cpp): byte-level
// BPE whose pre-tokenizer is one of the above, bos/eos/add_bos from tokenizer_config.json or config.json.
// Error naming the file when it is missing, malformed or another kind of tokenizer.
TokenizerVocab vocab_from_hf(const std::string& directory);

class Tokenizer {
  public:
    // Validates the vocabulary (model, pre-tokenizer, merges that name known tokens, bos/eos in range)
    // and builds the lookup tables; Error naming the problem otherwise.
    static Tokenizer from_vocab(const TokenizerVocab& vocab);

    Tokenizer(Tokenizer&&) noexcept;
    Tokenizer& operator=(Tokenizer&&) noexcept;
    ~Tokenizer();

    // Token ids of `text` (any bytes: invalid UTF-8 is split off into its own pieces and encoded byte by
    // byte). Bytes whose byte-level character is not in the vocabulary are dropped, as llama.cpp and
    // Hugging Face tokenizers do (SmolLM2 lacks 21 of them, e.g. 0x04 and 0xff). With parse_special,
    // control tokens written in the text become their ids; user-defined tokens always do.
    // add_bos prepends bos() when the model has one. Thread-safe; no state is kept between calls.
    std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const;

    // The bytes the ids stand for (not necessarily valid UTF-8 when a character is split across calls);
    // control and user-defined tokens render as their text. Error on an id outside [0, vocab_size()).
    std::string decode(std::span<const int32_t> ids) const;

    // The vocabulary's spelling of one token ("Ġthe", "<|im_end|>"); Error when out of range.
    std::string token_text(int32_t id) const;
    TokenType token_type(int32_t id) const;

    int32_t bos() const;   // -1 when absent
    int32_t eos() const;   // -1 when absent
    bool add_bos() const;  // whether the model asks for bos() in front of a prompt
    int vocab_size() const;

  private:
    struct Impl;
    explicit Tokenizer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace adamas
