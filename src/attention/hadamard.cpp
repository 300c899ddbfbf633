// Scalar reference Walsh–Hadamard transform and the dispatch to the vectorized one.
#include "adamas/hadamard.h"

#include <cmath>

#include "adamas/method.h"
#include "cpu/kernels.h"

namespace adamas {

void hadamard_reference(std::span<float> x) {
    const int d = int(x.size());
    check_head_dim(d, "hadamard");
    // Butterflies of H_2m = [[H_m, H_m], [H_m, -H_m]]: stride h pairs (i, i + h).
    for (int h = 1; h < d; h *= 2)
        for (int i = 0; i < d; i += 2 * h)
            for (int j = i; j < i + h; ++j) {
                const float a = x[j], b = x[j + h];
                x[j] = a + b;
                x[j + h] = a - b;
            }
    const float scale = 1.0f / std::sqrt(float(d));
    for (auto& v : x)
        v *= scale;
}

void hadamard(std::span<float> x) {
    check_head_dim(int64_t(x.size()), "hadamard");
    cpu::hadamard(x.data(), int(x.size()));
}

}  // namespace adamas
