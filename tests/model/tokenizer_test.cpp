// Byte-level BPE against ids from an independent implementation (fixtures/tokenizer: SmolLM2's vocabulary
// and Hugging Face tokenizers' output), plus hand-built vocabularies for the rules the fixture cannot show.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "adamas/data_paths.h"
#include "adamas/error.h"
#include "adamas/gguf.h"
#include "adamas/tokenizer.h"
#include "model/tokenizer_fixtures.h"
#include "model/tokenizer_pretokenize.h"

namespace adamas {
namespace {

using test::from_hex;
using test::printable;
using test::smollm2_vocab;

const Tokenizer& smollm2() {
    static const Tokenizer tokenizer = Tokenizer::from_vocab(smollm2_vocab());
    return tokenizer;
}

TEST(Tokenizer, SmolLM2VocabularyAsDeclared) {
    const Tokenizer& t = smollm2();
    EXPECT_EQ(t.vocab_size(), 49152);
    EXPECT_EQ(t.bos(), 1);
    EXPECT_EQ(t.eos(), 2);
    EXPECT_FALSE(t.add_bos());
    EXPECT_EQ(t.token_text(1), "<|im_start|>");
    EXPECT_EQ(t.token_type(1), TokenType::control);
    EXPECT_EQ(t.token_type(100), TokenType::normal);
}

// The default model, when present: its tokenizer metadata read through GgufFile must be exactly what
// the fixture holds.

TEST(Tokenizer, VocabFromGgufMatchesFixture) {
    const std::string model = default_model_path();
    if (!std::filesystem::is_regular_file(model))
        GTEST_SKIP() << model << " is absent (run scripts/fetch-model.sh)";
    TokenizerVocab got = vocab_from_gguf(GgufFile::open(model)), want = smollm2_vocab();
    EXPECT_EQ(got.model, want.model);
    EXPECT_EQ(got.pre, want.pre);
    EXPECT_EQ(got.tokens, want.tokens);
    EXPECT_EQ(got.token_types, want.token_types);
    EXPECT_EQ(got.merges, want.merges);
    EXPECT_EQ(got.bos, want.bos);
    EXPECT_EQ(got.eos, want.eos);
    EXPECT_EQ(got.add_bos, want.add_bos);
    EXPECT_EQ(Tokenizer::from_vocab(got).encode("Hello, world!", false, true),
              (std::vector<int32_t>{19556, 28, 905, 17}));
}

TEST(Tokenizer, EncodeMatchesReferenceIds) {
    const Tokenizer& t = smollm2();
    nlohmann::json cases = test::load_tokenizer_fixture("smollm2_cases.json")["encode"];
    ASSERT_GE(cases.size(), 30u);
    for (const auto& c : cases) {
        std::string text = from_hex(c["text_hex"]);
        std::vector<int32_t> want = c["ids"].get<std::vector<int32_t>>();
        std::vector<int32_t> got = t.encode(text, false, c["parse_special"].get<bool>());
        EXPECT_EQ(got, want) << c["name"] << " (" << c["source"] << "): " << printable(text);
        EXPECT_EQ(t.decode(got), from_hex(c["decoded_hex"])) << c["name"];
    }
}

TEST(Tokenizer, PreTokenizerMatchesReferencePieces) {
    nlohmann::json cases = test::load_tokenizer_fixture("smollm2_cases.json")["pretokenize"];
    ASSERT_GE(cases.size(), 40u);
    for (const auto& c : cases) {
        PreTokenizer pre = PreTokenizer::for_name(c["pre"].get<std::string>());
        std::string text = c["text"];
        std::vector<std::string_view> got;
        pre.split(text, got);
        std::vector<std::string> want = c["pieces"].get<std::vector<std::string>>();
        EXPECT_EQ(std::vector<std::string>(got.begin(), got.end()), want)
            << c["pre"] << ": " << printable(text);
    }
}

TEST(Tokenizer, AddBosAndSpecialTokens) {
    const Tokenizer& t = smollm2();
    EXPECT_EQ(t.encode("", true, true), std::vector<int32_t>{1});
    EXPECT_EQ(t.encode("<|im_end|>", true, true), (std::vector<int32_t>{1, 2}));
    std::vector<int32_t> as_text = t.encode("<|im_end|>", false, false);
    EXPECT_GT(as_text.size(), 1u);
    EXPECT_EQ(std::count(as_text.begin(), as_text.end(), 2), 0);
    EXPECT_EQ(t.decode(std::vector<int32_t>{1, 2}), "<|im_start|><|im_end|>");
}

// Random bytes (mostly invalid UTF-8, some ASCII and multi-byte runs): every byte the vocabulary can
// spell comes back, in order.
TEST(Tokenizer, RoundTripsRandomBytes) {
    const Tokenizer& t = smollm2();
    std::string spellable;  // which single bytes survive
    for (int b = 0; b < 256; ++b)
        if (!t.encode(std::string(1, char(b)), false, false).empty()) spellable += char(b);
    EXPECT_EQ(spellable.size(), 256u - 21u);  // SmolLM2 lacks 21 byte-level characters
    const uint32_t seed = 20240611;
    std::mt19937 rng(seed);
    const std::string pieces[] = {" ",  "  ",  "\n",         "é",   "日本", "🤖",
                                  "'s", "123", "<|im_end|>", "the", "\t"};
    for (int round = 0; round < 300; ++round) {
        std::string text;
        int len = int(rng() % 64);
        for (int i = 0; i < len; ++i)
            text += rng() % 3 == 0 ? std::string(1, char(rng() % 256)) : pieces[rng() % std::size(pieces)];
        std::string want;
        for (char c : text)
            if (spellable.find(c) != std::string::npos) want += c;
        ASSERT_EQ(t.decode(t.encode(text, false, false)), want) << "seed " << seed << " round " << round;
    }
}

// A quadratic merge loop would take minutes here: one 1 MiB pre-token, and 4 MiB of prose.
TEST(Tokenizer, LongInputs) {
    const Tokenizer& t = smollm2();
    std::string word(1 << 20, 'a');
    for (size_t i = 0; i < word.size(); i += 7)
        word[i] = 'b';
    EXPECT_EQ(t.decode(t.encode(word, false, false)), word);
    std::string prose;
    while (prose.size() < (4u << 20))
        prose += "It is a truth universally acknowledged, that a single man 12345.\n";
    std::vector<int32_t> ids = t.encode(prose, false, true);
    EXPECT_LT(ids.size(), prose.size() / 3);
    EXPECT_EQ(t.decode(ids), prose);
}

TEST(Tokenizer, BadIdsNameTheIdAndTheVocabulary) {
    const Tokenizer& t = smollm2();
    for (int32_t id : {-1, 49152, INT32_MAX}) {
        try {
            t.decode(std::vector<int32_t>{5, id});
            ADD_FAILURE() << "no error for id " << id;
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(std::to_string(id)), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("49152"), std::string::npos) << e.what();
        }
        EXPECT_THROW(t.token_text(id), Error);
    }
}

// A small vocabulary: the 256 byte-level characters, then a few merges and added tokens.
TokenizerVocab tiny_vocab(std::string pre) {
    TokenizerVocab v;
    v.model = "gpt2";
    v.pre = std::move(pre);
    for (int b = 0; b < 256; ++b) {
        bool printable = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
        if (printable)
            v.tokens.push_back(b < 0x80 ? std::string(1, char(b))
                                        : std::string{char(0xc0 | (b >> 6)), char(0x80 | (b & 0x3f))});
    }
    // The 68 remaining bytes in byte order take U+0100 upwards; only space (Ġ, U+0120) is needed here.
    v.tokens.push_back("Ġ");
    v.token_types.assign(v.tokens.size(), int32_t(TokenType::normal));
    auto add = [&](std::string s, TokenType type) {
        v.tokens.push_back(std::move(s));
        v.token_types.push_back(int32_t(type));
        return int32_t(v.tokens.size() - 1);
    };
    add("aa", TokenType::normal);
    add("abc", TokenType::normal);  // reachable by no merge
    add("Ġa", TokenType::normal);
    add("<ctl>", TokenType::control);
    add("<user>", TokenType::user_defined);
    add("<user>x", TokenType::user_defined);
    v.merges = {"a a", "Ġ a"};
    return v;
}

int32_t id_of(const TokenizerVocab& v, const std::string& s) {
    return int32_t(std::find(v.tokens.begin(), v.tokens.end(), s) - v.tokens.begin());
}

TEST(Tokenizer, MergesByRankThenLeftmost) {
    TokenizerVocab v = tiny_vocab("gpt2");
    Tokenizer t = Tokenizer::from_vocab(v);
    int32_t aa = id_of(v, "aa"), a = id_of(v, "a");
    EXPECT_EQ(t.encode("aaa", false, false), (std::vector<int32_t>{aa, a}));
    EXPECT_EQ(t.encode("aaaa", false, false), (std::vector<int32_t>{aa, aa}));
    // "a a" outranks "Ġ a", so the lower rank wins even though "Ġ a" is further left.
    EXPECT_EQ(t.encode(" aaa", false, false), (std::vector<int32_t>{id_of(v, "Ġ"), aa, a}));
    std::swap(v.merges[0], v.merges[1]);
    EXPECT_EQ(Tokenizer::from_vocab(v).encode(" aaa", false, false),
              (std::vector<int32_t>{id_of(v, "Ġa"), aa}));
}

TEST(Tokenizer, Llama3TakesWholeTokensWithoutMerging) {
    TokenizerVocab v = tiny_vocab("gpt2");
    int32_t a = id_of(v, "a"), b = id_of(v, "b"), c = id_of(v, "c");
    EXPECT_EQ(Tokenizer::from_vocab(v).encode("abc", false, false), (std::vector<int32_t>{a, b, c}));
    v.pre = "llama3";
    EXPECT_EQ(Tokenizer::from_vocab(v).encode("abc", false, false), std::vector<int32_t>{id_of(v, "abc")});
}

TEST(Tokenizer, UserDefinedAlwaysMatchedControlOnlyWhenAsked) {
    TokenizerVocab v = tiny_vocab("gpt2");
    Tokenizer t = Tokenizer::from_vocab(v);
    int32_t ctl = id_of(v, "<ctl>"), user = id_of(v, "<user>"), userx = id_of(v, "<user>x");
    EXPECT_EQ(t.encode("<ctl><user>", false, true), (std::vector<int32_t>{ctl, user}));
    std::vector<int32_t> plain = t.encode("<ctl><user>", false, false);
    EXPECT_EQ(plain.back(), user);
    EXPECT_EQ(std::count(plain.begin(), plain.end(), ctl), 0);
    EXPECT_EQ(t.encode("<user>xx", false, false), (std::vector<int32_t>{userx, id_of(v, "x")}));  // longest
    EXPECT_EQ(t.decode(std::vector<int32_t>{userx, ctl}), "<user>x<ctl>");
}

TEST(Tokenizer, RejectsBadVocabularies) {
    auto expect_error = [](TokenizerVocab v, const std::string& needle) {
        try {
            Tokenizer::from_vocab(v);
            ADD_FAILURE() << "no error; expected one mentioning " << needle;
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    };
    TokenizerVocab v = tiny_vocab("gpt2");
    v.model = "t5";
    expect_error(v, "'t5'");
    v = tiny_vocab("falcon");
    expect_error(v, "'falcon'");
    v = tiny_vocab("gpt2");
    v.merges.push_back("a zz");
    expect_error(v, "'zz'");
    v = tiny_vocab("gpt2");
    v.merges.push_back("ab");
    expect_error(v, "merge 2");
    v = tiny_vocab("gpt2");
    v.bos = int32_t(v.tokens.size());
    expect_error(v, "bos id");
    v = tiny_vocab("gpt2");
    v.token_types.pop_back();
    expect_error(v, "token types");
}

}  // namespace
}  // namespace adamas
