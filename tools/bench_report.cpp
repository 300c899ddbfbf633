// Markdown and JSON rendering of benchmark rows (see bench_report.h).
#include "bench_report.h"

#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench_args.h"
#include "json_output.h"

namespace adamas::tools {
namespace {

// Fixed widths keep the markdown readable as plain text too; the separator row below must match them.
constexpr const char* kRowFormat =
    "| {:<12} | {:>6} | {:>5} | {:<9} | {:>6} | {:>9} | {:>7} | {:>7} | {:>8} | {:>11} | {:>9} | {:>9} |\n";

// Three significant digits at any magnitude, never scientific notation.
std::string short_number(double x) {
    if (x >= 100) return fmt::format("{:.0f}", x);
    if (x >= 10) return fmt::format("{:.1f}", x);
    return fmt::format("{:.2f}", x);
}

}  // namespace

void print_table_header() {
    fmt::print(kRowFormat, "shape", "n", "batch", "policy", "budget", "µs/step", "GB/s", "% triad",
               "vs dense", "estimate µs", "select µs", "attend µs");
    fmt::print(
        "|{:-<14}|{:->8}|{:->7}|{:-<11}|{:->8}|{:->11}|{:->9}|{:->9}|{:->10}|{:->13}|{:->11}|{:->11}|\n", "",
        ":", ":", "", ":", ":", ":", ":", ":", ":", ":", ":");
    std::fflush(stdout);
}

void print_table_row(const BenchRow& row) {
    fmt::print(kRowFormat, row.shape, format_count(row.n), row.batch, row.policy,
               row.budget ? fmt::format("{}", *row.budget) : "—", short_number(row.us),
               short_number(row.gbps), fmt::format("{:.0f}%", 100 * row.bw_fraction),
               row.speedup_vs_dense ? fmt::format("{:.2f}×", *row.speedup_vs_dense) : "—",
               short_number(row.estimate_us), short_number(row.select_us), short_number(row.attend_us));
    std::fflush(stdout);  // rows appear as they finish, even through a pipe
}

void write_rows_json(const std::string& path, const std::vector<BenchRow>& rows) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();  // keys in a readable order
    for (const BenchRow& r : rows) {
        out.push_back(
            {{"shape", r.shape},
             {"q_heads", r.q_heads},
             {"kv_heads", r.kv_heads},
             {"head_dim", r.head_dim},
             {"n", r.n},
             {"batch", r.batch},
             {"policy", r.policy},
             {"budget", r.budget ? nlohmann::ordered_json(*r.budget) : nlohmann::ordered_json(nullptr)},
             {"metric", r.metric},
             {"gqa", r.gqa},
             {"rerank", r.rerank},
             {"kv_dtype", r.kv_dtype},
             {"threads", r.threads},
             {"us", r.us},
             {"estimate_us", r.estimate_us},
             {"select_us", r.select_us},
             {"attend_us", r.attend_us},
             {"bytes", r.bytes},
             {"gbps", r.gbps},
             {"bw_fraction", r.bw_fraction},
             {"triad_gbps", r.triad_gbps},
             {"speedup_vs_dense", r.speedup_vs_dense ? nlohmann::ordered_json(*r.speedup_vs_dense)
                                                     : nlohmann::ordered_json(nullptr)},
             {"repeats", r.repeats},
             {"copies", r.copies},
             {"llc_flushed", r.flushed}});
    }
    write_json_file(path, out);
}

}  // namespace adamas::tools
