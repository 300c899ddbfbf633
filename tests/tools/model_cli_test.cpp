// The model subcommands' command lines: help, and bad input ending with a message naming the input and
// the documented exit code — corrupt model files, missing text files, impossible options. None of these
// needs the real model.
#include <gtest/gtest.h>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

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

}  // namespace
}  // namespace adamas
