#include "learn/dense_layer.hpp"

#include <immintrin.h>

namespace deepik::internal {
namespace {

void DenseLayerPortable(const float* Wt, const float* b, const float* x, float* y, int out, int in) {
  for (int o = 0; o < out; ++o) y[o] = b[o];
  for (int k = 0; k < in; ++k) {
    const float* column = Wt + static_cast<long>(k) * out;
    const float xk = x[k];
    for (int o = 0; o < out; ++o) y[o] += column[o] * xk;
  }
}

__attribute__((target("avx2,fma"))) float HorizontalSum(__m256 v) {
  const __m128 low = _mm256_castps256_ps128(v), high = _mm256_extractf128_ps(v, 1);
  __m128 s = _mm_add_ps(low, high);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Four rows at a time share each load of x; eight lanes per FMA.
__attribute__((target("avx2,fma"))) void DenseRowsAvx2(const float* W, const float* b, const float* x,
                                                       float* y, int out, int in) {
  int i = 0;
  for (; i + 4 <= out; i += 4) {
    const float* w0 = W + static_cast<long>(i) * in;
    const float *w1 = w0 + in, *w2 = w1 + in, *w3 = w2 + in;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(),
           a3 = _mm256_setzero_ps();
    int k = 0;
    for (; k + 8 <= in; k += 8) {
      const __m256 xv = _mm256_loadu_ps(x + k);
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + k), xv, a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + k), xv, a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + k), xv, a2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + k), xv, a3);
    }
    float s0 = HorizontalSum(a0), s1 = HorizontalSum(a1), s2 = HorizontalSum(a2), s3 = HorizontalSum(a3);
    for (; k < in; ++k) {
      s0 += w0[k] * x[k];
      s1 += w1[k] * x[k];
      s2 += w2[k] * x[k];
      s3 += w3[k] * x[k];
    }
    y[i] = s0 + b[i];
    y[i + 1] = s1 + b[i + 1];
    y[i + 2] = s2 + b[i + 2];
    y[i + 3] = s3 + b[i + 3];
  }
  for (; i < out; ++i) {
    float s = b[i];
    for (int k = 0; k < in; ++k) s += W[static_cast<long>(i) * in + k] * x[k];
    y[i] = s;
  }
}

// 32 outputs at a time live in four registers while every input adds its scaled column.
__attribute__((target("avx2,fma"))) void DenseLayerAvx2(const float* Wt, const float* b, const float* x,
                                                        float* y, int out, int in) {
  int o = 0;
  for (; o + 32 <= out; o += 32) {
    __m256 a0 = _mm256_loadu_ps(b + o), a1 = _mm256_loadu_ps(b + o + 8), a2 = _mm256_loadu_ps(b + o + 16),
           a3 = _mm256_loadu_ps(b + o + 24);
    for (int k = 0; k < in; ++k) {
      const float* w = Wt + static_cast<long>(k) * out + o;
      const __m256 xk = _mm256_broadcast_ss(x + k);
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w), xk, a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8), xk, a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 16), xk, a2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 24), xk, a3);
    }
    _mm256_storeu_ps(y + o, a0);
    _mm256_storeu_ps(y + o + 8, a1);
    _mm256_storeu_ps(y + o + 16, a2);
    _mm256_storeu_ps(y + o + 24, a3);
  }
  for (; o + 8 <= out; o += 8) {
    __m256 a = _mm256_loadu_ps(b + o);
    for (int k = 0; k < in; ++k) {
      a = _mm256_fmadd_ps(_mm256_loadu_ps(Wt + static_cast<long>(k) * out + o), _mm256_broadcast_ss(x + k),
                          a);
    }
    _mm256_storeu_ps(y + o, a);
  }
  for (; o < out; ++o) {
    float sum = b[o];
    for (int k = 0; k < in; ++k) sum += Wt[static_cast<long>(k) * out + o] * x[k];
    y[o] = sum;
  }
}

void DenseLayerPortable64(const float* Wt, const float* b, const double* x, double* y, int out, int in) {
  for (int o = 0; o < out; ++o) y[o] = b[o];
  for (int k = 0; k < in; ++k) {
    const float* column = Wt + static_cast<long>(k) * out;
    const double xk = x[k];
    for (int o = 0; o < out; ++o) y[o] += static_cast<double>(column[o]) * xk;
  }
}

__attribute__((target("avx2,fma"))) double HorizontalSum64(__m256d v) {
  const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

// Four float32 weights widened to float64 (exactly).
__attribute__((target("avx2,fma"))) inline __m256d Widen(const float* w) {
  return _mm256_cvtps_pd(_mm_loadu_ps(w));
}

// The float64 kernels: float32 weights widened exactly, float64 inputs, sums and outputs.

// Four rows at a time share each load of x; two accumulators of four lanes per row.
__attribute__((target("avx2,fma"))) void DenseRows64Avx2(const float* W, const float* b, const double* x,
                                                         double* y, int out, int in) {
  int i = 0;
  for (; i + 4 <= out; i += 4) {
    const float* w0 = W + static_cast<long>(i) * in;
    const float *w1 = w0 + in, *w2 = w1 + in, *w3 = w2 + in;
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd(), a2 = _mm256_setzero_pd(),
            a3 = _mm256_setzero_pd(), c0 = _mm256_setzero_pd(), c1 = _mm256_setzero_pd(),
            c2 = _mm256_setzero_pd(), c3 = _mm256_setzero_pd();
    int k = 0;
    for (; k + 8 <= in; k += 8) {
      const __m256d xa = _mm256_loadu_pd(x + k), xc = _mm256_loadu_pd(x + k + 4);
      a0 = _mm256_fmadd_pd(Widen(w0 + k), xa, a0);
      c0 = _mm256_fmadd_pd(Widen(w0 + k + 4), xc, c0);
      a1 = _mm256_fmadd_pd(Widen(w1 + k), xa, a1);
      c1 = _mm256_fmadd_pd(Widen(w1 + k + 4), xc, c1);
      a2 = _mm256_fmadd_pd(Widen(w2 + k), xa, a2);
      c2 = _mm256_fmadd_pd(Widen(w2 + k + 4), xc, c2);
      a3 = _mm256_fmadd_pd(Widen(w3 + k), xa, a3);
      c3 = _mm256_fmadd_pd(Widen(w3 + k + 4), xc, c3);
    }
    double s0 = HorizontalSum64(_mm256_add_pd(a0, c0)), s1 = HorizontalSum64(_mm256_add_pd(a1, c1)),
           s2 = HorizontalSum64(_mm256_add_pd(a2, c2)), s3 = HorizontalSum64(_mm256_add_pd(a3, c3));
    for (; k < in; ++k) {
      s0 += static_cast<double>(w0[k]) * x[k];
      s1 += static_cast<double>(w1[k]) * x[k];
      s2 += static_cast<double>(w2[k]) * x[k];
      s3 += static_cast<double>(w3[k]) * x[k];
    }
    y[i] = s0 + b[i];
    y[i + 1] = s1 + b[i + 1];
    y[i + 2] = s2 + b[i + 2];
    y[i + 3] = s3 + b[i + 3];
  }
  for (; i < out; ++i) {
    double s = b[i];
    for (int k = 0; k < in; ++k) s += static_cast<double>(W[static_cast<long>(i) * in + k]) * x[k];
    y[i] = s;
  }
}

// 32 outputs at a time live in eight registers while every input adds its scaled column.
__attribute__((target("avx2,fma"))) void DenseLayer64Avx2(const float* Wt, const float* b, const double* x,
                                                          double* y, int out, int in) {
  int o = 0;
  for (; o + 32 <= out; o += 32) {
    __m256d a[8];
    for (int r = 0; r < 8; ++r) a[r] = Widen(b + o + 4 * r);
    for (int k = 0; k < in; ++k) {
      const float* w = Wt + static_cast<long>(k) * out + o;
      const __m256d xk = _mm256_broadcast_sd(x + k);
      for (int r = 0; r < 8; ++r) a[r] = _mm256_fmadd_pd(Widen(w + 4 * r), xk, a[r]);
    }
    for (int r = 0; r < 8; ++r) _mm256_storeu_pd(y + o + 4 * r, a[r]);
  }
  for (; o + 4 <= out; o += 4) {
    __m256d a = Widen(b + o);
    for (int k = 0; k < in; ++k) {
      a = _mm256_fmadd_pd(Widen(Wt + static_cast<long>(k) * out + o), _mm256_broadcast_sd(x + k), a);
    }
    _mm256_storeu_pd(y + o, a);
  }
  for (; o < out; ++o) {
    double sum = b[o];
    for (int k = 0; k < in; ++k) sum += static_cast<double>(Wt[static_cast<long>(k) * out + o]) * x[k];
    y[o] = sum;
  }
}

bool HasAvx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

}  // namespace

void DenseLayer(const float* W, const float* Wt, const float* b, const float* x, float* y, int out, int in) {
  static const bool avx2 = HasAvx2();
  if (!avx2) {
    DenseLayerPortable(Wt, b, x, y, out, in);
  } else if ((in >= 128 && out >= 128) || out < 8) {  // measured: rows win once the layer leaves L1,
                                                      // and for the few outputs of the last layer
    DenseRowsAvx2(W, b, x, y, out, in);
  } else {
    DenseLayerAvx2(Wt, b, x, y, out, in);
  }
}

void DenseLayer(const float* W, const float* Wt, const float* b, const double* x, double* y, int out,
                int in) {
  static const bool avx2 = HasAvx2();
  if (!avx2) {
    DenseLayerPortable64(Wt, b, x, y, out, in);
  } else if ((in >= 128 && out >= 128) || out < 8) {
    DenseRows64Avx2(W, b, x, y, out, in);
  } else {
    DenseLayer64Avx2(Wt, b, x, y, out, in);
  }
}

}  // namespace deepik::internal
