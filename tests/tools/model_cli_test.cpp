// The model subcommands' command lines: help, and bad input ending with a message naming the input and
// the documented exit code — corrupt model files, missing text files, impossible options. None of these
// needs the real model.
#include <gtest/gtest.h>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

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

}  // namespace
}  // namespace adamas
