// What the evaluation commands (perplexity, selection) share: the table's cells (a policy at a budget,
// with its runner settings), one runner that every cell can switch to, and a text file as token ids.
#pragma once
#include <string>
#include <vector>

#include "adamas/llama.h"
#include "model_options.h"

namespace adamas::tools {

struct EvalCell {
    std::string label;   // "dense", "adamas@64"
    std::string policy;  // as given
    int budget = 0;      // 0 for dense
    RunnerOptions options;
};

// One cell per policy and budget (dense once, with no budget), in the order given; Error on a bad policy,
// budget or combination of options.
std::vector<EvalCell> make_cells(const ModelOptions& base, const std::string& policies,
                                 const std::string& budgets);

// Runner settings every cell can switch to with set_policy: the first cell's, with quest's page size when
// a quest cell asks for it (the cache keeps the pages of that size).
RunnerOptions shared_runner_options(const std::vector<EvalCell>& cells);

// The file's text as token ids (no BOS); Error naming the file when it cannot be read or is shorter than
// `min_tokens`.
std::vector<int32_t> tokenize_file(const LlamaModel& model, const std::string& file, int64_t min_tokens,
                                   const std::string& why);

}  // namespace adamas::tools
