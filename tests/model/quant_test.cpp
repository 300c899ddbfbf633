// Block formats: our reference dequantizer against gguf-py's on random blocks of every supported type
// (fixtures made by tests/fixtures/quant/make_quant_fixtures.py), and the format table.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
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
    for (GgmlType type : {GgmlType::f32, GgmlType::f16, GgmlType::bf16, GgmlType::q4_0, GgmlType::q4_1,
                          GgmlType::q8_0, GgmlType::q4_k, GgmlType::q5_k, GgmlType::q6_k}) {
        const std::string name(ggml_type_name(uint32_t(type)));
        const auto blocks = read_bytes(fixture(name + ".blocks.bin"));
        const NpyArray expected = read_npy(fixture(name + ".expected.npy"));
        const std::vector<float> want = expected.to_f32();
        const auto format = block_format(uint32_t(type));
        ASSERT_TRUE(format.has_value()) << name;
        ASSERT_EQ(int64_t(blocks.size()) / format->bytes * format->elements, int64_t(want.size())) << name;
        std::vector<float> got(want.size(), -12345.0f);
        dequantize_reference(type, blocks.data(), int64_t(want.size()), got.data());
        for (size_t i = 0; i < want.size(); ++i)
            ASSERT_EQ(got[i], want[i]) << name << " element " << i;  // same float ops in the same order
    }
}

TEST(Quant, FormatTableAndNames) {
    EXPECT_EQ(block_format(uint32_t(GgmlType::q6_k))->bytes, 210);
    EXPECT_EQ(block_format(uint32_t(GgmlType::q4_k))->elements, 256);
    EXPECT_FALSE(block_format(7).has_value());  // Q5_1: not supported
    EXPECT_EQ(ggml_type_name(7), "unknown");
    EXPECT_EQ(ggml_type_name(3), "Q4_1");
}

}  // namespace
}  // namespace adamas
