// y = W x + b for one dense layer (W row-major, out x in), with an AVX2/FMA kernel chosen at run
// time when the CPU has it. Internal to the library.
#pragma once

namespace deepik::internal {

/// y[0..out) = W[out x in] * x[0..in) + b. `y` must not alias `x`.
void DenseLayer(const float* W, const float* b, const float* x, float* y, int out, int in);

}  // namespace deepik::internal
