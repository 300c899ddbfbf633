// SentencePiece BPE against llama.cpp on its Llama vocabulary (fixtures/tokenizer: the vocab-only GGUF with
// llama.cpp's own test strings, and our cases with ids from llama-tokenize), plus hand-built vocabularies
// for the rules the fixture cannot show (scores and ties, unk without byte tokens, unused pieces, errors).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "adamas/error.h"
#include "adamas/gguf.h"
#include "adamas/tokenizer.h"
#include "model/tokenizer_fixtures.h"

namespace adamas {
namespace {

using test::from_hex;
using test::printable;

const std::string kVocab = "ggml-vocab-llama-spm.gguf";

const Tokenizer& llama_spm() {
    static const Tokenizer tokenizer =
        Tokenizer::from_vocab(vocab_from_gguf(GgufFile::open(test::tokenizer_fixture_path(kVocab))));
    return tokenizer;
}

TEST(TokenizerSpm, LlamaVocabularyAsDeclared) {
    TokenizerVocab v = vocab_from_gguf(GgufFile::open(test::tokenizer_fixture_path(kVocab)));
    EXPECT_EQ(v.model, "llama");
    ASSERT_EQ(v.tokens.size(), 32000u);
    ASSERT_EQ(v.scores.size(), 32000u);
    EXPECT_EQ(v.scores[260], -1.0f);  // "▁t", the first merge
    EXPECT_EQ(v.bos, 1);
    EXPECT_EQ(v.eos, 2);
    EXPECT_EQ(v.unk, 0);
    EXPECT_TRUE(v.add_bos);
    EXPECT_TRUE(v.add_space_prefix);  // absent from the file: llama.cpp's default for "llama"
    const Tokenizer& t = llama_spm();
    EXPECT_EQ(t.token_text(3), "<0x00>");
    EXPECT_EQ(t.token_type(3), TokenType::byte);
    EXPECT_EQ(t.token_piece(16), "\r");  // <0x0D>
    EXPECT_EQ(t.token_text(15043), "\xe2\x96\x81Hello");
    EXPECT_EQ(t.token_piece(15043), " Hello");
    EXPECT_EQ(t.token_piece(1), "<s>");
}

// Our cases: ids from llama-tokenize, decoded text from llama_detokenize (make_spm_fixtures.py).
TEST(TokenizerSpm, EncodeAndDecodeMatchLlamaCpp) {
    const Tokenizer& t = llama_spm();
    nlohmann::json cases = test::load_tokenizer_fixture("llama_spm_cases.json")["cases"];
    ASSERT_GE(cases.size(), 40u);
    for (const auto& c : cases) {
        std::string text = from_hex(c["text_hex"]);
        std::vector<int32_t> want = c["ids"].get<std::vector<int32_t>>();
        std::vector<int32_t> got = t.encode(text, c["add_bos"].get<bool>(), c["parse_special"].get<bool>());
        EXPECT_EQ(got, want) << c["name"] << ": " << printable(text);
        EXPECT_EQ(t.decode(want), from_hex(c["decoded_hex"])) << c["name"];
    }
}

// llama.cpp's own test strings for this vocabulary (tokenized without BOS, without special tokens), as its
// test-tokenizer-0 reads them; every one of them also decodes back to itself.
TEST(TokenizerSpm, MatchesLlamaCppVocabTests) {
    const Tokenizer& t = llama_spm();
    const std::string inp = test::read_tokenizer_fixture(kVocab + ".inp");
    std::istringstream out(test::read_tokenizer_fixture(kVocab + ".out"));
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::vector<std::string> texts;
    for (size_t pos = 0; pos < inp.size();) {
        size_t next = inp.find(sep, pos);
        texts.push_back(inp.substr(pos, next == std::string::npos ? std::string::npos : next - pos));
        if (next == std::string::npos) break;
        pos = next + sep.size();
    }
    ASSERT_GE(texts.size(), 30u);
    for (const std::string& text : texts) {
        std::string line;
        ASSERT_TRUE(std::getline(out, line)) << "fewer expected lines than test strings";
        std::vector<int32_t> want;
        std::istringstream ids(line);
        for (int32_t id; ids >> id;)
            want.push_back(id);
        std::vector<int32_t> got = t.encode(text, false, false);
        EXPECT_EQ(got, want) << printable(text);
        EXPECT_EQ(t.decode(got), text) << printable(text);
    }
    std::string rest;
    EXPECT_FALSE(std::getline(out, rest)) << "more expected lines than test strings";
}

// With byte fallback nothing is lost: any bytes (invalid UTF-8 included, "▁" excluded since it is
// SentencePiece's space) come back from decode exactly.
TEST(TokenizerSpm, RoundTripsRandomBytes) {
    const Tokenizer& t = llama_spm();
    const uint32_t seed = 20251128;
    std::mt19937 rng(seed);
    const std::string pieces[] = {" ",  "  ",  "\n", "é",    "日本", "🤖", "'s",       "123",
                                  "<s", "the", "\t", "\r\n", "Ω",    "\xe2", "\x80\x80", "</s>"};
    for (int round = 0; round < 500; ++round) {
        std::string text;
        int len = int(rng() % 64);
        for (int i = 0; i < len; ++i)
            text += rng() % 3 == 0 ? std::string(1, char(rng() % 256)) : pieces[rng() % std::size(pieces)];
        if (text.find("\xe2\x96\x81") != std::string::npos) continue;
        std::vector<int32_t> ids = t.encode(text, false, false);
        ASSERT_EQ(t.decode(ids), text) << "seed " << seed << " round " << round << ": " << printable(text);
        ASSERT_EQ(std::count(ids.begin(), ids.end(), t.unk()), 0) << printable(text);
    }
}

// Invalid UTF-8: every invalid byte is a character of its own, so the valid text around it tokenizes as
// it would alone (llama.cpp instead takes as many bytes as the lead byte announces, see docs/design.md).
TEST(TokenizerSpm, InvalidUtf8ByteIsItsOwnCharacter) {
    const Tokenizer& t = llama_spm();
    auto byte = [&](int b) { return t.encode(std::string(1, char(b)), false, false).back(); };
    EXPECT_EQ(byte(0xc3), 3 + 0xc3);  // <0xC3>
    std::vector<int32_t> want = t.encode("caf", false, false);
    want.push_back(3 + 0xc3);
    std::vector<int32_t> tail =
        t.encode("ok", false, false);  // "▁ok": the space after "\xc3" as a dummy prefix
    want.insert(want.end(), tail.begin(), tail.end());
    EXPECT_EQ(t.encode("caf\xc3 ok", false, false), want);
}

// Merging word by word (possible since no piece of this vocabulary has a "▁" after another character)
// must give exactly what one merge loop over the whole text gives; a piece that spans words, which no
// text here contains, turns the word split off.
TEST(TokenizerSpm, WordByWordEqualsWholeText) {
    TokenizerVocab v = vocab_from_gguf(GgufFile::open(test::tokenizer_fixture_path(kVocab)));
    v.tokens.push_back("\x01\xe2\x96\x81\x01");
    v.scores.push_back(-1e9f);
    v.token_types.push_back(int32_t(TokenType::normal));
    const Tokenizer whole = Tokenizer::from_vocab(v);
    const Tokenizer& words = llama_spm();
    nlohmann::json cases = test::load_tokenizer_fixture("llama_spm_cases.json")["cases"];
    std::vector<std::string> texts;
    for (const auto& c : cases)
        texts.push_back(from_hex(c["text_hex"]));
    const uint32_t seed = 7;
    std::mt19937 rng(seed);
    const std::string pieces[] = {" ", "   ", "\n", "a", "the", "▁", "日", "\xff", "ing", "'", "3"};
    for (int round = 0; round < 300; ++round) {
        std::string text;
        for (int i = int(rng() % 40); i > 0; --i)
            text += pieces[rng() % std::size(pieces)];
        texts.push_back(text);
    }
    for (const std::string& text : texts)
        for (bool parse_special : {false, true})
            ASSERT_EQ(words.encode(text, true, parse_special), whole.encode(text, true, parse_special))
                << "seed " << seed << ": " << printable(text);
}

// A quadratic merge loop would take minutes here: 4 MiB of prose as one fragment (SentencePiece has no
// pre-tokenizer), and a 1 MiB run of one repeated character.
TEST(TokenizerSpm, LongInputs) {
    const Tokenizer& t = llama_spm();
    std::string prose;
    while (prose.size() < (4u << 20))
        prose +=
            "It is a truth universally acknowledged, that a single man 12345 \xe6\x97\xa5\xe6\x9c\xac.\n";
    auto start = std::chrono::steady_clock::now();
    std::vector<int32_t> ids = t.encode(prose, false, false);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("encoded %zu bytes into %zu tokens in %.2f s: %.2f M tokens/s, %.1f MB/s\n", prose.size(),
                ids.size(), seconds, ids.size() / seconds / 1e6, prose.size() / seconds / 1e6);
    EXPECT_LT(ids.size(), prose.size() / 2);
    EXPECT_EQ(t.decode(ids), prose);
    std::string run(1 << 20, 'a');
    EXPECT_EQ(t.decode(t.encode(run, false, false)), run);
}

// Hand-built vocabularies: the rules in isolation.
struct SpmVocabBuilder {
    TokenizerVocab v;
    SpmVocabBuilder(bool bytes) {
        v.model = "llama";
        v.add_space_prefix = true;
        add("<unk>", 0, TokenType::unknown);
        add("<s>", 0, TokenType::control);
        add("</s>", 0, TokenType::control);
        v.unk = 0;
        v.bos = 1;
        v.eos = 2;
        if (bytes)
            for (int b = 0; b < 256; ++b)
                add(fmt::format("<0x{:02X}>", b), 0, TokenType::byte);
    }
    int32_t add(std::string text, float score, TokenType type = TokenType::normal) {
        v.tokens.push_back(std::move(text));
        v.scores.push_back(score);
        v.token_types.push_back(int32_t(type));
        return int32_t(v.tokens.size() - 1);
    }
    int32_t id(const std::string& text) const {
        return int32_t(std::find(v.tokens.begin(), v.tokens.end(), text) - v.tokens.begin());
    }
};

const std::string kSp = "\xe2\x96\x81";  // ▁

TEST(TokenizerSpm, MergesHighestScoreThenLeftmost) {
    SpmVocabBuilder b(true);
    for (std::string c : {kSp, std::string("a"), std::string("b")})
        b.add(c, -100);
    int32_t ab = b.add("ab", -2), ba = b.add("ba", -1), a = b.id("a"), bb = b.id("b"), sp = b.id(kSp);
    Tokenizer t = Tokenizer::from_vocab(b.v);
    // "aba": "ba" (-1) beats "ab" (-2) although "ab" is further left.
    EXPECT_EQ(t.encode("aba", false, false), (std::vector<int32_t>{sp, a, ba}));
    // Equal scores: the leftmost pair merges first.
    b.v.scores[ab] = -1;
    EXPECT_EQ(Tokenizer::from_vocab(b.v).encode("aba", false, false), (std::vector<int32_t>{sp, ab, a}));
    // Without the dummy prefix.
    b.v.add_space_prefix = false;
    EXPECT_EQ(Tokenizer::from_vocab(b.v).encode("abab", false, false), (std::vector<int32_t>{ab, ab}));
    EXPECT_EQ(Tokenizer::from_vocab(b.v).decode(std::vector<int32_t>{sp, a}), " a");
    (void)bb;
}

TEST(TokenizerSpm, DummyPrefixAtStartAndAfterSpecialTokens) {
    SpmVocabBuilder b(true);
    int32_t sp = b.add(kSp, -100), x = b.add("x", -100), spx = b.add(kSp + "x", -1);
    Tokenizer t = Tokenizer::from_vocab(b.v);
    EXPECT_EQ(t.encode("x", true, true), (std::vector<int32_t>{1, spx}));
    EXPECT_EQ(t.encode("x</s>x", false, true), (std::vector<int32_t>{spx, 2, spx}));
    EXPECT_EQ(t.encode("<s></s>", false, true), (std::vector<int32_t>{1, 2}));
    EXPECT_EQ(t.encode(" x", false, true), (std::vector<int32_t>{sp, spx}));
    EXPECT_EQ(t.encode("", true, true), (std::vector<int32_t>{1}));
    EXPECT_EQ(t.decode(std::vector<int32_t>{spx, 2, spx}), "x</s> x");
    EXPECT_EQ(t.decode(std::vector<int32_t>{1, spx}), "<s> x");  // as llama_detokenize
    (void)x;
}

// Without byte tokens, a run of characters without a piece is one unk, as SentencePiece does.
TEST(TokenizerSpm, UnknownCharactersWithoutByteTokens) {
    SpmVocabBuilder b(false);
    int32_t sp = b.add(kSp, -100), a = b.add("a", -100);
    Tokenizer t = Tokenizer::from_vocab(b.v);
    EXPECT_EQ(t.encode("a\xce\xa9\xce\xa9!a\xff", false, false), (std::vector<int32_t>{sp, a, 0, a, 0}));
    EXPECT_EQ(t.decode(std::vector<int32_t>{sp, a, 0}), "a<unk>");
    // With byte tokens, the same characters become their UTF-8 bytes.
    SpmVocabBuilder with(true);
    sp = with.add(kSp, -100);
    a = with.add("a", -100);
    EXPECT_EQ(Tokenizer::from_vocab(with.v).encode("a\xce\xa9", false, false),
              (std::vector<int32_t>{sp, a, 3 + 0xce, 3 + 0xa9}));
}

// An unused piece takes part in merges but is split back into its parts when it is a final piece.
TEST(TokenizerSpm, UnusedPiecesAreResegmented) {
    SpmVocabBuilder b(true);
    b.v.add_space_prefix = false;
    int32_t a = b.add("a", -100), bb = b.add("b", -100), c = b.add("c", -100);
    b.add("ab", -1, TokenType::unused);
    int32_t abc = b.add("abc", -2);
    Tokenizer t = Tokenizer::from_vocab(b.v);
    EXPECT_EQ(t.encode("abc", false, false), std::vector<int32_t>{abc});  // reached through the unused "ab"
    EXPECT_EQ(t.encode("ab", false, false), (std::vector<int32_t>{a, bb}));
    (void)c;
}

TEST(TokenizerSpm, RejectsBadVocabularies) {
    auto expect_error = [](const TokenizerVocab& v, const std::string& needle) {
        try {
            Tokenizer::from_vocab(v);
            ADD_FAILURE() << "no error; expected one mentioning " << needle;
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    };
    SpmVocabBuilder b(true);
    b.add(kSp, -1);
    TokenizerVocab v = b.v;
    v.scores.clear();
    expect_error(v, "no scores");
    v = b.v;
    v.scores.pop_back();
    expect_error(v, "scores for");
    v = b.v;
    v.scores[5] = std::nanf("");
    expect_error(v, "NaN");
    v = b.v;
    v.tokens[3] = "<0xZZ>";
    expect_error(v, "'<0xZZ>'");
    v = b.v;
    v.unk = int32_t(v.tokens.size());
    expect_error(v, "unk id");
    SpmVocabBuilder no_bytes(false);
    no_bytes.v.unk = -1;
    expect_error(no_bytes.v, "lacks <0xNN> tokens for 256 of 256 bytes");
}

}  // namespace
}  // namespace adamas
