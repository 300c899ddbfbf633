// Tests of the `adamas attend` command line: help, exit codes, messages naming the input, and a small
// dense run checked against attention computed here in double. The NumPy check covers the policies.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "adamas/npy.h"
#include "tools/cli_runner.h"

namespace adamas {
namespace {

namespace fs = std::filesystem;

using Result = test::CliResult;

class AttendCliTest : public test::CliTest {
  protected:
    // q [hq, d], k and v [hkv, n, d] with small deterministic values.
    void write_inputs(int hq, int hkv, int64_t n, int d) {
        q_.resize(size_t(hq) * d);
        k_.resize(size_t(hkv) * n * d);
        v_.resize(k_.size());
        for (size_t i = 0; i < q_.size(); ++i)
            q_[i] = float(std::sin(0.7 * double(i)));
        for (size_t i = 0; i < k_.size(); ++i)
            k_[i] = float(std::cos(0.3 * double(i)));
        for (size_t i = 0; i < v_.size(); ++i)
            v_[i] = float(std::sin(0.11 * double(i) + 1.0));
        write_npy(path("q.npy"), NpyType::f32, {hq, d}, q_.data());
        write_npy(path("k.npy"), NpyType::f32, {hkv, n, d}, k_.data());
        write_npy(path("v.npy"), NpyType::f32, {hkv, n, d}, v_.data());
    }

    std::string io_args() const {
        return fmt::format("--q '{}' --k '{}' --v '{}' --out '{}' --indices '{}'", path("q.npy"),
                           path("k.npy"), path("v.npy"), path("out.npy"), path("idx.npy"));
    }

    std::vector<float> q_, k_, v_;
};

TEST_F(AttendCliTest, HelpExplainsEveryOptionWithDefaults) {
    const Result r = run("attend --help");
    ASSERT_EQ(r.code, 0) << r.err;
    for (const char* option : {"--q", "--k", "--v", "--policy", "--budget", "--metric", "--tau", "--gqa",
                               "--sinks", "--recent", "--page-size", "--no-force-current", "--kv-dtype",
                               "--threads", "--out", "--indices", "--distances"})
        EXPECT_NE(r.out.find(option), std::string::npos) << option << " missing from --help:\n" << r.out;
    // Defaults shown: policy adamas, budget 256, metric l1, tau 10, per-head, page size 16.
    for (const char* fragment : {"adamas", "256", "l1", "10", "per-head", "16", "padded with -1"})
        EXPECT_NE(r.out.find(fragment), std::string::npos) << fragment << " missing from --help:\n" << r.out;
}

TEST_F(AttendCliTest, MissingRequiredOptionIsAUsageError) {
    write_inputs(2, 1, 4, 32);
    const Result r = run(fmt::format("attend --q '{}' --k '{}'", path("q.npy"), path("k.npy")));
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("--v"), std::string::npos) << r.err;
}

TEST_F(AttendCliTest, BadInputFileExitsTwoNamingTheFile) {
    write_inputs(2, 1, 4, 32);
    std::ofstream(path("k.npy"), std::ios::binary) << "not a numpy file at all";
    const Result r = run("attend " + io_args());
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find(path("k.npy")), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_FALSE(fs::exists(path("out.npy")));
    EXPECT_FALSE(fs::exists(path("idx.npy")));
}

TEST_F(AttendCliTest, BadBudgetExitsOne) {
    write_inputs(2, 1, 4, 32);
    const Result r = run("attend --budget 0 " + io_args());
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("--budget"), std::string::npos) << r.err;
}

TEST_F(AttendCliTest, DenseRunMatchesDoubleAttention) {
    const int hq = 6, hkv = 2, d = 32, group = hq / hkv;
    const int64_t n = 37;
    write_inputs(hq, hkv, n, d);
    const Result r = run("attend --policy dense " + io_args());
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(r.out.empty()) << "stdout should stay empty: " << r.out;

    const NpyArray idx = read_npy(path("idx.npy"));
    ASSERT_EQ(idx.type, NpyType::i32);
    ASSERT_EQ(idx.shape, std::vector<int64_t>({hq, n}));
    const auto* indices = reinterpret_cast<const int32_t*>(idx.data.data());
    for (int h = 0; h < hq; ++h)
        for (int64_t t = 0; t < n; ++t)
            ASSERT_EQ(indices[h * n + t], t) << "head " << h;

    const NpyArray out = read_npy(path("out.npy"));
    ASSERT_EQ(out.type, NpyType::f32);
    ASSERT_EQ(out.shape, std::vector<int64_t>({hq, d}));
    const std::vector<float> got = out.to_f32();
    double err2 = 0, ref2 = 0;
    for (int h = 0; h < hq; ++h) {
        const float* q = q_.data() + h * d;
        const float* k = k_.data() + (h / group) * n * d;
        const float* v = v_.data() + (h / group) * n * d;
        std::vector<double> logits(static_cast<size_t>(n));
        double top = -INFINITY;
        for (int64_t t = 0; t < n; ++t) {
            double s = 0;
            for (int i = 0; i < d; ++i)
                s += double(q[i]) * k[t * d + i];
            logits[t] = s / std::sqrt(double(d));
            top = std::max(top, logits[t]);
        }
        double sum = 0;
        for (double& l : logits)
            sum += (l = std::exp(l - top));
        for (int i = 0; i < d; ++i) {
            double want = 0;
            for (int64_t t = 0; t < n; ++t)
                want += logits[t] / sum * v[t * d + i];
            err2 += (got[h * d + i] - want) * (got[h * d + i] - want);
            ref2 += want * want;
        }
    }
    EXPECT_LT(std::sqrt(err2 / ref2), 1e-5);
}

}  // namespace
}  // namespace adamas
