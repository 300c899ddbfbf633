// Tests of the safetensors reader: every dtype round-trips through the test's writer, sharded checkpoints
// resolve through their index, and every corruption (truncation at each byte, random byte flips, bad
// JSON, bad dtype/shape/offsets, overlaps and gaps, hostile indexes) is an Error that names the file —
// never a crash.
#include "adamas/safetensors.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <fmt/format.h>

#include "adamas/error.h"
#include "model/safetensors_writer.h"

namespace adamas {
namespace {

namespace fs = std::filesystem;
using test::StTensor;

std::string bytes_of(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::string out(n, '\0');
    for (auto& c : out)
        c = char(rng() & 0xff);
    return out;
}

class SafetensorsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() / fmt::format("adamas-st-{}-{}", ::getpid(), info->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string path(const std::string& name) const { return (dir_ / name).string(); }

    std::string write(const std::string& bytes, const std::string& name = "model.safetensors") const {
        std::ofstream(path(name), std::ios::binary | std::ios::trunc) << bytes;
        return path(name);
    }

    // Opening must fail with a message that starts with the path and contains `needle`.
    void expect_error(const std::string& bytes, const std::string& needle) const {
        const std::string file = write(bytes);
        try {
            SafetensorsFile::open(file);
            ADD_FAILURE() << "no error; expected one containing '" << needle << "'";
        } catch (const Error& e) {
            const std::string message = e.what();
            EXPECT_EQ(message.rfind(file + ": ", 0), 0u) << message;
            EXPECT_NE(message.find(needle), std::string::npos)
                << "expected '" << needle << "' in: " << message;
        }
    }

    // A header entry with the given fields, the data section `data_bytes` long.
    void expect_entry_error(const std::string& entry, size_t data_bytes, const std::string& needle) const {
        expect_error(test::safetensors_raw(R"({"w": )" + entry + "}", std::string(data_bytes, '\0')), needle);
    }

    fs::path dir_;
};

// Three small tensors of different dtypes: the file the corruption tests start from.
std::vector<StTensor> small_tensors() {
    return {{"a", "F32", {2, 3}, test::encode_floats({1, 2, 3, 4, 5, 6}, "F32")},
            {"b.weight", "BF16", {4}, test::encode_floats({1.5f, -2, 0.25f, 8}, "BF16")},
            {"c", "I64", {}, std::string("\x2a\0\0\0\0\0\0\0", 8)}};
}

TEST_F(SafetensorsTest, EveryDtypeRoundTrips) {
    std::vector<StTensor> tensors;
    int seed = 0;
    for (const char* dtype : {"BOOL", "U8", "I8", "F8_E4M3", "F8_E5M2", "I16", "U16", "F16", "BF16", "I32",
                              "U32", "F32", "F64", "I64", "U64"}) {
        const auto type = parse_safetensors_dtype(dtype);
        ASSERT_TRUE(type) << dtype;
        EXPECT_EQ(safetensors_dtype_name(*type), dtype);
        const size_t size = size_t(safetensors_dtype_size(*type));
        tensors.push_back({fmt::format("t.{}", dtype), dtype, {3, 5}, bytes_of(15 * size, uint32_t(++seed))});
    }
    tensors.push_back({"scalar", "F32", {}, test::encode_floats({7}, "F32")});
    tensors.push_back({"empty", "F16", {0, 4}, ""});
    const std::string file = write(test::safetensors_file(tensors));
    const SafetensorsFile f = SafetensorsFile::open(file);
    EXPECT_EQ(f.path(), file);
    EXPECT_EQ(f.tensors().size(), tensors.size());
    EXPECT_EQ(f.data_offset() % 8, 0u);
    for (const StTensor& want : tensors) {
        const SafetensorsTensor* got = f.find(want.name);
        ASSERT_NE(got, nullptr) << want.name;
        EXPECT_EQ(safetensors_dtype_name(got->dtype), want.dtype);
        EXPECT_EQ(got->shape, want.shape);
        int64_t elements = 1;
        for (int64_t d : want.shape)
            elements *= d;
        EXPECT_EQ(got->elements, elements);
        ASSERT_EQ(got->bytes(), want.data.size());
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(got->data), got->bytes()), want.data)
            << want.name;
    }
    EXPECT_EQ(f.find("missing"), nullptr);
    EXPECT_EQ(f.find("__metadata__"), nullptr);
}

TEST_F(SafetensorsTest, HeaderWithoutTensorsAndWithoutMetadata) {
    const SafetensorsFile f = SafetensorsFile::open(write(test::safetensors_raw("{}", "")));
    EXPECT_TRUE(f.tensors().empty());
    const auto tensors = small_tensors();
    std::string data;
    for (const auto& t : tensors)
        data += t.data;
    const SafetensorsFile g = SafetensorsFile::open(
        write(test::safetensors_raw(test::safetensors_header(tensors, false).dump(), data)));
    EXPECT_EQ(g.tensors().size(), 3u);
}

TEST_F(SafetensorsTest, TruncationAtEveryByteIsAnError) {
    const std::string good = test::safetensors_file(small_tensors());
    ASSERT_NO_THROW(SafetensorsFile::open(write(good)));
    for (size_t n = 0; n < good.size(); ++n) {
        const std::string file = write(good.substr(0, n));
        try {
            SafetensorsFile::open(file);
            ADD_FAILURE() << "truncated at " << n << " of " << good.size() << " bytes: no error";
        } catch (const Error& e) {
            EXPECT_EQ(std::string(e.what()).rfind(file + ": ", 0), 0u) << e.what();
        }
    }
}

TEST_F(SafetensorsTest, RandomByteFlipsNeverCrash) {
    const std::string good = test::safetensors_file(small_tensors());
    std::mt19937 rng(20251018);
    int errors = 0;
    for (int i = 0; i < 2000; ++i) {
        std::string bad = good;
        for (int k = 0; k < 1 + int(rng() % 3); ++k)
            bad[rng() % bad.size()] = char(rng() & 0xff);
        try {
            const SafetensorsFile f = SafetensorsFile::open(write(bad));
            for (const SafetensorsTensor& t : f.tensors())  // whatever opened must lie inside the file
                ASSERT_LE(f.data_offset() + t.end, f.file_size()) << "flip round " << i;
        } catch (const Error&) {
            ++errors;
        }
    }
    EXPECT_GT(errors, 100);  // most flips land in the header and break it
}

TEST_F(SafetensorsTest, HeaderProblemsAreNamed) {
    expect_error("", "file is empty");
    expect_error("1234567", "too short for the 8-byte header length");
    std::string huge(8, '\xff');
    expect_error(huge + "{}", "runs past the end of the file");
    std::string length(8, '\0');
    length[0] = 100;
    expect_error(length + "{\"a\": 1}", "runs past the end of the file");
    expect_error(test::safetensors_raw("[1, 2]", ""), "does not start with '{'");
    expect_error(test::safetensors_raw("{\"w\": ", ""), "not valid JSON");
    expect_error(test::safetensors_raw("{\"w\": {}} trailing", ""), "not valid JSON");
    expect_error(test::safetensors_raw("{\"w\xff\": {}}", ""), "not valid JSON");  // not UTF-8
    expect_error(test::safetensors_raw(R"({"w": 1})", ""), "header entry 'w' is a JSON number");
}

TEST_F(SafetensorsTest, EntryProblemsAreNamed) {
    expect_entry_error(R"({"shape": [2], "data_offsets": [0, 8]})", 8, "tensor 'w' has no 'dtype'");
    expect_entry_error(R"({"dtype": "F17", "shape": [2], "data_offsets": [0, 8]})", 8, "unknown dtype 'F17'");
    expect_entry_error(R"({"dtype": "f32", "shape": [2], "data_offsets": [0, 8]})", 8, "unknown dtype 'f32'");
    expect_entry_error(R"({"dtype": 4, "shape": [2], "data_offsets": [0, 8]})", 8,
                       "dtype that is a JSON number");
    expect_entry_error(R"({"dtype": "F32", "data_offsets": [0, 8]})", 8, "has no 'shape'");
    expect_entry_error(R"({"dtype": "F32", "shape": 2, "data_offsets": [0, 8]})", 8,
                       "shape that is a JSON number");
    expect_entry_error(R"({"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]})", 8, "shape entry 0 = -2");
    expect_entry_error(R"({"dtype": "F32", "shape": [2.5], "data_offsets": [0, 8]})", 8,
                       "shape entry 0 = 2.5");
    expect_entry_error(R"({"dtype": "F32", "shape": [2]})", 8, "has no 'data_offsets'");
    expect_entry_error(R"({"dtype": "F32", "shape": [2], "data_offsets": [8]})", 8, "expected [begin, end]");
    expect_entry_error(R"({"dtype": "F32", "shape": [2], "data_offsets": [0, -8]})", 8,
                       "expected [begin, end]");
    expect_entry_error(R"({"dtype": "F32", "shape": [2], "data_offsets": [8, 0]})", 8,
                       "end before they begin");
    expect_entry_error(R"({"dtype": "F32", "shape": [2], "data_offsets": [0, 8]})", 4,
                       "past the end of the data section (4 bytes");
    expect_entry_error(R"({"dtype": "F32", "shape": [2], "data_offsets": [0, 18446744073709551615]})", 8,
                       "past the end of the data section");
    // Shape × dtype size must equal the byte range.
    expect_entry_error(R"({"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]})", 20,
                       "of shape [2, 3] and dtype F32 needs 24 bytes, but its data_offsets [0, 20] hold 20");
    expect_entry_error(R"({"dtype": "BF16", "shape": [5], "data_offsets": [0, 20]})", 20, "needs 10 bytes");
    expect_entry_error(R"({"dtype": "F32", "shape": [2305843009213693952, 2], "data_offsets": [0, 8]})", 8,
                       "more than 2^64");
    expect_entry_error(R"({"dtype": "U8", "shape": [4611686018427387904, 4], "data_offsets": [0, 8]})", 8,
                       "more than 2^63-1 elements");
}

TEST_F(SafetensorsTest, DataMustBeTiledWithoutOverlapsOrGaps) {
    const std::string f32x2 = R"("dtype": "F32", "shape": [2])";
    expect_error(test::safetensors_raw(fmt::format(R"({{"a": {{{0}, "data_offsets": [0, 8]}},
                                                       "b": {{{0}, "data_offsets": [4, 12]}}}})",
                                                   f32x2),
                                       std::string(12, '\0')),
                 "tensors 'a' (data offsets [0, 8]) and 'b' ([4, 12]) overlap");
    expect_error(test::safetensors_raw(fmt::format(R"({{"a": {{{0}, "data_offsets": [0, 8]}},
                                                       "b": {{{0}, "data_offsets": [0, 8]}}}})",
                                                   f32x2),
                                       std::string(8, '\0')),
                 "overlap");
    expect_error(test::safetensors_raw(fmt::format(R"({{"a": {{{0}, "data_offsets": [0, 8]}},
                                                       "b": {{{0}, "data_offsets": [12, 20]}}}})",
                                                   f32x2),
                                       std::string(20, '\0')),
                 "data bytes [8, 12) before tensor 'b' belong to no tensor");
    expect_error(test::safetensors_raw(fmt::format(R"({{"a": {{{0}, "data_offsets": [4, 12]}}}})", f32x2),
                                       std::string(12, '\0')),
                 "data bytes [0, 4) before tensor 'a'");
    expect_error(test::safetensors_raw(fmt::format(R"({{"a": {{{0}, "data_offsets": [0, 8]}}}})", f32x2),
                                       std::string(16, '\0')),
                 "the last 8 bytes of the data section belong to no tensor");
    expect_error(test::safetensors_raw("{}", "x"), "the last 1 bytes");
    // Entries listed out of data order are fine: the format does not order the JSON object.
    const SafetensorsFile f = SafetensorsFile::open(
        write(test::safetensors_raw(fmt::format(R"({{"b": {{{0}, "data_offsets": [8, 16]}},
                                                    "a": {{{0}, "data_offsets": [0, 8]}}}})",
                                                f32x2),
                                    std::string(16, '\0'))));
    EXPECT_EQ(f.tensors()[0].name, "a");
    EXPECT_EQ(f.find("b")->begin, 8u);
}

TEST_F(SafetensorsTest, PathProblemsAreNamed) {
    EXPECT_THROW(SafetensorsFile::open(path("missing.safetensors")), Error);
    try {
        SafetensorsFile::open(dir_.string());
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("is a directory (expected a safetensors file)"),
                  std::string::npos)
            << e.what();
    }
}

// --- Checkpoint directories ---

class SafetensorsCheckpointTest : public SafetensorsTest {
  protected:
    // Two shards: a and b in the first, c in the second; the index lists them.
    void write_sharded(const std::string& index) const {
        auto tensors = small_tensors();
        write(test::safetensors_file({tensors[0], tensors[1]}), "model-00001-of-00002.safetensors");
        write(test::safetensors_file({tensors[2]}), "model-00002-of-00002.safetensors");
        write(index, "model.safetensors.index.json");
    }
    static std::string index_json(const std::string& a_shard = "model-00001-of-00002.safetensors") {
        return fmt::format(R"({{"metadata": {{"total_size": 40}}, "weight_map": {{"a": "{}",
            "b.weight": "model-00001-of-00002.safetensors", "c": "model-00002-of-00002.safetensors"}}}})",
                           a_shard);
    }
    void expect_checkpoint_error(const std::string& needle) const {
        try {
            SafetensorsCheckpoint::open(dir_.string());
            ADD_FAILURE() << "no error; expected one containing '" << needle << "'";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
                << "expected '" << needle << "' in: " << e.what();
        }
    }
};

TEST_F(SafetensorsCheckpointTest, SingleFile) {
    write(test::safetensors_file(small_tensors()));
    const SafetensorsCheckpoint ck = SafetensorsCheckpoint::open(dir_.string());
    EXPECT_EQ(ck.files().size(), 1u);
    ASSERT_NE(ck.find("b.weight"), nullptr);
    EXPECT_EQ(ck.find("b.weight")->shape, std::vector<int64_t>{4});
    EXPECT_EQ(ck.file_of("b.weight"), path("model.safetensors"));
    EXPECT_EQ(ck.find("nope"), nullptr);
}

TEST_F(SafetensorsCheckpointTest, ShardedThroughTheIndex) {
    write_sharded(index_json());
    const SafetensorsCheckpoint ck = SafetensorsCheckpoint::open(dir_.string());
    EXPECT_EQ(ck.files().size(), 2u);
    for (const char* name : {"a", "b.weight", "c"})
        EXPECT_NE(ck.find(name), nullptr) << name;
    EXPECT_EQ(ck.file_of("a"), path("model-00001-of-00002.safetensors"));
    EXPECT_EQ(ck.file_of("c"), path("model-00002-of-00002.safetensors"));
    int64_t c = 0;
    std::memcpy(&c, ck.find("c")->data, 8);
    EXPECT_EQ(c, 42);
}

TEST_F(SafetensorsCheckpointTest, DirectoryAndIndexProblemsAreNamed) {
    expect_checkpoint_error("has neither model.safetensors nor model.safetensors.index.json");
    write("", "pytorch_model.bin");
    expect_checkpoint_error("PyTorch .bin checkpoints are not supported");
    write_sharded("{\"weight_map\": ");
    expect_checkpoint_error("model.safetensors.index.json: not valid JSON");
    write_sharded(R"({"metadata": {}})");
    expect_checkpoint_error("has no 'weight_map' object");
    write_sharded(R"({"weight_map": {}})");
    expect_checkpoint_error("weight_map is empty");
    write_sharded(R"({"weight_map": {"a": 3}})");
    expect_checkpoint_error("weight_map['a'] is a JSON number");
    for (const char* shard : {"../model-00001-of-00002.safetensors", "/etc/passwd", "..", ""}) {
        write_sharded(index_json(shard));
        expect_checkpoint_error("expected a file name inside the model directory");
    }
    write_sharded(index_json("model-00003-of-00002.safetensors"));
    expect_checkpoint_error(path("model-00003-of-00002.safetensors") + ": cannot open");
    write_sharded(index_json("model-00002-of-00002.safetensors"));
    expect_checkpoint_error("weight_map places tensor 'a' in " + path("model-00002-of-00002.safetensors") +
                            ", which does not hold it");
    // A tensor in two shards is ambiguous.
    write_sharded(index_json());
    write(test::safetensors_file({small_tensors()[0], small_tensors()[2]}),
          "model-00002-of-00002.safetensors");
    expect_checkpoint_error("tensor 'a' appears in both");
    // A corrupt shard is reported with its own path.
    write_sharded(index_json());
    write("garbage", "model-00002-of-00002.safetensors");
    expect_checkpoint_error(path("model-00002-of-00002.safetensors") + ": file is 7 bytes");
    EXPECT_THROW(SafetensorsCheckpoint::open(path("not-there")), Error);
}

}  // namespace
}  // namespace adamas
