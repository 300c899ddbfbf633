// Weight block formats of GGUF/ggml (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K): sizes and a
// scalar reference dequantizer, the oracle for the fast matrix-vector kernels.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace adamas {

// ggml's type ids, as stored in GGUF tensor infos.
enum class GgmlType : uint32_t {
    f32 = 0,
    f16 = 1,
    q4_0 = 2,
    q4_1 = 3,
    q8_0 = 8,
    q4_k = 12,
    q5_k = 13,
    q6_k = 14,
    bf16 = 30,
};

struct BlockFormat {
    int64_t elements;  // per block
    int64_t bytes;     // per block
};

// The block format of a supported type; nullopt for any other id.
std::optional<BlockFormat> block_format(uint32_t type_id);
std::string_view ggml_type_name(uint32_t type_id);  // "Q4_K", ..., or "unknown"

// Dequantizes `count` elements (a multiple of the type's block size) starting at block 0 of `blocks`.
void dequantize_reference(GgmlType type, const void* blocks, int64_t count, float* out);

}  // namespace adamas
