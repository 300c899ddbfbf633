// `adamas bench attention` end to end: the JSON rows follow the sweep, their byte counts follow the
// DESIGN.md §3 model, the table goes to stdout, and bad options exit with code 1 naming the option.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;

struct CliRun {
    int exit_code;
    std::string out, err;
};

std::string slurp(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Runs the adamas binary with `args`, capturing stdout and stderr in files under the test's temp dir.
CliRun run_adamas(const std::string& args) {
    // Per process: CTest may run the tests of this file in parallel.
    const fs::path dir = fs::path(::testing::TempDir()) / ("adamas_bench_cli_" + std::to_string(getpid()));
    fs::create_directories(dir);
    const std::string command = std::string(ADAMAS_BINARY) + " " + args + " >" + (dir / "out").string() +
                                " 2>" + (dir / "err").string();
    const int status = std::system(command.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir / "out"), slurp(dir / "err")};
}

// Small and quick: SmolLM2's shape (9 q / 3 KV heads, d 64), two short contexts, two repeats. Adamas
// re-ranks 8× its set in candidates, except where they would exceed the cache (per-head at budget 64
// and 300 tokens; pooled, with sets of 3×budget, everywhere at 300 tokens).
constexpr const char* kQuickSweep =
    "bench attention --shapes smollm2-135m --contexts 4K,300 --budgets 16,64 --policies "
    "streaming,dense,adamas --rerank 8 "
    "--min-time 0 --repeats 2";

TEST(BenchAttentionCli, JsonRowsFollowTheSweepAndTheByteModel) {
    for (const std::string gqa : {"pooled", "per-head"}) {
        SCOPED_TRACE(gqa);
        const fs::path json =
            fs::path(::testing::TempDir()) / ("adamas_bench_rows_" + std::to_string(getpid()) + ".json");
        fs::remove(json);
        // Pooled is the default: it runs without --gqa.
        const CliRun run = run_adamas(std::string(kQuickSweep) + (gqa == "pooled" ? "" : " --gqa " + gqa) +
                                      " --json " + json.string());
        ASSERT_EQ(run.exit_code, 0) << run.err;
        const nlohmann::json rows = nlohmann::json::parse(slurp(json));
        ASSERT_EQ(rows.size(), 10u);  // 2 contexts × (dense + 2 policies × 2 budgets)

        const double d = 64, kv_heads = 3, q_heads = 9, f16 = 2;
        for (size_t i = 0; i < rows.size(); ++i) {
            const auto& row = rows[i];
            SCOPED_TRACE(row.dump());
            for (const char* key :
                 {"shape", "n", "batch", "policy", "budget", "us", "gbps", "estimate_us", "select_us",
                  "attend_us", "bw_fraction", "speedup_vs_dense", "kv_dtype", "threads", "triad_gbps"})
                EXPECT_TRUE(row.contains(key)) << key;
            EXPECT_EQ(row["shape"], "smollm2-135m");
            EXPECT_EQ(row["gqa"], gqa);
            EXPECT_EQ(row["n"], i < 5 ? 4096 : 300);  // "4K" parsed with its suffix
            EXPECT_GT(row["us"].get<double>(), 0);
            EXPECT_GT(row["triad_gbps"].get<double>(), 0);
            EXPECT_EQ(row["triad_gbps"], rows[0]["triad_gbps"]);  // one measurement per run
            const double n = row["n"].get<double>();
            const double bytes = row["bytes"].get<double>();
            const std::string policy = row["policy"];
            if (i % 5 == 0) {  // dense runs first in each group whatever the order of --policies
                ASSERT_EQ(policy, "dense");
                EXPECT_TRUE(row["budget"].is_null());
                EXPECT_DOUBLE_EQ(row["speedup_vs_dense"].get<double>(), 1.0);
                EXPECT_DOUBLE_EQ(bytes, 2 * n * kv_heads * d * f16);
                continue;
            }
            const double budget = row["budget"].get<double>();
            // Tokens in one selection row, and the rows: pooled keeps one set of 3×budget per KV head,
            // per-head one set of budget per query head.
            const double set = gqa == "pooled" ? 3 * budget : budget;
            const double set_rows = gqa == "pooled" ? kv_heads : q_heads;
            const double set_bytes = set * d * f16 * 2;  // K and V of `set` tokens
            if (policy == "streaming") {
                // Query-independent: one set per KV head, read once for the whole group.
                EXPECT_DOUBLE_EQ(bytes, kv_heads * set_bytes);
            } else {
                // adamas: codes, the keys of each row's candidates when it re-ranks, then every row's
                // K/V (per-head: each query head reads its own rows).
                EXPECT_EQ(row["rerank"], 8);
                const double candidates = row["rerank"].get<double>() * set;
                const double reranked =
                    candidates > set && candidates < n ? set_rows * candidates * d * f16 : 0;
                EXPECT_DOUBLE_EQ(bytes, n * kv_heads * d / 4 + reranked + set_rows * set_bytes);
            }
            EXPECT_NEAR(row["gbps"].get<double>(), bytes / row["us"].get<double>() / 1e3, 1e-6 * bytes);
        }

        // stdout carries only the table (and the bandwidth sentence above it): one line per row.
        int table_rows = 0;
        std::istringstream lines(run.out);
        for (std::string line; std::getline(lines, line);)
            table_rows += line.rfind("| smollm2-135m", 0) == 0;
        EXPECT_EQ(table_rows, 10);
        EXPECT_NE(run.out.find("GB/s"), std::string::npos);
    }
}

TEST(BenchAttentionCli, BadOptionsAreUsageErrorsNamingTheOption) {
    const struct {
        const char* args;
        const char* expected;
    } cases[] = {
        {"--shapes gpt-5", "--shapes"},
        {"--policies dense,bogus", "--policies"},
        {"--budgets 0", "--budgets"},
        {"--contexts 4Q", "--contexts"},
        {"--contexts 0", "--contexts"},
        {"--batch 0", "--batch"},
        {"--kv-dtype f8", "--kv-dtype"},
        {"--policies streaming --budgets 4", "--budgets 4"},
        {"--shapes longchat-7b --contexts 1M --batch 64", "reduce --contexts or --batch"},
        {"--json no-such-dir/out.json", "--json"},
    };
    for (const auto& c : cases) {
        const CliRun run = run_adamas(std::string("bench attention ") + c.args);
        EXPECT_EQ(run.exit_code, 1) << c.args << "\n" << run.err;
        EXPECT_NE(run.err.find(c.expected), std::string::npos) << c.args << "\n" << run.err;
        EXPECT_TRUE(run.out.empty()) << c.args << ": stdout should stay empty on errors";
    }
}

}  // namespace
