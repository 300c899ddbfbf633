// `adamas passkey`: retrieval of a pass key hidden at a given depth of a haystack of corpus text, per
// attention policy and budget (DESIGN.md §7). Each prompt is prefilled densely once, all but its last
// ~100 tokens; then, for each policy, the cache is rewound to that point and the rest of the prompt and
// the answer are decoded with the policy, greedily.
#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "adamas/chat_template.h"
#include "adamas/error.h"
#include "adamas/llama.h"
#include "adamas/sampler.h"
#include "adamas/text_file.h"
#include "adamas/tokenizer.h"
#include "bench_args.h"
#include "commands.h"
#include "interrupt.h"
#include "json_output.h"
#include "model_options.h"

namespace adamas::tools {

namespace {

constexpr int kDecodedPromptTokens = 100;  // prompt tail decoded with the policy
constexpr int kAnswerTokens = 8;           // a 5-digit key and what follows it

// The prompt of Mohtashami & Jaggi (2023, "Landmark attention"), the standard pass-key wording. The
// answer is opened with "The pass key is " including its space: the default model's tokenizer (and
// other byte-level BPEs that split digits) writes " 71432" as a lone " " token and then the digits, so a
// prompt ending in "is" lets the model continue with a word (" a very important thing", measured on
// SmolLM2-135M at 2K and 8K), while one ending in the space token asks for the digits, as the needle spells
// them.
constexpr std::string_view kIntro =
    "There is an important info hidden inside a lot of irrelevant text. Find it and memorize them. I will "
    "quiz you about the important information there.";
constexpr std::string_view kQuestion = "What is the pass key?";
constexpr std::string_view kAnswerStart = "The pass key is ";
std::string needle_text(int key) {
    return fmt::format(" The pass key is {}. Remember it. {} is the pass key.", key, key);
}

struct PasskeyOptions {
    ModelOptions model;
    std::string haystack_file;
    std::string contexts = "2048,4096,8192";
    std::string depths = "0:100:10";  // percent, start:stop:step
    int keys = 5;
    std::string policies = "dense,adamas";
    std::string budgets = "64,128";
    uint64_t seed = 1;
    bool chat = false;
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

// One policy and budget of --policies x --budgets.
struct Row {
    std::string policy;
    int budget = 0;  // 0 for dense
    PolicyConfig config;
};

std::vector<Row> parse_rows(const PasskeyOptions& o) {
    std::vector<Row> rows;
    for (const std::string& policy : split_list(o.policies, "--policies")) {
        const bool dense = parse_policy(policy) == PolicyKind::dense;
        for (const std::string& budget :
             dense ? std::vector<std::string>{"0"} : split_list(o.budgets, "--budgets")) {
            ModelOptions m = o.model;
            m.policy = policy;
            if (!dense) m.budget = int(parse_count(budget, "--budgets"));
            rows.push_back({policy, dense ? 0 : m.budget, runner_options(m).policy});
        }
    }
    return rows;
}

// One prompt of --details: what the model answered and how fast the policy decoded.
struct Trial {
    int key = 0;
    std::string answer;
    bool correct = false;
    double decode_tok_per_s = 0;
};

struct Cell {
    int correct = 0;
    std::vector<Trial> trials;
};

// The text around the haystack: what comes before it and what follows it, up to where the model answers.
struct PromptFrame {
    std::vector<int32_t> head, tail;
};

PromptFrame prompt_frame(const Tokenizer& tok, std::optional<ChatFormat> chat) {
    std::string head = std::string(kIntro) + "\n\n";
    std::string tail = fmt::format("\n\n{} {}", kQuestion, kAnswerStart);
    if (chat) {
        // The instruction, haystack and question form the user's turn; the assistant's reply is opened.
        const std::string turn = format_chat_prompt(*chat, "\x01");
        const size_t cut = turn.find('\x01');
        head = turn.substr(0, cut) + head;
        tail = fmt::format("\n\n{}{}{}", kQuestion, turn.substr(cut + 1), kAnswerStart);
    }
    const bool special = chat.has_value();
    return {tok.encode(head, tok.add_bos(), special), tok.encode(tail, false, special)};
}

// Whether token `id` ends a sentence: its text, less trailing spaces and quotes, ends in . ! or ?.
bool ends_sentence(const Tokenizer& tok, int32_t id) {
    std::string piece = tok.token_piece(id);
    while (!piece.empty() && std::string_view(" \n\"'").find(piece.back()) != std::string_view::npos)
        piece.pop_back();
    return !piece.empty() && std::string_view(".!?").find(piece.back()) != std::string_view::npos;
}

// Builds the prompt of `ctx` tokens less the answer's: the frame around haystack text from the corpus
// (from token `offset` on), with the needle after the first sentence end at or past `depth` percent of
// the haystack (at its start for 0 %), so it does not cut a word or sentence in two.
std::vector<int32_t> build_prompt(const Tokenizer& tok, const PromptFrame& frame,
                                  const std::vector<int32_t>& corpus, int ctx, int depth, int key,
                                  uint64_t offset) {
    const auto needle = tok.encode(needle_text(key), false, false);
    const int64_t hay =
        int64_t(ctx) - int64_t(frame.head.size() + needle.size() + frame.tail.size()) - kAnswerTokens;
    if (hay < 16) fail_usage("--contexts {} is too short for the passkey prompt", ctx);
    if (int64_t(corpus.size()) < hay)
        fail("the haystack text has {} tokens, fewer than the {} needed", corpus.size(), hay);
    const int64_t start = int64_t(offset % uint64_t(int64_t(corpus.size()) - hay + 1));
    int64_t at = hay * depth / 100;
    for (int64_t i = at; i > 0 && i < hay && i < at + 256; ++i)
        if (ends_sentence(tok, corpus[size_t(start + i - 1)])) {
            at = i;
            break;
        }
    std::vector<int32_t> out(frame.head);
    out.insert(out.end(), corpus.begin() + start, corpus.begin() + start + at);
    out.insert(out.end(), needle.begin(), needle.end());
    out.insert(out.end(), corpus.begin() + start + at, corpus.begin() + start + hay);
    out.insert(out.end(), frame.tail.begin(), frame.tail.end());
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

std::string row_name(const Row& row) {
    return row.budget ? fmt::format("{}@{}", row.policy, row.budget) : row.policy;
}

void run_passkey(const PasskeyOptions& o) {
    if (o.keys < 1) fail_usage("--keys {} must be at least 1", o.keys);
    const auto contexts = parse_count_list(o.contexts, "--contexts");
    const auto depths = parse_depths(o.depths);
    const std::vector<Row> rows = parse_rows(o);
    const std::string text = read_text_file(o.haystack_file, "the haystack text");
    const auto model = LlamaModel::load(resolve_model_path(o.model.model));
    const Tokenizer tok = Tokenizer::from_vocab(model->tokenizer_vocab());
    std::optional<ChatFormat> chat;
    int32_t end_of_turn = -1;
    if (o.chat) {
        const std::string chat_template = model->chat_template();
        chat = detect_chat_format(chat_template);
        if (!chat)
            fmt::print(stderr, "passkey: warning: {}; formatting the prompt as ChatML\n",
                       chat_template.empty() ? "the model has no chat template" : "unknown chat template");
        chat = chat.value_or(ChatFormat::chatml);
        end_of_turn = chat_end_of_turn_id(tok, *chat);
    }
    const PromptFrame frame = prompt_frame(tok, chat);
    const auto corpus = tok.encode(text, false, false);
    ThreadPool pool(o.model.threads);
    // cells[(row * contexts + context) * depths + depth]
    std::vector<Cell> cells(rows.size() * contexts.size() * depths.size());
    const auto start = std::chrono::steady_clock::now();
    for (size_t c = 0; c < contexts.size(); ++c) {
        const int64_t ctx = contexts[c];
        if (ctx > model->config().context_length)
            fmt::print(stderr, "passkey: warning: --contexts {} exceeds the model's context length ({})\n",
                       ctx, model->config().context_length);
        ModelOptions m = o.model;
        m.context = ctx;
        LlamaRunner runner(*model, runner_options(m), pool);
        for (size_t d = 0; d < depths.size(); ++d) {
            for (int k = 0; k < o.keys; ++k) {
                // The per-depth lines on stderr are the results so far; the table needs every cell.
                stop_if_interrupted();
                // The same keys and haystacks for every policy: seeded by (ctx, depth, k) only.
                std::mt19937_64 cell_rng(o.seed ^ (uint64_t(ctx) << 20) ^ (uint64_t(depths[d]) << 8) ^
                                         uint64_t(k));
                const int key = 10000 + int(cell_rng() % 90000);
                const auto prompt = build_prompt(tok, frame, corpus, int(ctx), depths[d], key, cell_rng());
                runner.reset();
                const size_t dense_part =
                    prompt.size() - std::min<size_t>(kDecodedPromptTokens, prompt.size() - 1);
                runner.forward({prompt.data(), dense_part}, false);
                for (size_t r = 0; r < rows.size(); ++r) {
                    runner.rewind(int64_t(dense_part));
                    runner.set_policy(rows[r].config);
                    const auto decode_start = std::chrono::steady_clock::now();
                    std::span<const float> logits;
                    int decode_steps = 0;
                    for (size_t i = dense_part; i < prompt.size(); ++i, ++decode_steps)
                        logits = runner.forward({&prompt[i], 1}, true);
                    Sampler greedy(SamplerOptions{});
                    std::vector<int32_t> answer;
                    for (int t = 0; t < kAnswerTokens; ++t) {
                        const int32_t next = greedy.sample(logits);
                        if (next == tok.eos() || next == end_of_turn) break;
                        answer.push_back(next);
                        if (t + 1 < kAnswerTokens) {
                            logits = runner.forward({&answer.back(), 1}, true);
                            ++decode_steps;
                        }
                    }
                    const double decode_s =
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - decode_start)
                            .count();
                    const std::string answer_text = tok.decode(answer);
                    Cell& cell = cells[(r * contexts.size() + c) * depths.size() + d];
                    const bool ok = answered(answer_text, key);
                    cell.correct += ok;
                    cell.trials.push_back({key, answer_text, ok, decode_steps / std::max(decode_s, 1e-9)});
                }
            }
            std::string line;
            for (size_t r = 0; r < rows.size(); ++r)
                line += fmt::format("{}{} {}/{}", r ? ", " : "", row_name(rows[r]),
                                    cells[(r * contexts.size() + c) * depths.size() + d].correct, o.keys);
            const double elapsed =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            fmt::print(stderr, "  ctx {} depth {}%: {} ({:.0f} s)\n", ctx, depths[d], line, elapsed);
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
    auto budget_text = [](const Row& row) { return row.budget ? std::to_string(row.budget) : "—"; };
    auto budget_json = [](const Row& row) {
        return row.budget ? nlohmann::ordered_json(row.budget) : nlohmann::ordered_json(nullptr);
    };
    for (size_t r = 0; r < rows.size(); ++r)
        for (size_t c = 0; c < contexts.size(); ++c) {
            fmt::print("| {} | {} | {} |", rows[r].policy, budget_text(rows[r]), contexts[c]);
            int correct = 0;
            for (size_t d = 0; d < depths.size(); ++d) {
                const Cell& cell = cells[(r * contexts.size() + c) * depths.size() + d];
                fmt::print(" {:.0f}% |", 100.0 * cell.correct / o.keys);
                correct += cell.correct;
                nlohmann::ordered_json item = {{"policy", rows[r].policy},
                                               {"budget", budget_json(rows[r])},
                                               {"ctx", contexts[c]},
                                               {"depth", depths[d]},
                                               {"correct", cell.correct},
                                               {"keys", o.keys},
                                               {"accuracy", double(cell.correct) / o.keys}};
                if (o.details) {
                    item["trials"] = nlohmann::ordered_json::array();
                    for (const Trial& t : cell.trials)
                        item["trials"].push_back({{"key", t.key},
                                                  {"answer", t.answer},
                                                  {"correct", t.correct},
                                                  {"decode_tok_per_s", t.decode_tok_per_s}});
                }
                json.push_back(std::move(item));
            }
            fmt::print(" {:.0f}% |\n", 100.0 * correct / (o.keys * double(depths.size())));
        }
    if (o.details) {
        fmt::print(
            "\n| policy | budget | ctx | depth | key | answer | correct | decode tok/s |\n"
            "|---|---:|---:|---:|---:|---|---|---:|\n");
        for (size_t r = 0; r < rows.size(); ++r)
            for (size_t c = 0; c < contexts.size(); ++c)
                for (size_t d = 0; d < depths.size(); ++d)
                    for (const Trial& t : cells[(r * contexts.size() + c) * depths.size() + d].trials) {
                        std::string shown;
                        for (char ch : t.answer)
                            shown += (ch == '\n' || ch == '|') ? ' ' : ch;
                        fmt::print("| {} | {} | {} | {}% | {} | {} | {} | {:.1f} |\n", rows[r].policy,
                                   budget_text(rows[r]), contexts[c], depths[d], t.key, shown,
                                   t.correct ? "yes" : "no", t.decode_tok_per_s);
                    }
    }
    // An answer cut after 8 tokens may end inside a UTF-8 sequence: write_json_file replaces it.
    if (!o.json.empty()) write_json_file(o.json, json);
}

}  // namespace

void add_passkey_command(CLI::App& app) {
    auto o = std::make_shared<PasskeyOptions>();
    CLI::App* cmd = app.add_subcommand(
        "passkey", "Pass-key retrieval accuracy per policy and budget, over contexts and needle depths");
    cmd->footer(fmt::format(
        "The prompt, --contexts tokens long with the {} answer tokens:\n"
        "  {}\n\n"
        "  <a random stretch of the -f text, with\n"
        "   \"{}\"\n"
        "   (a random 5-digit key) after the first sentence end at or past the depth>\n\n"
        "  {} {}\n\n"
        "It ends with the space after \"is\", which the tokenizer writes before digits.\n"
        "With --chat the instruction, the text and the question form a user turn of the model's chat\n"
        "format, and \"{}\" opens the assistant's reply. Each prompt is prefilled densely once\n"
        "but for its last {} tokens; each policy then decodes those and up to {} greedy answer tokens.\n"
        "An answer is correct when its first number is the key. Decode tok/s counts those steps.",
        kAnswerTokens, kIntro, needle_text(12345).substr(1), kQuestion, kAnswerStart, kAnswerStart,
        kDecodedPromptTokens, kAnswerTokens));
    add_model_options(*cmd, o->model, /*with_context=*/false);
    cmd->add_option("-f,--file", o->haystack_file, "Plain-text haystack (e.g. the Austen corpus)")
        ->required();
    cmd->add_option("--contexts", o->contexts,
                    "Comma-separated prompt lengths in tokens, answer included (K suffix allowed)")
        ->capture_default_str();
    cmd->add_option("--depths", o->depths, "Needle depths in percent, START:STOP:STEP")
        ->capture_default_str();
    cmd->add_option("--keys", o->keys, "Keys per (context, depth) cell")->capture_default_str();
    cmd->add_option("--policies", o->policies, "Comma-separated policies")->capture_default_str();
    cmd->add_option("--budgets", o->budgets, "Comma-separated budgets for the sparse policies")
        ->capture_default_str();
    cmd->add_option("--seed", o->seed, "Seed of the keys and haystack offsets")->capture_default_str();
    cmd->add_flag("--chat", o->chat,
                  "Put the instruction, haystack and question in a user turn of the model's chat format "
                  "(ChatML when unknown) and open the assistant's reply with the answer's start");
    cmd->add_flag("--details", o->details,
                  "Also print every prompt's answer, whether it is right, and the policy's decode speed "
                  "(and add them to --json as each cell's \"trials\")");
    cmd->add_option("--json", o->json, "Also write the cells as JSON");
    cmd->callback([o] { run_passkey(*o); });
}

}  // namespace adamas::tools
