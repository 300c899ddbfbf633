// Vocabulary tables, special-token partition and decoding for both tokenizer models, and byte-level BPE's
// per-piece merges (SentencePiece's merge loop is in tokenizer_spm.cpp).
#include "adamas/tokenizer.h"

#include <algorithm>
#include <array>
#include <optional>
#include <queue>
#include <unordered_map>

#include "adamas/error.h"
#include "model/tokenizer_pretokenize.h"
#include "model/tokenizer_spm.h"

namespace adamas {

namespace {

// GPT-2's byte-to-character table: printable Latin-1 bytes stand for themselves, the other 68 bytes
// (controls, space, 0x7f-0xa0, 0xad) take U+0100 upwards in byte order, so every token is printable.
struct ByteAlphabet {
    std::array<char32_t, 256> char_of{};
    std::array<int16_t, 0x144> byte_of{};  // inverse; -1 where the character is not in the alphabet

    ByteAlphabet() {
        byte_of.fill(-1);
        char32_t next = 0x100;
        for (int b = 0; b < 256; ++b) {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae);
            char_of[b] = printable ? char32_t(b) : next++;
            byte_of[char_of[b]] = int16_t(b);
        }
    }
};

// Decodes one UTF-8 character at `i` (advancing `i`); an invalid byte comes back as -1 and one byte.
int32_t next_codepoint(std::string_view s, size_t& i) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = byte(i);
    int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > s.size()) return ++i, -1;
    int32_t cp = len == 1 ? c : c & (0x7f >> len);
    for (int k = 1; k < len; ++k) {
        if ((byte(i + k) & 0xc0) != 0x80) return ++i, -1;
        cp = (cp << 6) | (byte(i + k) & 0x3f);
    }
    i += len;
    return cp;
}

// The bytes a normal token's byte-level spelling stands for. Characters outside the alphabet (some
// vocabularies carry raw Unicode tokens) stand for their own UTF-8.
std::string bytes_of_spelling(const ByteAlphabet& alphabet, std::string_view spelling) {
    std::string out;
    for (size_t i = 0; i < spelling.size();) {
        size_t start = i;
        int32_t cp = next_codepoint(spelling, i);
        if (cp >= 0 && size_t(cp) < alphabet.byte_of.size() && alphabet.byte_of[cp] >= 0)
            out += char(alphabet.byte_of[cp]);
        else
            out.append(spelling.substr(start, i - start));
    }
    return out;
}

bool is_special(TokenType t) {
    return t == TokenType::control || t == TokenType::user_defined || t == TokenType::unknown;
}

uint64_t pair_key(int32_t left, int32_t right) {
    return (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
}

struct Merge {
    int32_t rank;
    int32_t result;
};

}  // namespace

struct Tokenizer::Impl {
    std::vector<std::string> spelling;  // as in the vocabulary
    std::vector<TokenType> types;
    std::vector<std::string> bytes;                                // what each token decodes to
    std::array<std::vector<int32_t>, 256> specials_by_first_byte;  // longest first
    int32_t bos = -1, eos = -1, unk = -1;
    bool add_bos = false;
    bool add_space_prefix = false;

    // Byte-level BPE.
    std::optional<PreTokenizer> pre;
    std::unordered_map<std::string, int32_t> by_bytes;  // normal tokens, first id wins
    std::unordered_map<uint64_t, Merge> merges;         // (left id, right id) -> rank and merged id
    std::array<int32_t, 256> byte_token{};              // -1: the vocabulary lacks this byte's character

    // SentencePiece (holds views into `spelling`).
    std::optional<SpmEncoder> spm;

    void check_id(int32_t id) const {
        if (id < 0 || size_t(id) >= spelling.size())
            fail("tokenizer: token id {} is out of range (vocabulary of {} tokens)", id, spelling.size());
    }

    void encode_text(std::string_view text, bool after_special, std::vector<int32_t>& out) const;
    void merge_piece(std::string_view piece, std::vector<int32_t>& out) const;
    void build_byte_level(const TokenizerVocab& vocab);
    void build_sentencepiece(const TokenizerVocab& vocab);
};

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::from_vocab(const TokenizerVocab& vocab) {
    if (vocab.model != "gpt2" && vocab.model != "llama")
        fail(
            "tokenizer: model '{}' is not supported (expected 'gpt2', byte-level BPE, or 'llama', "
            "SentencePiece BPE)",
            vocab.model);
    const size_t n = vocab.tokens.size();
    if (n == 0 || n > size_t(INT32_MAX))
        fail("tokenizer: vocabulary has {} tokens (expected 1 to 2^31-1)", n);
    if (!vocab.token_types.empty() && vocab.token_types.size() != n)
        fail("tokenizer: {} token types for {} tokens (expected one per token)", vocab.token_types.size(), n);
    for (auto [name, id] :
         {std::pair{"bos", vocab.bos}, std::pair{"eos", vocab.eos}, std::pair{"unk", vocab.unk}})
        if (id < -1 || id >= int64_t(n))
            fail("tokenizer: {} id {} is out of range (vocabulary of {} tokens, -1 for none)", name, id, n);

    auto impl = std::make_unique<Impl>();
    impl->bos = vocab.bos;
    impl->eos = vocab.eos;
    impl->unk = vocab.unk;
    impl->add_bos = vocab.add_bos;
    impl->spelling = vocab.tokens;
    impl->types.resize(n, TokenType::normal);
    impl->bytes.resize(n);
    for (size_t id = 0; id < n; ++id) {
        if (!vocab.token_types.empty()) {
            int32_t t = vocab.token_types[id];
            if (t < 0 || t > int32_t(TokenType::byte))
                fail("tokenizer: token {} ('{}') has type {} (expected 0 to 6)", id, vocab.tokens[id], t);
            impl->types[id] = TokenType(t);
        }
        if (is_special(impl->types[id])) {
            impl->bytes[id] = vocab.tokens[id];  // written as is
            if (!vocab.tokens[id].empty())
                impl->specials_by_first_byte[static_cast<unsigned char>(vocab.tokens[id][0])].push_back(
                    int32_t(id));
        }
    }
    for (auto& ids : impl->specials_by_first_byte)
        std::stable_sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) {
            return vocab.tokens[a].size() > vocab.tokens[b].size();
        });
    if (vocab.model == "gpt2")
        impl->build_byte_level(vocab);
    else
        impl->build_sentencepiece(vocab);
    return Tokenizer(std::move(impl));
}

void Tokenizer::Impl::build_byte_level(const TokenizerVocab& vocab) {
    pre.emplace(PreTokenizer::for_name(vocab.pre));
    const ByteAlphabet alphabet;
    for (size_t id = 0; id < spelling.size(); ++id) {
        if (is_special(types[id])) continue;
        bytes[id] = bytes_of_spelling(alphabet, spelling[id]);
        by_bytes.emplace(bytes[id], int32_t(id));
    }
    for (int b = 0; b < 256; ++b) {
        auto it = by_bytes.find(std::string(1, char(b)));
        byte_token[b] = it == by_bytes.end() ? -1 : it->second;
    }

    if (vocab.merges.size() > size_t(INT32_MAX))
        fail("tokenizer: {} merges is too many", vocab.merges.size());
    merges.reserve(vocab.merges.size());
    auto find = [&](std::string_view token, size_t rank, std::string_view merge) {
        auto it = by_bytes.find(bytes_of_spelling(alphabet, token));
        if (it == by_bytes.end())
            fail("tokenizer: merge {} ('{}') needs '{}', which is not a normal token of the vocabulary", rank,
                 merge, token);
        return it->second;
    };
    for (size_t rank = 0; rank < vocab.merges.size(); ++rank) {
        const std::string& merge = vocab.merges[rank];
        // Split at the first space after the first character: a token may itself start with a space.
        size_t space = merge.find(' ', 1);
        if (space == std::string::npos)
            fail("tokenizer: merge {} ('{}') is not two tokens separated by a space", rank, merge);
        std::string_view left = std::string_view(merge).substr(0, space);
        std::string_view right = std::string_view(merge).substr(space + 1);
        int32_t left_id = find(left, rank, merge), right_id = find(right, rank, merge);
        int32_t result = find(std::string(left) + std::string(right), rank, merge);
        merges.emplace(pair_key(left_id, right_id), Merge{int32_t(rank), result});  // first rank wins
    }
}

// Normal tokens decode with "▁" as a space, byte tokens as their byte; the dummy prefix is dropped by decode.
void Tokenizer::Impl::build_sentencepiece(const TokenizerVocab& vocab) {
    add_space_prefix = vocab.add_space_prefix;
    spm.emplace(spelling, types, vocab.scores, unk);
    const auto& byte_tokens = spm->byte_tokens();
    for (int b = 0; b < 256; ++b)
        if (byte_tokens[b] >= 0) bytes[byte_tokens[b]] = std::string(1, char(b));
    for (size_t id = 0; id < spelling.size(); ++id) {
        if (is_special(types[id]) || types[id] == TokenType::byte) continue;
        std::string& text = bytes[id];
        for (size_t i = 0; i < spelling[id].size();) {
            if (std::string_view(spelling[id]).substr(i).starts_with("\xe2\x96\x81")) {
                text += ' ';
                i += 3;
            } else {
                text += spelling[id][i++];
            }
        }
    }
}

// Applies the ranked merges to one pre-token, lowest rank first and leftmost first among equals, with a
// heap of candidate pairs: O(n log n) in the piece's length. Stale heap entries are recognised by the
// ids they recorded, since a merge always changes the id of the symbol it grows.
void Tokenizer::Impl::merge_piece(std::string_view piece, std::vector<int32_t>& out) const {
    if (pre->ignore_merges()) {
        if (auto it = by_bytes.find(std::string(piece)); it != by_bytes.end()) {
            out.push_back(it->second);
            return;
        }
    }
    struct Symbol {
        int32_t id;  // -1: a byte the vocabulary cannot spell; it is dropped but still separates neighbours
        int32_t prev, next;
    };
    struct Candidate {
        int32_t rank, left, right;  // symbol positions
        int32_t left_id, right_id, result;
        bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
    };
    const int32_t n = int32_t(piece.size());
    std::vector<Symbol> symbols(n);
    for (int32_t i = 0; i < n; ++i)
        symbols[i] = {byte_token[static_cast<unsigned char>(piece[i])], i - 1, i + 1 < n ? i + 1 : -1};

    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
    auto consider = [&](int32_t left) {
        if (left < 0) return;
        int32_t right = symbols[left].next;
        if (right < 0 || symbols[left].id < 0 || symbols[right].id < 0) return;
        auto it = merges.find(pair_key(symbols[left].id, symbols[right].id));
        if (it != merges.end())
            heap.push({it->second.rank, left, right, symbols[left].id, symbols[right].id, it->second.result});
    };
    for (int32_t i = 0; i + 1 < n; ++i)
        consider(i);

    while (!heap.empty()) {
        Candidate c = heap.top();
        heap.pop();
        Symbol& left = symbols[c.left];
        if (left.id != c.left_id || left.next != c.right || symbols[c.right].id != c.right_id) continue;
        Symbol& right = symbols[c.right];
        left.id = c.result;
        left.next = right.next;
        if (right.next >= 0) symbols[right.next].prev = c.left;
        right.id = -2;  // absorbed
        consider(left.prev);
        consider(c.left);
    }
    for (int32_t i = 0; i >= 0 && i < n; i = symbols[i].next)
        if (symbols[i].id >= 0) out.push_back(symbols[i].id);
}

void Tokenizer::Impl::encode_text(std::string_view text, bool after_special,
                                  std::vector<int32_t>& out) const {
    if (text.empty()) return;
    if (spm) {
        spm->encode(text, add_space_prefix && after_special, out);
        return;
    }
    std::vector<std::string_view> pieces;
    pre->split(text, pieces);
    for (std::string_view piece : pieces)
        merge_piece(piece, out);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
    const Impl& m = *impl_;
    // Positions inside the text are int32 in the merge loops.
    if (text.size() > size_t(kMaxEncodeBytes))
        fail("tokenizer: text of {} bytes is too long (at most {} bytes at once)", text.size(),
             kMaxEncodeBytes);
    std::vector<int32_t> out;
    if (add_bos && m.bos >= 0) out.push_back(m.bos);
    // Special tokens first, leftmost-longest, so that the pre-tokenizer never cuts one apart. SentencePiece's
    // dummy prefix goes before the text at the start and after every special token, as in llama.cpp.
    size_t plain = 0;
    bool after_special = true;
    for (size_t i = 0; i < text.size();) {
        int32_t found = -1;
        for (int32_t id : m.specials_by_first_byte[static_cast<unsigned char>(text[i])]) {
            if (!parse_special && m.types[id] != TokenType::user_defined) continue;
            if (text.substr(i).starts_with(m.spelling[id])) {
                found = id;
                break;
            }
        }
        if (found < 0) {
            ++i;
            continue;
        }
        if (i > plain) {
            m.encode_text(text.substr(plain, i - plain), after_special, out);
            after_special = false;
        }
        out.push_back(found);
        after_special = true;
        i += m.spelling[found].size();
        plain = i;
    }
    m.encode_text(text.substr(plain), after_special, out);
    return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
    std::string out;
    for (size_t i = 0; i < ids.size(); ++i) {
        impl_->check_id(ids[i]);
        std::string_view piece = impl_->bytes[ids[i]];
        // llama_detokenize's lstrip: only the very first piece loses a leading space, even when it is bos.
        if (i == 0 && impl_->add_space_prefix && piece.starts_with(' ')) piece.remove_prefix(1);
        out += piece;
    }
    return out;
}

std::string Tokenizer::token_piece(int32_t id) const {
    impl_->check_id(id);
    return impl_->bytes[id];
}

std::string Tokenizer::token_text(int32_t id) const {
    impl_->check_id(id);
    return impl_->spelling[id];
}

TokenType Tokenizer::token_type(int32_t id) const {
    impl_->check_id(id);
    return impl_->types[id];
}

int32_t Tokenizer::bos() const {
    return impl_->bos;
}
int32_t Tokenizer::eos() const {
    return impl_->eos;
}
int32_t Tokenizer::unk() const {
    return impl_->unk;
}
bool Tokenizer::add_bos() const {
    return impl_->add_bos;
}
bool Tokenizer::add_space_prefix() const {
    return impl_->add_space_prefix;
}
int Tokenizer::vocab_size() const {
    return int(impl_->spelling.size());
}

}  // namespace adamas
