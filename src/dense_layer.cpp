#include "dense_layer.hpp"

#include <immintrin.h>

namespace deepik::internal {
namespace {

void DenseLayerPortable(const float* W, const float* b, const float* x, float* y, int out, int in) {
  for (int i = 0; i < out; ++i) {
    const float* w = W + static_cast<long>(i) * in;
    float sum = 0.0f;
    for (int k = 0; k < in; ++k) sum += w[k] * x[k];
    y[i] = sum + b[i];
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
__attribute__((target("avx2,fma"))) void DenseLayerAvx2(const float* W, const float* b, const float* x,
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
    const float* w = W + static_cast<long>(i) * in;
    __m256 a = _mm256_setzero_ps();
    int k = 0;
    for (; k + 8 <= in; k += 8) a = _mm256_fmadd_ps(_mm256_loadu_ps(w + k), _mm256_loadu_ps(x + k), a);
    float s = HorizontalSum(a);
    for (; k < in; ++k) s += w[k] * x[k];
    y[i] = s + b[i];
  }
}

using Kernel = void (*)(const float*, const float*, const float*, float*, int, int);

Kernel ChooseKernel() {
  __builtin_cpu_init();
  return (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? DenseLayerAvx2
                                                                           : DenseLayerPortable;
}

}  // namespace

void DenseLayer(const float* W, const float* b, const float* x, float* y, int out, int in) {
  static const Kernel kernel = ChooseKernel();
  kernel(W, b, x, y, out, in);
}

}  // namespace deepik::internal
