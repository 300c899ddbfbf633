// Inputs of the attention benchmark: attention shapes of real models, independent copies of one
// layer's KV cache filled with random keys and values, and random queries.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adamas/dtype.h"
#include "adamas/kv_cache.h"

namespace adamas {
class ThreadPool;
}

namespace adamas::tools {

// One layer's attention shape.
struct BenchShape {
    std::string_view name;
    int q_heads;
    int kv_heads;
    int head_dim;
};

std::span<const BenchShape> known_shapes();
// Throws UsageError listing the known shapes.
const BenchShape& find_shape(std::string_view name);

// What one copy of a layer's cache holds, for sizing copies against the LLC and RAM.
struct CacheFootprint {
    int64_t kv_bytes = 0;    // K and V
    int64_t code_bytes = 0;  // 2-bit key codes
    int64_t page_bytes = 0;  // Quest page min/max (f32)
    int64_t total() const { return kv_bytes + code_bytes + page_bytes; }
};
CacheFootprint cache_footprint(const BenchShape& shape, int64_t tokens, int batch, DType dtype,
                               int page_size);

// Builds `copies` caches of `batch` sequences of `tokens` tokens each. Keys are Gaussian around a
// per-(KV head, channel) mean with a few large-magnitude channels, as post-RoPE keys of real models
// have; values are Gaussian. Every copy holds different data. Progress goes to stderr.
std::vector<KvCache> build_cache_copies(const BenchShape& shape, int64_t tokens, int batch, DType dtype,
                                        int page_size, float tau, int copies, uint64_t seed,
                                        ThreadPool& pool);

// `sets` independent query sets of batch × q_heads × d floats, drawn like the keys so that the
// distances have structure.
std::vector<std::vector<float>> random_queries(const BenchShape& shape, int batch, int sets, uint64_t seed);

}  // namespace adamas::tools
