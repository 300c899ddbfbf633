// The model subcommands' command lines: help, and bad input ending with a message naming the input and
// the documented exit code — corrupt model files, missing text files, impossible options — and the
// commands on tiny models. The few on the real default model skip without it (CTest label `model`).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "adamas/data_paths.h"
#include "model/tiny_llama.h"
#include "model/tokenizer_json_writer.h"
#include "tools/cli_runner.h"

namespace adamas {
namespace {

namespace fs = std::filesystem;
using Result = test::CliResult;

class ModelCliTest : public test::CliTest {
  protected:
    void write(const std::string& name, const std::string& bytes) const {
        std::ofstream(path(name), std::ios::binary) << bytes;
    }
    // A tiny random model with the tiny tokenizer in hf/ (returned) and a repetitive text.txt of
    // `phrases` phrases (60: enough for a few windows of 64 tokens).
    std::string tiny_model_and_text(int kv_heads = 2, int phrases = 60) const {
        const TokenizerVocab vocab = test::tiny_vocab();
        test::TinySpec spec;
        spec.vocab = int(vocab.tokens.size());
        spec.kv_heads = kv_heads;
        const std::string model = path("hf");
        test::write_hf_model(test::make_tiny_model(spec, 6), model);
        test::write_hf_tokenizer(vocab, model);
        std::string text;
        for (int i = 0; i < phrases; ++i)
            text += i % 3 ? "hello world " : "a hello a ";
        write("text.txt", text);
        return model;
    }
};

TEST_F(ModelCliTest, HelpOfEverySubcommand) {
    for (const char* cmd : {"generate", "perplexity", "passkey", "bench e2e"}) {
        const Result r = run(fmt::format("{} --help", cmd));
        EXPECT_EQ(r.code, 0) << cmd << ": " << r.err;
        EXPECT_NE(r.out.find("--policy"), std::string::npos) << cmd;
        EXPECT_NE(r.out.find("--budget"), std::string::npos) << cmd;
        EXPECT_NE(r.out.find("a GGUF file or a Hugging Face directory"), std::string::npos) << cmd;
    }
}

TEST_F(ModelCliTest, CorruptModelFilesAreBadInput) {
    write("empty.gguf", "");
    write("garbage.gguf", std::string(1000, 'x'));
    write("truncated.gguf", std::string("GGUF\x03\x00\x00\x00", 8));
    for (const char* name : {"empty.gguf", "garbage.gguf", "truncated.gguf"}) {
        const Result r = run(fmt::format("generate -m '{}' -p hello -n 1", path(name)));
        EXPECT_EQ(r.code, 2) << name << ": " << r.err;
        EXPECT_NE(r.err.find(path(name)), std::string::npos) << r.err;
        EXPECT_TRUE(r.out.empty());
    }
    const Result missing = run(fmt::format("generate -m '{}' -p hello", path("nope.gguf")));
    EXPECT_EQ(missing.code, 2) << missing.err;
    EXPECT_NE(missing.err.find("nope.gguf"), std::string::npos) << missing.err;
    const Result directory = run(fmt::format("generate -m '{}' -p hello", dir_.string()));
    EXPECT_EQ(directory.code, 2) << directory.err;
}

TEST_F(ModelCliTest, UnsupportedArchitecturesAndTensorTypesAreBadInput) {
    test::TinySpec arch;
    arch.arch = "gemma2";
    write("gemma2.gguf", test::tiny_gguf(test::make_tiny_model(arch, 1)));
    test::TinySpec q5;
    q5.q5_0_matrices = true;
    write("q5_0.gguf", test::tiny_gguf(test::make_tiny_model(q5, 2)));
    for (const auto& [name, message] : {std::pair{"gemma2.gguf", "architecture 'gemma2' is not supported"},
                                        std::pair{"q5_0.gguf", "which the engine does not compute with"}}) {
        const Result r =
            run(fmt::format("bench e2e -m '{}' --contexts 64 --decode-tokens 1 --repeats 1", path(name)));
        EXPECT_EQ(r.code, 2) << name << ": " << r.err;
        EXPECT_NE(r.err.find(path(name)), std::string::npos) << r.err;
        EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
        EXPECT_TRUE(r.out.empty());
    }
}

TEST_F(ModelCliTest, PromptLongerThanTheContextIsAnError) {
    if (!std::filesystem::exists(default_model_path())) GTEST_SKIP() << "model not installed";
    std::string text;
    for (int i = 0; i < 200; ++i)
        text += "It is a truth universally acknowledged. ";
    write("long.txt", text);
    const Result r = run(fmt::format("generate -f '{}' -n 4 --ctx 256", path("long.txt")));
    EXPECT_NE(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("exceed the context of 256 tokens"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST_F(ModelCliTest, BadOptionsAreUsageErrors) {
    write("empty.gguf", "");
    const std::string m = fmt::format("-m '{}'", path("empty.gguf"));
    for (const std::string& args :
         {fmt::format("generate {} -p hi --policy nonsense", m),
          fmt::format("generate {} -p hi --budget 0 --policy adamas", m),
          fmt::format("generate {} -p hi -n -3", m), fmt::format("generate {}", m),
          fmt::format("generate {} -p hi --system 'Be brief.'", m),  // --system without --chat
          fmt::format("perplexity {} -f x.txt --ctx 3", m),
          fmt::format("passkey {} -f x.txt --depths 10:5:1", m),
          fmt::format("passkey {} -f x.txt --keys 0", m), std::string("generate -p hi --frobnicate")}) {
        const Result r = run(args);
        EXPECT_EQ(r.code, 1) << args << ": " << r.err;
        EXPECT_FALSE(r.err.empty()) << args;
    }
}

TEST_F(ModelCliTest, MissingTextFilesAreBadInput) {
    // The text is read before the model, so no model is needed to see the error.
    const Result r = run(fmt::format("perplexity -f '{}'", path("missing.txt")));
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("missing.txt"), std::string::npos) << r.err;
}

// A Hugging Face directory without tokenizer.json runs where no tokenizer is needed (bench e2e prefills
// random tokens) and is a clear bad-input error where one is.
TEST_F(ModelCliTest, HfDirectoryWithoutTokenizerRunsWhereNoneIsNeeded) {
    test::TinySpec spec;
    spec.dtype = "BF16";
    const std::string model = path("hf");
    test::write_hf_model(test::make_tiny_model(spec, 3), model, /*shards=*/2);
    const Result bench = run(fmt::format(
        "bench e2e -m '{}' --contexts 64 --decode-tokens 2 --repeats 1 --policies dense,adamas --budgets 16 "
        "--threads 2",
        model));
    EXPECT_EQ(bench.code, 0) << bench.err;
    EXPECT_NE(bench.out.find("| 64 | dense |"), std::string::npos) << bench.out;
    EXPECT_NE(bench.out.find("| 64 | adamas | 16 |"), std::string::npos) << bench.out;
    write("text.txt", "It is a truth universally acknowledged. " + std::string(2000, 'a'));
    for (const std::string& args :
         {fmt::format("generate -m '{}' -p hello -n 1", model),
          fmt::format("perplexity -m '{}' -f '{}' --ctx 16", model, path("text.txt")),
          fmt::format("passkey -m '{}' -f '{}' --contexts 64", model, path("text.txt")),
          fmt::format("bench e2e -m '{}' -f '{}' --contexts 64", model, path("text.txt"))}) {
        const Result r = run(args);
        EXPECT_EQ(r.code, 2) << args << ": " << r.err;
        EXPECT_NE(r.err.find(model + "/tokenizer.json: is missing"), std::string::npos)
            << args << ": " << r.err;
        EXPECT_TRUE(r.out.empty()) << args;
    }
}

// With tokenizer.json, the text commands run on a directory.
TEST_F(ModelCliTest, HfDirectoryWithTokenizerRunsTextCommands) {
    const TokenizerVocab vocab = test::tiny_vocab();
    test::TinySpec spec;
    spec.vocab = int(vocab.tokens.size());
    const std::string model = path("hf");
    test::write_hf_model(test::make_tiny_model(spec, 5), model);
    test::write_hf_tokenizer(vocab, model);
    const Result generate = run(fmt::format("generate -m '{}' -p 'hello world' -n 4 --temp 0", model));
    EXPECT_EQ(generate.code, 0) << generate.err;
    EXPECT_NE(generate.err.find("prompt 2 tokens"), std::string::npos) << generate.err;  // "hello", " world"
    write("text.txt", std::string(400, 'a') + " hello world");
    const Result ppl =
        run(fmt::format("perplexity -m '{}' -f '{}' --ctx 32 --policies dense", model, path("text.txt")));
    EXPECT_EQ(ppl.code, 0) << ppl.err;
    EXPECT_NE(ppl.out.find("dense"), std::string::npos) << ppl.out;
}

// perplexity prefills each window once and switches policy per row: every row must score exactly what
// a run of that row alone scores (a fresh prefill per window).
TEST_F(ModelCliTest, PerplexityRowsEqualSingleRowRuns) {
    const std::string model = tiny_model_and_text(/*kv_heads=*/4);  // MHA: one fused adamas item per head
    const std::string common =
        fmt::format("perplexity -m '{}' -f '{}' --ctx 64 --dense-layers 0", model, path("text.txt"));
    const Result all =
        run(common + " --policies dense,adamas,quest,streaming --budgets 8,16 --json " + path("all.json"));
    ASSERT_EQ(all.code, 0) << all.err;
    const auto rows = nlohmann::json::parse(std::ifstream(path("all.json")));
    ASSERT_EQ(rows.size(), 7u);
    for (const auto& row : rows) {
        const std::string policy = row["policy"];
        const std::string budget =
            row["budget"].is_null() ? "" : " --budgets " + std::to_string(int(row["budget"]));
        const Result one = run(common + " --policies " + policy + budget + " --json " + path("one.json"));
        ASSERT_EQ(one.code, 0) << one.err;
        const auto single = nlohmann::json::parse(std::ifstream(path("one.json")));
        ASSERT_EQ(single.size(), 1u);
        EXPECT_EQ(single[0]["tokens"], row["tokens"]) << policy << budget;
        EXPECT_EQ(single[0]["nll"].get<double>(), row["nll"].get<double>()) << policy << budget;
    }
}

// Batched scoring (the default) gives each scored token the attention a decode step computes: its rows
// match real decode steps on float activations up to summation order. Adamas is left out: a rounding
// difference can move a coordinate across a bucket threshold and so change a code.
TEST_F(ModelCliTest, PerplexityBatchedScoringMatchesDecodeSteps) {
    const std::string model = tiny_model_and_text();
    const std::string common = fmt::format(
        "perplexity -m '{}' -f '{}' --ctx 64 --dense-layers 1 --policies dense,oracle,quest,streaming "
        "--budgets 8,16",
        model, path("text.txt"));
    const Result batched = run(common + " --json " + path("batched.json"));
    ASSERT_EQ(batched.code, 0) << batched.err;
    const Result steps = run(common + " --decode-steps --float-activations --json " + path("steps.json"));
    ASSERT_EQ(steps.code, 0) << steps.err;
    const auto a = nlohmann::json::parse(std::ifstream(path("batched.json")));
    const auto b = nlohmann::json::parse(std::ifstream(path("steps.json")));
    ASSERT_EQ(a.size(), 7u);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i]["policy"], b[i]["policy"]);
        EXPECT_EQ(a[i]["tokens"], b[i]["tokens"]);
        EXPECT_NEAR(a[i]["nll"].get<double>(), b[i]["nll"].get<double>(), 1e-4) << a[i]["policy"];
    }
    // The sparse rows differ from dense, so the test would notice scoring that ignored the policy.
    EXPECT_GT(std::abs(a[0]["nll"].get<double>() - a[5]["nll"].get<double>()), 1e-3);
}

// selection on a tiny random model: per head, the oracle's set is its own best (recall 1) and captures
// at least the mass any other policy does at the same budget; every share is a fraction; buckets sum to
// one. (Recall is always of the query head's own best budget tokens, so pooled sets score below 1.)
TEST_F(ModelCliTest, SelectionMeasuresEveryPolicyAgainstTheOracle) {
    const std::string model = tiny_model_and_text();
    const Result r = run(fmt::format(
        "selection -m '{}' -f '{}' --ctx 64 --samples 6 --dense-layers 1 --policies adamas,oracle,streaming "
        "--budgets 8 --gqa per-head --tau-mode relative --tau 0.6 --per-layer --json '{}'",
        model, path("text.txt"), path("sel.json")));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("| oracle | 8 |"), std::string::npos) << r.out;
    const auto json = nlohmann::json::parse(std::ifstream(path("sel.json")));
    ASSERT_EQ(json["rows"].size(), 3u);
    const double oracle_mass = json["rows"][1]["mass"];
    EXPECT_DOUBLE_EQ(json["rows"][1]["recall"].get<double>(), 1.0);
    for (const auto& row : json["rows"]) {
        EXPECT_GT(row["mass"].get<double>(), 0.0);
        EXPECT_LE(row["mass"].get<double>(), oracle_mass + 1e-9) << row["policy"];
        EXPECT_GE(row["kl"].get<double>(), 0.0);
        EXPECT_EQ(row["layers"].size(), size_t(test::TinySpec{}.layers - 1));  // all but the dense one
    }
    EXPECT_GT(json["rows"][2]["kl"].get<double>(), 0.0);
    for (const auto& layer : json["buckets"]) {
        double keys = 0;
        for (double share : layer["keys"])
            keys += share;
        EXPECT_NEAR(keys, 1.0, 1e-9);
    }
}

// The recall reference is the head's plain top-budget for every row, not the policy's own rule: an oracle
// forced to keep a recent window holds less of it than the plain oracle (which holds all of it).
TEST_F(ModelCliTest, SelectionRecallIgnoresThePolicysForcedTokens) {
    const std::string model = tiny_model_and_text();
    const Result r = run(fmt::format(
        "selection -m '{}' -f '{}' --ctx 64 --samples 6 --dense-layers 1 --policies oracle --budgets 8 "
        "--gqa per-head --recent 4 --json '{}'",
        model, path("text.txt"), path("sel.json")));
    ASSERT_EQ(r.code, 0) << r.err;
    const auto json = nlohmann::json::parse(std::ifstream(path("sel.json")));
    ASSERT_EQ(json["rows"].size(), 1u);
    EXPECT_LT(json["rows"][0]["recall"].get<double>(), 1.0);
    EXPECT_GT(json["rows"][0]["recall"].get<double>(), 0.0);
}

// --paper is the paper's configuration: it cannot be combined with the options it sets, and it changes
// adamas's rows (fixed tau 10 against the default). Its GQA mode is per-head unless --gqa says otherwise.
TEST_F(ModelCliTest, PaperFlagSetsThePapersThresholdAndExcludesItsOptions) {
    for (const char* option : {"--tau 1", "--tau-mode relative", "--rerank 2"}) {
        const Result r = run(fmt::format("perplexity --paper {} -f text.txt", option));
        EXPECT_EQ(r.code, 1) << option;
        EXPECT_NE(r.err.find("excludes"), std::string::npos) << r.err;
    }
    const std::string model = tiny_model_and_text();
    const std::string common =
        fmt::format("perplexity -m '{}' -f '{}' --ctx 64 --dense-layers 0 --policies adamas --budgets 8",
                    model, path("text.txt"));
    const Result paper = run(common + " --paper --json " + path("paper.json"));
    const Result fixed =
        run(common + " --tau-mode fixed --tau 10 --rerank 0 --gqa per-head --recent 0 --json " +
            path("fixed.json"));
    const Result other = run(common + " --tau-mode relative --tau 0.5 --json " + path("other.json"));
    const Result pooled = run(common + " --paper --gqa pooled --json " + path("pooled.json"));
    const Result pooled_fixed =
        run(common + " --tau-mode fixed --tau 10 --rerank 0 --recent 0 --json " + path("pooled_fixed.json"));
    for (const Result* r : {&paper, &fixed, &other, &pooled, &pooled_fixed})
        ASSERT_EQ(r->code, 0) << r->err;
    auto nll = [&](const char* file) {
        return nlohmann::json::parse(std::ifstream(path(file)))[0]["nll"].get<double>();
    };
    EXPECT_EQ(nll("paper.json"), nll("fixed.json"));
    EXPECT_NE(nll("paper.json"), nll("other.json"));
    EXPECT_EQ(nll("pooled.json"), nll("pooled_fixed.json"));  // the tiny model has GQA groups
    EXPECT_NE(nll("pooled.json"), nll("paper.json"));
}

// --code-bits 3: eight buckets, its own packing; the decode steps run and rank differently from 2-bit
// codes, and what 3-bit codes cannot do is a usage error. --tau-mode calibrated runs too.
TEST_F(ModelCliTest, ThreeBitCodesRunAndRejectWhatTheyCannotDo) {
    const std::string model = tiny_model_and_text();
    const std::string common = fmt::format(
        "perplexity -m '{}' -f '{}' --ctx 64 --dense-layers 0 --policies adamas --budgets 8 --recent 0",
        model, path("text.txt"));
    for (const std::string& bad : {common + " --code-bits 4", common + " --code-bits 3 --metric xor",
                                   common + " --code-bits 3 --paper"}) {
        const Result r = run(bad);
        EXPECT_EQ(r.code, 1) << bad << ": " << r.err;
        EXPECT_FALSE(r.err.empty()) << bad;
    }
    const Result two = run(common + " --tau 0.35 --json " + path("two.json"));
    const Result three = run(common + " --code-bits 3 --tau 0.35 --json " + path("three.json"));
    ASSERT_EQ(two.code, 0) << two.err;
    ASSERT_EQ(three.code, 0) << three.err;
    auto nll = [&](const char* file) {
        return nlohmann::json::parse(std::ifstream(path(file)))[0]["nll"].get<double>();
    };
    EXPECT_TRUE(std::isfinite(nll("three.json")));
    EXPECT_NE(nll("two.json"), nll("three.json"));
    // Thresholds calibrated per layer and KV head from the prompt's keys: another ranking again.
    const Result calibrated =
        run(common + " --tau-mode calibrated --tau 0.35 --json " + path("calibrated.json"));
    ASSERT_EQ(calibrated.code, 0) << calibrated.err;
    EXPECT_TRUE(std::isfinite(nll("calibrated.json")));
    EXPECT_NE(nll("two.json"), nll("calibrated.json"));
}

// passkey on a tiny random model: the answers are noise, but every policy must see the same prompts
// (one dense prefill, then each policy decodes the tail), and --details must report each of them.
TEST_F(ModelCliTest, PasskeyReportsEveryPromptOfEveryPolicy) {
    const TokenizerVocab vocab = test::tiny_vocab();
    test::TinySpec spec;
    spec.vocab = int(vocab.tokens.size());
    const std::string model = path("hf");
    test::write_hf_model(test::make_tiny_model(spec, 6), model);
    test::write_hf_tokenizer(vocab, model);
    std::string text;
    for (int i = 0; i < 40; ++i)
        text += "It is a truth universally acknowledged. Is it? Yes! ";
    write("text.txt", text);
    const std::string common = fmt::format(
        "passkey -m '{}' -f '{}' --contexts 400,512 --depths 0:100:50 --keys 2 --policies dense,adamas "
        "--budgets 16,32 --threads 2",
        model, path("text.txt"));
    for (const bool chat : {false, true}) {
        const Result r =
            run(fmt::format("{} --details --json '{}'{}", common, path("out.json"), chat ? " --chat" : ""));
        ASSERT_EQ(r.code, 0) << r.err;
        // The tiny model has no chat template: ChatML, with a warning.
        EXPECT_EQ(r.err.find("formatting the prompt as ChatML") != std::string::npos, chat) << r.err;
        EXPECT_NE(r.out.find("| adamas | 32 | 512 |"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("| policy | budget | ctx | depth | key | answer | correct | decode tok/s |"),
                  std::string::npos)
            << r.out;
        const auto cells = nlohmann::json::parse(test::slurp(path("out.json")));
        ASSERT_EQ(cells.size(), 3u * 2 * 3);  // {dense, adamas@16, adamas@32} x contexts x depths
        std::map<std::pair<int, int>, std::vector<int>> keys;  // (ctx, depth) -> keys, per policy
        for (const auto& cell : cells) {
            ASSERT_EQ(cell["trials"].size(), 2u) << cell.dump();
            int correct = 0;
            std::vector<int> cell_keys;
            for (const auto& t : cell["trials"]) {
                const int key = t["key"];
                EXPECT_TRUE(key >= 10000 && key <= 99999) << key;
                EXPECT_GT(t["decode_tok_per_s"].get<double>(), 0.0);
                const std::string answer = t["answer"];
                EXPECT_EQ(t["correct"].get<bool>(), answer.starts_with(std::to_string(key))) << answer;
                correct += t["correct"].get<bool>();
                cell_keys.push_back(key);
            }
            EXPECT_EQ(cell["correct"], correct);
            EXPECT_EQ(cell["keys"], 2);
            auto [it, first] = keys.try_emplace({cell["ctx"], cell["depth"]}, cell_keys);
            if (!first) {
                EXPECT_EQ(it->second, cell_keys) << "policies saw different keys: " << cell.dump();
            }
        }
        EXPECT_EQ(keys.size(), 2u * 3);
    }
    // Without --details, the JSON holds the cells only.
    const Result plain = run(fmt::format("{} --json '{}'", common, path("cells.json")));
    ASSERT_EQ(plain.code, 0) << plain.err;
    EXPECT_EQ(plain.out.find("| answer |"), std::string::npos) << plain.out;
    const auto cells = nlohmann::json::parse(test::slurp(path("cells.json")));
    ASSERT_EQ(cells.size(), 3u * 2 * 3);
    EXPECT_FALSE(cells[0].contains("trials"));
    EXPECT_TRUE(cells[0]["budget"].is_null());
    EXPECT_EQ(cells[6]["budget"], 16);  // rows in order: dense, adamas@16, adamas@32
    // A context too short for the prompt is a usage error; one past the model's is run, with a warning.
    const Result too_short =
        run(fmt::format("passkey -m '{}' -f '{}' --contexts 128 --keys 1", model, path("text.txt")));
    EXPECT_EQ(too_short.code, 1) << too_short.err;
    EXPECT_NE(too_short.err.find("--contexts 128 is too short"), std::string::npos) << too_short.err;
    const Result too_long =
        run(fmt::format("passkey -m '{}' -f '{}' --contexts 600 --depths 50:50:1 --keys 1 --policies dense",
                        model, path("text.txt")));
    EXPECT_EQ(too_long.code, 0) << too_long.err;
    EXPECT_NE(too_long.err.find("exceeds the model's context length (512)"), std::string::npos)
        << too_long.err;
}

TEST_F(ModelCliTest, PasskeyHelpShowsThePrompt) {
    const Result r = run("passkey --help");
    EXPECT_EQ(r.code, 0) << r.err;
    for (const char* part : {"There is an important info hidden inside a lot of irrelevant text.",
                             "The pass key is 12345. Remember it. 12345 is the pass key.",
                             "What is the pass key? The pass key is", "--chat", "--details"})
        EXPECT_NE(r.out.find(part), std::string::npos) << part << "\n" << r.out;
}

// On the default model, dense attention finds the key in 2K tokens of Austen, plain and chat prompts.
TEST_F(ModelCliTest, PasskeyDenseRetrievesTheKey) {
    const std::string corpus = corpus_path("austen.txt");
    if (!fs::exists(default_model_path())) GTEST_SKIP() << "model not installed";
    if (!fs::exists(corpus)) GTEST_SKIP() << "corpus not installed (scripts/fetch-corpus.sh)";
    for (const char* format : {"", " --chat"}) {
        const Result r = run(fmt::format(
            "passkey -f '{}' --contexts 2048 --depths 25:75:50 --keys 1 --policies dense --json '{}'{}",
            corpus, path("out.json"), format));
        ASSERT_EQ(r.code, 0) << r.err;
        for (const auto& cell : nlohmann::json::parse(test::slurp(path("out.json"))))
            EXPECT_EQ(cell["correct"], 1) << format << ": " << cell.dump() << "\n" << r.out;
    }
}

TEST_F(ModelCliTest, BadHfDirectoriesAreBadInput) {
    const std::string model = path("hf");
    const fs::path dir(model);
    const test::TinyModel tiny = test::make_tiny_model(test::TinySpec{}, 4);
    auto check = [&](const std::string& what, const std::string& needle) {
        const Result r =
            run(fmt::format("bench e2e -m '{}' --contexts 64 --decode-tokens 1 --repeats 1", model));
        EXPECT_EQ(r.code, 2) << what << ": " << r.err;
        EXPECT_NE(r.err.find(model), std::string::npos) << what << ": " << r.err;
        EXPECT_NE(r.err.find(needle), std::string::npos) << what << ": " << r.err;
        EXPECT_TRUE(r.out.find("| 64 |") == std::string::npos) << what;
    };
    fs::create_directories(dir);
    check("empty directory", "has no config.json");
    test::write_hf_model(tiny, dir);
    fs::remove(dir / "model.safetensors");
    check("no weights", "has neither model.safetensors nor");
    auto config = test::tiny_config(tiny.spec);
    config["model_type"] = "gemma2";
    std::ofstream(dir / "config.json") << config.dump();
    check("model type", "model_type 'gemma2' is not supported");
    test::write_hf_model(tiny, dir);
    config = test::tiny_config(tiny.spec);
    config["intermediate_size"] = 64;
    std::ofstream(dir / "config.json") << config.dump();
    check("shapes", "(expected [64, 128] for this configuration)");
    config["intermediate_size"] = tiny.spec.ff;
    config["num_hidden_layers"] = 5;
    std::ofstream(dir / "config.json") << config.dump();
    check("missing tensors", "tensor 'model.layers.2.input_layernorm.weight' is missing");
    write("hf/model.safetensors", std::string("\x10\0\0\0\0\0\0\0{\"a\": 1}", 16));
    check("corrupt weights", "header length 16 runs past the end of the file");
}

// Ctrl-C stops perplexity between windows: the table over the windows scored so far on stdout, exit
// 130, and no JSON file (a resumable study must not take a partial result for a finished one).
TEST_F(ModelCliTest, InterruptedPerplexityPrintsWhatItHasAndWritesNoJson) {
    const std::string model = tiny_model_and_text(2, 60000);  // ~130K tokens: thousands of windows
    const std::string command = fmt::format(
        "exec '{}' perplexity -m '{}' -f '{}' --ctx 64 --max-tokens 10000000 --policies dense,adamas,oracle "
        "--budgets 8,16 --threads 1 --json '{}' >'{}' 2>'{}' </dev/null",
        ADAMAS_BINARY, model, path("text.txt"), path("ppl.json"), path("stdout.txt"), path("stderr.txt"));
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    // Interrupt once a few windows are done.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (test::slurp(path("stderr.txt")).find("window 3/") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    kill(pid, SIGINT);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    const std::string out = test::slurp(path("stdout.txt")), err = test::slurp(path("stderr.txt"));
    ASSERT_TRUE(WIFEXITED(status)) << "killed by a signal: " << err;
    EXPECT_EQ(WEXITSTATUS(status), 130) << err;
    EXPECT_NE(err.find("interrupted; the table covers the first"), std::string::npos) << err;
    EXPECT_NE(err.find("ppl.json was not written"), std::string::npos) << err;
    EXPECT_NE(out.find("| adamas | 16 | 64 |"), std::string::npos) << out;
    EXPECT_FALSE(fs::exists(path("ppl.json")));
}

// Text inputs that are not text files, and a tokenizer larger than the model's embedding, end with a
// message naming the file (exit 2) instead of a hang, an out-of-memory or reading past the logits.
TEST_F(ModelCliTest, NonTextInputsAndMismatchedTokenizersAreBadInput) {
    const std::string model = tiny_model_and_text();
    for (const auto& [file, needle] : std::vector<std::pair<std::string, std::string>>{
             {path(""), "is a directory (expected the text to score, a text file)"},
             {"/dev/zero", "is not a regular file (expected the text to score, a text file)"},
             {path("absent.txt"), "cannot read the text to score"}}) {
        const Result r = run(fmt::format("perplexity -m '{}' -f '{}' --ctx 16", model, file));
        EXPECT_EQ(r.code, 2) << file << ": " << r.err;
        EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    }
    const Result prompt = run(fmt::format("generate -m '{}' -f /dev/zero -n 1", model));
    EXPECT_EQ(prompt.code, 2) << prompt.err;
    EXPECT_NE(prompt.err.find("/dev/zero: is not a regular file (expected the prompt file"),
              std::string::npos)
        << prompt.err;

    // The tokenizer's 266 tokens against an embedding of 200 rows.
    test::TinySpec spec;
    spec.vocab = 200;
    const std::string small = path("small");
    test::write_hf_model(test::make_tiny_model(spec, 7), small);
    test::write_hf_tokenizer(test::tiny_vocab(), small);
    const Result r = run(fmt::format("perplexity -m '{}' -f '{}' --ctx 16", small, path("text.txt")));
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("the tokenizer has 266 tokens but the model's embedding has 200 rows"),
              std::string::npos)
        << r.err;
}

}  // namespace
}  // namespace adamas
