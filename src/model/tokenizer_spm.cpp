// SentencePiece BPE: the scored-merge loop of SentencePiece's bpe_model.cc (and llama.cpp's port of it)
// over the characters of one text fragment, then byte fallback for characters without a piece.
#include "model/tokenizer_spm.h"

#include <algorithm>
#include <cmath>

#include "adamas/error.h"

namespace adamas {

namespace {

constexpr std::string_view kSpace = "\xe2\x96\x81";  // U+2581, SentencePiece's visible space

// Length of the UTF-8 character at `i`: its sequence length when the lead byte and continuation bytes are
// well formed, else 1 (an invalid byte is a character of its own, so it never swallows valid text).
size_t char_length(std::string_view s, size_t i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > s.size()) return 1;
    for (size_t k = 1; k < len; ++k)
        if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 1;
    return len;
}

// "<0x0A>" -> 0x0a; -1 when the spelling is not a byte token's.
int parse_byte_token(std::string_view t) {
    auto hex = [](char c) {
        return c >= '0' && c <= '9'   ? c - '0'
               : c >= 'A' && c <= 'F' ? c - 'A' + 10
               : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                      : -1;
    };
    if (t.size() != 6 || !t.starts_with("<0x") || t[5] != '>' || hex(t[3]) < 0 || hex(t[4]) < 0) return -1;
    return hex(t[3]) * 16 + hex(t[4]);
}

}  // namespace

SpmEncoder::SpmEncoder(std::span<const std::string> tokens, std::span<const TokenType> types,
                       std::span<const float> scores, int32_t unk)
    : types_(types), unk_(unk) {
    const size_t n = tokens.size();
    if (scores.empty())
        fail(
            "tokenizer: SentencePiece vocabulary (model 'llama') has no scores (expected "
            "tokenizer.ggml.scores, one per token)");
    if (scores.size() != n)
        fail("tokenizer: {} scores for {} tokens (expected one per token)", scores.size(), n);
    byte_token_.fill(-1);
    pieces_.max_load_factor(0.5f);  // short bucket chains: lookups are most of the encoding time
    pieces_.reserve(n);
    for (size_t id = 0; id < n; ++id) {
        if (std::isnan(scores[id])) fail("tokenizer: token {} ('{}') has score NaN", id, tokens[id]);
        const TokenType type = types[id];
        if (type == TokenType::byte) {
            int b = parse_byte_token(tokens[id]);
            if (b < 0)
                fail("tokenizer: token {} ('{}') has type byte but is not spelled <0xNN>", id, tokens[id]);
            if (byte_token_[b] < 0) byte_token_[b] = int32_t(id);
        } else if (type == TokenType::normal || type == TokenType::undefined ||
                   type == TokenType::user_defined || type == TokenType::unused) {
            if (!tokens[id].empty()) pieces_.emplace(tokens[id], Piece{int32_t(id), scores[id]});
        }
    }
    // SentencePiece's trainer keeps whitespace at the start of pieces (split_by_whitespace), so usually no
    // piece holds a "▁" after another character: then no merge crosses the start of a word.
    split_words_ = std::none_of(pieces_.begin(), pieces_.end(), [](const auto& entry) {
        std::string_view t = entry.first;
        while (t.starts_with(kSpace))
            t.remove_prefix(kSpace.size());
        return t.find(kSpace) != std::string_view::npos;
    });
    all_bytes_ = std::find(byte_token_.begin(), byte_token_.end(), -1) == byte_token_.end();
    if (!all_bytes_ && unk_ < 0)
        fail(
            "tokenizer: SentencePiece vocabulary lacks <0xNN> tokens for {} of 256 bytes and has no "
            "unknown token (tokenizer.ggml.unknown_token_id), so characters without a piece could not be "
            "encoded",
            std::count(byte_token_.begin(), byte_token_.end(), -1));
}

void SpmEncoder::encode(std::string_view text, bool dummy_prefix, std::vector<int32_t>& out) const {
    std::string s;
    s.reserve(text.size() + text.size() / 4 + kSpace.size());
    if (dummy_prefix) s += kSpace;
    for (char c : text) {
        if (c == ' ')
            s += kSpace;
        else
            s += c;
    }
    // Words (a run of "▁" and what follows up to the next "▁" after another character) merge independently
    // when no piece crosses their starts: the same result as one merge loop over the whole text, since the
    // order of the merges inside each word is unchanged, but the heap stays small and in cache (Austen's
    // novels with Llama 2's vocabulary: 2.4 M tokens/s instead of 0.37 M).
    Workspace work;
    bool after_unk = false;
    const std::string_view all = s;
    size_t begin = 0;
    for (size_t at = all.find(kSpace, 1); split_words_ && at != std::string_view::npos;
         at = all.find(kSpace, at + 1)) {
        if (at >= kSpace.size() && all.substr(at - kSpace.size(), kSpace.size()) == kSpace) continue;
        merge_word(all.substr(begin, at - begin), work, after_unk, out);
        begin = at;
    }
    merge_word(all.substr(begin), work, after_unk, out);
}

void SpmEncoder::merge_word(std::string_view s, Workspace& work, bool& after_unk,
                            std::vector<int32_t>& out) const {
    if (s.empty()) return;
    auto& symbols = work.symbols;
    auto& heap = work.heap;
    auto& unused_parts = work.unused_parts;
    symbols.clear();
    heap.clear();
    unused_parts.clear();
    for (size_t i = 0; i < s.size();) {
        size_t len = char_length(s, i);
        auto it = pieces_.find(s.substr(i, len));
        int32_t index = int32_t(symbols.size());
        symbols.push_back(
            {uint32_t(i), uint32_t(len), index - 1, index + 1, it == pieces_.end() ? -1 : it->second.id});
        i += len;
    }
    symbols.back().next = -1;

    auto consider = [&](int32_t left) {
        if (left < 0) return;
        int32_t right = symbols[left].next;
        if (right < 0) return;
        const Symbol &l = symbols[left], &r = symbols[right];
        std::string_view merged = s.substr(l.start, l.len + r.len);
        auto it = pieces_.find(merged);
        if (it == pieces_.end()) return;
        heap.push_back({it->second.score, left, right, uint32_t(merged.size()), it->second.id});
        std::push_heap(heap.begin(), heap.end());
        if (types_[it->second.id] == TokenType::unused) unused_parts[merged] = l.len;
    };
    for (int32_t i = 0; i + 1 < int32_t(symbols.size()); ++i)
        consider(i);

    while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end());
        const Candidate c = heap.back();
        heap.pop_back();
        Symbol &l = symbols[c.left], &r = symbols[c.right];
        if (l.len == 0 || r.len == 0 || l.len + r.len != c.len) continue;
        l.len = c.len;
        l.id = c.id;
        l.next = r.next;
        if (r.next >= 0) symbols[r.next].prev = c.left;
        r.len = 0;
        consider(l.prev);
        consider(c.left);
    }

    // Output. Characters without a piece become their bytes' tokens; without byte tokens, a run of them is
    // one unk, as SentencePiece merges consecutive unknown pieces.
    auto emit_unknown = [&](std::string_view bytes) {
        bool have_bytes = std::all_of(bytes.begin(), bytes.end(), [&](char b) {
            return byte_token_[static_cast<unsigned char>(b)] >= 0;
        });
        if (have_bytes) {
            for (char b : bytes)
                out.push_back(byte_token_[static_cast<unsigned char>(b)]);
            after_unk = false;
        } else if (!after_unk) {
            out.push_back(unk_);
            after_unk = true;
        }
    };
    for (int32_t i = 0; i >= 0; i = symbols[i].next) {
        const Symbol& sym = symbols[i];
        if (sym.id < 0) {
            emit_unknown(s.substr(sym.start, sym.len));
            continue;
        }
        if (types_[sym.id] != TokenType::unused) {
            out.push_back(sym.id);
            after_unk = false;
            continue;
        }
        std::vector<std::string_view> stack{s.substr(sym.start, sym.len)};  // last first
        while (!stack.empty()) {
            std::string_view piece = stack.back();
            stack.pop_back();
            auto parts = unused_parts.find(piece);
            auto it = pieces_.find(piece);
            if (parts != unused_parts.end()) {
                stack.push_back(piece.substr(parts->second));
                stack.push_back(piece.substr(0, parts->second));
            } else if (it != pieces_.end()) {
                out.push_back(it->second.id);  // a normal piece, or an unused single character
                after_unk = false;
            } else {
                emit_unknown(piece);
            }
        }
    }
}

}  // namespace adamas
