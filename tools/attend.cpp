// `adamas attend`: one decode step of attention over .npy inputs under a selection policy, writing the
// output, the attended indices and (for adamas) the code distances — the hook for external checks.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "adamas/codes.h"
#include "adamas/decode.h"
#include "adamas/distance.h"
#include "adamas/error.h"
#include "adamas/kv_cache.h"
#include "adamas/method.h"
#include "adamas/npy.h"
#include "adamas/policy.h"
#include "adamas/thread_pool.h"
#include "commands.h"

namespace adamas::tools {
namespace {

struct AttendOptions {
    std::string q_path, k_path, v_path;
    std::string policy = "adamas";
    int budget = 256;
    std::string metric = "l1";
    float tau = 10.0f;
    std::string tau_mode = "fixed";  // the paper's method by default: this tool is the cross-check
    int rerank = 0;
    std::string gqa = "per-head";
    int sinks = -1;  // policy default unless given
    bool sinks_given = false;
    int recent = 0;
    int page_size = 16;
    bool no_force_current = false;
    std::string kv_dtype;  // empty: from the input files
    int threads = 0;
    std::string out_path, indices_path, distances_path;
};

std::string dims_text(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i)
        s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// Reads a float32/float16 array of the given rank; `layout` names the axes for the message.
NpyArray read_float_input(const std::string& path, size_t rank, std::string_view layout) {
    NpyArray a = read_npy(path);
    if (a.type != NpyType::f32 && a.type != NpyType::f16)
        fail("{}: dtype {} is not supported (expected float32 or float16)", path,
             a.type == NpyType::i32 ? "int32" : "uint16");
    if (a.shape.size() != rank)
        fail("{}: shape {} has {} dimensions (expected {}-D {})", path, dims_text(a.shape), a.shape.size(),
             rank, layout);
    return a;
}

PolicyConfig make_config(const AttendOptions& o) {
    // Checked here so the messages name the options; validate() then checks their combination.
    if (o.budget < 1) fail_usage("--budget {} must be at least 1", o.budget);
    if (o.sinks_given && o.sinks < 0) fail_usage("--sinks {} must not be negative", o.sinks);
    if (o.recent < 0) fail_usage("--recent {} must not be negative", o.recent);
    if (o.page_size < 1) fail_usage("--page-size {} must be at least 1", o.page_size);
    if (o.threads < 0)
        fail_usage("--threads {} must not be negative (0: one per hardware thread)", o.threads);
    if (o.tau < 0 || !std::isfinite(o.tau)) fail_usage("--tau {} must be finite and not negative", o.tau);
    PolicyConfig c;
    c.kind = parse_policy(o.policy);
    c.budget = o.budget;
    c.metric = parse_metric(o.metric);
    c.gqa = parse_gqa(o.gqa);
    c.sinks = o.sinks;
    c.recent = o.recent;
    c.force_current = !o.no_force_current;
    c.page_size = o.page_size;
    c.rerank = o.rerank;
    c.validate();
    if (!o.distances_path.empty() && c.kind != PolicyKind::adamas)
        fail_usage("--distances needs --policy adamas (got --policy {})", o.policy);
    return c;
}

// Per-head code distances [Hq][n] as the adamas estimate sees them; shared mode repeats the group
// minimum for every query head of the group, the value it ranks by.
std::vector<uint16_t> code_distances(const std::vector<float>& q, int q_heads, const KvSequenceView& kv,
                                     const PolicyConfig& config) {
    const int d = kv.head_dim, words = code_words(d), group = q_heads / kv.kv_heads();
    const int64_t n = kv.tokens;
    std::vector<uint16_t> q_codes(size_t(q_heads) * words);
    for (int h = 0; h < q_heads; ++h) {
        const CodeThreshold tau = kv.heads[h / group].query_threshold();
        rotate_encode({q.data() + size_t(h) * d, size_t(d)}, tau,
                      {q_codes.data() + size_t(h) * words, size_t(words)});
    }
    std::vector<uint16_t> out(size_t(q_heads) * n);
    for (int g = 0; g < kv.kv_heads(); ++g) {
        CodeRows keys{kv.heads[g].codes, n, words};
        const uint16_t* group_codes = q_codes.data() + size_t(g) * group * words;
        uint16_t* rows = out.data() + size_t(g) * group * n;
        if (config.for_group(group).gqa == GqaMode::per_head) {
            group_distances(group_codes, group, keys, config.metric, GqaMode::per_head, rows, n);
        } else {
            group_distances(group_codes, group, keys, config.metric, GqaMode::shared, rows, n);
            for (int i = 1; i < group; ++i)
                std::copy(rows, rows + n, rows + i * n);
        }
    }
    return out;
}

// IDX [Hq][width]: each query head's attended indices, ascending, padded with -1 to the widest row.
std::vector<int32_t> index_rows(const Selection& sel, int q_heads, int group, int64_t n, int64_t& width) {
    auto row_of = [&](int h) { return sel.per_kv_head ? h / group : h; };
    width = 0;
    if (sel.all_tokens) {
        width = n;
    } else {
        for (int h = 0; h < q_heads; ++h)
            width = std::max<int64_t>(width, sel.counts[row_of(h)]);
    }
    std::vector<int32_t> out(size_t(q_heads) * width, -1);
    for (int h = 0; h < q_heads; ++h) {
        int32_t* dst = out.data() + size_t(h) * width;
        if (sel.all_tokens) {
            for (int64_t t = 0; t < n; ++t)
                dst[t] = int32_t(t);
        } else {
            auto row = sel.row(row_of(h));
            std::copy(row.begin(), row.end(), dst);
        }
    }
    return out;
}

void run_attend(const AttendOptions& o) {
    const PolicyConfig config = make_config(o);

    const NpyArray q_file = read_float_input(o.q_path, 2, "[Hq, d]");
    const NpyArray k_file = read_float_input(o.k_path, 3, "[Hkv, n, d]");
    const NpyArray v_file = read_float_input(o.v_path, 3, "[Hkv, n, d]");
    if (k_file.shape != v_file.shape)
        fail("{}: shape {} differs from {} shape {} (K and V must both be [Hkv, n, d])", o.v_path,
             dims_text(v_file.shape), o.k_path, dims_text(k_file.shape));
    const int64_t q_heads = q_file.shape[0], d = q_file.shape[1];
    const int64_t kv_heads = k_file.shape[0], n = k_file.shape[1];
    if (k_file.shape[2] != d)
        fail("{}: head dim {} differs from {} head dim {} (the last axes must match)", o.k_path,
             k_file.shape[2], o.q_path, d);
    check_head_dim(d, o.q_path);
    if (q_heads < 1)
        fail("{}: no query heads (shape {}, expected at least one row)", o.q_path, dims_text(q_file.shape));
    if (kv_heads < 1)
        fail("{}: no KV heads (shape {}, expected Hkv >= 1)", o.k_path, dims_text(k_file.shape));
    if (q_heads % kv_heads != 0)
        fail("{}: {} query heads is not a multiple of the {} KV heads of {} (GQA needs Hq = g * Hkv)",
             o.q_path, q_heads, kv_heads, o.k_path);
    config.validate(int(q_heads / kv_heads));  // a pooled set's forced tokens, now that g is known
    if (n == 0)
        fail("{}: no tokens (shape {}, expected n >= 1: the current token is k[:, n-1])", o.k_path,
             dims_text(k_file.shape));
    if (n > std::numeric_limits<int32_t>::max())
        fail("{}: {} tokens do not fit the int32 indices (at most {})", o.k_path, n,
             std::numeric_limits<int32_t>::max());

    // Float16 storage only when both inputs are float16, so the default never rounds the data.
    DType dtype = (k_file.type == NpyType::f16 && v_file.type == NpyType::f16) ? DType::f16 : DType::f32;
    if (!o.kv_dtype.empty()) dtype = parse_dtype(o.kv_dtype);

    const std::vector<float> q = q_file.to_f32(), k = k_file.to_f32(), v = v_file.to_f32();

    KvCacheShape shape;
    shape.kv_heads = int(kv_heads);
    shape.head_dim = int(d);
    shape.dtype = dtype;
    shape.capacity = n;
    shape.sequences = 1;
    shape.page_size = config.page_size;
    const float tau[] = {o.tau};
    KvCache cache(shape, tau, parse_tau_mode(o.tau_mode));
    ThreadPool pool(o.threads);
    cache.append(0, KvTokens{k.data(), v.data(), n, /*token_stride=*/d, /*head_stride=*/n * d}, &pool);

    DecodeAttention decode(config, int(q_heads), pool);
    std::vector<float> out(size_t(q_heads * d));
    const DecodeRequest request{q.data(), cache.view(0), out.data()};
    const auto start = std::chrono::steady_clock::now();
    decode.run({&request, 1});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    const int group = int(q_heads / kv_heads);
    int64_t width = 0;
    const std::vector<int32_t> indices = index_rows(decode.selection(0), int(q_heads), group, n, width);

    write_npy(o.out_path, NpyType::f32, {q_heads, d}, out.data());
    write_npy(o.indices_path, NpyType::i32, {q_heads, width}, indices.data());
    if (!o.distances_path.empty()) {
        const std::vector<uint16_t> dist = code_distances(q, int(q_heads), cache.view(0), config);
        write_npy(o.distances_path, NpyType::u16, {q_heads, n}, dist.data());
    }
    fmt::print(stderr, "attend: {} over n={} tokens, Hq={} Hkv={} d={} {}: {} indices per head, {:.3f} ms\n",
               config.describe(int(q_heads / kv_heads)), n, q_heads, kv_heads, d, dtype_name(dtype), width,
               seconds * 1e3);
}

}  // namespace

void add_attend_command(CLI::App& app) {
    auto opts = std::make_shared<AttendOptions>();
    CLI::App* cmd = app.add_subcommand(
        "attend",
        "One decode step of attention over .npy inputs: selects tokens with a policy, attends to them,\n"
        "and writes the output and the attended indices.\n"
        "Inputs: q [Hq, d], k and v [Hkv, n, d], float32 or float16, C order; the current token is\n"
        "k[:, n-1] and counts toward the budget. Hq must be a multiple of Hkv; d is 32, 64, 128 or 256.");
    cmd->add_option("--q", opts->q_path, "Queries [Hq, d] (.npy, post-RoPE)")->required();
    cmd->add_option("--k", opts->k_path, "Keys [Hkv, n, d] (.npy, post-RoPE)")->required();
    cmd->add_option("--v", opts->v_path, "Values [Hkv, n, d] (.npy)")->required();
    cmd->add_option("--policy", opts->policy, "Selection policy")
        ->check(CLI::IsMember({"dense", "adamas", "oracle", "quest", "streaming"}))
        ->capture_default_str();
    cmd->add_option("--budget", opts->budget,
                    "Attended tokens per head, forced ones included (quest: ceil(budget / page size) pages)")
        ->capture_default_str();
    cmd->add_option("--metric", opts->metric,
                    "Code distance for adamas: l1 (true L1) or xor (authors' kernel)")
        ->check(CLI::IsMember({"l1", "xor"}))
        ->capture_default_str();
    cmd->add_option("--tau", opts->tau, "Bucket threshold of the 2-bit codes (adamas)")
        ->capture_default_str();
    cmd->add_option(
           "--tau-mode", opts->tau_mode,
           "fixed: --tau for every vector (the paper's); relative: --tau times each rotated vector's RMS")
        ->check(CLI::IsMember({"fixed", "relative"}))
        ->capture_default_str();
    cmd->add_option("--rerank", opts->rerank,
                    "Adamas: re-rank the R×budget nearest tokens by code distance by the exact q·k (0: codes "
                    "alone, the paper's)")
        ->capture_default_str();
    cmd->add_option("--gqa", opts->gqa,
                    "per-head: each query head selects (the paper's); shared: one set per KV head (adamas: "
                    "min distance, oracle/quest: max score over the group); pooled: shared with a set of "
                    "group x budget tokens (the engine's default)")
        ->check(CLI::IsMember({"per-head", "shared", "pooled"}))
        ->capture_default_str();
    CLI::Option* sinks = cmd->add_option(
        "--sinks", opts->sinks,
        "First S tokens always kept (adamas, oracle, streaming); default: 4 for streaming, else 0");
    cmd->add_option("--recent", opts->recent, "Last W tokens always kept (adamas, oracle)")
        ->capture_default_str();
    cmd->add_option("--page-size", opts->page_size, "Quest page size P in tokens")->capture_default_str();
    cmd->add_flag("--no-force-current", opts->no_force_current,
                  "Do not force the current token n-1 (paper 'eval' mode, with --sinks 0 --recent 0)");
    cmd->add_option(
           "--kv-dtype", opts->kv_dtype,
           "Storage type of the KV cache; default: f16 if both k and v are float16, else f32 (exact)")
        ->check(CLI::IsMember({"f32", "f16", "bf16"}));
    cmd->add_option("--threads", opts->threads, "Worker threads; 0: one per hardware thread")
        ->capture_default_str();
    cmd->add_option("--out", opts->out_path, "Output [Hq, d] float32 (.npy)")->required();
    cmd->add_option(
           "--indices", opts->indices_path,
           "Attended token indices [Hq, width] int32 (.npy), each row ascending. width = n for dense,\n"
           "min(budget, n) for adamas/oracle/streaming; quest rows hold whole pages, and rows with\n"
           "fewer tokens than the widest are padded with -1. In shared mode every query head gets\n"
           "its KV head's row.")
        ->required();
    cmd->add_option("--distances", opts->distances_path,
                    "adamas only: code distances [Hq, n] uint16 (.npy) per query head; in shared mode the\n"
                    "group minimum, repeated for each query head of the group");
    cmd->callback([opts, sinks] {
        opts->sinks_given = sinks->count() > 0;
        run_attend(*opts);
    });
}

}  // namespace adamas::tools
