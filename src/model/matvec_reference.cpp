// Reference matrix-vector product: dequantize a row with the reference dequantizer, dot in double.
#include <vector>

#include "adamas/error.h"
#include "adamas/matvec.h"

namespace adamas {

int64_t row_bytes(GgmlType type, int64_t cols) {
    const auto format = ggml_block(type);
    ADAMAS_ASSERT(format && cols % format->elements == 0);
    return cols / format->elements * format->bytes;
}

void matvec_reference(GgmlType type, const void* weights, int64_t cols, const float* x, int64_t row_begin,
                      int64_t row_end, float* y) {
    const int64_t stride = row_bytes(type, cols);
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t r = row_begin; r < row_end; ++r) {
        dequantize_reference(type, static_cast<const uint8_t*>(weights) + r * stride, cols, row.data());
        double sum = 0;
        for (int64_t c = 0; c < cols; ++c)
            sum += double(row[size_t(c)]) * double(x[c]);
        y[r - row_begin] = float(sum);
    }
}

}  // namespace adamas
