// tokenizer.json of Hugging Face directories: SmolLM2's vocabulary (the GGUF fixture) written as
// tokenizer.json reads back as the same TokenizerVocab and encodes the reference cases to the same ids;
// each supported pre-tokenizer is recognised from its structure; bos/eos/add_bos come from
// tokenizer_config.json, config.json or the post-processor; anything else is an Error naming the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "adamas/error.h"
#include "adamas/tokenizer.h"
#include "model/tokenizer_fixtures.h"
#include "model/tokenizer_json_writer.h"
#include "scratch_dir.h"

namespace adamas {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using test::from_hex;

class HfTokenizerTest : public test::ScratchDirTest {
  protected:
    void write(const std::string& name, const std::string& text) const { std::ofstream(dir_ / name) << text; }

    // vocab_from_hf must fail with a message containing the file's path and `needle`.
    void expect_error(const std::string& file, const std::string& needle) const {
        try {
            vocab_from_hf(dir_.string());
            ADD_FAILURE() << "no error; expected one containing '" << needle << "'";
        } catch (const Error& e) {
            const std::string message = e.what();
            EXPECT_NE(message.find((dir_ / file).string()), std::string::npos) << message;
            EXPECT_NE(message.find(needle), std::string::npos)
                << "expected '" << needle << "' in: " << message;
        }
    }
};

TEST_F(HfTokenizerTest, SmolLM2VocabularyRoundTripsAndEncodesTheReferenceCases) {
    const TokenizerVocab want = test::smollm2_vocab();
    for (bool pairs : {true, false}) {
        test::write_hf_tokenizer(want, dir_, pairs);
        const TokenizerVocab got = vocab_from_hf(dir_.string());
        EXPECT_EQ(got.model, "gpt2");
        EXPECT_EQ(got.pre, "smollm");
        EXPECT_EQ(got.tokens, want.tokens);
        EXPECT_EQ(got.token_types, want.token_types);
        EXPECT_EQ(got.merges, want.merges) << "merges as pairs: " << pairs;
        EXPECT_EQ(got.bos, want.bos);
        EXPECT_EQ(got.eos, want.eos);
        EXPECT_EQ(got.add_bos, want.add_bos);
    }
    const Tokenizer t = Tokenizer::from_vocab(vocab_from_hf(dir_.string()));
    const json cases = test::load_tokenizer_fixture("smollm2_cases.json")["encode"];
    for (const auto& c : cases)
        EXPECT_EQ(t.encode(from_hex(c["text_hex"]), false, c["parse_special"].get<bool>()),
                  c["ids"].get<std::vector<int32_t>>())
            << c["name"];
}

TEST_F(HfTokenizerTest, PreTokenizersAreRecognisedByStructure) {
    TokenizerVocab v = test::tiny_vocab();
    for (const char* pre : {"gpt2", "smollm", "llama3", "qwen2"}) {
        v.pre = pre;
        test::write_hf_tokenizer(v, dir_);
        EXPECT_EQ(vocab_from_hf(dir_.string()).pre, pre);
    }
    const Tokenizer t = Tokenizer::from_vocab(vocab_from_hf(dir_.string()));
    const std::vector<int32_t> hello_world = {259, 264};  // "hello", " world"
    EXPECT_EQ(t.encode("hello world", false, false), hello_world);
}

TEST_F(HfTokenizerTest, BosEosAndAddBosFromEachSource) {
    TokenizerVocab v = test::tiny_vocab();
    v.bos = 3;
    v.add_bos = true;
    test::write_hf_tokenizer(v, dir_);
    TokenizerVocab got = vocab_from_hf(dir_.string());
    EXPECT_EQ(got.bos, 3);
    EXPECT_EQ(got.eos, v.eos);
    EXPECT_TRUE(got.add_bos);
    // No tokenizer_config.json: ids from config.json (eos may be a list), add_bos from the post-processor.
    fs::remove(dir_ / "tokenizer_config.json");
    write("config.json", R"({"bos_token_id": 265, "eos_token_id": [265, 7]})");
    json tokenizer = test::hf_tokenizer_json(v);
    tokenizer["post_processor"] = {{"type", "Sequence"},
                                   {"processors",
                                    {{{"type", "ByteLevel"}},
                                     {{"type", "TemplateProcessing"},
                                      {"single",
                                       {{{"SpecialToken", {{"id", "<|endoftext|>"}, {"type_id", 0}}}},
                                        {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}}}}}};
    write("tokenizer.json", tokenizer.dump());
    got = vocab_from_hf(dir_.string());
    EXPECT_EQ(got.bos, 265);
    EXPECT_EQ(got.eos, 265);
    EXPECT_TRUE(got.add_bos);
    fs::remove(dir_ / "config.json");
    tokenizer["post_processor"] = nullptr;
    write("tokenizer.json", tokenizer.dump());
    got = vocab_from_hf(dir_.string());
    EXPECT_EQ(got.bos, -1);
    EXPECT_EQ(got.eos, -1);
    EXPECT_FALSE(got.add_bos);
}

TEST_F(HfTokenizerTest, ProblemsNameTheFile) {
    expect_error("tokenizer.json", "is missing");
    write("tokenizer.json", "{\"model\": ");
    expect_error("tokenizer.json", "not valid JSON");
    const json good = test::hf_tokenizer_json(test::tiny_vocab());
    struct Case {
        std::function<void(json&)> change;
        std::string needle;
    };
    const std::vector<Case> cases = {
        {[](json& t) { t["model"]["type"] = "Unigram"; }, "model is not BPE"},
        {[](json& t) { t["model"]["byte_fallback"] = true; },
         "byte_fallback (SentencePiece style) is not supported"},
        {[](json& t) { t["model"]["continuing_subword_prefix"] = "##"; },
         "model.continuing_subword_prefix is set"},
        {[](json& t) {
             t["normalizer"] = {{"type", "Lowercase"}};
         },
         "normalizer"},
        {[](json& t) { t["pre_tokenizer"] = nullptr; }, "has no pre_tokenizer"},
        {[](json& t) {
             t["pre_tokenizer"] = {{"type", "Metaspace"}};
         },
         "pre_tokenizer {\"type\":\"Metaspace\"} is not supported"},
        {[](json& t) { t["pre_tokenizer"]["add_prefix_space"] = true; }, "is not supported"},
        {[](json& t) {
             t["pre_tokenizer"] = test::hf_pre_tokenizer("llama3");
             t["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\s+";
         },
         "is not supported (expected the byte-level pre-tokenizer of GPT-2, SmolLM2, Llama 3 or Qwen2)"},
        {[](json& t) { t["model"]["vocab"] = json::object(); }, "model.vocab is missing or empty"},
        {[](json& t) { t["model"]["vocab"]["x"] = "seven"; },
         "model.vocab['x'] is \"seven\" (expected an id)"},
        {[](json& t) { t["model"]["vocab"]["new"] = 300; }, "no token has id 266"},
        {[](json& t) { t["model"]["vocab"]["new"] = 3; }, "id 3 is both"},
        {[](json& t) { t["model"]["vocab"]["new"] = -1; }, "has id -1"},
        {[](json& t) {
             t["added_tokens"].push_back({{"id", "a"}});
         },
         "lacks an integer id"},
        {[](json& t) { t["model"]["merges"].push_back(7); }, "merge 9 is 7"},
        {[](json& t) { t["model"]["merges"] = "h e"; }, "model.merges is not a list"},
        {[](json& t) {
             t["pre_tokenizer"] = test::hf_pre_tokenizer("llama3");
             t["pre_tokenizer"]["pretokenizers"][0]["behavior"] = 3;
         },
         "unexpected structure"},
        {[](json& t) { t["pre_tokenizer"]["use_regex"] = "yes"; }, "unexpected structure"},
    };
    for (const Case& c : cases) {
        json t = good;
        c.change(t);
        write("tokenizer.json", t.dump());
        expect_error("tokenizer.json", c.needle);
    }
    write("tokenizer.json", good.dump());
    write("tokenizer_config.json", R"({"bos_token": "<s>"})");
    expect_error("tokenizer_config.json", "bos_token '<s>' is not a token of");
    write("tokenizer_config.json", "[1]");
    expect_error("tokenizer_config.json", "is a JSON array (expected an object)");
}

}  // namespace
}  // namespace adamas
