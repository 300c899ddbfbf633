// `adamas selection`: how good each policy's choice of tokens is, on sampled decode steps of a real text
// (DESIGN.md §7): the dense attention mass the selected set captures, its recall of the oracle's set
// (the query head's own top-budget tokens by exact q·k, without the policy's sinks or window, whatever
// the GQA mode: with pooled sets of g·budget it tells how much of each head's best budget the group's
// set covers) and KL(dense ‖ sparse) of the next-token distribution; per layer on request. Also how
// often each code bucket fires per layer, for keys and queries, so the threshold's effect is visible.
// Steps are those `adamas perplexity` scores: windows of --ctx tokens, the first half prefilled
// densely, the second half run under the policy.
#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "adamas/attention.h"
#include "adamas/codes.h"
#include "adamas/error.h"
#include "adamas/llama.h"
#include "adamas/select.h"
#include "commands.h"
#include "eval_cells.h"
#include "interrupt.h"
#include "json_output.h"

namespace adamas::tools {

namespace {

struct SelectionOptions {
    ModelOptions model;
    std::string text_file;
    int ctx = 8192;
    int windows = 1;
    int samples = 32;  // sampled decode steps per window
    std::string policies = "adamas,oracle,quest,streaming";
    std::string budgets = "64,128";
    bool per_layer = false;
    std::string json;
};

// Sums over sampled steps and heads, per layer.
struct LayerSums {
    double mass = 0, recall = 0;
    int64_t count = 0;
};

struct CellResult {
    EvalCell cell;
    std::vector<LayerSums> layers;
    double kl = 0;
    int64_t kl_count = 0;
};

// Bucket counts per layer: keys (every cached key) and queries (sampled steps).
using Buckets = std::array<int64_t, 8>;  // 2^bits of them used
struct BucketCounts {
    Buckets keys{}, queries{};
};

std::vector<double> log_softmax(std::span<const float> logits) {
    double top = -INFINITY;
    for (float x : logits)
        top = std::max(top, double(x));
    double sum = 0;
    for (float x : logits)
        sum += std::exp(double(x) - top);
    const double log_sum = top + std::log(sum);
    std::vector<double> out(logits.size());
    for (size_t i = 0; i < logits.size(); ++i)
        out[i] = double(logits[i]) - log_sum;
    return out;
}

// KL(p ‖ q) from log-probabilities.
double kl_divergence(const std::vector<double>& log_p, const std::vector<double>& log_q) {
    double kl = 0;
    for (size_t i = 0; i < log_p.size(); ++i)
        kl += std::exp(log_p[i]) * (log_p[i] - log_q[i]);
    return std::max(kl, 0.0);
}

// Mass and oracle recall of one query head's selected row at one step.
void measure_head(const float* q, const KvHeadView& kv, const KvSequenceView& view,
                  std::span<const int32_t> row, bool all_tokens, const SelectionRule& oracle_rule,
                  LayerSums& sums, std::vector<float>& logits, std::vector<int32_t>& oracle,
                  SelectScratch& scratch) {
    const int64_t n = view.tokens;
    if (all_tokens) {
        sums.mass += 1;
        sums.recall += 1;
        ++sums.count;
        return;
    }
    logits.resize(size_t(n));
    attention_logits(q, kv, view.dtype, view.head_dim, n, logits.data());
    float top = -INFINITY;
    for (float x : logits)
        top = std::max(top, x);
    double total = 0, kept = 0;
    for (int64_t t = 0; t < n; ++t)
        total += std::exp(double(logits[size_t(t)] - top));
    for (int32_t t : row)
        kept += std::exp(double(logits[size_t(t)] - top));
    oracle.resize(size_t(std::min<int64_t>(oracle_rule.budget, n)));
    const int64_t best = select_by_score(logits, oracle_rule, oracle.data(), scratch);
    int64_t common = 0;  // both lists ascend
    for (size_t i = 0, j = 0; i < row.size() && j < size_t(best);) {
        if (row[i] == oracle[j]) {
            ++common;
            ++i;
            ++j;
        } else if (row[i] < oracle[j]) {
            ++i;
        } else {
            ++j;
        }
    }
    sums.mass += kept / total;
    sums.recall += double(common) / double(best);
    ++sums.count;
}

// Counts the code of every coordinate of `rows` packed rows of head dim d.
void count_buckets(const uint16_t* codes, int64_t rows, int d, int bits, Buckets& counts) {
    const int words = code_words(d, bits);
    for (int64_t r = 0; r < rows; ++r)
        for (int i = 0; i < d; ++i)
            ++counts[size_t(code_at(codes + r * words, i, bits))];
}

// Each bucket's share of the 2^bits buckets, as text and as JSON.
std::vector<double> bucket_shares(const Buckets& counts, int bits) {
    double total = 0;
    for (int b = 0; b < 1 << bits; ++b)
        total += double(counts[size_t(b)]);
    std::vector<double> shares;
    for (int b = 0; b < 1 << bits; ++b)
        shares.push_back(double(counts[size_t(b)]) / total);
    return shares;
}

void run_selection(const SelectionOptions& o) {
    if (o.ctx < 8 || o.ctx % 2) fail_usage("--ctx {} must be an even number of at least 8 tokens", o.ctx);
    if (o.windows < 1) fail_usage("--windows {} must be at least 1", o.windows);
    if (o.samples < 1 || o.samples > o.ctx / 2 - 2)
        fail_usage("--samples {} must be between 1 and {} (the scored half of a window)", o.samples,
                   o.ctx / 2 - 2);
    const auto model = LlamaModel::load(resolve_model_path(o.model.model));
    const std::vector<int32_t> ids = tokenize_file(*model, o.text_file, int64_t(o.ctx) * o.windows,
                                                   fmt::format("{} windows of --ctx {}", o.windows, o.ctx));
    ModelOptions base = o.model;
    base.context = o.ctx;
    ThreadPool pool(o.model.threads);
    std::vector<CellResult> results;
    for (EvalCell& cell : make_cells(base, o.policies, o.budgets)) {
        if (cell.options.policy.kind == PolicyKind::dense)
            continue;  // the reference every row is measured by
        results.push_back({std::move(cell), {}, 0, 0});
    }
    if (results.empty()) fail_usage("--policies names no sparse policy to measure");
    std::vector<EvalCell> cells;
    for (const CellResult& r : results)
        cells.push_back(r.cell);
    const LlamaConfig& config = model->config();
    LlamaRunner runner(*model, shared_runner_options(cells), pool);
    const int half = o.ctx / 2, first = half + 1, last = o.ctx - 2;  // positions of the scored steps
    std::vector<int64_t> sampled;                                    // window positions, ascending
    for (int s = 0; s < o.samples; ++s)
        sampled.push_back(first + int64_t(s) * (last - first) / std::max(1, o.samples - 1));
    sampled.erase(std::unique(sampled.begin(), sampled.end()), sampled.end());
    auto sample_index = [&](int64_t position) -> int {
        const auto it = std::lower_bound(sampled.begin(), sampled.end(), position);
        return it != sampled.end() && *it == position ? int(it - sampled.begin()) : -1;
    };
    std::vector<BucketCounts> buckets(size_t(config.n_layer));
    std::vector<float> logits_scratch;
    std::vector<int32_t> oracle_scratch;
    SelectScratch select_scratch;
    for (auto& r : results)
        r.layers.assign(size_t(config.n_layer), {});

    for (int w = 0; w < o.windows; ++w) {
        stop_if_interrupted();
        const int32_t* window = ids.data() + int64_t(w) * o.ctx;
        runner.set_attention_observer(nullptr);
        runner.reset();
        runner.forward({window, size_t(first)}, /*decode=*/false);
        // The dense next-token distributions at the sampled steps.
        std::vector<std::vector<double>> dense_log_probs(sampled.size());
        PolicyConfig dense;
        dense.kind = PolicyKind::dense;
        runner.set_policy(dense);
        runner.score({window + first, size_t(o.ctx - 1 - first)},
                     [&](size_t i, std::span<const float> logits) {
                         const int s = sample_index(first + int64_t(i));
                         if (s >= 0) dense_log_probs[size_t(s)] = log_softmax(logits);
                     });
        for (size_t c = 0; c < results.size(); ++c) {
            stop_if_interrupted();
            CellResult& result = results[c];
            const PolicyConfig& policy = result.cell.options.policy;
            // The reference is the same for every row: the head's plain top-budget by exact q·k, with
            // no sinks or window, so a policy's forced tokens count only where the head wants them.
            const SelectionRule oracle_rule{policy.budget, 0, 0, true};
            runner.set_attention_observer([&, c](const LlamaRunner::AttentionCall& call) {
                if (!call.decode || call.layer < result.cell.options.dense_layers) return;
                for (size_t r = 0; r < call.requests.size(); ++r) {
                    const DecodeRequest& request = call.requests[r];
                    const KvSequenceView& view = request.kv;
                    if (sample_index(view.tokens - 1) < 0) continue;
                    const Selection& selection = call.attention->selection(r);
                    const int q_heads = config.n_head, g = q_heads / view.kv_heads(), d = view.head_dim;
                    for (int h = 0; h < q_heads; ++h) {
                        const float* q = request.q + int64_t(h) * d;
                        const KvHeadView& kv = view.heads[size_t(h / g)];
                        std::span<const int32_t> row;
                        if (!selection.all_tokens) row = selection.row(selection.per_kv_head ? h / g : h);
                        measure_head(q, kv, view, row, selection.all_tokens, oracle_rule,
                                     result.layers[size_t(call.layer)], logits_scratch, oracle_scratch,
                                     select_scratch);
                        if (c == 0) {  // buckets once per step: the codes do not depend on the policy
                            std::array<uint16_t, 48> codes{};
                            const int bits = kv.code_bits;
                            rotate_encode({q, size_t(d)}, kv.query_threshold(),
                                          {codes.data(), size_t(code_words(d, bits))});
                            count_buckets(codes.data(), 1, d, bits, buckets[size_t(call.layer)].queries);
                        }
                    }
                    if (c == 0 && view.tokens - 1 == sampled.back())  // every key of the window, once
                        for (const KvHeadView& kv : view.heads)
                            count_buckets(kv.codes, view.tokens, d, kv.code_bits,
                                          buckets[size_t(call.layer)].keys);
                }
            });
            runner.rewind(first);
            runner.set_policy(policy);
            runner.score({window + first, size_t(o.ctx - 1 - first)},
                         [&](size_t i, std::span<const float> logits) {
                             const int s = sample_index(first + int64_t(i));
                             if (s < 0) return;
                             result.kl += kl_divergence(dense_log_probs[size_t(s)], log_softmax(logits));
                             ++result.kl_count;
                         });
            fmt::print(stderr, "\r  window {}/{}: {} done      ", w + 1, o.windows, result.cell.label);
        }
    }
    fmt::print(stderr, "\n");
    runner.set_attention_observer(nullptr);

    auto mean = [](double sum, int64_t count) { return count ? sum / double(count) : 0.0; };
    fmt::print(
        "{} sampled steps per window, {} windows of {} tokens; mass and recall averaged over the policy's "
        "layers and query heads\n\n",
        sampled.size(), o.windows, o.ctx);
    fmt::print(
        "| policy | budget | attention mass | oracle recall | KL(dense‖sparse) "
        "|\n|---|---:|---:|---:|---:|\n");
    nlohmann::ordered_json json;
    json["ctx"] = o.ctx;
    json["windows"] = o.windows;
    json["samples"] = sampled.size();
    json["tau"] = cells.front().options.tau;
    json["tau_mode"] = tau_mode_name(cells.front().options.tau_mode);
    json["code_bits"] = cells.front().options.code_bits;
    for (const CellResult& r : results) {
        LayerSums all;
        nlohmann::ordered_json layers = nlohmann::ordered_json::array();
        for (size_t l = 0; l < r.layers.size(); ++l) {
            const LayerSums& s = r.layers[l];
            all.mass += s.mass, all.recall += s.recall, all.count += s.count;
            if (s.count)
                layers.push_back(
                    {{"layer", l}, {"mass", mean(s.mass, s.count)}, {"recall", mean(s.recall, s.count)}});
        }
        const double kl = mean(r.kl, r.kl_count);
        fmt::print("| {} | {} | {:.4f} | {:.4f} | {:.5f} |\n", r.cell.policy, r.cell.budget,
                   mean(all.mass, all.count), mean(all.recall, all.count), kl);
        json["rows"].push_back({{"policy", r.cell.policy},
                                {"budget", r.cell.budget},
                                {"mass", mean(all.mass, all.count)},
                                {"recall", mean(all.recall, all.count)},
                                {"kl", kl},
                                {"layers", layers}});
    }
    if (o.per_layer) {
        fmt::print("\nPer layer: attention mass / oracle recall\n\n| layer |");
        for (const CellResult& r : results)
            fmt::print(" {} |", r.cell.label);
        fmt::print("\n|---:|{}\n", [&] {
            std::string s;
            for (size_t i = 0; i < results.size(); ++i)
                s += "---:|";
            return s;
        }());
        for (int l = 0; l < config.n_layer; ++l) {
            if (!results.front().layers[size_t(l)].count) continue;
            fmt::print("| {} |", l);
            for (const CellResult& r : results) {
                const LayerSums& s = r.layers[size_t(l)];
                fmt::print(" {:.3f} / {:.3f} |", mean(s.mass, s.count), mean(s.recall, s.count));
            }
            fmt::print("\n");
        }
    }
    const RunnerOptions& coded = cells.front().options;  // every cell shares the cache's codes
    const int bits = coded.code_bits;
    fmt::print(
        "\nCode buckets per layer (share of coordinates in buckets 0 to {}; {}-bit codes, threshold {} "
        "{}):\n\n",
        (1 << bits) - 1, bits, tau_mode_name(coded.tau_mode), coded.tau);
    fmt::print("| layer | keys | queries |\n|---:|---|---|\n");
    for (int l = 0; l < config.n_layer; ++l) {
        const BucketCounts& b = buckets[size_t(l)];
        if (std::accumulate(b.queries.begin(), b.queries.end(), int64_t{0}) == 0) continue;
        const auto k = bucket_shares(b.keys, bits), q = bucket_shares(b.queries, bits);
        fmt::print("| {} | {:.3f} | {:.3f} |\n", l, fmt::join(k, " "), fmt::join(q, " "));
        json["buckets"].push_back({{"layer", l}, {"keys", k}, {"queries", q}});
    }
    if (!o.json.empty()) write_json_file(o.json, json);
}

}  // namespace

void add_selection_command(CLI::App& app) {
    auto o = std::make_shared<SelectionOptions>();
    CLI::App* cmd = app.add_subcommand(
        "selection",
        "Selection quality on sampled decode steps of a text: dense attention mass captured, recall of the "
        "oracle's top-budget set, KL(dense ‖ sparse) of the next token, per policy and budget; and how often "
        "each code bucket fires per layer");
    add_model_options(*cmd, o->model, /*with_context=*/false);
    cmd->add_option("-f,--file", o->text_file, "Plain-text file")->required();
    cmd->add_option("--ctx", o->ctx, "Window length in tokens (first half context)")->capture_default_str();
    cmd->add_option("--windows", o->windows, "Windows measured, from the start of the text")
        ->capture_default_str();
    cmd->add_option("--samples", o->samples, "Sampled decode steps per window")->capture_default_str();
    cmd->add_option("--policies", o->policies, "Comma-separated sparse policies (dense is the reference)")
        ->capture_default_str();
    cmd->add_option("--budgets", o->budgets, "Comma-separated budgets")->capture_default_str();
    cmd->add_flag("--per-layer", o->per_layer, "Also print mass and recall per layer");
    cmd->add_option("--json", o->json, "Also write everything as JSON (per layer included)");
    cmd->callback([o] { run_selection(*o); });
}

}  // namespace adamas::tools
