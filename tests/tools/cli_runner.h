// Runs the `adamas` binary from tests: a fixture with a private temporary directory, and `run` that
// captures the exit status, stdout and stderr.
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>

namespace adamas::test {

struct CliResult {
    int code = -1;  // exit status; -1 if killed by a signal
    std::string out, err;
};

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

class CliTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = std::filesystem::temp_directory_path() /
               fmt::format("adamas-cli-{}-{}-{}", ::getpid(), info->test_suite_name(), info->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string path(const std::string& name) const { return (dir_ / name).string(); }

    // Runs `adamas <args>` with no stdin and stdout/stderr captured to files.
    CliResult run(const std::string& args) const {
        const std::string cmd = fmt::format("'{}' {} >'{}' 2>'{}' </dev/null", ADAMAS_BINARY, args,
                                            path("stdout.txt"), path("stderr.txt"));
        const int status = std::system(cmd.c_str());
        CliResult r;
        if (status != -1 && WIFEXITED(status)) r.code = WEXITSTATUS(status);
        r.out = slurp(path("stdout.txt"));
        r.err = slurp(path("stderr.txt"));
        return r;
    }

    std::filesystem::path dir_;
};

}  // namespace adamas::test
