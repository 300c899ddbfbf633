// The tokenizers of GGUF models, built from the vocabulary a model carries in its metadata: byte-level BPE
// (tokenizer.ggml.model "gpt2": SmolLM2, Llama 3, Qwen 2; ranked merges and a declared pre-tokenizer) and
// SentencePiece BPE ("llama": Llama 2, Mistral; scored pieces, "▁" for spaces, <0xNN> byte fallback).
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
    std::string model;  // tokenizer.ggml.model: "gpt2" (byte-level BPE) or "llama" (SentencePiece)
    std::string pre;    // tokenizer.ggml.pre: "smollm", "gpt2", "llama3"/"llama-bpe", "qwen2"
                        // (byte-level BPE only; SentencePiece has no pre-tokenizer)
    std::vector<std::string> tokens;  // as stored: "Ġthe" (byte-level), "▁the" and "<0x0A>" (SentencePiece)
    std::vector<int32_t> token_types;  // TokenType values; empty means all normal
    std::vector<std::string> merges;   // byte-level BPE: "left right", highest priority first
    std::vector<float> scores;         // SentencePiece: one per token, higher merges first (required)
    int32_t bos = -1, eos = -1;        // -1: the model has none
    int32_t unk = -1;                  // SentencePiece: the id of characters without a token or byte token
    bool add_bos = false;              // tokenizer.ggml.add_bos_token
    bool add_space_prefix = false;     // SentencePiece: a space goes before the text (and after each special
                                       // token), and decode drops the first token's leading space
};

// tokenizer.ggml.* of a GGUF file (defined in src/model/tokenizer_gguf.cpp). Error when the vocabulary
// keys are missing or have the wrong type. Absent keys take llama.cpp's defaults: for "llama", bos 1, eos 2,
// unk 0, add_bos and add_space_prefix true; otherwise none and false.
TokenizerVocab vocab_from_gguf(const GgufFile& file);

// tokenizer.json of a Hugging Face model directory (defined in src/model/tokenizer_hf.cpp): byte-level
// BPE whose pre-tokenizer is one of the above, bos/eos/add_bos from tokenizer_config.json or config.json.
// Error naming the file when it is missing, malformed or another kind of tokenizer.
TokenizerVocab vocab_from_hf(const std::string& directory);
// The "chat_template" string of <directory>/tokenizer_config.json; empty when there is none.
std::string chat_template_from_hf(const std::string& directory);

// The longest text one encode call takes (1 GiB); longer is an Error.
inline constexpr int64_t kMaxEncodeBytes = int64_t(1) << 30;

class Tokenizer {
  public:
    // Validates the vocabulary (model, pre-tokenizer, merges that name known tokens, scores, byte tokens,
    // bos/eos/unk in range) and builds the lookup tables; Error naming the problem otherwise.
    static Tokenizer from_vocab(const TokenizerVocab& vocab);

    Tokenizer(Tokenizer&&) noexcept;
    Tokenizer& operator=(Tokenizer&&) noexcept;
    ~Tokenizer();

    // Token ids of `text` (any bytes). With parse_special, control tokens written in the text become their
    // ids; user-defined tokens always do. add_bos prepends bos() when the model has one. Thread-safe; no
    // state is kept between calls.
    // Byte-level BPE: invalid UTF-8 is split off into its own pieces and encoded byte by byte; bytes whose
    // byte-level character is not in the vocabulary are dropped, as llama.cpp and Hugging Face tokenizers
    // do (SmolLM2 lacks 21 of them, e.g. 0x04 and 0xff).
    // SentencePiece: each text fragment (the text between special tokens) gets the dummy-prefix space when
    // it starts the text or follows a special token (add_space_prefix), spaces become "▁", and a character
    // without a token becomes its UTF-8 bytes' <0xNN> tokens (one unk() per run when the vocabulary lacks
    // them); an invalid UTF-8 byte is a character of its own.
    std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const;

    // The text the ids stand for, as llama.cpp's llama_detokenize renders it (special tokens as their
    // text): the concatenated token_piece()s, less one leading space of the first piece when
    // add_space_prefix (the dummy prefix). A leading bos() is a piece like any other, so the space after it
    // stays ("<s> Hello"), as in llama.cpp. Not necessarily valid UTF-8 when a character is split across
    // calls. Error on an id outside [0, vocab_size()).
    std::string decode(std::span<const int32_t> ids) const;

    // The bytes one token stands for inside a text ("▁the" -> " the", "<0x0A>" -> "\n", "<s>" -> "<s>"):
    // what a stream of generated tokens prints, token by token. Error when out of range.
    std::string token_piece(int32_t id) const;

    // The vocabulary's spelling of one token ("Ġthe", "<|im_end|>"); Error when out of range.
    std::string token_text(int32_t id) const;
    TokenType token_type(int32_t id) const;

    int32_t bos() const;            // -1 when absent
    int32_t eos() const;            // -1 when absent
    int32_t unk() const;            // -1 when absent
    bool add_bos() const;           // whether the model asks for bos() in front of a prompt
    bool add_space_prefix() const;  // SentencePiece's dummy prefix; false for byte-level BPE
    int vocab_size() const;

  private:
    struct Impl;
    explicit Tokenizer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace adamas
