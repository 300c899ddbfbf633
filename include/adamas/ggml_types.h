// ggml's tensor element types as GGUF files number them, with their block layouts and names.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace adamas {

// Tensor element types, numbered as ggml numbers them. Ids outside the list are kept as raw values.
enum class GgmlType : uint32_t {
    f32 = 0,
    f16 = 1,
    q4_0 = 2,
    q4_1 = 3,
    q5_0 = 6,
    q5_1 = 7,
    q8_0 = 8,
    q8_1 = 9,
    q2_k = 10,
    q3_k = 11,
    q4_k = 12,
    q5_k = 13,
    q6_k = 14,
    q8_k = 15,
    iq2_xxs = 16,
    iq2_xs = 17,
    iq3_xxs = 18,
    iq1_s = 19,
    iq4_nl = 20,
    iq3_s = 21,
    iq2_s = 22,
    iq4_xs = 23,
    i8 = 24,
    i16 = 25,
    i32 = 26,
    i64 = 27,
    f64 = 28,
    iq1_m = 29,
    bf16 = 30,
    tq1_0 = 34,
    tq2_0 = 35,
    mxfp4 = 39,
};

// Elements per block and bytes per block of a ggml type (1 and the element size for plain types).
struct GgmlBlock {
    int64_t elements;
    int64_t bytes;
};
std::optional<GgmlBlock> ggml_block(GgmlType t);  // nullopt for ids we do not know
std::string ggml_type_name(GgmlType t);           // ggml's names ("q4_K", "bf16"); "unknown type 99"

}  // namespace adamas
