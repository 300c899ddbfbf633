// ggml's type table: names and block layouts (ggml-common.h), for GGUF validation and weight access.
#include "adamas/ggml_types.h"

#include <string_view>

#include <fmt/format.h>

namespace adamas {

namespace {

struct TypeInfo {
    GgmlType type;
    std::string_view name;
    GgmlBlock block;
};

// Block layouts as ggml defines them (ggml-common.h): elements per block, bytes per block.
constexpr TypeInfo kGgmlTypes[] = {
    {GgmlType::f32, "f32", {1, 4}},
    {GgmlType::f16, "f16", {1, 2}},
    {GgmlType::q4_0, "q4_0", {32, 18}},
    {GgmlType::q4_1, "q4_1", {32, 20}},
    {GgmlType::q5_0, "q5_0", {32, 22}},
    {GgmlType::q5_1, "q5_1", {32, 24}},
    {GgmlType::q8_0, "q8_0", {32, 34}},
    {GgmlType::q8_1, "q8_1", {32, 36}},
    {GgmlType::q2_k, "q2_K", {256, 84}},
    {GgmlType::q3_k, "q3_K", {256, 110}},
    {GgmlType::q4_k, "q4_K", {256, 144}},
    {GgmlType::q5_k, "q5_K", {256, 176}},
    {GgmlType::q6_k, "q6_K", {256, 210}},
    {GgmlType::q8_k, "q8_K", {256, 292}},
    {GgmlType::iq2_xxs, "iq2_xxs", {256, 66}},
    {GgmlType::iq2_xs, "iq2_xs", {256, 74}},
    {GgmlType::iq3_xxs, "iq3_xxs", {256, 98}},
    {GgmlType::iq1_s, "iq1_s", {256, 50}},
    {GgmlType::iq4_nl, "iq4_nl", {32, 18}},
    {GgmlType::iq3_s, "iq3_s", {256, 110}},
    {GgmlType::iq2_s, "iq2_s", {256, 82}},
    {GgmlType::iq4_xs, "iq4_xs", {256, 136}},
    {GgmlType::i8, "i8", {1, 1}},
    {GgmlType::i16, "i16", {1, 2}},
    {GgmlType::i32, "i32", {1, 4}},
    {GgmlType::i64, "i64", {1, 8}},
    {GgmlType::f64, "f64", {1, 8}},
    {GgmlType::iq1_m, "iq1_m", {256, 56}},
    {GgmlType::bf16, "bf16", {1, 2}},
    {GgmlType::tq1_0, "tq1_0", {256, 54}},
    {GgmlType::tq2_0, "tq2_0", {256, 66}},
    {GgmlType::mxfp4, "mxfp4", {32, 17}},
};

const TypeInfo* type_info(GgmlType t) {
    for (const auto& info : kGgmlTypes)
        if (info.type == t) return &info;
    return nullptr;
}

}  // namespace

std::optional<GgmlBlock> ggml_block(GgmlType t) {
    if (const TypeInfo* info = type_info(t)) return info->block;
    return std::nullopt;
}

std::string ggml_type_name(GgmlType t) {
    if (const TypeInfo* info = type_info(t)) return std::string(info->name);
    return fmt::format("unknown type {}", uint32_t(t));
}

}  // namespace adamas
