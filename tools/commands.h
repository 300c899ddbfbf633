// Registration of the `adamas` subcommands; each lives in its own file.
#pragma once
#include <CLI/CLI.hpp>

namespace adamas::tools {

// Process exit codes, the same for every subcommand.
enum ExitCode : int {
    kExitOk = 0,
    kExitUsage = 1,
    kExitBadInput = 2,
    kExitRuntime = 3,
    kExitInterrupted = 130
};

void add_attend_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_generate_command(CLI::App& app);
void add_perplexity_command(CLI::App& app);
void add_passkey_command(CLI::App& app);
void add_selection_command(CLI::App& app);

}  // namespace adamas::tools
