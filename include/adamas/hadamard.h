// Orthonormal fast Walsh–Hadamard transform x <- H_d x / sqrt(d), Sylvester (natural) order (§2.1).
#pragma once
#include <span>

namespace adamas {

// In place; x.size() must be 32, 64, 128 or 256 (checked: throws Error otherwise).
void hadamard_reference(std::span<float> x);
void hadamard(std::span<float> x);

}  // namespace adamas
