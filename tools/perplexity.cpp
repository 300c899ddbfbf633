// `adamas perplexity`: perplexity of a text under each attention policy and budget, PG-19 style. The
// text is cut into windows of --ctx tokens; tokens 0..ctx/2 of each window are context (prefilled
// densely), and every later token is scored with the policy: its attention is exactly what a decode step
// would compute (its own causal prefix, its own selection). By default the scored tokens run in batched
// passes (LlamaRunner::score, float activations); --decode-steps runs them as real decode steps instead.
// Same tokens for every row; the same tokens llama-perplexity scores (ctx/2 - 1 per window). Each window
// is prefilled once for all rows (rewind, then switch policy).
#include <chrono>
#include <cmath>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "adamas/error.h"
#include "adamas/llama.h"
#include "commands.h"
#include "eval_cells.h"
#include "interrupt.h"
#include "json_output.h"
#include "model_options.h"

namespace adamas::tools {

namespace {

struct PerplexityOptions {
    ModelOptions model;
    std::string text_file;
    int ctx = 2048;
    int64_t max_tokens = 32768;  // scored tokens per row, at most
    std::string policies = "dense,adamas,oracle,quest,streaming";
    std::string budgets = "64,128,256";
    std::string json;
    bool decode_steps = false;
};

struct Row {
    std::string policy;
    int budget = 0;  // 0 for dense
    int64_t tokens = 0;
    double nll = 0;
};

double log_softmax_at(std::span<const float> logits, int32_t target) {
    float top = logits[0];
    for (float x : logits)
        top = std::max(top, x);
    double sum = 0;
    for (float x : logits)
        sum += std::exp(double(x - top));
    return double(logits[size_t(target)] - top) - std::log(sum);
}

// One row of the table: a cell and its running sum.
struct Cell {
    EvalCell cell;
    Row row;
};

// Every cell over the same windows. Each window's first half is prefilled once (densely: the policy
// plays no part there), then each cell rewinds to that point, switches to its policy and decodes the
// second half, scoring each token. Same numbers as a fresh prefill per cell, at one prefill per window.
void score(const LlamaModel& model, std::vector<Cell>& cells, const std::vector<int32_t>& ids, int ctx,
           int64_t max_tokens, bool decode_steps, ThreadPool& pool) {
    std::vector<EvalCell> plain;
    for (const Cell& c : cells)
        plain.push_back(c.cell);
    LlamaRunner runner(model, shared_runner_options(plain), pool);
    const int64_t windows = int64_t(ids.size()) / ctx;
    const int half = ctx / 2;  // tokens [0, half] are context; [half + 1, ctx) are scored
    const int64_t planned = std::min(windows, (max_tokens + ctx - half - 2) / (ctx - half - 1));
    const auto start = std::chrono::steady_clock::now();
    std::vector<float> context_logits;
    for (int64_t w = 0; w < windows && cells.front().row.tokens < max_tokens; ++w) {
        if (interrupt_requested()) break;  // between windows: every row has scored the same tokens
        runner.reset();
        const int32_t* window = ids.data() + w * ctx;
        const std::span<const float> prefilled = runner.forward({window, size_t(half + 1)}, /*decode=*/false);
        context_logits.assign(prefilled.begin(), prefilled.end());
        for (Cell& cell : cells) {
            runner.rewind(half + 1);
            runner.set_policy(cell.cell.options.policy);
            Row& row = cell.row;
            // Tokens half+1 .. last are scored; token i's logits come after token i-1.
            const int last = int(std::min<int64_t>(ctx - 1, half + max_tokens - row.tokens));
            row.nll -= log_softmax_at(context_logits, window[half + 1]);
            if (decode_steps) {
                for (int i = half + 2; i <= last; ++i)
                    row.nll -=
                        log_softmax_at(runner.forward({window + i - 1, 1}, /*decode=*/true), window[i]);
            } else if (last > half + 1) {
                runner.score({window + half + 1, size_t(last - half - 1)},
                             [&](size_t j, std::span<const float> logits) {
                                 row.nll -= log_softmax_at(logits, window[half + 2 + j]);
                             });
            }
            row.tokens += last - half;
        }
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::string ppls;
        for (const Cell& c : cells)
            ppls += fmt::format(" {} {:.3f}", c.cell.label,
                                std::exp(c.row.nll / double(std::max<int64_t>(c.row.tokens, 1))));
        fmt::print(stderr, "\r  window {}/{}, {} tokens scored per row, {:.0f} s, ppl:{}", w + 1, planned,
                   cells.front().row.tokens, elapsed, ppls);
    }
    fmt::print(stderr, "\n");
}

void run_perplexity(const PerplexityOptions& o) {
    if (o.ctx < 4 || o.ctx % 2) fail_usage("--ctx {} must be an even number of at least 4 tokens", o.ctx);
    if (o.max_tokens < 1) fail_usage("--max-tokens {} must be positive", o.max_tokens);
    const auto model = LlamaModel::load(resolve_model_path(o.model.model));
    const std::vector<int32_t> ids =
        tokenize_file(*model, o.text_file, o.ctx, fmt::format("one window of --ctx {}", o.ctx));
    fmt::print(stderr, "perplexity: {} tokens in {}, windows of {} (first half context)\n", ids.size(),
               o.text_file, o.ctx);
    ModelOptions base = o.model;
    base.context = o.ctx;
    ThreadPool pool(o.model.threads);
    std::vector<Cell> cells;
    for (EvalCell& cell : make_cells(base, o.policies, o.budgets)) {
        const Row row{cell.policy, cell.budget, 0, 0};
        cells.push_back({std::move(cell), row});
    }
    score(*model, cells, ids, o.ctx, o.max_tokens, o.decode_steps, pool);
    const bool interrupted = interrupt_requested();
    if (interrupted && cells.front().row.tokens == 0) throw Interrupted();
    std::vector<Row> rows;
    for (const Cell& c : cells)
        rows.push_back(c.row);
    fmt::print("| policy | budget | ctx | tokens | nll | ppl |\n|---|---:|---:|---:|---:|---:|\n");
    nlohmann::ordered_json json = nlohmann::ordered_json::array();
    for (const Row& r : rows) {
        const double nll = r.nll / double(r.tokens);
        fmt::print("| {} | {} | {} | {} | {:.5f} | {:.4f} |\n", r.policy,
                   r.budget ? std::to_string(r.budget) : "—", o.ctx, r.tokens, nll, std::exp(nll));
        json.push_back(
            {{"policy", r.policy},
             {"budget", r.budget ? nlohmann::ordered_json(r.budget) : nlohmann::ordered_json(nullptr)},
             {"ctx", o.ctx},
             {"tokens", r.tokens},
             {"nll", nll},
             {"ppl", std::exp(nll)}});
    }
    if (interrupted) {
        // The table is a true result over fewer tokens; the JSON file is left out (or untouched), so that
        // a study that resumes by the files it finds runs this again.
        fmt::print(stderr, "perplexity: interrupted; the table covers the first {} scored tokens per row{}\n",
                   rows.front().tokens,
                   o.json.empty() ? "" : fmt::format(", and {} was not written", o.json));
        throw Interrupted();
    }
    if (!o.json.empty()) write_json_file(o.json, json);
}

}  // namespace

void add_perplexity_command(CLI::App& app) {
    auto o = std::make_shared<PerplexityOptions>();
    CLI::App* cmd = app.add_subcommand(
        "perplexity",
        "Perplexity of a text per attention policy and budget: windows of --ctx tokens, the first half as "
        "context, every token of the second half scored with the attention a decode step under the policy "
        "would compute");
    add_model_options(*cmd, o->model, /*with_context=*/false);
    cmd->add_option("-f,--file", o->text_file, "Plain-text file to score")->required();
    cmd->add_option("--ctx", o->ctx, "Window length in tokens")->capture_default_str();
    cmd->add_option("--max-tokens", o->max_tokens, "Scored tokens per row, at most")->capture_default_str();
    cmd->add_option("--policies", o->policies, "Comma-separated policies")->capture_default_str();
    cmd->add_option("--budgets", o->budgets, "Comma-separated budgets for the sparse policies")
        ->capture_default_str();
    cmd->add_option("--json", o->json, "Also write the rows as JSON");
    cmd->add_flag("--decode-steps", o->decode_steps,
                  "Score token by token through real decode steps (8-bit activations unless "
                  "--float-activations) instead of batched passes with the same attention; slower");
    cmd->callback([o] { run_perplexity(*o); });
}

}  // namespace adamas::tools
