// Output of the attention benchmark: one row per (shape, context, policy, budget) as a markdown
// table on stdout and, when asked, a JSON array written atomically.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace adamas::tools {

struct BenchRow {
    std::string shape;
    int q_heads = 0, kv_heads = 0, head_dim = 0;
    int64_t n = 0;
    int batch = 1;
    std::string policy;
    std::optional<int> budget;  // none for dense
    std::string metric, gqa, kv_dtype;
    int rerank = 0;  // adamas: candidates re-ranked per budget slot (0: codes alone)
    int threads = 0;
    double us = 0, estimate_us = 0, select_us = 0, attend_us = 0;
    double bytes = 0, gbps = 0, bw_fraction = 0, triad_gbps = 0;
    std::optional<double> speedup_vs_dense;
    int repeats = 0, copies = 0;
    bool flushed = false;
};

// Header line and separator of the markdown table.
void print_table_header();
void print_table_row(const BenchRow& row);

// Writes rows as a JSON array to `path` via a temporary file and rename, so readers never see a
// partial file. Throws std::runtime_error when the file cannot be written.
void write_rows_json(const std::string& path, const std::vector<BenchRow>& rows);

}  // namespace adamas::tools
