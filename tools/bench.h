// Sub-subcommands of `adamas bench`, each in its own file (bench_attention.cpp, bench_e2e.cpp).
#pragma once
#include <CLI/CLI.hpp>

namespace adamas::tools {

void add_bench_attention_command(CLI::App& bench);
void add_bench_e2e_command(CLI::App& bench);

}  // namespace adamas::tools
