// Tests of the GGUF reader: every metadata type and tensor type round-trips through a file written by
// the test's own writer, and every corruption (truncation at each byte, bad fields, hostile counts,
// offsets and sizes) is an Error that starts with the path — never a crash.
#include "adamas/gguf.h"
#include "adamas/data_paths.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>

#include <fmt/format.h>

#include "adamas/error.h"
#include "model/gguf_writer.h"

namespace adamas {
namespace {

namespace fs = std::filesystem;
using namespace test;
using namespace test::gguf_enc;

std::string random_bytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::string out(n, '\0');
    for (auto& c : out)
        c = char(rng() & 0xff);
    return out;
}

// A fresh directory per test, removed afterwards.
class GgufTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() / fmt::format("adamas-gguf-{}-{}", ::getpid(), info->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string path(const std::string& name) const { return (dir_ / name).string(); }

    std::string write(const std::string& bytes, const std::string& name = "model.gguf") const {
        std::ofstream(path(name), std::ios::binary | std::ios::trunc) << bytes;
        return path(name);
    }

    // Opening must fail with a message that starts with the path and contains `needle`.
    void expect_error(const std::string& bytes, const std::string& needle) const {
        const std::string file = write(bytes);
        try {
            GgufFile::open(file);
            ADD_FAILURE() << "GgufFile::open accepted it, expected an error mentioning '" << needle << "'";
        } catch (const Error& e) {
            const std::string what = e.what();
            EXPECT_EQ(what.rfind(file + ": ", 0), 0u) << "message does not start with the path: " << what;
            EXPECT_NE(what.find(needle), std::string::npos) << "message lacks '" << needle << "': " << what;
        }
    }

    fs::path dir_;
};

// Two tensors after a few entries of each shape of value: small enough to truncate at every byte.
GgufWriter small_writer() {
    GgufWriter w;
    w.kv("general.architecture", kString, str("llama"))
        .kv("llama.block_count", kU32, scalar<uint32_t>(30))
        .kv("flag", kBool, scalar<uint8_t>(1))
        .kv("scale", kF64, scalar<double>(0.5))
        .kv("tokens", kArray, string_array({"a", "", "bc"}))
        .kv("nested", kArray, array(kArray, 2, array_of<int16_t>(kI16, {-1, 2}) + string_array({"x"})))
        .tensor("w", 8 /*q8_0*/, {32, 2}, random_bytes(68, 1))
        .tensor("b", 0 /*f32*/, {3}, random_bytes(12, 2));
    return w;
}

TEST_F(GgufTest, EveryMetadataTypeRoundTrips) {
    GgufWriter w;
    w.version = 2;
    w.kv("u8", kU8, scalar<uint8_t>(255))
        .kv("i8", kI8, scalar<int8_t>(-128))
        .kv("u16", kU16, scalar<uint16_t>(65535))
        .kv("i16", kI16, scalar<int16_t>(-32768))
        .kv("u32", kU32, scalar<uint32_t>(4294967295u))
        .kv("i32", kI32, scalar<int32_t>(std::numeric_limits<int32_t>::min()))
        .kv("f32", kF32, scalar<float>(1e5f))
        .kv("true", kBool, scalar<uint8_t>(1))
        .kv("false", kBool, scalar<uint8_t>(0))
        .kv("string", kString, str(std::string("caf\xc3\xa9 \0 end", 11)))
        .kv("empty", kString, str(""))
        .kv("u64", kU64, scalar<uint64_t>(std::numeric_limits<uint64_t>::max()))
        .kv("i64", kI64, scalar<int64_t>(std::numeric_limits<int64_t>::min()))
        .kv("f64", kF64, scalar<double>(-2.5e300))
        .kv("a_u8", kArray, array_of<uint8_t>(kU8, {0, 7, 255}))
        .kv("a_i16", kArray, array_of<int16_t>(kI16, {-5, 5}))
        .kv("a_u64", kArray, array_of<uint64_t>(kU64, {1, uint64_t(1) << 40}))
        .kv("a_f32", kArray, array_of<float>(kF32, {0.25f, -1.0f, 3e38f}))
        .kv("a_f64", kArray, array_of<double>(kF64, {1.5}))
        .kv("a_bool", kArray, array_of<uint8_t>(kBool, {1, 0}))
        .kv("a_str", kArray, string_array({"<s>", "", "\xe2\x96\x81the"}))
        .kv("a_empty", kArray, array(kI32, 0, ""))
        .kv("a_nested", kArray,
            array(kArray, 3,
                  array_of<int32_t>(kI32, {1, 2, 3}) + string_array({"p", "q"}) +
                      array(kArray, 1, array_of<uint8_t>(kU8, {9}))));
    const GgufFile f = GgufFile::open(write(w.build()));
    EXPECT_EQ(f.version(), 2u);
    ASSERT_EQ(f.metadata().size(), 23u);
    EXPECT_EQ(f.metadata()[0].key, "u8");
    EXPECT_EQ(f.metadata()[22].key, "a_nested");
    EXPECT_TRUE(f.tensors().empty());

    EXPECT_EQ(f.get_u32("u8"), 255u);
    EXPECT_EQ(f.get_i64("i8"), -128);
    EXPECT_EQ(f.get_u32("u16"), 65535u);
    EXPECT_EQ(f.get_i32("i16"), -32768);
    EXPECT_EQ(f.get_u32("u32"), 4294967295u);
    EXPECT_EQ(f.get_i64("u32"), 4294967295);
    EXPECT_EQ(f.get_i32("i32"), std::numeric_limits<int32_t>::min());
    EXPECT_EQ(f.get_f32("f32"), 1e5f);
    EXPECT_TRUE(f.get_bool("true"));
    EXPECT_FALSE(f.get_bool("false"));
    EXPECT_EQ(f.get_string("string"), std::string("caf\xc3\xa9 \0 end", 11));
    EXPECT_EQ(f.get_string("empty"), "");
    EXPECT_EQ(f.get_u64("u64"), std::numeric_limits<uint64_t>::max());
    EXPECT_EQ(f.get_i64("i64"), std::numeric_limits<int64_t>::min());
    EXPECT_EQ(f.get_f64("f64"), -2.5e300);
    EXPECT_EQ(f.find("u16")->type(), GgufValueType::u16);
    EXPECT_EQ(f.find("missing"), nullptr);
    EXPECT_TRUE(f.has("a_nested"));

    EXPECT_EQ(f.get_u32_array("a_u8"), (std::vector<uint32_t>{0, 7, 255}));
    EXPECT_EQ(f.get_i32_array("a_i16"), (std::vector<int32_t>{-5, 5}));
    EXPECT_EQ(f.get_i64_array("a_u64"), (std::vector<int64_t>{1, int64_t(1) << 40}));
    EXPECT_EQ(f.get_f32_array("a_f32"), (std::vector<float>{0.25f, -1.0f, 3e38f}));
    EXPECT_EQ(f.get_f32_array("a_f64"), (std::vector<float>{1.5f}));
    EXPECT_EQ(f.get_string_array("a_str"), (std::vector<std::string>{"<s>", "", "\xe2\x96\x81the"}));
    EXPECT_TRUE(f.get_i32_array("a_empty").empty());
    const GgufValue* b = f.find("a_bool");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->element_type(), GgufValueType::boolean);
    EXPECT_EQ(b->size(), 2u);

    const GgufValue* nested = f.find("a_nested");
    ASSERT_NE(nested, nullptr);
    ASSERT_EQ(nested->element_type(), GgufValueType::array);
    ASSERT_EQ(nested->items().size(), 3u);
    EXPECT_EQ(nested->items()[0].element_type(), GgufValueType::i32);
    EXPECT_EQ(nested->items()[0].i64_at(2), 3);
    EXPECT_EQ(nested->items()[0].i64_at(3), std::nullopt);
    EXPECT_EQ(nested->items()[1].strings()[1], "q");
    EXPECT_EQ(nested->items()[2].items()[0].u64_at(0), 9u);
    EXPECT_EQ(nested->summary(),
              "[3 x array: [3 x i32: 1, 2, 3], [2 x string: \"p\", \"q\"], [1 x array: [1 x u8: 9]]]");
    EXPECT_EQ(f.find("a_str")->summary(2), "[3 x string: \"<s>\", \"\", ...]");
}

TEST_F(GgufTest, GettersConvertOnlyLosslessly) {
    GgufWriter w;
    w.kv("neg", kI32, scalar<int32_t>(-1))
        .kv("big", kU64, scalar<uint64_t>(uint64_t(1) << 40))
        .kv("text", kString, str("llama"))
        .kv("byte", kU8, scalar<uint8_t>(1))
        .kv("huge", kF64, scalar<double>(1e300))
        .kv("ints", kArray, array_of<int64_t>(kI64, {1, int64_t(1) << 33}))
        .kv("floats", kArray, array_of<float>(kF32, {1.0f}))
        .kv("doubles", kArray, array_of<double>(kF64, {1.0, -1e39}));
    const std::string file = write(w.build());
    const GgufFile f = GgufFile::open(file);
    auto expect_throw = [&](auto&& call, const std::string& needle) {
        try {
            call();
            ADD_FAILURE() << "no error, expected one mentioning '" << needle << "'";
        } catch (const Error& e) {
            const std::string what = e.what();
            EXPECT_EQ(what.rfind(file + ": ", 0), 0u) << what;
            EXPECT_NE(what.find(needle), std::string::npos) << "message lacks '" << needle << "': " << what;
        }
    };
    EXPECT_EQ(f.get_i64("neg"), -1);
    expect_throw([&] { f.get_u32("neg"); }, "'neg' is i32 -1 (expected an integer that fits in u32)");
    expect_throw([&] { f.get_u64("neg"); }, "fits in u64");
    expect_throw([&] { f.get_u32("big"); }, "'big' is u64 1099511627776");
    EXPECT_EQ(f.get_i64("big"), int64_t(1) << 40);
    expect_throw([&] { f.get_u32("text"); }, "'text' is string \"llama\"");
    expect_throw([&] { f.get_string("byte"); }, "(expected a string)");
    expect_throw([&] { f.get_bool("byte"); }, "(expected a bool)");
    expect_throw([&] { f.get_f32("byte"); }, "(expected an f32 or f64)");
    expect_throw([&] { f.get_f32("huge"); }, "within the range of f32");
    EXPECT_EQ(f.get_f64("huge"), 1e300);
    expect_throw([&] { f.get_u32("absent"); }, "metadata key 'absent' is missing");
    expect_throw([&] { f.get_i32_array("ints"); }, "element 1 of metadata array 'ints' is out of range");
    EXPECT_EQ(f.get_i64_array("ints"), (std::vector<int64_t>{1, int64_t(1) << 33}));
    expect_throw([&] { f.get_i32_array("floats"); }, "'floats' is an array of 1 f32");
    expect_throw([&] { f.get_f32_array("doubles"); },
                 "element 1 of metadata array 'doubles' is -1e+39, out of the range");
    expect_throw([&] { f.get_string_array("ints"); }, "(expected an array of strings)");
    expect_throw([&] { f.get_f32_array("text"); }, "(expected an array of f32 or f64)");
    EXPECT_EQ(f.get_u32("absent", 7u), 7u);
    EXPECT_EQ(f.get_u32("byte", 7u), 1u);
    EXPECT_EQ(f.get_string("absent", "x"), "x");
    EXPECT_EQ(f.get_f32("absent", 2.0f), 2.0f);
    EXPECT_TRUE(f.get_bool("absent", true));
    EXPECT_EQ(f.get_i64("absent", -3), -3);
    expect_throw([&] { f.get_u32("neg", 7u); }, "fits in u32");  // present but wrong: no fallback
    expect_throw([&] { f.tensor("nope"); }, "tensor 'nope' is missing");
}

TEST_F(GgufTest, TensorsOfEveryBlockLayoutRoundTrip) {
    struct Case {
        std::string name;
        GgmlType type;
        std::vector<uint64_t> dims;
        int64_t bytes;  // from the block layouts in the GGUF spec, computed by hand
    };
    const std::vector<Case> cases = {
        {"f32", GgmlType::f32, {4, 3}, 48},         {"f16", GgmlType::f16, {8}, 16},
        {"bf16", GgmlType::bf16, {2, 2, 2, 2}, 32}, {"q4_0", GgmlType::q4_0, {64, 2}, 4 * 18},
        {"q4_1", GgmlType::q4_1, {32}, 20},         {"q8_0", GgmlType::q8_0, {32, 3}, 3 * 34},
        {"q4_K", GgmlType::q4_k, {256, 2}, 288},    {"q5_K", GgmlType::q5_k, {512}, 352},
        {"q6_K", GgmlType::q6_k, {256, 1, 3}, 630}, {"i32", GgmlType::i32, {5}, 20},
    };
    for (uint64_t alignment : {32u, 64u, 1u}) {
        GgufWriter w;
        w.alignment = alignment;
        if (alignment != 32) w.kv("general.alignment", kU32, scalar<uint32_t>(uint32_t(alignment)));
        for (size_t i = 0; i < cases.size(); ++i)
            w.tensor("blk." + cases[i].name, uint32_t(cases[i].type), cases[i].dims,
                     random_bytes(size_t(cases[i].bytes), uint32_t(i)));
        const std::string bytes = w.build();
        const GgufFile f = GgufFile::open(write(bytes));
        EXPECT_EQ(f.alignment(), alignment);
        EXPECT_EQ(f.data_offset(), w.layout.data_start);
        ASSERT_EQ(f.tensors().size(), cases.size());
        for (size_t i = 0; i < cases.size(); ++i) {
            const GgufTensor& t = f.tensors()[i];
            SCOPED_TRACE(t.name + " alignment " + std::to_string(alignment));
            EXPECT_EQ(&f.tensor("blk." + cases[i].name), &t);
            EXPECT_EQ(t.type, cases[i].type);
            EXPECT_EQ(ggml_type_name(t.type), cases[i].name);
            ASSERT_EQ(t.dims().size(), cases[i].dims.size());
            int64_t elements = 1;
            for (size_t d = 0; d < 4; ++d) {
                const int64_t want = d < cases[i].dims.size() ? int64_t(cases[i].dims[d]) : 1;
                EXPECT_EQ(t.ne[d], want);
                elements *= want;
            }
            EXPECT_EQ(t.elements, elements);
            EXPECT_EQ(t.bytes, cases[i].bytes);
            EXPECT_EQ(t.offset % alignment, 0u);
            EXPECT_EQ(t.data, f.mapping() + w.layout.t_data[i]);
            EXPECT_EQ(std::string(reinterpret_cast<const char*>(t.data), size_t(t.bytes)),
                      random_bytes(size_t(cases[i].bytes), uint32_t(i)));
        }
    }
}

TEST(GgufTypes, NamesAndBlockLayouts) {
    EXPECT_EQ(ggml_type_name(GgmlType::q4_k), "q4_K");
    EXPECT_EQ(ggml_type_name(GgmlType(99)), "unknown type 99");
    EXPECT_EQ(ggml_block(GgmlType(4)), std::nullopt);  // ids ggml retired stay unknown
    const std::pair<GgmlType, GgmlBlock> want[] = {
        {GgmlType::f32, {1, 4}},      {GgmlType::f16, {1, 2}},      {GgmlType::q4_0, {32, 18}},
        {GgmlType::q4_1, {32, 20}},   {GgmlType::q8_0, {32, 34}},   {GgmlType::q4_k, {256, 144}},
        {GgmlType::q5_k, {256, 176}}, {GgmlType::q6_k, {256, 210}}, {GgmlType::bf16, {1, 2}},
    };
    for (const auto& [type, block] : want) {
        const auto got = ggml_block(type);
        ASSERT_TRUE(got) << ggml_type_name(type);
        EXPECT_EQ(got->elements, block.elements) << ggml_type_name(type);
        EXPECT_EQ(got->bytes, block.bytes) << ggml_type_name(type);
    }
    EXPECT_EQ(gguf_value_type_name(GgufValueType::boolean), "bool");
}

TEST_F(GgufTest, EveryTruncationIsAnError) {
    GgufWriter w = small_writer();
    const std::string bytes = w.build();
    ASSERT_NO_THROW(GgufFile::open(write(bytes)));
    for (size_t n = 0; n < bytes.size(); ++n) {
        SCOPED_TRACE("truncated to " + std::to_string(n) + " of " + std::to_string(bytes.size()) + " bytes");
        expect_error(bytes.substr(0, n), n == 0 ? "file is empty" : n < 4 ? "not a GGUF file" : "");
    }
}

TEST_F(GgufTest, HeaderErrors) {
    GgufWriter w = small_writer();
    std::string good = w.build();
    std::string bad = good;
    bad[0] = 'g';
    expect_error(bad, "not a GGUF file");
    for (uint32_t version : {0u, 1u, 4u, 0xffffffffu}) {
        bad = good;
        patch<uint32_t>(bad, w.layout.version, version);
        expect_error(bad, version == 1
                              ? "GGUF version 1 is not supported (expected version 2 or 3"
                              : fmt::format("unsupported GGUF version {} (expected 2 or 3)", version));
    }
    bad = good;
    patch<uint32_t>(bad, w.layout.version, 0x03000000u);
    expect_error(bad, "big-endian GGUF");
    bad = good;
    patch<uint64_t>(bad, w.layout.tensor_count, uint64_t(1) << 60);
    expect_error(bad, "tensor count 1152921504606846976 cannot fit");
    bad = good;
    patch<uint64_t>(bad, w.layout.kv_count, uint64_t(1) << 60);
    expect_error(bad, "metadata count 1152921504606846976 cannot fit");
    bad = good;
    patch<uint64_t>(bad, w.layout.kv_count, 100);  // plausible, but the entries run out
    expect_error(bad, "");
}

TEST_F(GgufTest, MetadataErrors) {
    GgufWriter w = small_writer();
    const std::string good = w.build();
    auto corrupt = [&](size_t pos, auto value, const std::string& needle) {
        std::string bad = good;
        patch(bad, pos, value);
        expect_error(bad, needle);
    };
    corrupt(w.layout.kv_key[0], uint64_t(1) << 62,
            "the key in metadata entry 0 at byte 24 claims 4611686018427387904 bytes");
    corrupt(w.layout.kv_value[0], uint64_t(1) << 62, "string in metadata key 'general.architecture'");
    corrupt(w.layout.kv_type[1], uint32_t(13), "unknown value type 13 in metadata key 'llama.block_count'");
    corrupt(w.layout.kv_value[2], uint8_t(2), "bool value 2 in metadata key 'flag'");
    // tokens: array of strings. Element type, then the count.
    corrupt(w.layout.kv_value[4], uint32_t(77), "unknown array element type 77 in metadata key 'tokens'");
    corrupt(w.layout.kv_value[4] + 4, uint64_t(1) << 61, "array of 2305843009213693952 string elements");
    corrupt(w.layout.kv_value[5] + 4, ~uint64_t(0), "array of 18446744073709551615 array elements");
    corrupt(w.layout.kv_value[5] + 12 + 4, uint64_t(1) << 62, "array of 4611686018427387904 i16 elements");

    GgufWriter dup;
    dup.kv("k", kU8, scalar<uint8_t>(1)).kv("k", kU8, scalar<uint8_t>(2));
    expect_error(dup.build(), "metadata key 'k' appears twice (entries 0 and 1");

    // Arrays nested deeper than any real file, which would otherwise recurse without bound.
    std::string value = array(kU8, 0, "");
    for (int depth = 0; depth < 40; ++depth)
        value = array(kArray, 1, value);
    GgufWriter deep;
    deep.kv("deep", kArray, value);
    expect_error(deep.build(), "arrays nested more than 16 deep in metadata key 'deep'");

    for (auto [type, payload, needle] : {
             std::tuple{kU32, scalar<uint32_t>(0), "general.alignment is u32 0 (expected a power of two"},
             std::tuple{kU32, scalar<uint32_t>(48), "general.alignment is u32 48"},
             std::tuple{kString, str("32"), "general.alignment is string \"32\""},
             std::tuple{kI32, scalar<int32_t>(-32), "general.alignment is i32 -32"},
         }) {
        GgufWriter a;
        a.kv("general.alignment", type, payload);
        expect_error(a.build(), needle);
    }
}

// Counts that fit the file's bytes but no real model: refused before anything is sized by them, since
// a corrupt count in a multi-gigabyte model would otherwise size allocations by the tensor data.
TEST_F(GgufTest, CountsBeyondSaneLimitsAreRefusedBeforeAllocating) {
    GgufWriter big;
    big.kv("padding", kString, str(std::string(2 << 20, 'x')));  // 2 MiB: room for the claimed counts
    const std::string good = big.build();
    std::string bad = good;
    patch<uint64_t>(bad, big.layout.tensor_count, 70000);
    expect_error(bad, "tensor count 70000 is more than the 65536 this reader accepts");
    bad = good;
    patch<uint64_t>(bad, big.layout.kv_count, 70000);
    expect_error(bad, "metadata count 70000 is more than the 65536 this reader accepts");
    // Arrays of arrays: 300,000 empty ones are 3.6 MB of file but would be 30 MB of parsed values.
    std::string items;
    for (int i = 0; i < 300000; ++i)
        items += array(kU8, 0, "");
    GgufWriter nested;
    nested.kv("nested", kArray, array(kArray, 300000, items));
    expect_error(nested.build(), "arrays of arrays in metadata key 'nested' at byte");
    expect_error(nested.build(), "hold more than 262144 elements in all");
}

TEST_F(GgufTest, TensorInfoErrors) {
    GgufWriter w = small_writer();
    const std::string good = w.build();
    auto corrupt = [&](size_t pos, auto value, const std::string& needle) {
        std::string bad = good;
        patch(bad, pos, value);
        expect_error(bad, needle);
    };
    corrupt(w.layout.t_name[0], uint64_t(1) << 62, "the tensor name in tensor info 0 at byte");
    corrupt(w.layout.t_n_dims[0], uint32_t(5), "tensor 'w' has 5 dimensions (expected at most 4)");
    corrupt(w.layout.t_dims[0] + 8, uint64_t(0), "tensor 'w' has dimension ne[1] = 0 (expected 1 to 2^63-1)");
    corrupt(w.layout.t_dims[0], ~uint64_t(0), "ne[0] = 18446744073709551615");
    corrupt(w.layout.t_dims[0] + 8, uint64_t(1) << 60, "tensor 'w' has more than 2^63-1 elements");
    corrupt(w.layout.t_dims[0], uint64_t(33),
            "tensor 'w' of type q8_0 has ne[0] = 33, not a multiple of the block size 32");
    corrupt(w.layout.t_type[0], uint32_t(99),
            "tensor 'w' has unknown ggml type 99 (its size cannot be computed");
    corrupt(w.layout.t_type[1], uint32_t(4), "tensor 'b' has unknown ggml type 4");
    corrupt(w.layout.t_offset[1], uint64_t(16),
            "tensor 'b' has data offset 16, not a multiple of the alignment 32");
    corrupt(w.layout.t_offset[1], uint64_t(1) << 62,
            "tensor 'b' starts at byte " + std::to_string(w.layout.data_start + (uint64_t(1) << 62)) +
                " (data offset 4611686018427387904), past the end of the file");
    corrupt(w.layout.t_offset[1], ~uint64_t(0) - 31,
            "tensor 'b' starts at data offset 18446744073709551584, past");
    corrupt(w.layout.t_offset[1], uint64_t(0), "tensors 'w' (data offsets 0..68) and 'b' (from 0) overlap");
    corrupt(w.layout.t_offset[0], uint64_t(32),
            "tensors 'w' (data offsets 32..100) and 'b' (from 96) overlap");
    // A q8_0 tensor whose dims claim far more data than the file holds.
    const std::string past = fmt::format("tensor 'w' ends at byte {}, past the end of the file ({} bytes)",
                                         w.layout.data_start + 34 * 64, good.size());
    corrupt(w.layout.t_dims[0] + 8, uint64_t(64), past);

    GgufWriter dup;
    dup.tensor("x", 0, {1}, "abcd").tensor("x", 0, {1}, "efgh");
    expect_error(dup.build(), "tensor name 'x' appears twice (tensors 0 and 1");
    GgufWriter hostile;
    hostile.tensor(std::string("bad\nname\x01", 9), 99, {1}, "abcd");
    expect_error(hostile.build(), "tensor 'bad\\x0aname\\x01' has unknown ggml type 99");
}

TEST_F(GgufTest, FileSystemErrors) {
    expect_error("", "file is empty (expected a GGUF file)");
    for (const auto& [file, needle] : {std::pair{path("missing.gguf"), "cannot open (No such file"},
                                       std::pair{dir_.string(), "is a directory (expected a GGUF file)"}}) {
        try {
            GgufFile::open(file);
            ADD_FAILURE() << file << " opened";
        } catch (const Error& e) {
            EXPECT_EQ(std::string(e.what()).rfind(file + ": ", 0), 0u) << e.what();
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    }
}

TEST_F(GgufTest, FilesWithoutTensorsOrWithZeroDimsAndMovesKeepTheMapping) {
    GgufWriter w;
    w.kv("a", kU8, scalar<uint8_t>(1));
    std::string bytes = w.build();
    bytes.resize(w.layout.kv_value[0] + 1);  // no padding after the metadata: fine without tensors
    GgufFile f = GgufFile::open(write(bytes));
    EXPECT_TRUE(f.tensors().empty());
    EXPECT_EQ(f.get_u32("a"), 1u);

    GgufWriter scalar_tensor;  // n_dims 0 is a one-element tensor, as in ggml
    scalar_tensor.tensor("s", 0, {}, "abcd");
    GgufFile g = GgufFile::open(write(scalar_tensor.build(), "scalar.gguf"));
    EXPECT_EQ(g.tensor("s").elements, 1);
    EXPECT_EQ(g.tensor("s").bytes, 4);
    const uint8_t* data = g.tensor("s").data;
    GgufFile moved = std::move(g);
    EXPECT_EQ(moved.tensor("s").data, data);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(data), 4), "abcd");
}

TEST(GgufModel, SmolLM2MetadataTokenizerAndTensors) {
    const std::string model = default_model_path();
    if (!fs::is_regular_file(model)) GTEST_SKIP() << model << " is absent (run scripts/fetch-model.sh)";
    const GgufFile f = GgufFile::open(model);
    EXPECT_EQ(f.get_string("general.architecture"), "llama");
    EXPECT_EQ(f.get_u32("llama.block_count"), 30u);
    EXPECT_EQ(f.get_u32("llama.embedding_length"), 576u);
    EXPECT_EQ(f.get_u32("llama.feed_forward_length"), 1536u);
    EXPECT_EQ(f.get_u32("llama.attention.head_count"), 9u);
    EXPECT_EQ(f.get_u32("llama.attention.head_count_kv"), 3u);
    EXPECT_EQ(f.get_u32("llama.context_length"), 8192u);
    EXPECT_NEAR(f.get_f32("llama.rope.freq_base"), 1e5f, 1.0f);
    EXPECT_NEAR(f.get_f32("llama.attention.layer_norm_rms_epsilon"), 1e-5f, 1e-7f);

    EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "gpt2");
    const std::vector<std::string> tokens = f.get_string_array("tokenizer.ggml.tokens");
    ASSERT_EQ(tokens.size(), 49152u);
    EXPECT_EQ(tokens[0], "<|endoftext|>");
    EXPECT_EQ(f.get_i32_array("tokenizer.ggml.token_type").size(), tokens.size());
    const GgufValue* merges = f.find("tokenizer.ggml.merges");
    ASSERT_NE(merges, nullptr);
    EXPECT_EQ(merges->element_type(), GgufValueType::string);
    EXPECT_GT(merges->size(), 40000u);
    EXPECT_LT(f.get_u32("tokenizer.ggml.eos_token_id"), tokens.size());

    // Every tensor is one of the expected types and lies inside the file; together they fill the data
    // section up to the padding of the last one.
    std::map<std::string, int> type_counts;
    uint64_t end = 0;
    for (const GgufTensor& t : f.tensors()) {
        SCOPED_TRACE(t.name);
        EXPECT_TRUE(t.type == GgmlType::q4_1 || t.type == GgmlType::q8_0 || t.type == GgmlType::f32)
            << ggml_type_name(t.type);
        ++type_counts[ggml_type_name(t.type)];
        ASSERT_GE(t.data, f.mapping() + f.data_offset());
        ASSERT_LE(t.data + t.bytes, f.mapping() + f.file_size());
        end = std::max(end, f.data_offset() + t.offset + uint64_t(t.bytes));
    }
    EXPECT_LE(f.file_size() - end, f.alignment());
    EXPECT_EQ(f.tensors().size(), 2u + 9u * 30u);
    const GgufTensor& embd = f.tensor("token_embd.weight");
    EXPECT_EQ(embd.ne[0], 576);
    EXPECT_EQ(embd.ne[1], 49152);
    EXPECT_EQ(f.tensor("blk.29.attn_k.weight").ne[1], 3 * 64);

    if (std::getenv("ADAMAS_GGUF_SUMMARY")) {
        std::printf("%s: GGUF v%u, %zu metadata entries, %zu tensors, data at byte %llu\n", model.c_str(),
                    f.version(), f.metadata().size(), f.tensors().size(),
                    (unsigned long long)f.data_offset());
        for (const GgufKeyValue& kv : f.metadata())
            std::printf("  %-40s %s\n", kv.key.c_str(), kv.value.summary().c_str());
        for (const auto& [name, count] : type_counts)
            std::printf("  %d tensors of type %s\n", count, name.c_str());
    }
}

}  // namespace
}  // namespace adamas
