// Options shared by the subcommands that run a model (-m, --threads, --policy, --budget, ...) and the
// default model's location.
#pragma once
#include <string>

#include <CLI/CLI.hpp>

#include "adamas/llama.h"

namespace adamas::tools {

struct ModelOptions {
    std::string model;  // empty: the default model
    int threads = 0;
    int64_t context = 0;
    std::string policy = "dense";
    int budget = 128;
    std::string metric = "l1";
    std::string gqa;  // empty: pooled, or per-head with --paper
    int sinks = -1;
    int recent = -1;  // the policy's default
    int dense_layers = 2;
    float tau = 0.5f;  // the default the accuracy study chose (docs/accuracy.md); --paper: fixed 10
    std::string tau_mode = "relative";
    int code_bits = 2;
    int rerank = 0;
    float tail = 0;
    float tail_beta = 0;
    bool paper = false;  // --paper: fixed tau 10, no re-ranking
    std::string kv_dtype = "f16";
    bool float_activations = false;
};

// with_context: also --ctx (commands that set the context themselves leave it out).
void add_model_options(CLI::App& cmd, ModelOptions& options, bool with_context = true);

// $ADAMAS_MODEL, else the file scripts/fetch-model.sh installs; Error with the fix when it is absent.
std::string resolve_model_path(const std::string& requested);

RunnerOptions runner_options(const ModelOptions& options);

}  // namespace adamas::tools
