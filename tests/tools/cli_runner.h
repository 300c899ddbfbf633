// Runs the `adamas` binary from tests: a fixture with a private temporary directory (ScratchDirTest)
// and `run`, which captures the exit status, stdout and stderr.
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "scratch_dir.h"

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

// The scratch directory of ScratchDirTest, plus running the binary inside it.
class CliTest : public ScratchDirTest {
  protected:
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
};

}  // namespace adamas::test
