// `adamas bench attention`: times one layer's decode attention step (DecodeAttention::run) per policy,
// shape, context and budget, and reports it against the machine's measured memory bandwidth.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>

#include <fmt/format.h>

#include "adamas/decode.h"
#include "adamas/error.h"
#include "adamas/thread_pool.h"
#include "bench.h"
#include "bench_args.h"
#include "bench_inputs.h"
#include "bench_memory.h"
#include "bench_report.h"
#include "bench_step.h"
#include "interrupt.h"

namespace adamas::tools {
namespace {

constexpr double kGiB = double(int64_t(1) << 30);
constexpr double kMiB = double(int64_t(1) << 20);
constexpr int kQuerySets = 16;    // query sets rotated across repeats, so selections differ step to step
constexpr int kMaxCopies = 1024;  // tiny contexts: beyond this the LLC flush keeps timings honest
constexpr double kMemoryFraction = 0.8;

struct AttentionBenchOptions {
    std::string shapes = "longchat-7b,llama3-8b,smollm2-135m";
    std::string contexts = "4096,8192,16384,32768,65536,131072";
    std::string budgets = "64,256";
    std::string policies = "dense,adamas,oracle,quest,streaming";
    int batch = 1;
    std::string kv_dtype = "f16";
    std::string metric = "l1";
    std::string gqa = "pooled";  // the engine's default
    float tau = 1.0f;
    int rerank = PolicyConfig{}.rerank;  // the engine's default
    int threads = 0;
    int repeats = 5;
    double min_time = 0.5;
    uint64_t seed = 1;
    std::string json;
};

// The validated sweep.
struct BenchPlan {
    std::vector<const BenchShape*> shapes;
    std::vector<int64_t> contexts;
    std::vector<int> budgets;
    std::vector<PolicyKind> policies;  // dense first, so every later row has its speedup
    DType dtype = DType::f16;
    Metric metric = Metric::l1;
    GqaMode gqa = GqaMode::pooled;
    int rerank = 0;
    int page_size = 0;  // Quest page metadata is built only when quest runs
};

// Library parsers and validate() throw Error; on the command line that is a usage error, and the
// message gains the option it came from.
template <typename Fn>
auto as_usage(std::string_view option, Fn&& fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (const Error& e) {
        fail_usage("{}: {}", option, e.what());
    }
}

PolicyConfig policy_config(const BenchPlan& plan, PolicyKind kind, int budget) {
    PolicyConfig config;
    config.kind = kind;
    config.budget = budget;
    config.metric = plan.metric;
    config.gqa = plan.gqa;
    config.rerank = plan.rerank;
    config.page_size = 16;
    return config;
}

// Memory the sweep needs at its peak: the largest group of cache copies plus the flush buffer.
void check_memory(const BenchPlan& plan, int batch, int64_t llc_bytes) {
    const double limit = kMemoryFraction * double(physical_memory_bytes());
    for (const BenchShape* shape : plan.shapes)
        for (int64_t n : plan.contexts) {
            const double need =
                double(cache_footprint(*shape, n, batch, plan.dtype, plan.page_size).total()) +
                2.0 * double(llc_bytes) + 64 * kMiB;
            if (need > limit)
                fail_usage(
                    "{} at n={} with --batch {} needs {:.1f} GiB for one cache copy (K, V and codes), more "
                    "than "
                    "{:.0f}% of the {:.1f} GiB of memory; reduce --contexts or --batch",
                    shape->name, n, batch, need / kGiB, 100 * kMemoryFraction,
                    double(physical_memory_bytes()) / kGiB);
        }
}

BenchPlan make_plan(const AttentionBenchOptions& o) {
    BenchPlan plan;
    for (const std::string& name : split_list(o.shapes, "--shapes")) {
        const BenchShape* shape = &find_shape(name);
        if (std::find(plan.shapes.begin(), plan.shapes.end(), shape) == plan.shapes.end())
            plan.shapes.push_back(shape);
    }
    plan.contexts = parse_count_list(o.contexts, "--contexts");
    for (int64_t b : parse_count_list(o.budgets, "--budgets"))
        plan.budgets.push_back(int(b));
    for (const std::string& name : split_list(o.policies, "--policies")) {
        PolicyKind kind = as_usage("--policies", [&] { return parse_policy(name); });
        if (std::find(plan.policies.begin(), plan.policies.end(), kind) == plan.policies.end())
            plan.policies.push_back(kind);
    }
    std::stable_partition(plan.policies.begin(), plan.policies.end(),
                          [](PolicyKind k) { return k == PolicyKind::dense; });
    plan.dtype = as_usage("--kv-dtype", [&] { return parse_dtype(o.kv_dtype); });
    plan.metric = as_usage("--metric", [&] { return parse_metric(o.metric); });
    if (o.rerank < 0 || o.rerank > 64) fail_usage("--rerank {} must be between 0 (off) and 64", o.rerank);
    plan.rerank = o.rerank;
    plan.gqa = as_usage("--gqa", [&] { return parse_gqa(o.gqa); });
    if (std::find(plan.policies.begin(), plan.policies.end(), PolicyKind::quest) != plan.policies.end())
        plan.page_size = 16;

    if (o.batch < 1) fail_usage("--batch {}: must be at least 1", o.batch);
    if (o.threads < 0) fail_usage("--threads {}: must be 0 (one per hardware thread) or more", o.threads);
    if (o.repeats < 1) fail_usage("--repeats {}: must be at least 1", o.repeats);
    if (!(o.min_time >= 0)) fail_usage("--min-time {}: must be a number of seconds ≥ 0", o.min_time);
    if (!o.json.empty()) {
        // Checked up front: a sweep can run for an hour before its first write.
        const std::filesystem::path dir = std::filesystem::path(o.json).parent_path();
        if (!dir.empty() && !std::filesystem::is_directory(dir))
            fail_usage("--json {}: directory '{}' does not exist", o.json, dir.string());
    }
    if (!(o.tau >= 0) || !std::isfinite(o.tau)) fail_usage("--tau {}: must be a finite number ≥ 0", o.tau);
    for (const BenchShape* shape : plan.shapes)
        if (shape->q_heads % shape->kv_heads != 0)
            fail_usage("shape {}: q heads not a multiple of kv heads", shape->name);
    for (PolicyKind kind : plan.policies)
        for (int budget : plan.budgets)
            for (const BenchShape* shape : plan.shapes)  // a pooled set's size is the shape's
                as_usage(
                    fmt::format("--policies {} --budgets {} on {}", policy_name(kind), budget, shape->name),
                    [&] { policy_config(plan, kind, budget).validate(shape->q_heads / shape->kv_heads); });
    return plan;
}

// Copies whose K+V+codes together exceed twice the LLC (at least one), so rotating through them
// never times the cache; capped by the memory left after one copy.
int copies_for(const BenchPlan& plan, const BenchShape& shape, int64_t n, int batch, int64_t llc_bytes) {
    const int64_t bytes = cache_footprint(shape, n, batch, plan.dtype, plan.page_size).total();
    const int64_t wanted = std::min<int64_t>(2 * llc_bytes / std::max<int64_t>(bytes, 1) + 1, kMaxCopies);
    const double room =
        kMemoryFraction * double(physical_memory_bytes()) - 2.0 * double(llc_bytes) - 64 * kMiB;
    return int(std::clamp<int64_t>(int64_t(room / double(bytes)), 1, wanted));
}

// What every row of one run shares.
struct RunContext {
    const AttentionBenchOptions& options;
    const BenchPlan& plan;
    ThreadPool& pool;
    CacheFlusher& flusher;
    TimingOptions timing;
    double triad_gbps;
    size_t total_rows;
};

BenchRow make_row(const RunContext& run, const BenchShape& shape, int64_t n, PolicyKind kind,
                  std::optional<int> budget, const StepMeasurement& m, int copies) {
    BenchRow row;
    row.shape = std::string(shape.name);
    row.q_heads = shape.q_heads;
    row.kv_heads = shape.kv_heads;
    row.head_dim = shape.head_dim;
    row.n = n;
    row.batch = run.options.batch;
    row.policy = std::string(policy_name(kind));
    row.budget = budget;
    row.metric = std::string(metric_name(run.plan.metric));
    row.rerank = kind == PolicyKind::adamas ? run.plan.rerank : 0;
    row.gqa = std::string(gqa_name(run.plan.gqa));
    row.kv_dtype = std::string(dtype_name(run.plan.dtype));
    row.threads = run.pool.size();
    row.us = m.us;
    row.estimate_us = m.estimate_us;
    row.select_us = m.select_us;
    row.attend_us = m.attend_us;
    row.bytes = m.bytes;
    row.gbps = m.bytes / (m.us * 1e-6) / 1e9;
    row.triad_gbps = run.triad_gbps;
    row.bw_fraction = row.gbps / run.triad_gbps;
    row.repeats = m.repeats;
    row.copies = copies;
    row.flushed = m.flushed;
    return row;
}

// One shape at one context: builds the cache copies once and times every policy and budget on them.
void run_group(const RunContext& run, const BenchShape& shape, int64_t n,
               std::span<const std::vector<float>> queries, std::vector<BenchRow>& rows) {
    const AttentionBenchOptions& o = run.options;
    const int64_t llc = run.timing.llc_bytes;
    const int copies = copies_for(run.plan, shape, n, o.batch, llc);
    const CacheFootprint footprint = cache_footprint(shape, n, o.batch, run.plan.dtype, run.plan.page_size);
    fmt::print(stderr, "bench: {} n={} batch={}: {} cache cop{} of {:.1f} MiB (K+V {:.1f}, codes {:.1f}{})\n",
               shape.name, n, o.batch, copies, copies == 1 ? "y" : "ies", double(footprint.total()) / kMiB,
               double(footprint.kv_bytes) / kMiB, double(footprint.code_bytes) / kMiB,
               footprint.page_bytes ? fmt::format(", pages {:.1f}", double(footprint.page_bytes) / kMiB)
                                    : std::string());
    const std::vector<KvCache> caches = build_cache_copies(
        shape, n, o.batch, run.plan.dtype, run.plan.page_size, o.tau, copies, o.seed, run.pool);
    std::optional<double> dense_us;  // dense runs first, see make_plan
    for (PolicyKind kind : run.plan.policies) {
        std::vector<std::optional<int>> budgets(run.plan.budgets.begin(), run.plan.budgets.end());
        if (kind == PolicyKind::dense) budgets = {std::nullopt};
        for (const std::optional<int>& budget : budgets) {
            const PolicyConfig config = policy_config(run.plan, kind, budget.value_or(256));
            const StepMeasurement m =
                measure_step(config, shape, caches, queries, run.pool, run.flusher, run.timing);
            if (kind == PolicyKind::dense) dense_us = m.us;
            BenchRow row = make_row(run, shape, n, kind, budget, m, copies);
            if (dense_us) row.speedup_vs_dense = *dense_us / m.us;
            print_table_row(row);
            rows.push_back(std::move(row));
            fmt::print(stderr, "bench: [{}/{}] {} n={} {}{}: {:.1f} µs over {} repeats{}\n", rows.size(),
                       run.total_rows, shape.name, n, policy_name(kind),
                       budget ? fmt::format(" B={}", *budget) : std::string(), m.us, m.repeats,
                       m.flushed ? " (LLC flushed between repeats)" : "");
        }
    }
}

void run_attention_bench(const AttentionBenchOptions& options) {
    const BenchPlan plan = make_plan(options);
    const int64_t llc = last_level_cache_bytes();
    check_memory(plan, options.batch, llc);

    ThreadPool pool(options.threads);
    fmt::print(stderr, "bench: {} thread{}, last-level cache {:.0f} MiB, memory {:.1f} GiB\n", pool.size(),
               pool.size() == 1 ? "" : "s", double(llc) / kMiB, double(physical_memory_bytes()) / kGiB);
    const TriadResult triad = measure_triad(pool, llc);
    const std::string bandwidth_line = fmt::format(
        "Memory bandwidth (STREAM-like triad, {} thread{}, 3 × {:.0f} MiB arrays, best of {}): {:.1f} GB/s "
        "(median {:.1f} GB/s).",
        pool.size(), pool.size() == 1 ? "" : "s", double(triad.array_bytes) / kMiB, triad.trials,
        triad.best_gbps, triad.median_gbps);
    fmt::print(stderr, "bench: {}\n", bandwidth_line);
    fmt::print(
        "{} KV {}, metric {}, GQA {}, tau {}, rerank {}; µs are medians of one layer's step over the "
        "batch.\n\n",
        bandwidth_line, dtype_name(plan.dtype), metric_name(plan.metric), gqa_name(plan.gqa), options.tau,
        plan.rerank);
    print_table_header();

    CacheFlusher flusher(llc);
    const size_t sparse = size_t(std::count_if(plan.policies.begin(), plan.policies.end(),
                                               [](PolicyKind k) { return k != PolicyKind::dense; }));
    const size_t per_group = plan.policies.size() - sparse + sparse * plan.budgets.size();
    const RunContext run{options,
                         plan,
                         pool,
                         flusher,
                         TimingOptions{options.repeats, options.min_time, llc},
                         triad.best_gbps,
                         per_group * plan.shapes.size() * plan.contexts.size()};
    std::vector<BenchRow> rows;
    for (const BenchShape* shape : plan.shapes) {
        const auto queries = random_queries(*shape, options.batch, kQuerySets, options.seed);
        for (int64_t n : plan.contexts) {
            stop_if_interrupted();  // the rows measured so far are in the JSON file already
            run_group(run, *shape, n, queries, rows);  // frees its caches before the next group
            if (!options.json.empty()) write_rows_json(options.json, rows);  // survives an interrupted sweep
        }
    }
}

}  // namespace

void add_bench_attention_command(CLI::App& bench) {
    auto options = std::make_shared<AttentionBenchOptions>();
    CLI::App* cmd = bench.add_subcommand(
        "attention",
        "Time one layer's decode attention step (estimate + select + attend over the batch) per policy, "
        "attention shape, context length and budget, with random K/V rotated across cache copies larger than "
        "twice the last-level cache. Prints a markdown table on stdout, progress on stderr.");
    cmd->add_option("--shapes", options->shapes,
                    "Comma-separated attention shapes: longchat-7b (32 q / 32 KV heads, d 128), llama3-8b "
                    "(32 / 8, d 128), smollm2-135m (9 / 3, d 64)")
        ->capture_default_str();
    cmd->add_option("--contexts", options->contexts,
                    "Comma-separated context lengths n (cached tokens, current one included); K and M "
                    "suffixes allowed, e.g. 4K,32K,128K")
        ->capture_default_str();
    cmd->add_option(
           "--budgets", options->budgets,
           "Comma-separated token budgets B for the sparse policies (tokens attended per query head, "
           "forced ones included; pooled GQA: one set of group x B per KV head)")
        ->capture_default_str();
    cmd->add_option(
           "--policies", options->policies,
           "Comma-separated policies: dense, adamas, oracle, quest, streaming; dense runs first in each "
           "group so the other rows report their speedup over it")
        ->capture_default_str();
    cmd->add_option("--batch", options->batch, "Sequences per step (one request each)")
        ->capture_default_str();
    cmd->add_option("--kv-dtype", options->kv_dtype, "K/V storage type: f32, f16 or bf16")
        ->capture_default_str();
    cmd->add_option("--metric", options->metric,
                    "Adamas code distance: l1 (exact) or xor (the authors' kernel)")
        ->capture_default_str();
    cmd->add_option(
           "--gqa", options->gqa,
           "GQA selection: pooled (one set of group x B tokens per KV head, the engine's default), "
           "per-head (each query head selects its own B tokens) or shared (one set of B per KV head)")
        ->capture_default_str();
    cmd->add_option("--tau", options->tau,
                    "Bucket threshold of the 2-bit codes; the synthetic keys have unit-scale coordinates")
        ->capture_default_str();
    cmd->add_option(
           "--rerank", options->rerank,
           "Adamas: re-rank the R×budget nearest tokens by the exact q·k (0: codes alone, the paper's)")
        ->capture_default_str();
    cmd->add_option("--threads", options->threads, "Worker threads, 0 = one per hardware thread")
        ->capture_default_str();
    cmd->add_option("--repeats", options->repeats, "Minimum timed repeats per row (the median is reported)")
        ->capture_default_str();
    cmd->add_option("--min-time", options->min_time,
                    "Keep repeating each row until this many seconds have passed (0: exactly --repeats)")
        ->capture_default_str();
    cmd->add_option("--seed", options->seed, "Seed of the random keys, values and queries")
        ->capture_default_str();
    cmd->add_option(
           "--json", options->json,
           "Also write the rows as a JSON array to FILE (written atomically after each shape/context)")
        ->option_text("FILE");
    cmd->footer(
        "Columns: µs/step is the median wall time of DecodeAttention::run for the whole batch. GB/s is the "
        "bytes the step must read by the DESIGN.md §3 model (dense: K+V of all tokens; adamas: codes + "
        "attended K/V rows; oracle: keys + rows; quest: page min/max + rows; streaming: rows) over that "
        "time. "
        "% triad compares it with the triad bandwidth measured at the start. vs dense is the dense row's "
        "time "
        "over this row's. estimate/select/attend µs are the medians of the step's phases. See "
        "docs/benchmarks.md.");
    cmd->callback([options] { run_attention_bench(*options); });
}

}  // namespace adamas::tools
