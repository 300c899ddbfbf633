// Pre-tokenization: the regex splits a byte-level BPE model declares (tokenizer.ggml.pre), run with
// PCRE2 in UTF + UCP mode so that \p{L}, \p{N} and \s follow the Unicode tables.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace adamas {

// The regexes are applied in sequence; each splits every piece left by the previous one into its
// matches and the gaps between them (Hugging Face's "isolated" split), so the pieces always concatenate
// back to the input. Invalid UTF-8 never matches, so a run of invalid bytes ends up in a gap of its own.
class PreTokenizer {
  public:
    // "smollm", "gpt2", "llama3" / "llama-v3" / "llama-bpe", "qwen2"; Error listing these otherwise.
    static PreTokenizer for_name(std::string_view pre);

    PreTokenizer(PreTokenizer&&) noexcept;
    PreTokenizer& operator=(PreTokenizer&&) noexcept;
    ~PreTokenizer();

    // Appends the pieces of `text` to `out` (views into `text`). Thread-safe.
    void split(std::string_view text, std::vector<std::string_view>& out) const;

    // Llama 3 tokenizers take a piece that is itself a token as is, without running the merges.
    bool ignore_merges() const { return ignore_merges_; }

  private:
    struct Regex;
    PreTokenizer() = default;
    std::vector<std::unique_ptr<Regex>> regexes_;
    bool ignore_merges_ = false;
};

}  // namespace adamas
