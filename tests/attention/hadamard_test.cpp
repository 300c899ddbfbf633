// Hadamard transform: fast path against the reference, orthonormality, q·k preservation, bad dims.
#include <gtest/gtest.h>

#include <cmath>

#include "adamas/error.h"
#include "adamas/hadamard.h"
#include "test_util.h"

namespace adamas {
namespace {

// H_d entry (i, j) in Sylvester order is (-1)^popcount(i & j).
double sylvester(int i, int j) {
    return (__builtin_popcount(unsigned(i & j)) & 1) ? -1.0 : 1.0;
}

TEST(Hadamard, ReferenceEqualsTheSylvesterMatrix) {
    for (int d : {32, 64, 128, 256}) {
        auto x = test::random_floats(size_t(d), test::seed_for({d}));
        std::vector<double> want(size_t(d), 0.0);
        for (int i = 0; i < d; ++i)
            for (int j = 0; j < d; ++j)
                want[size_t(i)] += sylvester(i, j) * x[size_t(j)] / std::sqrt(double(d));
        hadamard_reference(x);
        EXPECT_LT(test::relative_error(x.data(), want.data(), size_t(d)), 1e-6) << "d=" << d;
    }
}

TEST(Hadamard, FastMatchesReference) {
    for (int d : {32, 64, 128, 256})
        for (int trial = 0; trial < 20; ++trial) {
            auto x = test::random_floats(size_t(d), test::seed_for({d, trial}), trial % 2 ? 1e4f : 1.0f);
            auto y = x;
            hadamard_reference(x);
            hadamard(y);
            EXPECT_LT(test::relative_error(y.data(), x.data(), size_t(d)), 1e-6)
                << "d=" << d << " trial=" << trial;
        }
}

TEST(Hadamard, IsOrthonormalAndPreservesDotProducts) {
    for (int d : {32, 64, 128, 256}) {
        // Columns of the transform are orthonormal: H e_i · H e_j = [i == j].
        for (int i = 0; i < d; i += 7)
            for (int j = 0; j < d; j += 5) {
                std::vector<float> a(size_t(d), 0.0f), b(size_t(d), 0.0f);
                a[size_t(i)] = 1;
                b[size_t(j)] = 1;
                hadamard(a);
                hadamard(b);
                double dot = 0;
                for (int k = 0; k < d; ++k)
                    dot += double(a[size_t(k)]) * b[size_t(k)];
                EXPECT_NEAR(dot, i == j ? 1.0 : 0.0, 1e-6) << "d=" << d << " i=" << i << " j=" << j;
            }
        auto q = test::random_floats(size_t(d), test::seed_for({d, 1}));
        auto k = test::random_floats(size_t(d), test::seed_for({d, 2}));
        double before = 0, after = 0;
        for (int i = 0; i < d; ++i)
            before += double(q[size_t(i)]) * k[size_t(i)];
        hadamard(q);
        hadamard(k);
        for (int i = 0; i < d; ++i)
            after += double(q[size_t(i)]) * k[size_t(i)];
        EXPECT_NEAR(after, before, 1e-4 * std::sqrt(double(d))) << "d=" << d;
    }
}

TEST(Hadamard, RejectsUnsupportedDims) {
    for (int d : {0, 1, 16, 48, 96, 512}) {
        std::vector<float> x(size_t(d), 1.0f);
        EXPECT_THROW(hadamard(x), Error) << d;
        EXPECT_THROW(hadamard_reference(x), Error) << d;
    }
    std::vector<float> x(96, 1.0f);
    try {
        hadamard(x);
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("not a power of two"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace adamas
