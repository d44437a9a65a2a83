// y = W x + b for one dense layer, with an AVX2/FMA kernel chosen at run time when the CPU has
// it. W is given transposed (Wt: in x out, row-major), so that each input scales one contiguous
// column: no horizontal sums. Internal to the library.
#pragma once

namespace deepik::internal {

/// y[0..out) = W x + b in float32, given W both row-major (W, out x in) and transposed (Wt, in x
/// out): small layers scale contiguous columns (no horizontal sums), large ones stream rows
/// (better for the cache). `y` must not alias `x`.
void DenseLayer(const float* W, const float* Wt, const float* b, const float* x, float* y, int out, int in);

/// The same in float64 on the float32 weights (each weight widened exactly; products exact, sums
/// rounded in float64): the result hardly depends on the order of the sums, so that other
/// implementations (the ONNX export, NumPy) reproduce it far within 1e-5.
void DenseLayer(const float* W, const float* Wt, const float* b, const double* x, double* y, int out, int in);

}  // namespace deepik::internal
