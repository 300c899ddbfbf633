// `adamas bench`: the benchmark family. Each kind of benchmark is a sub-subcommand registered here.
#include "bench.h"
#include "commands.h"

namespace adamas::tools {

void add_bench_command(CLI::App& app) {
    CLI::App* bench = app.add_subcommand(
        "bench", "Benchmarks: timings on this machine, compared against its measured memory bandwidth");
    bench->require_subcommand(1);
    add_bench_attention_command(*bench);
    add_bench_e2e_command(*bench);
}

}  // namespace adamas::tools
