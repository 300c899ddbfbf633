// The cells of the evaluation tables and the text they are measured on.
#include "eval_cells.h"

#include <fmt/format.h>

#include "adamas/error.h"
#include "adamas/text_file.h"
#include "adamas/tokenizer.h"
#include "bench_args.h"

namespace adamas::tools {

std::vector<EvalCell> make_cells(const ModelOptions& base, const std::string& policies,
                                 const std::string& budgets) {
    std::vector<EvalCell> cells;
    for (const std::string& policy : split_list(policies, "--policies")) {
        const bool dense = parse_policy(policy) == PolicyKind::dense;
        for (const std::string& budget :
             dense ? std::vector<std::string>{"0"} : split_list(budgets, "--budgets")) {
            ModelOptions m = base;
            m.policy = policy;
            if (!dense) m.budget = int(parse_count(budget, "--budgets"));
            EvalCell cell;
            cell.label = dense ? policy : fmt::format("{}@{}", policy, m.budget);
            cell.policy = policy;
            cell.budget = dense ? 0 : m.budget;
            cell.options = runner_options(m);
            cell.options.policy.validate();
            cells.push_back(std::move(cell));
        }
    }
    return cells;
}

RunnerOptions shared_runner_options(const std::vector<EvalCell>& cells) {
    RunnerOptions shared = cells.front().options;
    for (const EvalCell& c : cells)
        if (c.options.policy.kind == PolicyKind::quest) shared.policy = c.options.policy;
    return shared;
}

std::vector<int32_t> tokenize_file(const LlamaModel& model, const std::string& file, int64_t min_tokens,
                                   const std::string& why) {
    const std::string text = read_text_file(file, "the text to score");
    const Tokenizer tokenizer = Tokenizer::from_vocab(model.tokenizer_vocab());
    std::vector<int32_t> ids = tokenizer.encode(text, false, false);
    if (int64_t(ids.size()) < min_tokens) fail("{}: {} tokens, fewer than {}", file, ids.size(), why);
    return ids;
}

}  // namespace adamas::tools
