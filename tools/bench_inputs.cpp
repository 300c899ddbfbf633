// Shapes, cache copies and queries for the attention benchmark (see bench_inputs.h).
#include "bench_inputs.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "adamas/error.h"
#include "adamas/method.h"
#include "adamas/thread_pool.h"

namespace adamas::tools {
namespace {

constexpr std::array<BenchShape, 3> kShapes{{
    {"longchat-7b", 32, 32, 128},  // MHA, the paper's model
    {"llama3-8b", 32, 8, 128},     // GQA group 4
    {"smollm2-135m", 9, 3, 64},    // the project's default model, GQA group 3
}};

uint64_t mix(uint64_t x) {  // splitmix64 finalizer: a counter-based generator, so chunks fill in parallel
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// Approximately standard normal (Irwin–Hall sum of four 16-bit uniforms): exact tails do not matter
// for timing, and this is ~20× cheaper than std::normal_distribution on billions of values.
float gaussian(uint64_t stream, uint64_t index) {
    uint64_t h = mix(stream ^ mix(index));
    double sum =
        double(h & 0xffff) + double((h >> 16) & 0xffff) + double((h >> 32) & 0xffff) + double(h >> 48);
    return float((sum - 131070.0) * (1.0 / 37837.2));
}

// Per-(KV head, channel) key mean; one channel in 32 is five times larger, like the outlier
// channels of real post-RoPE keys. Shared by every copy so queries see the same structure.
float key_mean(uint64_t seed, int64_t channel) {
    float scale = mix(seed * 31 + uint64_t(channel)) % 32 == 0 ? 5.0f : 1.0f;
    return scale * gaussian(seed + 7, uint64_t(channel));
}

bool stderr_is_terminal() {
    return isatty(STDERR_FILENO) == 1;
}

}  // namespace

std::span<const BenchShape> known_shapes() {
    return kShapes;
}

const BenchShape& find_shape(std::string_view name) {
    for (const BenchShape& shape : kShapes)
        if (shape.name == name) return shape;
    std::string known;
    for (const BenchShape& shape : kShapes)
        known += fmt::format("{}{}", known.empty() ? "" : ", ", shape.name);
    fail_usage("--shapes: unknown shape '{}' (expected one of {})", name, known);
}

CacheFootprint cache_footprint(const BenchShape& shape, int64_t tokens, int batch, DType dtype,
                               int page_size) {
    const int64_t head_tokens = tokens * shape.kv_heads * batch;
    CacheFootprint f;
    f.kv_bytes = 2 * head_tokens * shape.head_dim * dtype_size(dtype);
    f.code_bytes = head_tokens * code_words(shape.head_dim) * 2;
    if (page_size > 0)
        f.page_bytes = int64_t(batch) * shape.kv_heads * ((tokens + page_size - 1) / page_size) *
                       shape.head_dim * 2 * int64_t(sizeof(float));
    return f;
}

std::vector<KvCache> build_cache_copies(const BenchShape& shape, int64_t tokens, int batch, DType dtype,
                                        int page_size, float tau, int copies, uint64_t seed,
                                        ThreadPool& pool) {
    const int64_t row = int64_t(shape.kv_heads) * shape.head_dim;  // floats per token, [heads][d]
    // ~16 MiB of K per chunk: large appends amortize per-call work, small enough to stay cheap in RAM.
    const int64_t chunk_tokens = std::clamp<int64_t>((int64_t(4) << 20) / row, 1, tokens);
    constexpr int64_t kTokensPerItem = 64;
    std::vector<float> k(size_t(chunk_tokens * row)), v(size_t(chunk_tokens * row));
    std::vector<float> mean(static_cast<size_t>(row));
    for (int64_t c = 0; c < row; ++c)
        mean[size_t(c)] = key_mean(seed, c);

    const KvCacheShape cache_shape{shape.kv_heads, shape.head_dim, dtype, tokens, batch, page_size};
    const float taus[1] = {tau};
    std::vector<KvCache> caches;
    caches.reserve(size_t(copies));
    const int64_t total = int64_t(copies) * batch * tokens;
    int64_t done = 0;
    int last_percent = -1;
    auto start = std::chrono::steady_clock::now();
    for (int copy = 0; copy < copies; ++copy) {
        caches.emplace_back(cache_shape, taus);
        for (int seq = 0; seq < batch; ++seq) {
            const uint64_t stream = mix(seed ^ mix(uint64_t(copy) * 4096 + uint64_t(seq) + 1));
            for (int64_t begin = 0; begin < tokens; begin += chunk_tokens) {
                const int64_t count = std::min(chunk_tokens, tokens - begin);
                pool.parallel_for((count + kTokensPerItem - 1) / kTokensPerItem, [&](int64_t item, int) {
                    const int64_t t_end = std::min(count, (item + 1) * kTokensPerItem);
                    for (int64_t t = item * kTokensPerItem; t < t_end; ++t)
                        for (int64_t c = 0; c < row; ++c) {
                            const uint64_t index = uint64_t((begin + t) * row + c);
                            k[size_t(t * row + c)] = mean[size_t(c)] + gaussian(stream, 2 * index);
                            v[size_t(t * row + c)] = gaussian(stream, 2 * index + 1);
                        }
                });
                caches.back().append(seq, KvTokens{k.data(), v.data(), count, row, shape.head_dim}, &pool);
                done += count;
                const int percent = int(100 * done / total);
                if (percent != last_percent && (stderr_is_terminal() || (percent % 25 == 0 && percent > 0))) {
                    last_percent = percent;
                    fmt::print(stderr, "{}  filling {} cop{} of {} n={} batch={}: {}%",
                               stderr_is_terminal() ? "\r" : "", copies, copies == 1 ? "y" : "ies",
                               shape.name, tokens, batch, percent);
                    if (!stderr_is_terminal()) fmt::print(stderr, "\n");
                }
            }
        }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print(stderr, "{}  filled in {:.1f} s\n", stderr_is_terminal() ? "\n" : "", seconds);
    return caches;
}

std::vector<std::vector<float>> random_queries(const BenchShape& shape, int batch, int sets, uint64_t seed) {
    const int d = shape.head_dim;
    const int group = shape.q_heads / shape.kv_heads;
    std::vector<std::vector<float>> queries(static_cast<size_t>(sets));
    for (int s = 0; s < sets; ++s) {
        auto& q = queries[size_t(s)];
        q.resize(size_t(batch) * shape.q_heads * d);
        const uint64_t stream = mix(seed ^ mix(0x51ull << 40 | uint64_t(s)));
        for (int b = 0; b < batch; ++b)
            for (int h = 0; h < shape.q_heads; ++h)
                for (int i = 0; i < d; ++i) {
                    const int64_t index = (int64_t(b) * shape.q_heads + h) * d + i;
                    // Half the key mean: queries lean towards the keys' dominant channels, so q·k
                    // and the code distances spread out instead of being pure noise.
                    q[size_t(index)] =
                        0.5f * key_mean(seed, int64_t(h / group) * d + i) + gaussian(stream, uint64_t(index));
                }
    }
    return queries;
}

}  // namespace adamas::tools
