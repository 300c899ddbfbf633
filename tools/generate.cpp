// `adamas generate`: streams a model's continuation of a prompt, then prefill/decode speed and the share
// of time spent in attention.
#include <chrono>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "adamas/chat_template.h"
#include "adamas/error.h"
#include "adamas/llama.h"
#include "adamas/sampler.h"
#include "adamas/text_file.h"
#include "adamas/tokenizer.h"
#include "commands.h"
#include "interrupt.h"
#include "model_options.h"

namespace adamas::tools {

namespace {

struct GenerateOptions {
    ModelOptions model;
    std::string prompt;
    std::string prompt_file;
    bool chat = false;
    std::string system;
    int tokens = 64;
    float temperature = 0.0f;
    int top_k = 40;
    float top_p = 0.95f;
    uint64_t seed = 0;
};

double since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void run_generate(const GenerateOptions& o) {
    std::string prompt = o.prompt_file.empty() ? o.prompt : read_text_file(o.prompt_file, "the prompt file");
    if (prompt.empty()) fail_usage("give a prompt with -p TEXT or -f FILE");
    if (o.tokens < 0) fail_usage("-n {} must not be negative", o.tokens);
    if (!o.system.empty() && !o.chat) fail_usage("--system needs --chat");
    const std::string path = resolve_model_path(o.model.model);
    const RunnerOptions runner_opts = runner_options(o.model);
    const auto model = LlamaModel::load(path);
    const Tokenizer tokenizer = Tokenizer::from_vocab(model->tokenizer_vocab());
    int32_t end_of_turn = -1;
    if (o.chat) {
        const std::string chat_template = model->chat_template();
        std::optional<ChatFormat> format = detect_chat_format(chat_template);
        if (!format)
            fmt::print(stderr, "generate: warning: {}; formatting the prompt as ChatML\n",
                       chat_template.empty() ? "the model has no chat template" : "unknown chat template");
        prompt = format_chat_prompt(format.value_or(ChatFormat::chatml), prompt, o.system);
        end_of_turn = chat_end_of_turn_id(tokenizer, format.value_or(ChatFormat::chatml));
    }
    const std::vector<int32_t> ids = tokenizer.encode(prompt, tokenizer.add_bos(), /*parse_special=*/o.chat);
    if (ids.empty()) fail_usage("the prompt encodes to no tokens");
    ThreadPool pool(o.model.threads);
    LlamaRunner runner(*model, runner_opts, pool);
    const int64_t capacity = runner_opts.context > 0 ? runner_opts.context : model->config().context_length;
    if (int64_t(ids.size()) + o.tokens > capacity)
        fail_usage("the prompt ({} tokens) plus {} new tokens exceed the context of {} tokens", ids.size(),
                   o.tokens, capacity);
    Sampler sampler(SamplerOptions{o.temperature, o.top_k, o.top_p, o.seed});

    auto start = std::chrono::steady_clock::now();
    std::span<const float> logits = runner.forward(ids, /*decode=*/false);
    const double prefill_s = since(start);
    const double prefill_attention_s = runner.attention_seconds();
    start = std::chrono::steady_clock::now();
    int generated = 0;
    for (; generated < o.tokens && !interrupt_requested(); ++generated) {
        const int32_t next = sampler.sample(logits);
        if (next == tokenizer.eos() || next == end_of_turn) break;
        const int32_t one[] = {next};
        fmt::print("{}", tokenizer.token_piece(next));
        std::fflush(stdout);
        if (generated + 1 < o.tokens) logits = runner.forward(one, /*decode=*/true);
    }
    const double decode_s = since(start);
    fmt::print("\n");
    const double decode_attention_s = runner.attention_seconds() - prefill_attention_s;
    fmt::print(
        stderr,
        "generate: prompt {} tokens, prefill {:.1f} tok/s; decode {} tokens, {:.1f} tok/s; attention {:.0f}% "
        "of decode time ({})\n",
        ids.size(), double(ids.size()) / prefill_s, generated, generated / std::max(decode_s, 1e-9),
        100.0 * decode_attention_s / std::max(decode_s, 1e-9),
        runner_opts.policy.describe(model->config().n_head / model->config().n_head_kv));
    stop_if_interrupted();
}

}  // namespace

void add_generate_command(CLI::App& app) {
    auto o = std::make_shared<GenerateOptions>();
    CLI::App* cmd =
        app.add_subcommand("generate", "Continue a prompt with a model, streaming the text to stdout");
    add_model_options(*cmd, o->model);
    cmd->add_option("-p,--prompt", o->prompt, "Prompt text");
    cmd->add_option("-f,--file", o->prompt_file, "Read the prompt from a file");
    cmd->add_flag("--chat", o->chat,
                  "Wrap the prompt in the chat format of the model's template (ChatML, Llama 3, Llama 2, "
                  "Mistral; ChatML when unknown) and stop at the end of the reply");
    cmd->add_option("--system", o->system, "System message of the chat (with --chat)");
    cmd->add_option("-n,--tokens", o->tokens, "Tokens to generate at most")->capture_default_str();
    cmd->add_option("--temp", o->temperature, "Sampling temperature, 0 = greedy")->capture_default_str();
    cmd->add_option("--top-k", o->top_k, "Sample among the k most likely tokens (0: all)")
        ->capture_default_str();
    cmd->add_option("--top-p", o->top_p, "Sample within this probability mass")->capture_default_str();
    cmd->add_option("--seed", o->seed, "Random seed of the sampler")->capture_default_str();
    cmd->callback([o] { run_generate(*o); });
}

}  // namespace adamas::tools
