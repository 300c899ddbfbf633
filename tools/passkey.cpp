// `adamas passkey`: retrieval of a pass key hidden at a given depth of a haystack of corpus text, per
// attention policy and budget. All but the last ~100 prompt tokens are prefilled densely; the rest and
// the answer are decoded with the policy, greedily (DESIGN.md §7).
#include <chrono>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "adamas/atomic_file.h"
#include "adamas/error.h"
#include "adamas/llama.h"
#include "adamas/sampler.h"
#include "adamas/tokenizer.h"
#include "bench_args.h"
#include "commands.h"
#include "model_options.h"

namespace adamas::tools {

namespace {

constexpr int kDecodedPromptTokens = 100;  // prompt tail decoded with the policy
constexpr int kAnswerTokens = 8;

struct PasskeyOptions {
    ModelOptions model;
    std::string haystack_file;
    std::string contexts = "2048,4096,8192";
    std::string depths = "0:100:10";  // percent, start:stop:step
    int keys = 5;
    std::string policies = "dense,adamas";
    std::string budgets = "64,128";
    uint64_t seed = 1;
    bool details = false;
    std::string json;
};

std::vector<int> parse_depths(const std::string& text) {
    int start = 0, stop = 0, step = 0;
    char c1 = 0, c2 = 0;
    std::istringstream in(text);
    if ((in >> start >> c1 >> stop >> c2 >> step) && c1 == ':' && c2 == ':' && in.eof() && step > 0 &&
        start >= 0 && stop <= 100 && start <= stop) {
        std::vector<int> out;
        for (int d = start; d <= stop; d += step)
            out.push_back(d);
        return out;
    }
    fail_usage("--depths '{}' must be START:STOP:STEP in percent, e.g. 0:100:10", text);
}

// One prompt of --details: what the model answered and how fast the policy decoded.
struct Trial {
    std::string policy;
    int budget = 0;
    int ctx = 0;
    int depth = 0;
    int key = 0;
    std::string answer;
    bool correct = false;
    double decode_tok_per_s = 0;
};

struct Cell {
    std::string policy;
    int budget = 0;
    int ctx = 0;
    int depth = 0;
    int correct = 0;
    int total = 0;
};

// Builds the prompt: an instruction, haystack text with the needle at `depth` percent, the question.
std::vector<int32_t> build_prompt(const Tokenizer& tok, const std::vector<int32_t>& corpus, int ctx,
                                  int depth, int key, uint64_t offset) {
    const auto intro = tok.encode(
        "There is an important piece of information hidden inside a lot of irrelevant text. Find it and "
        "memorize it. I will ask you about it.\n\n",
        tok.add_bos(), false);
    const auto needle = tok.encode(
        fmt::format(" The pass key is {}. Remember it. {} is the pass key. ", key, key), false, false);
    const auto question = tok.encode("\n\nWhat is the pass key? The pass key is", false, false);
    const int64_t hay =
        int64_t(ctx) - int64_t(intro.size() + needle.size() + question.size()) - kAnswerTokens;
    if (hay < 16) fail_usage("--contexts {} is too short for the passkey prompt", ctx);
    if (int64_t(corpus.size()) < hay)
        fail("the haystack text has {} tokens, fewer than the {} needed", corpus.size(), hay);
    const int64_t start = int64_t(offset % uint64_t(int64_t(corpus.size()) - hay + 1));
    const int64_t at = hay * depth / 100;
    std::vector<int32_t> out(intro);
    out.insert(out.end(), corpus.begin() + start, corpus.begin() + start + at);
    out.insert(out.end(), needle.begin(), needle.end());
    out.insert(out.end(), corpus.begin() + start + at, corpus.begin() + start + hay);
    out.insert(out.end(), question.begin(), question.end());
    return out;
}

bool answered(const std::string& text, int key) {
    std::string digits;
    for (char c : text) {
        if (c >= '0' && c <= '9')
            digits += c;
        else if (!digits.empty())
            break;
    }
    return digits == std::to_string(key);
}

void run_passkey(const PasskeyOptions& o) {
    if (o.keys < 1) fail_usage("--keys {} must be at least 1", o.keys);
    const auto contexts = parse_count_list(o.contexts, "--contexts");
    const auto depths = parse_depths(o.depths);
    std::ifstream file(o.haystack_file, std::ios::binary);
    if (!file) fail("{}: cannot read the haystack text", o.haystack_file);
    std::stringstream text;
    text << file.rdbuf();
    const auto model = LlamaModel::load(resolve_model_path(o.model.model));
    const Tokenizer tok = Tokenizer::from_vocab(model->tokenizer_vocab());
    const auto corpus = tok.encode(text.str(), false, false);
    ThreadPool pool(o.model.threads);
    std::mt19937_64 rng(o.seed);
    std::vector<Cell> cells;
    std::vector<Trial> trials;
    const auto start = std::chrono::steady_clock::now();
    for (const std::string& policy : split_list(o.policies, "--policies")) {
        const bool dense = parse_policy(policy) == PolicyKind::dense;
        for (const std::string& budget :
             dense ? std::vector<std::string>{"0"} : split_list(o.budgets, "--budgets"))
            for (int64_t ctx : contexts) {
                ModelOptions m = o.model;
                m.policy = policy;
                m.context = ctx;
                if (!dense) m.budget = int(parse_count(budget, "--budgets"));
                LlamaRunner runner(*model, runner_options(m), pool);
                for (int depth : depths) {
                    Cell cell{policy, dense ? 0 : m.budget, int(ctx), depth, 0, 0};
                    for (int k = 0; k < o.keys; ++k) {
                        // The same keys and haystacks for every policy: seeded by (ctx, depth, k) only.
                        std::mt19937_64 cell_rng(o.seed ^ (uint64_t(ctx) << 20) ^ (uint64_t(depth) << 8) ^
                                                 uint64_t(k));
                        const int key = 10000 + int(cell_rng() % 90000);
                        const auto prompt = build_prompt(tok, corpus, int(ctx), depth, key, cell_rng());
                        runner.reset();
                        const size_t dense_part =
                            prompt.size() - std::min<size_t>(kDecodedPromptTokens, prompt.size() - 1);
                        std::span<const float> logits = runner.forward({prompt.data(), dense_part}, false);
                        const auto decode_start = std::chrono::steady_clock::now();
                        int decode_steps = 0;
                        for (size_t i = dense_part; i < prompt.size(); ++i, ++decode_steps)
                            logits = runner.forward({&prompt[i], 1}, true);
                        Sampler greedy(SamplerOptions{});
                        std::vector<int32_t> answer;
                        for (int t = 0; t < kAnswerTokens; ++t) {
                            answer.push_back(greedy.sample(logits));
                            if (t + 1 < kAnswerTokens) {
                                logits = runner.forward({&answer.back(), 1}, true);
                                ++decode_steps;
                            }
                        }
                        const double decode_s =
                            std::chrono::duration<double>(std::chrono::steady_clock::now() - decode_start)
                                .count();
                        const std::string text = tok.decode(answer);
                        const bool ok = answered(text, key);
                        cell.correct += ok;
                        ++cell.total;
                        if (o.details)
                            trials.push_back({cell.policy, cell.budget, int(ctx), depth, key, text, ok,
                                              decode_steps / std::max(decode_s, 1e-9)});
                    }
                    const double elapsed =
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                    fmt::print(stderr, "  {}{} ctx {} depth {}%: {}/{} ({:.0f} s)\n", policy,
                               dense ? "" : fmt::format("@{}", m.budget), ctx, depth, cell.correct,
                               cell.total, elapsed);
                    cells.push_back(cell);
                }
            }
    }
    // Table: one row per policy/budget/context, one column per depth.
    fmt::print("| policy | budget | ctx |");
    for (int d : depths)
        fmt::print(" {}% |", d);
    fmt::print(" all |\n|---|---:|---:|");
    for (size_t i = 0; i <= depths.size(); ++i)
        fmt::print("---:|");
    fmt::print("\n");
    nlohmann::ordered_json json = nlohmann::ordered_json::array();
    for (size_t i = 0; i < cells.size(); i += depths.size()) {
        const Cell& first = cells[i];
        fmt::print("| {} | {} | {} |", first.policy, first.budget ? std::to_string(first.budget) : "—",
                   first.ctx);
        int correct = 0, total = 0;
        for (size_t j = i; j < i + depths.size(); ++j) {
            fmt::print(" {:.0f}% |", 100.0 * cells[j].correct / cells[j].total);
            correct += cells[j].correct;
            total += cells[j].total;
            json.push_back({{"policy", cells[j].policy},
                            {"budget", cells[j].budget ? nlohmann::ordered_json(cells[j].budget)
                                                       : nlohmann::ordered_json(nullptr)},
                            {"ctx", cells[j].ctx},
                            {"depth", cells[j].depth},
                            {"correct", cells[j].correct},
                            {"keys", cells[j].total},
                            {"accuracy", double(cells[j].correct) / cells[j].total}});
        }
        fmt::print(" {:.0f}% |\n", 100.0 * correct / total);
    }
    if (o.details) {
        fmt::print(
            "\n| policy | budget | ctx | depth | key | answer | correct | decode tok/s |\n"
            "|---|---:|---:|---:|---:|---|---|---:|\n");
        for (const Trial& t : trials) {
            std::string shown;
            for (char c : t.answer)
                shown += (c == '\n' || c == '|') ? ' ' : c;
            fmt::print("| {} | {} | {} | {}% | {} | {} | {} | {:.1f} |\n", t.policy,
                       t.budget ? std::to_string(t.budget) : "—", t.ctx, t.depth, t.key, shown,
                       t.correct ? "yes" : "no", t.decode_tok_per_s);
        }
    }
    if (!o.json.empty()) {
        const std::string out = json.dump(2) + "\n";
        write_file_atomically(o.json, {{out.data(), out.size()}});
    }
}

}  // namespace

void add_passkey_command(CLI::App& app) {
    auto o = std::make_shared<PasskeyOptions>();
    CLI::App* cmd = app.add_subcommand(
        "passkey", "Pass-key retrieval accuracy per policy and budget, over contexts and needle depths");
    add_model_options(*cmd, o->model, /*with_context=*/false);
    cmd->add_option("-f,--file", o->haystack_file, "Plain-text haystack (e.g. the Austen corpus)")
        ->required();
    cmd->add_option("--contexts", o->contexts, "Comma-separated prompt lengths in tokens (K suffix allowed)")
        ->capture_default_str();
    cmd->add_option("--depths", o->depths, "Needle depths in percent, START:STOP:STEP")
        ->capture_default_str();
    cmd->add_option("--keys", o->keys, "Keys per (context, depth) cell")->capture_default_str();
    cmd->add_option("--policies", o->policies, "Comma-separated policies")->capture_default_str();
    cmd->add_option("--budgets", o->budgets, "Comma-separated budgets for the sparse policies")
        ->capture_default_str();
    cmd->add_option("--seed", o->seed, "Seed of the keys and haystack offsets")->capture_default_str();
    cmd->add_flag("--details", o->details,
                  "Also print every prompt's answer, whether it is right, and the policy's decode speed");
    cmd->add_option("--json", o->json, "Also write the cells as JSON");
    cmd->callback([o] { run_passkey(*o); });
}

}  // namespace adamas::tools
