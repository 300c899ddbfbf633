// Tests of the .npy reader and writer: round trips, headers as NumPy writes them (1.0, 2.0, 3.0), and
// every malformed file rejected with an Error that names the path.
#include "adamas/npy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/ranges.h>

#include "adamas/error.h"

namespace adamas {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class NpyTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() / fmt::format("adamas-npy-{}-{}", ::getpid(), info->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string path(const std::string& name) const { return (dir_ / name).string(); }

    std::string write_bytes(const std::string& name, const std::string& bytes) const {
        std::ofstream(path(name), std::ios::binary) << bytes;
        return path(name);
    }

    // The message must name the file and say what is wrong.
    void expect_error(const std::string& file, const std::string& needle) const {
        try {
            read_npy(file);
            ADD_FAILURE() << file << ": read_npy accepted it, expected an error mentioning '" << needle
                          << "'";
        } catch (const Error& e) {
            std::string what = e.what();
            EXPECT_EQ(what.rfind(file, 0), 0u) << "message does not start with the path: " << what;
            EXPECT_NE(what.find(needle), std::string::npos) << "message lacks '" << needle << "': " << what;
        }
    }

    fs::path dir_;
};

// A .npy file with the given version, header dict and payload; the header is padded as NumPy does
// unless `pad` is false.
std::string npy_bytes(int major, const std::string& dict, const std::string& payload, bool pad = true) {
    const size_t prefix = major == 1 ? 10 : 12;
    std::string header = dict;
    if (pad) {
        while ((prefix + header.size() + 1) % 64 != 0)
            header += ' ';
        header += '\n';
    }
    std::string out = "\x93NUMPY";
    out += char(major);
    out += char(0);
    const uint32_t len = uint32_t(header.size());
    out += char(len & 0xff);
    out += char((len >> 8) & 0xff);
    if (major != 1) {
        out += char((len >> 16) & 0xff);
        out += char((len >> 24) & 0xff);
    }
    return out + header + payload;
}

std::string floats(std::initializer_list<float> values) {
    std::string s(values.size() * 4, '\0');
    std::memcpy(s.data(), std::data(values), s.size());
    return s;
}

TEST_F(NpyTest, RoundTripsEveryTypeAndShape) {
    const std::vector<std::vector<int64_t>> shapes = {{},     {0},       {1},       {5},
                                                      {2, 3}, {2, 0, 4}, {3, 1, 7}, {2, 3, 4, 5}};
    for (NpyType type : {NpyType::f32, NpyType::f16, NpyType::i32, NpyType::u16}) {
        const int item = (type == NpyType::f32 || type == NpyType::i32) ? 4 : 2;
        for (const auto& shape : shapes) {
            int64_t elements = 1;
            for (int64_t dim : shape)
                elements *= dim;
            std::vector<uint8_t> data(size_t(elements * item));
            for (size_t i = 0; i < data.size(); ++i)
                data[i] = uint8_t(i * 37 + 11);  // any bit pattern
            const std::string file = path("a.npy");
            write_npy(file, type, shape, data.data());

            const NpyArray got = read_npy(file);
            const std::string what = fmt::format("type {} shape ({})", int(type), fmt::join(shape, ", "));
            EXPECT_EQ(got.type, type) << what;
            EXPECT_EQ(got.shape, shape) << what;
            EXPECT_EQ(got.elements(), elements) << what;
            EXPECT_EQ(got.data, data) << what;
            // Version 1.0, data aligned to 64 bytes as the format asks.
            const auto size = fs::file_size(file);
            EXPECT_EQ((size - data.size()) % 64, 0u) << what;
            std::ifstream in(file, std::ios::binary);
            char head[8];
            in.read(head, 8);
            EXPECT_EQ(head[6], 1) << what;
            EXPECT_EQ(head[7], 0) << what;
        }
    }
}

TEST_F(NpyTest, WriterLeavesNoTemporaryAndReplacesExistingFile) {
    const std::string file = path("out.npy");
    const float first[] = {1, 2, 3};
    const float second[] = {4, 5};
    write_npy(file, NpyType::f32, {3}, first);
    write_npy(file, NpyType::f32, {2}, second);
    EXPECT_EQ(read_npy(file).to_f32(), std::vector<float>({4, 5}));
    int entries = 0;
    for (const auto& e : fs::directory_iterator(dir_)) {
        EXPECT_EQ(e.path().filename(), "out.npy");
        ++entries;
    }
    EXPECT_EQ(entries, 1);
}

TEST_F(NpyTest, WriterFailureNamesThePathAndLeavesNothing) {
    const std::string file = path("missing-dir/out.npy");
    const float x[] = {1};
    try {
        write_npy(file, NpyType::f32, {1}, x);
        ADD_FAILURE() << "write into a missing directory succeeded";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).rfind(file, 0), 0u) << e.what();
    }
    EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(NpyTest, ReadsHeadersAsNumpyWritesThem) {
    // Byte for byte what numpy.save writes for np.array([[1, 2, 3], [4, 5, 6]], np.float32).
    const std::string numpy_v1 = npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                                           floats({1, 2, 3, 4, 5, 6}));
    ASSERT_EQ(numpy_v1.size(), 128u + 24u);
    NpyArray a = read_npy(write_bytes("v1.npy", numpy_v1));
    EXPECT_EQ(a.shape, std::vector<int64_t>({2, 3}));
    EXPECT_EQ(a.to_f32(), std::vector<float>({1, 2, 3, 4, 5, 6}));

    // Versions 2.0 and 3.0: a 4-byte header length.
    for (int major : {2, 3}) {
        NpyArray b = read_npy(write_bytes(
            "v23.npy", npy_bytes(major, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
                                 floats({7, 8, 9}))));
        EXPECT_EQ(b.shape, std::vector<int64_t>({3})) << "version " << major;
        EXPECT_EQ(b.to_f32(), std::vector<float>({7, 8, 9})) << "version " << major;
    }

    // Scalars, other key orders, double quotes, no trailing comma, native byte order, no padding.
    NpyArray s = read_npy(
        write_bytes("s.npy", npy_bytes(1, "{\"shape\": (), \"fortran_order\": False, \"descr\": \"=f4\"}",
                                       floats({2.5f}), false)));
    EXPECT_TRUE(s.shape.empty());
    EXPECT_EQ(s.elements(), 1);
    EXPECT_EQ(s.to_f32(), std::vector<float>({2.5f}));

    // A 1-D array is the same in either order.
    NpyArray f = read_npy(write_bytes(
        "f.npy", npy_bytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", floats({1, 2}))));
    EXPECT_EQ(f.to_f32(), std::vector<float>({1, 2}));
}

TEST_F(NpyTest, ConvertsFloat16ToFloat32) {
    const uint16_t halves[] = {0x3c00, 0xc000, 0x3800, 0x7c00,
                               0x0001};  // 1, -2, 0.5, inf, smallest subnormal
    write_npy(path("h.npy"), NpyType::f16, {5}, halves);
    const std::vector<float> got = read_npy(path("h.npy")).to_f32();
    EXPECT_EQ(got, std::vector<float>({1.0f, -2.0f, 0.5f, INFINITY, 5.9604645e-8f}));
}

TEST_F(NpyTest, ToF32RejectsIntegerArrays) {
    const int32_t x[] = {1, 2};
    write_npy(path("i.npy"), NpyType::i32, {2}, x);
    const NpyArray a = read_npy(path("i.npy"));
    EXPECT_EQ(a.type, NpyType::i32);
    EXPECT_THROW(a.to_f32(), Error);
}

TEST_F(NpyTest, RejectsMalformedFiles) {
    const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    const std::string good = npy_bytes(1, dict, floats({1, 2}));
    ASSERT_NO_THROW(read_npy(write_bytes("good.npy", good)));

    expect_error(write_bytes("empty.npy", ""), "too short");
    expect_error(write_bytes("short.npy", "\x93NUMPY\x01"), "too short");
    expect_error(write_bytes("magic.npy", "PK\x03\x04" + good.substr(4)), "not a .npy file");
    expect_error(write_bytes("version4.npy", npy_bytes(4, dict, floats({1, 2}))), "version 4.0");
    std::string minor = good;
    minor[7] = 1;
    expect_error(write_bytes("version11.npy", minor), "version 1.1");
    std::string long_header = good;
    long_header[8] = char(0xff), long_header[9] = char(0x7f);
    expect_error(write_bytes("header-past-eof.npy", long_header), "past the end");
    expect_error(write_bytes("header-cut.npy", good.substr(0, 40)), "past the end");
    expect_error(write_bytes("truncated.npy", good.substr(0, good.size() - 1)), "truncated");
    expect_error(write_bytes("trailing.npy", good + "x"), "trailing");
    expect_error(write_bytes("big-endian.npy",
                             npy_bytes(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
                                       floats({1, 2}))),
                 "big-endian");
    expect_error(
        write_bytes("fortran.npy", npy_bytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }",
                                             floats({1, 2}))),
        "Fortran");
    for (const char* descr : {"<f8", "|u1", "|f4", "<c8", "<i8", "float32", ""})
        expect_error(
            write_bytes("dtype.npy", npy_bytes(1,
                                               fmt::format("{{'descr': '{}', 'fortran_order': False, "
                                                           "'shape': (2,), }}",
                                                           descr),
                                               floats({1, 2}))),
            "unsupported dtype");
    for (const char* shape : {"(2, x)", "(-2,)", "[2]", "(2", "2", "(2,,)", "(1 2)"})
        expect_error(
            write_bytes("shape.npy", npy_bytes(1,
                                               fmt::format("{{'descr': '<f4', 'fortran_order': False, "
                                                           "'shape': {}, }}",
                                                           shape),
                                               floats({1, 2}))),
            "header");
    expect_error(
        write_bytes("no-shape.npy", npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, }", floats({1}))),
        "lacks 'shape'");
    expect_error(write_bytes("dup.npy", npy_bytes(1,
                                                  "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
                                                  "'shape': (2,), }",
                                                  floats({1, 2}))),
                 "twice");
    expect_error(
        write_bytes("extra-key.npy", npy_bytes(1,
                                               "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), "
                                               "'extra': 1}",
                                               floats({1, 2}))),
        "unexpected key");
    expect_error(
        write_bytes("order.npy",
                    npy_bytes(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", floats({1, 2}))),
        "True or False");
    expect_error(write_bytes("after.npy", npy_bytes(1, dict + " junk", floats({1, 2}))), "padding");
    // A header claiming 2^62 x 4 elements: an error, not an allocation attempt.
    expect_error(write_bytes("huge.npy", npy_bytes(1,
                                                   "{'descr': '<f4', 'fortran_order': False, "
                                                   "'shape': (4611686018427387904, 4), }",
                                                   floats({1, 2}))),
                 "truncated");
    expect_error(write_bytes("huge-dim.npy", npy_bytes(1,
                                                       "{'descr': '<f4', 'fortran_order': False, "
                                                       "'shape': (99999999999999999999999,), }",
                                                       floats({1, 2}))),
                 "too large");
}

TEST_F(NpyTest, RejectsMissingFilesAndDirectories) {
    expect_error(path("missing.npy"), "cannot open");
    expect_error(dir_.string(), "directory");
}

}  // namespace
}  // namespace adamas
