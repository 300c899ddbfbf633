// Shared model options of the subcommands and the default model's location.
#include "model_options.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "adamas/data_paths.h"
#include "adamas/error.h"

namespace adamas::tools {

void add_model_options(CLI::App& cmd, ModelOptions& o, bool with_context) {
    cmd.add_option(
        "-m,--model", o.model,
        "Model: a GGUF file or a Hugging Face directory (config.json + *.safetensors) (default: "
        "$ADAMAS_MODEL, else the SmolLM2-135M-Instruct file that scripts/fetch-model.sh installs)");
    cmd.add_option("--threads", o.threads, "Worker threads, 0 = one per hardware thread")
        ->capture_default_str();
    if (with_context)
        cmd.add_option("--ctx", o.context, "KV-cache capacity in tokens, 0 = the model's context length")
            ->capture_default_str();
    cmd.add_option("--policy", o.policy, "Decode attention policy: dense, adamas, oracle, quest, streaming")
        ->capture_default_str();
    cmd.add_option("--budget", o.budget,
                   "Tokens attended per query head by sparse policies, the forced ones included (pooled "
                   "GQA: one set of group x budget per KV head, the same K/V rows)")
        ->capture_default_str();
    cmd.add_option("--metric", o.metric, "Adamas code distance: l1 or xor")->capture_default_str();
    cmd.add_option("--gqa", o.gqa,
                   "How a GQA group of g query heads selects: pooled (one set of g x budget tokens per KV "
                   "head, ranked by the group's best score; the default), per-head (budget tokens for each "
                   "query head; the paper's, and --paper's default) or shared (one set of budget tokens "
                   "per KV head). Pooled and per-head gather as many K/V rows; for MHA all three agree")
        ->default_str("pooled");
    cmd.add_option("--sinks", o.sinks, "Sink tokens always kept (-1: the policy's default)")
        ->capture_default_str();
    cmd.add_option(
           "--recent", o.recent,
           "Most recent tokens always kept (-1: the policy's default: a quarter of the set for adamas, "
           "budget/4 or, pooled, group x budget/4; else 0). Counts toward the set: at most budget, or "
           "pooled group x budget, with the sinks and the current token")
        ->capture_default_str();
    cmd.add_option("--dense-layers", o.dense_layers, "The first N layers always attend densely")
        ->capture_default_str();
    CLI::Option* tau =
        cmd.add_option(
               "--tau", o.tau,
               "Bucket threshold of the codes (see --tau-mode): 2-bit codes split at -tau, 0 and tau, "
               "3-bit ones at -3tau, -2tau, ..., 3tau")
            ->capture_default_str();
    CLI::Option* tau_mode =
        cmd.add_option(
               "--tau-mode", o.tau_mode,
               "How --tau applies: fixed (the same threshold for every vector, the paper's), relative "
               "(tau times each rotated vector's RMS) or calibrated (keys: tau times the RMS of the "
               "prompt's keys, per layer and KV head; queries: relative)")
            ->capture_default_str();
    CLI::Option* code_bits =
        cmd.add_option("--code-bits", o.code_bits,
                       "Bits per coordinate of the key and query codes: 2 (four buckets, the method's) or 3 "
                       "(eight buckets; an accuracy experiment: 3/16 of an f16 key instead of 1/8, and a "
                       "slower distance pass)")
            ->capture_default_str();
    CLI::Option* rerank =
        cmd.add_option(
               "--rerank", o.rerank,
               "Adamas: re-rank the R×budget nearest tokens by code distance by the exact q·k and keep "
               "the best budget of them (0: off)")
            ->capture_default_str();
    CLI::Option* tail =
        cmd.add_option("--tail", o.tail,
                       "Share of each sparse policy's set spent on a stratified sample of the tokens it did "
                       "not select, each weighted to stand for its stratum, so the attention left out is "
                       "estimated instead of dropped (0: off; at most 0.9). The window stays a quarter of "
                       "the whole set")
            ->capture_default_str();
    CLI::Option* tail_beta =
        cmd.add_option(
               "--tail-beta", o.tail_beta,
               "How --tail draws (0: uniformly). Adamas: in proportion to exp(-beta x code distance); "
               "with --rerank, to exp(beta x exact logit) for the re-ranked candidates (the others "
               "at the median left-out candidate's). Oracle: exp(beta x exact logit) for every "
               "token. Tokens likelier to score high are drawn more often and weigh less each")
            ->capture_default_str();
    cmd.add_flag("--paper", o.paper,
                 "Adamas as the paper ran it: a fixed threshold tau = 10, code distance alone, and per-head "
                 "GQA and no recent window unless --gqa or --recent is given (same as --tau-mode fixed "
                 "--tau 10 --rerank 0 --gqa per-head --recent 0)")
        ->excludes(tau)
        ->excludes(tau_mode)
        ->excludes(code_bits)
        ->excludes(rerank)
        ->excludes(tail)
        ->excludes(tail_beta);
    cmd.add_option("--kv-dtype", o.kv_dtype, "KV-cache storage: f32, f16 or bf16")->capture_default_str();
    cmd.add_flag("--float-activations", o.float_activations,
                 "Decode products of Q4_0/Q4_1/Q8_0 weights on float activations instead of 8-bit ones "
                 "(slower; the 8-bit default computes as llama.cpp does)");
}

std::string resolve_model_path(const std::string& requested) {
    if (!requested.empty()) return requested;
    const std::string path = default_model_path();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        fail_usage(
            "no model given and the default model is not installed at {} (run scripts/fetch-model.sh, or "
            "pass -m FILE|DIR)",
            path);
    return path;
}

RunnerOptions runner_options(const ModelOptions& o) {
    RunnerOptions r;
    r.context = o.context;
    r.policy.kind = parse_policy(o.policy);
    r.policy.budget = o.budget;
    r.policy.metric = parse_metric(o.metric);
    r.policy.gqa = !o.gqa.empty() ? parse_gqa(o.gqa) : (o.paper ? GqaMode::per_head : GqaMode::pooled);
    r.policy.sinks = o.sinks;
    r.policy.recent = o.paper && o.recent < 0 ? 0 : o.recent;  // the paper keeps no recent window
    r.dense_layers = o.dense_layers;
    r.tau = o.paper ? 10.0f : o.tau;
    r.tau_mode = o.paper ? TauMode::fixed : parse_tau_mode(o.tau_mode);
    if (!(r.tau >= 0) || !std::isfinite(r.tau)) fail_usage("--tau {} must be finite and not negative", r.tau);
    r.policy.rerank = o.paper ? 0 : o.rerank;
    r.policy.tail_share = o.paper ? 0 : o.tail;
    r.policy.tail_beta = o.paper ? 0 : o.tail_beta;
    check_code_bits(o.code_bits, "--code-bits");
    r.code_bits = o.code_bits;
    if (r.code_bits == 3 && r.policy.metric == Metric::xor_weighted)
        fail_usage("--metric xor is defined for 2-bit codes only; 3-bit codes take --metric l1");
    r.kv_dtype = parse_dtype(o.kv_dtype);
    r.quantized_activations = !o.float_activations;
    r.policy.validate();
    return r;
}

}  // namespace adamas::tools
