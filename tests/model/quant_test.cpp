// Block formats: our reference dequantizer against gguf-py's on random blocks of every supported type
// (fixtures made by tests/fixtures/quant/make_quant_fixtures.py), and the format table.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "adamas/npy.h"
#include "adamas/quant.h"

namespace adamas {
namespace {

std::string fixture(const std::string& name) {
    return std::string(ADAMAS_SOURCE_DIR) + "/tests/fixtures/quant/" + name;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    EXPECT_TRUE(file.good()) << path;
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

TEST(Quant, ReferenceMatchesGgufPy) {
    const std::pair<GgmlType, const char*> types[] = {
        {GgmlType::f32, "F32"},   {GgmlType::f16, "F16"},   {GgmlType::bf16, "BF16"},
        {GgmlType::q4_0, "Q4_0"}, {GgmlType::q4_1, "Q4_1"}, {GgmlType::q8_0, "Q8_0"},
        {GgmlType::q4_k, "Q4_K"}, {GgmlType::q5_k, "Q5_K"}, {GgmlType::q6_k, "Q6_K"}};  // fixture names
    for (const auto& [type, fixture_name] : types) {
        const std::string name(fixture_name);
        const auto blocks = read_bytes(fixture(name + ".blocks.bin"));
        const NpyArray expected = read_npy(fixture(name + ".expected.npy"));
        const std::vector<float> want = expected.to_f32();
        const auto format = ggml_block(type);
        ASSERT_TRUE(format.has_value()) << name;
        ASSERT_EQ(int64_t(blocks.size()) / format->bytes * format->elements, int64_t(want.size())) << name;
        std::vector<float> got(want.size(), -12345.0f);
        dequantize_reference(type, blocks.data(), int64_t(want.size()), got.data());
        for (size_t i = 0; i < want.size(); ++i)
            ASSERT_EQ(got[i], want[i]) << name << " element " << i;  // same float ops in the same order
    }
}

TEST(Quant, SupportedTypesAndTable) {
    EXPECT_EQ(ggml_block(GgmlType::q6_k)->bytes, 210);
    EXPECT_EQ(ggml_block(GgmlType::q4_k)->elements, 256);
    EXPECT_TRUE(dequantize_supported(GgmlType::q4_1));
    EXPECT_FALSE(dequantize_supported(GgmlType::q5_1));  // known to GGUF, not dequantized here
    EXPECT_FALSE(ggml_block(GgmlType(99)).has_value());
    EXPECT_EQ(ggml_type_name(GgmlType::q4_1), "q4_1");
}

}  // namespace
}  // namespace adamas
