// SentencePiece BPE (GGUF tokenizer model "llama"): the merge loop over one text fragment, with byte
// fallback. Special tokens are split out and the dummy prefix decided by the caller (tokenizer.cpp).
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "adamas/tokenizer.h"

namespace adamas {

class SpmEncoder {
  public:
    // `tokens` must outlive the encoder (the lookup table holds views into them). Validates scores, byte
    // tokens and unk; Error naming the problem otherwise.
    SpmEncoder(std::span<const std::string> tokens, std::span<const TokenType> types,
               std::span<const float> scores, int32_t unk);

    // Appends the ids of `text` to `out`: a space in front when dummy_prefix, every space as "▁", then
    // SentencePiece's BPE — repeatedly merge the adjacent pair whose concatenation is a piece of the
    // vocabulary with the highest score, leftmost on ties — over the UTF-8 characters. O(n log n) in the
    // fragment's length: a heap of candidate pairs over a linked list of symbols.
    void encode(std::string_view text, bool dummy_prefix, std::vector<int32_t>& out) const;

    // The <0xNN> token of each byte, -1 where the vocabulary has none.
    const std::array<int32_t, 256>& byte_tokens() const { return byte_token_; }

  private:
    struct Piece {
        int32_t id;
        float score;
    };
    // A symbol is a run of the text; absorbed symbols keep len 0. id: the piece it spells, -1 for an
    // unknown character (only initial characters can be unknown: merges form pieces of the vocabulary).
    struct Symbol {
        uint32_t start, len;
        int32_t prev, next;
        int32_t id;
    };
    // A candidate merge. Stale entries are recognised by lengths, as in SentencePiece: a symbol only ever
    // grows by absorbing its right neighbour, so the pair is intact iff both are alive and their lengths
    // still add up to the merged length.
    struct Candidate {
        float score;
        int32_t left, right;
        uint32_t len;
        int32_t id;
        bool operator<(const Candidate& o) const {  // max-heap: highest score, then leftmost
            return score != o.score ? score < o.score : left > o.left;
        }
    };
    struct Workspace {
        std::vector<Symbol> symbols;
        std::vector<Candidate> heap;
        // Unused pieces take part in merges but are split back into the parts they were made of
        // (SentencePiece's resegmentation): the merged text -> its left part's length. Usually empty.
        std::unordered_map<std::string_view, uint32_t> unused_parts;
    };
    // The merge loop over one word (or the whole text), appending its ids; after_unk carries SentencePiece's
    // merging of consecutive unknown characters into one unk across words.
    void merge_word(std::string_view s, Workspace& work, bool& after_unk, std::vector<int32_t>& out) const;

    std::span<const TokenType> types_;
    // Pieces BPE may form: normal, user-defined and unused tokens, as SentencePiece has it (control,
    // unknown and byte tokens are never the result of a merge). First id wins for a repeated spelling.
    std::unordered_map<std::string_view, Piece> pieces_;
    std::array<int32_t, 256> byte_token_{};  // -1: no <0xNN> token for this byte
    bool split_words_ = false;               // no piece has a "▁" after another character
    bool all_bytes_ = false;                 // every byte has a token, so no character is ever unknown
    int32_t unk_ = -1;
};

}  // namespace adamas
