// The decode step's products (src/model/decode_matvec.*): items tile the rows exactly whatever the split,
// and the grouped products, the fused residual add and the fused SwiGLU equal their one-matrix
// references, packed (8-bit activations) or not.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "adamas/matvec.h"
#include "adamas/packed_matvec.h"
#include "model/decode_matvec.h"
#include "model/random_blocks.h"
#include "test_util.h"

namespace adamas {
namespace {

// The product one matrix should give: the packed reference on 8-bit codes, or the float reference.
std::vector<float> expected(const DecodeMatrix& m, const float* x) {
    const WeightMatrix& w = m.weights();
    std::vector<float> y(static_cast<size_t>(w.rows));
    if (m.packed()) {
        QuantizedVector q;
        quantize_vector(x, w.cols, q);
        packed_matvec_reference(w.type, w.data, w.cols, q, 0, w.rows, y.data());
    } else {
        matvec_reference(w.type, w.data, w.cols, x, 0, w.rows, y.data());
    }
    return y;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want, const char* what) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t r = 0; r < got.size(); ++r)
        ASSERT_NEAR(got[r], want[r], 1e-4 * (1 + std::fabs(want[r]))) << what << " row " << r;
}

TEST(DecodeMatvec, ItemsTileTheRowsForEverySplit) {
    for (GgmlType type : {GgmlType::q4_1, GgmlType::f32})
        for (bool quantized : {true, false})
            for (int64_t rows : {1, 15, 37, 200})
                for (int parts : {1, 3, 4, 100}) {
                    const auto bytes = test::random_rows(type, rows, 64, 3);
                    const DecodeMatrix m(WeightMatrix{type, bytes.data(), rows, 64}, quantized, parts);
                    EXPECT_EQ(m.packed(), quantized && type == GgmlType::q4_1);
                    EXPECT_GE(m.items(), 1);
                    EXPECT_LE(m.items(), parts);
                    int64_t next = 0;
                    for (int64_t i = 0; i < m.items(); ++i) {
                        EXPECT_EQ(m.item_begin(i), next)
                            << rows << " rows, " << parts << " parts, item " << i;
                        EXPECT_GT(m.item_end(i), m.item_begin(i));
                        if (m.packed() && m.item_end(i) < rows) {
                            EXPECT_EQ(m.item_end(i) % 16, 0);  // packed items are whole groups
                        }
                        next = m.item_end(i);
                    }
                    EXPECT_EQ(next, rows);
                }
}

TEST(DecodeMatvec, GroupedAddAndSwigluMatchTheirReferences) {
    ThreadPool pool(2);
    const int64_t cols = 96, rows = 70;
    const auto x = test::random_floats(size_t(cols), 7);
    for (bool quantized : {true, false}) {
        const auto a = test::random_rows(GgmlType::q4_1, rows, cols, 1);
        const auto b = test::random_rows(GgmlType::q8_0, rows, cols, 2);
        const auto c = test::random_rows(GgmlType::f32, rows, cols, 3);
        const DecodeMatrix ma(WeightMatrix{GgmlType::q4_1, a.data(), rows, cols}, quantized, 4);
        const DecodeMatrix mb(WeightMatrix{GgmlType::q8_0, b.data(), rows, cols}, quantized, 4);
        const DecodeMatrix mc(WeightMatrix{GgmlType::f32, c.data(), rows, cols}, quantized, 4);
        const auto wa = expected(ma, x.data()), wb = expected(mb, x.data()), wc = expected(mc, x.data());
        DecodeScratch scratch;
        std::vector<float> ya(static_cast<size_t>(rows)), yb(ya.size()), yc(ya.size());
        decode_matvecs(
            pool, {{ma, x.data(), ya.data()}, {mb, x.data(), yb.data()}, {mc, x.data(), yc.data()}}, scratch);
        expect_close(ya, wa, "q4_1");
        expect_close(yb, wb, "q8_0");
        expect_close(yc, wc, "f32");

        std::vector<float> acc(ya.size(), 0.5f), want_acc(ya.size());
        for (size_t r = 0; r < acc.size(); ++r)
            want_acc[r] = 0.5f + wa[r];
        decode_matvec_add(pool, ma, x.data(), acc.data(), scratch);
        expect_close(acc, want_acc, "add");

        // Same packing (q4_1 with q8_0) and mixed packing (q4_1 with f32) alike.
        for (const DecodeMatrix* up : {&mb, &mc}) {
            const auto& wu = up == &mb ? wb : wc;
            std::vector<float> out(ya.size()), want(ya.size());
            for (size_t r = 0; r < out.size(); ++r)
                want[r] = wa[r] / (1.0f + std::exp(-wa[r])) * wu[r];
            decode_swiglu(pool, ma, *up, x.data(), out.data(), scratch);
            expect_close(out, want, up == &mb ? "swiglu" : "swiglu, mixed packing");
        }
    }
}

}  // namespace
}  // namespace adamas
