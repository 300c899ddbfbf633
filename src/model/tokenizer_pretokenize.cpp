// Pre-tokenizer regexes (as the models' tokenizer.json files write them) compiled with PCRE2.
#include "model/tokenizer_pretokenize.h"

#include <algorithm>
#include <memory>
#include <new>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "adamas/error.h"

namespace adamas {

namespace {

// GPT-2's split; the trailing `\s+` only catches single whitespace before a non-space, which the gaps
// would keep anyway.
constexpr const char* kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr const char* kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*)"
    R"(|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Qwen 2: Llama 3's split with single digits.
constexpr const char* kQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*)"
    R"(|\s*[\r\n]+|\s+(?!\S)|\s+)";
// SmolLM2 (and StarCoder): every digit on its own, then GPT-2's split.
constexpr const char* kEachDigit = R"(\p{N})";

// Offset just past the UTF-8 character (or the single invalid byte) at `i`.
size_t next_char(std::string_view s, size_t i) {
    unsigned char c = s[i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 1;
    return std::min(s.size(), i + n);
}

}  // namespace

struct PreTokenizer::Regex {
    pcre2_code* code = nullptr;
    ~Regex() { pcre2_code_free(code); }
};

PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;
PreTokenizer::~PreTokenizer() = default;

PreTokenizer PreTokenizer::for_name(std::string_view pre) {
    std::vector<const char*> patterns;
    PreTokenizer out;
    if (pre == "smollm") {
        patterns = {kEachDigit, kGpt2};
    } else if (pre == "gpt2") {
        patterns = {kGpt2};
    } else if (pre == "llama3" || pre == "llama-v3" || pre == "llama-bpe") {
        patterns = {kLlama3};
        out.ignore_merges_ = true;
    } else if (pre == "qwen2") {
        patterns = {kQwen2};
    } else {
        fail(
            "tokenizer: pre-tokenizer '{}' is not supported (expected smollm, gpt2, llama3, llama-v3, "
            "llama-bpe or qwen2)",
            pre);
    }
    for (const char* pattern : patterns) {
        int error = 0;
        PCRE2_SIZE error_offset = 0;
        // MATCH_INVALID_UTF: the input may hold any bytes; invalid sequences simply never match.
        pcre2_code* code =
            pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED,
                          PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &error_offset, nullptr);
        if (!code) {
            PCRE2_UCHAR message[256];
            pcre2_get_error_message(error, message, sizeof message);
            fail("tokenizer: PCRE2 rejected the '{}' pre-tokenizer regex at offset {}: {}", pre, error_offset,
                 reinterpret_cast<const char*>(message));
        }
        pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // optional speed-up: the interpreter is the fallback
        auto regex = std::make_unique<Regex>();
        regex->code = code;
        out.regexes_.push_back(std::move(regex));
    }
    return out;
}

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>& out) const {
    std::vector<std::string_view> pieces{text}, next;
    if (text.empty()) return;
    for (const auto& regex : regexes_) {
        std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data*)> match(
            pcre2_match_data_create_from_pattern(regex->code, nullptr), pcre2_match_data_free);
        if (!match) throw std::bad_alloc();
        next.clear();
        for (std::string_view piece : pieces) {
            auto subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
            size_t gap = 0, at = 0;
            while (at < piece.size()) {
                int rc = pcre2_match(regex->code, subject, piece.size(), at, 0, match.get(), nullptr);
                if (rc == PCRE2_ERROR_NOMATCH) break;
                if (rc < 0) {
                    PCRE2_UCHAR message[256];
                    pcre2_get_error_message(rc, message, sizeof message);
                    fail("tokenizer: pre-tokenizer regex failed at byte {} of a {}-byte piece: {}", at,
                         piece.size(), reinterpret_cast<const char*>(message));
                }
                const PCRE2_SIZE* span = pcre2_get_ovector_pointer(match.get());
                size_t begin = span[0], end = span[1];
                if (begin > gap) next.push_back(piece.substr(gap, begin - gap));
                if (end > begin) next.push_back(piece.substr(begin, end - begin));
                gap = end;
                // None of the patterns matches the empty string; step over one character if one ever does.
                at = end > begin ? end : next_char(piece, end);
            }
            if (gap < piece.size()) next.push_back(piece.substr(gap));
        }
        pieces.swap(next);
    }
    out.insert(out.end(), pieces.begin(), pieces.end());
}

}  // namespace adamas
