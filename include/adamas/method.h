// The vocabulary of the method (DESIGN.md §2): head dims, metrics, GQA modes, policies and their options.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace adamas {

enum class Metric : uint8_t { l1, xor_weighted };
// How the query heads of a GQA group choose their tokens. `per_head`: each query head its own B tokens
// (the group gathers up to g·B K/V rows per KV head). `shared`: one set of B for the group, ranked by
// the group's best score per token. `pooled` (the default): one set of g·B for the group, ranked as
// `shared` ranks: it gathers as many K/V rows as per-head at B, so it costs the same, and the accuracy
// study found it much more accurate (docs/accuracy.md). With g = 1 (MHA) all three are the same.
enum class GqaMode : uint8_t { per_head, shared, pooled };
enum class PolicyKind : uint8_t { dense, adamas, oracle, quest, streaming };

std::string_view metric_name(Metric m);
std::string_view gqa_name(GqaMode g);
std::string_view policy_name(PolicyKind p);
Metric parse_metric(std::string_view name);      // "l1" | "xor"
GqaMode parse_gqa(std::string_view name);        // "per-head" | "shared" | "pooled"
PolicyKind parse_policy(std::string_view name);  // "dense" | "adamas" | "oracle" | "quest" | "streaming"
// How a vector's code threshold follows from τ: `fixed` uses τ itself for every vector (the paper: τ =
// 10); `relative` uses τ·rms(x̂) = τ·‖x‖/√d, so vectors of any norm (queries and keys, every layer and
// head) spread over the buckets alike: at τ ≈ 0.67 a Gaussian vector fills the four evenly.
// `calibrated` (an experiment): a KV cache fixes one threshold per layer and KV head for its keys, τ
// times the RMS of the keys of the sequence's first append (in the engine: the prompt's first prefill
// pass, up to 256 tokens), while queries are coded relative to their own RMS; a vector coded on its own
// is coded as `relative`.
enum class TauMode : uint8_t { fixed, relative, calibrated };
std::string_view tau_mode_name(TauMode m);
TauMode parse_tau_mode(std::string_view name);  // "fixed" | "relative" | "calibrated"

// Head dims the Hadamard transform supports. Throws Error naming `what` otherwise.
void check_head_dim(int64_t d, std::string_view what);

// Bits per coordinate of the key and query codes: 2 (the paper's four buckets) or 3 (eight buckets,
// an experiment of the accuracy study). Throws Error naming `what` for anything else.
void check_code_bits(int bits, std::string_view what);

// 16-bit words per head-token of packed codes. 2 bits: d/8 words (§2.3). 3 bits: per 64 dims three
// 64-bit bit planes (12 words; a head dim of 32 fills half of one such chunk).
constexpr int code_words(int d, int bits = 2) {
    return bits == 3 ? 12 * ((d + 63) / 64) : d / 8;
}
// Largest L1 (or xor-weighted) distance between two code rows of head dim d.
constexpr int max_distance(int d, int bits = 2) {
    return bits == 3 ? 7 * d : 3 * d;
}

// Everything that decides which tokens a decode step attends to.
struct PolicyConfig {
    PolicyKind kind = PolicyKind::adamas;
    // Attended tokens per query head, the forced ones included; `pooled` GQA turns it into one set of
    // g·budget per KV head (see for_group).
    int budget = 256;
    Metric metric = Metric::l1;  // adamas only
    GqaMode gqa = GqaMode::pooled;
    int sinks = -1;  // first S tokens always kept; negative: the policy default (streaming 4, else 0)
    // Last W tokens always kept; negative: the policy default (adamas budget/4, chosen by the accuracy
    // study: recent tokens carry much of the attention and codes rank them poorly; else 0). Pooled, the
    // default is a quarter of the pooled set; sinks and an explicit window are counts of tokens and are
    // not scaled.
    int recent = -1;
    bool force_current = true;  // keep token n-1; false only in the paper's "eval" parity mode
    int page_size = 16;         // quest
    // adamas: 0 ranks by code distance alone (the paper); R > 0 takes the R·budget nearest tokens by code
    // distance and keeps the best of them by the exact q·k (reading those keys), as the oracle would.
    // Off by default: at equal decode speed a larger budget buys more (docs/accuracy.md).
    int rerank = 0;
    // Share of each set spent on a sample of the tokens the policy did not select (0: off): the policy
    // selects the rest of the set as usual, and `tail_share` of it is drawn from the unselected tokens by
    // stratified sampling, each drawn token weighted to stand for its stratum, so the attention the
    // selection leaves out is estimated without bias instead of dropped. The recent window stays a
    // quarter of the whole set; the forced tokens must fit in the selected part.
    float tail_share = 0;
    // How the tail is drawn (0: uniformly). adamas: with probability ∝ exp(-tail_beta × code distance),
    // so tokens whose codes are near the query's (likely to score high) are drawn more often and weigh
    // less each; with re-ranking, ∝ exp(tail_beta × exact logit) for the candidates, whose keys it has
    // read, and the median left-out candidate's for the other tokens. oracle (the bound: every key is
    // read): ∝ exp(tail_beta × exact logit) for every token.
    float tail_beta = 0;

    // Tokens of a set of `set` tokens drawn from the unselected ones (0 when sampling is off).
    int64_t tail_tokens(int64_t set) const { return int64_t(double(set) * double(tail_share)); }

    // Throws UsageError when the options contradict each other (budget < forced set, ...). `group` is the
    // model's query heads per KV head where known: a pooled config is then checked as it runs, with its
    // forced tokens against the pooled set of g·budget. Without it (0) a pooled config's forced tokens
    // are left to that check, since a window wider than B is fine on a model with g > 1.
    void validate(int group = 0) const;
    // The config a step runs on a model with `group` query heads per KV head: `pooled` becomes `shared`
    // with a budget of group·budget (or `per_head` unchanged when group is 1); other modes are
    // returned as they are. Policies resolve their config with it at every step, so kernels and
    // selections only ever see per-head or shared.
    PolicyConfig for_group(int group) const;
    // Sinks actually used: streaming defaults to 4.
    int effective_sinks() const {
        return kind == PolicyKind::streaming && sinks < 0 ? 4 : (sinks < 0 ? 0 : sinks);
    }
    // Recent window actually used.
    int effective_recent() const {
        if (recent >= 0) return recent;
        return kind == PolicyKind::adamas ? budget / 4 : 0;
    }
    // One line for logs, e.g. "adamas(B=64, l1, pooled, S=0, W=B·g/4)"; with the model's group known,
    // the pooled set's size and window in tokens.
    std::string describe(int group = 0) const;
};

}  // namespace adamas
