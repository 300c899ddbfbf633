// Sub-subcommands of `adamas bench`, each in its own file (bench_attention.cpp; `e2e` later).
#pragma once
#include <CLI/CLI.hpp>

namespace adamas::tools {

void add_bench_attention_command(CLI::App& bench);

}  // namespace adamas::tools
