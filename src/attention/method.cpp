// Names, parsing and validation of the method's options (metrics, GQA modes, policies, head dims).
#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "adamas/error.h"
#include "adamas/method.h"
#include "adamas/select.h"

namespace adamas {

std::string_view metric_name(Metric m) {
    return m == Metric::l1 ? "l1" : "xor";
}
std::string_view gqa_name(GqaMode g) {
    switch (g) {
        case GqaMode::per_head:
            return "per-head";
        case GqaMode::shared:
            return "shared";
        case GqaMode::pooled:
            return "pooled";
    }
    return "?";
}

std::string_view policy_name(PolicyKind p) {
    switch (p) {
        case PolicyKind::dense:
            return "dense";
        case PolicyKind::adamas:
            return "adamas";
        case PolicyKind::oracle:
            return "oracle";
        case PolicyKind::quest:
            return "quest";
        case PolicyKind::streaming:
            return "streaming";
    }
    return "?";
}

Metric parse_metric(std::string_view name) {
    if (name == "l1") return Metric::l1;
    if (name == "xor") return Metric::xor_weighted;
    fail_usage("unknown metric '{}' (expected l1 or xor)", name);
}

GqaMode parse_gqa(std::string_view name) {
    for (auto g : {GqaMode::per_head, GqaMode::shared, GqaMode::pooled})
        if (name == gqa_name(g)) return g;
    fail_usage("unknown GQA mode '{}' (expected per-head, shared or pooled)", name);
}

std::string_view tau_mode_name(TauMode m) {
    switch (m) {
        case TauMode::fixed:
            return "fixed";
        case TauMode::relative:
            return "relative";
        case TauMode::calibrated:
            return "calibrated";
    }
    return "?";
}

TauMode parse_tau_mode(std::string_view name) {
    for (auto m : {TauMode::fixed, TauMode::relative, TauMode::calibrated})
        if (name == tau_mode_name(m)) return m;
    fail_usage("unknown threshold mode '{}' (expected fixed, relative or calibrated)", name);
}

PolicyKind parse_policy(std::string_view name) {
    for (auto p : {PolicyKind::dense, PolicyKind::adamas, PolicyKind::oracle, PolicyKind::quest,
                   PolicyKind::streaming})
        if (name == policy_name(p)) return p;
    fail_usage("unknown policy '{}' (expected dense, adamas, oracle, quest or streaming)", name);
}

void check_code_bits(int bits, std::string_view what) {
    if (bits != 2 && bits != 3)
        fail_usage("{}: {}-bit codes are not supported (expected 2 or 3)", what, bits);
}

void check_head_dim(int64_t d, std::string_view what) {
    if (d == 32 || d == 64 || d == 128 || d == 256) return;
    if (d > 0 && (d & (d - 1)) == 0)
        fail("{}: head dim {} is not supported (expected 32, 64, 128 or 256)", what, d);
    fail("{}: head dim {} is not a power of two (expected 32, 64, 128 or 256)", what, d);
}

void PolicyConfig::validate(int group) const {
    if (budget < 1) fail_usage("budget {} must be at least 1", budget);
    if (page_size < 1) fail_usage("page size {} must be at least 1", page_size);
    if (rerank < 0 || rerank > 64) fail_usage("rerank factor {} must be between 0 (off) and 64", rerank);
    if (!(tail_share >= 0 && tail_share <= 0.9f))
        fail_usage("tail share {} must be between 0 (off) and 0.9", tail_share);
    if (!(tail_beta >= 0 && tail_beta <= 10)) fail_usage("tail beta {} must be between 0 and 10", tail_beta);
    // Dense attends every token, so the tail options pass over it (a list like dense,adamas takes them).
    if (tail_beta > 0 && (kind == PolicyKind::quest || kind == PolicyKind::streaming || tail_share == 0))
        fail_usage(
            "a tail beta ({}) draws a sampled tail by code distance (adamas) or exact score (oracle): it "
            "needs one of them and a tail share",
            tail_beta);
    if ((kind == PolicyKind::quest || kind == PolicyKind::streaming) && !force_current)
        fail_usage("{} always keeps the current token; it takes no --no-force-current", policy_name(kind));
    if (kind == PolicyKind::streaming && recent > 0)
        fail_usage(
            "streaming keeps the sinks plus the most recent budget − sinks tokens; it takes no separate "
            "recent window (got {})",
            recent);
    if (kind == PolicyKind::quest && (sinks > 0 || recent > 0))
        fail_usage(
            "quest keeps whole pages and the current token's page; it takes no sinks or recent window "
            "(got {} sinks, {} recent)",
            sinks, recent);
    if (kind == PolicyKind::dense || kind == PolicyKind::quest) return;
    const int s = effective_sinks();
    const bool pooled = gqa == GqaMode::pooled;
    // Without the model's group a pooled set's size is unknown, so its forced tokens wait for the check
    // that knows it.
    if (pooled && group <= 0) return;
    const PolicyConfig step = for_group(group);
    // Named only in the error messages, so formatted only on failure.
    const auto set = [&] {
        return pooled && group > 1
                   ? fmt::format("the pooled set of {} tokens per KV head ({} query heads × budget {})",
                                 step.budget, group, budget)
                   : fmt::format("the budget {}", budget);
    };
    // The sampled tail comes out of the set; the forced tokens must fit in what is left.
    const int selected = step.budget - int(step.tail_tokens(step.budget));
    const auto tail = [&] {
        return selected < step.budget ? fmt::format(" less its sampled tail of {}", step.budget - selected)
                                      : std::string();
    };
    if (kind == PolicyKind::streaming) {
        if (s >= selected)
            fail_usage(
                "streaming keeps {} sinks plus recent tokens, so they must fit in {}{} with room to spare", s,
                set(), tail());
        return;
    }
    const SelectionRule rule{selected, s, step.effective_recent(), force_current};
    if (rule.forced_prefix() + rule.forced_suffix() > rule.budget)
        fail_usage("the forced tokens ({} sinks + {} recent/current) exceed {}{}", rule.forced_prefix(),
                   rule.forced_suffix(), set(), tail());
}

PolicyConfig PolicyConfig::for_group(int group) const {
    if (gqa != GqaMode::pooled) return *this;
    PolicyConfig c = *this;
    c.gqa = group > 1 ? GqaMode::shared : GqaMode::per_head;
    c.budget = int(std::min<int64_t>(int64_t(budget) * std::max(group, 1), std::numeric_limits<int>::max()));
    return c;
}

std::string PolicyConfig::describe(int group) const {
    // The pooled set and its default window, in tokens once the group is known.
    const bool pooled = gqa == GqaMode::pooled;
    const PolicyConfig step = group > 0 ? for_group(group) : *this;
    const std::string gqa_text = !pooled     ? std::string(gqa_name(gqa))
                                 : group > 0 ? fmt::format("pooled: {} per KV head", step.budget)
                                             : std::string("pooled");
    const std::string window = pooled && group <= 0 && recent < 0 && kind == PolicyKind::adamas
                                   ? std::string("B·g/4")
                                   : std::to_string(step.effective_recent());
    const std::string tail =
        tail_share > 0 ? fmt::format(", tail {:g}{}", tail_share,
                                     tail_beta > 0 ? fmt::format(" (beta {:g})", tail_beta) : std::string())
                       : std::string();
    switch (kind) {
        case PolicyKind::dense:
            return "dense";
        case PolicyKind::adamas:
            return fmt::format("adamas(B={}, {}, {}, S={}, W={}{}{}{})", budget, metric_name(metric),
                               gqa_text, effective_sinks(), window,
                               force_current ? "" : ", no forced current",
                               rerank ? fmt::format(", rerank {}×B", rerank) : "", tail);
        case PolicyKind::oracle:
            return fmt::format("oracle(B={}, {}, S={}, W={}{})", budget, gqa_text, effective_sinks(), window,
                               tail);
        case PolicyKind::quest:
            return fmt::format("quest(B={}, P={}, {}{})", budget, page_size, gqa_text, tail);
        case PolicyKind::streaming:
            return fmt::format("streaming(B={}, {}, S={}{})", budget, gqa_text, effective_sinks(), tail);
    }
    return "?";
}

void SelectionRule::validate() const {
    if (budget < 1) fail_usage("budget {} must be at least 1", budget);
    if (sinks < 0 || recent < 0) fail_usage("sinks {} and recent {} must not be negative", sinks, recent);
    const int forced = forced_prefix() + forced_suffix();
    if (forced > budget)
        fail_usage("the forced tokens ({} sinks + {} recent/current) exceed the budget {}", forced_prefix(),
                   forced_suffix(), budget);
}

}  // namespace adamas
