// `adamas bench e2e`: whole-model speed per policy after a real prefill of the context: prefill tok/s,
// then decode tok/s of greedy steps at that context, the same prefilled state for every policy.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "adamas/data_paths.h"
#include "adamas/error.h"
#include "adamas/llama.h"
#include "adamas/sampler.h"
#include "adamas/text_file.h"
#include "adamas/tokenizer.h"
#include "bench.h"
#include "bench_args.h"
#include "interrupt.h"
#include "json_output.h"
#include "model_options.h"

namespace adamas::tools {

namespace {

struct E2eOptions {
    ModelOptions model;
    std::string text_file;  // prefill text; empty: the corpus if installed, else random tokens
    std::string contexts = "8192";
    std::string policies = "dense,adamas";
    std::string budgets = "128";
    int decode_tokens = 32;
    int repeats = 3;
    std::string json;
};

// `tok` is null for a model without a tokenizer: random tokens.
std::vector<int32_t> prompt_tokens(const E2eOptions& o, const Tokenizer* tok, int64_t count, int vocab) {
    const std::string path = o.text_file.empty() ? corpus_path("austen.txt") : o.text_file;
    std::vector<int32_t> ids;
    if (tok) {
        std::error_code ec;
        if (!o.text_file.empty() || std::filesystem::exists(path, ec))
            ids = tok->encode(read_text_file(path, "the prefill text"), false, false);
    }
    if (int64_t(ids.size()) >= count) return {ids.begin(), ids.begin() + count};
    // Not enough text: fill with a fixed pseudo-random token sequence (timing only depends on length).
    uint64_t state = 88172645463325252ull;
    while (int64_t(ids.size()) < count) {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        ids.push_back(int32_t(state % uint64_t(vocab)));
    }
    return ids;
}

void run_e2e(const E2eOptions& o) {
    if (o.decode_tokens < 1) fail_usage("--decode-tokens {} must be at least 1", o.decode_tokens);
    if (o.repeats < 1) fail_usage("--repeats {} must be at least 1", o.repeats);
    const auto model = LlamaModel::load(resolve_model_path(o.model.model));
    // A model without a tokenizer prefills random tokens, unless -f asks for text.
    std::optional<Tokenizer> tok;
    if (model->has_tokenizer() || !o.text_file.empty())
        tok.emplace(Tokenizer::from_vocab(model->tokenizer_vocab()));
    ThreadPool pool(o.model.threads);
    nlohmann::ordered_json json = nlohmann::ordered_json::array();
    fmt::print(
        "| ctx | policy | budget | prefill tok/s | decode tok/s | attention share of decode |\n"
        "|---:|---|---:|---:|---:|---:|\n");
    for (int64_t ctx : parse_count_list(o.contexts, "--contexts")) {
        const int64_t prompt_len = ctx - o.decode_tokens;
        if (prompt_len < 1)
            fail_usage("--contexts {} leaves no room for {} decode tokens", ctx, o.decode_tokens);
        const auto prompt = prompt_tokens(o, tok ? &*tok : nullptr, prompt_len, model->config().vocab);
        ModelOptions m = o.model;
        m.context = ctx;
        LlamaRunner runner(*model, runner_options(m), pool);
        fmt::print(stderr, "bench e2e: prefilling {} tokens\n", prompt_len);
        const auto t0 = std::chrono::steady_clock::now();
        const std::vector<float> first_logits = [&] {
            auto l = runner.forward(prompt, false);
            return std::vector<float>(l.begin(), l.end());
        }();
        const double prefill_tps =
            double(prompt_len) / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        for (const std::string& policy : split_list(o.policies, "--policies")) {
            const bool dense = parse_policy(policy) == PolicyKind::dense;
            for (const std::string& budget :
                 dense ? std::vector<std::string>{"0"} : split_list(o.budgets, "--budgets")) {
                ModelOptions pm = m;
                pm.policy = policy;
                if (!dense) pm.budget = int(parse_count(budget, "--budgets"));
                runner.set_policy(runner_options(pm).policy);
                std::vector<double> rates, shares;
                for (int r = 0; r < o.repeats; ++r) {
                    stop_if_interrupted();
                    runner.rewind(prompt_len);
                    Sampler greedy(SamplerOptions{});
                    int32_t next = greedy.sample(first_logits);
                    const double attention_before = runner.attention_seconds();
                    const auto start = std::chrono::steady_clock::now();
                    for (int t = 0; t < o.decode_tokens; ++t)
                        next = greedy.sample(runner.forward({&next, 1}, true));
                    const double s =
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                    rates.push_back(o.decode_tokens / s);
                    shares.push_back((runner.attention_seconds() - attention_before) / s);
                }
                std::sort(rates.begin(), rates.end());
                std::sort(shares.begin(), shares.end());
                const double tps = rates[rates.size() / 2], share = shares[shares.size() / 2];
                fmt::print("| {} | {} | {} | {:.1f} | {:.1f} | {:.0f}% |\n", ctx, policy,
                           dense ? "—" : std::to_string(pm.budget), prefill_tps, tps, 100 * share);
                std::fflush(stdout);
                json.push_back(
                    {{"policy", policy},
                     {"budget", dense ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(pm.budget)},
                     {"ctx", ctx},
                     {"tok_per_s", tps},
                     {"prefill_tok_per_s", prefill_tps},
                     {"attention_share", share},
                     {"decode_tokens", o.decode_tokens},
                     {"threads", pool.size()}});
            }
        }
    }
    if (!o.json.empty()) write_json_file(o.json, json);
}

}  // namespace

void add_bench_e2e_command(CLI::App& bench) {
    auto o = std::make_shared<E2eOptions>();
    CLI::App* cmd = bench.add_subcommand(
        "e2e", "Whole-model prefill and decode speed per policy after a real prefill of each context");
    add_model_options(*cmd, o->model, /*with_context=*/false);
    cmd->add_option("--contexts,--ctx", o->contexts, "Comma-separated contexts in tokens (K suffix allowed)")
        ->capture_default_str();
    cmd->add_option("--policies", o->policies, "Comma-separated policies")->capture_default_str();
    cmd->add_option("--budgets", o->budgets, "Comma-separated budgets for the sparse policies")
        ->capture_default_str();
    cmd->add_option("--decode-tokens", o->decode_tokens, "Greedy decode steps timed per repeat")
        ->capture_default_str();
    cmd->add_option("--repeats", o->repeats, "Repeats per row (median reported)")->capture_default_str();
    cmd->add_option("-f,--file", o->text_file,
                    "Prefill text (default: the Austen corpus, else random tokens)");
    cmd->add_option("--json", o->json, "Also write the rows as JSON");
    cmd->callback([o] { run_e2e(*o); });
}

}  // namespace adamas::tools
