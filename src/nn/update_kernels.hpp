// Optimizer steps over arrays of parameters, vectorised and bit-reproducible.
//
// Every element goes through the same instruction sequence whatever the array's length or
// alignment (AVX-512 or AVX2, whichever the build's baseline has, with a masked tail; otherwise
// one scalar loop), so a parameter's update does not depend on how the arrays were allocated or
// split: training stays bit-identical. The three forms do the same IEEE operations in the same
// order (no contraction: -ffp-contract=off), so they also give the same numbers as each other.
// (Eigen's array sqrt is an approximation in its vector lanes and exact in its scalar peel,
// and a plain loop with std::sqrt does not vectorise because of errno.)
#pragma once

#include <immintrin.h>

#include <algorithm>

#include <cmath>
#include <cstddef>

namespace spinsc::nn {

#if defined(__AVX2__) && !defined(__AVX512F__)
// Lanes l < left of 8 selected (all when left >= 8), as a maskload/maskstore mask.
inline __m256i tail_mask8(size_t left) {
  const int k = static_cast<int>(std::min<size_t>(left, 8));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#endif

struct AdamStep {
  float beta1, beta2, eps;
  float step;  // bias-corrected learning rate
  float keep;  // 1 - lr * weight_decay (decoupled decay), 1 for none
};

// m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p = keep p - step m / (sqrt(v) + eps).
inline void adam_update(float* p, float* m, float* v, const float* g, size_t n, const AdamStep& s) {
#if defined(__AVX512F__)
  const __m512 b1 = _mm512_set1_ps(s.beta1), c1 = _mm512_set1_ps(1.0f - s.beta1);
  const __m512 b2 = _mm512_set1_ps(s.beta2), c2 = _mm512_set1_ps(1.0f - s.beta2);
  const __m512 eps = _mm512_set1_ps(s.eps), step = _mm512_set1_ps(s.step), keep = _mm512_set1_ps(s.keep);
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 k = n - i >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1u);
    const __m512 G = _mm512_maskz_loadu_ps(k, g + i);
    __m512 M = _mm512_maskz_loadu_ps(k, m + i), V = _mm512_maskz_loadu_ps(k, v + i), P = _mm512_maskz_loadu_ps(k, p + i);
    M = _mm512_add_ps(_mm512_mul_ps(b1, M), _mm512_mul_ps(c1, G));
    V = _mm512_add_ps(_mm512_mul_ps(b2, V), _mm512_mul_ps(_mm512_mul_ps(c2, G), G));
    P = _mm512_sub_ps(_mm512_mul_ps(keep, P), _mm512_div_ps(_mm512_mul_ps(step, M), _mm512_add_ps(_mm512_sqrt_ps(V), eps)));
    _mm512_mask_storeu_ps(m + i, k, M);
    _mm512_mask_storeu_ps(v + i, k, V);
    _mm512_mask_storeu_ps(p + i, k, P);
  }
#elif defined(__AVX2__)
  const __m256 b1 = _mm256_set1_ps(s.beta1), c1 = _mm256_set1_ps(1.0f - s.beta1);
  const __m256 b2 = _mm256_set1_ps(s.beta2), c2 = _mm256_set1_ps(1.0f - s.beta2);
  const __m256 eps = _mm256_set1_ps(s.eps), step = _mm256_set1_ps(s.step), keep = _mm256_set1_ps(s.keep);
  for (size_t i = 0; i < n; i += 8) {
    const __m256i k = tail_mask8(n - i);
    const __m256 G = _mm256_maskload_ps(g + i, k);
    __m256 M = _mm256_maskload_ps(m + i, k), V = _mm256_maskload_ps(v + i, k), P = _mm256_maskload_ps(p + i, k);
    M = _mm256_add_ps(_mm256_mul_ps(b1, M), _mm256_mul_ps(c1, G));
    V = _mm256_add_ps(_mm256_mul_ps(b2, V), _mm256_mul_ps(_mm256_mul_ps(c2, G), G));
    P = _mm256_sub_ps(_mm256_mul_ps(keep, P), _mm256_div_ps(_mm256_mul_ps(step, M), _mm256_add_ps(_mm256_sqrt_ps(V), eps)));
    _mm256_maskstore_ps(m + i, k, M);
    _mm256_maskstore_ps(v + i, k, V);
    _mm256_maskstore_ps(p + i, k, P);
  }
#else
  for (size_t i = 0; i < n; ++i) {
    m[i] = s.beta1 * m[i] + (1.0f - s.beta1) * g[i];
    v[i] = s.beta2 * v[i] + (1.0f - s.beta2) * g[i] * g[i];
    p[i] = s.keep * p[i] - s.step * m[i] / (std::sqrt(v[i]) + s.eps);
  }
#endif
}

// Heavy-ball SGD: m = mu m + g;  p = keep p - lr m.
inline void sgd_update(float* p, float* m, const float* g, size_t n, float lr, float momentum, float keep) {
#if defined(__AVX512F__)
  const __m512 mu = _mm512_set1_ps(momentum), rate = _mm512_set1_ps(lr), kp = _mm512_set1_ps(keep);
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 k = n - i >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1u);
    const __m512 G = _mm512_maskz_loadu_ps(k, g + i);
    __m512 M = _mm512_maskz_loadu_ps(k, m + i), P = _mm512_maskz_loadu_ps(k, p + i);
    M = _mm512_add_ps(_mm512_mul_ps(mu, M), G);
    P = _mm512_sub_ps(_mm512_mul_ps(kp, P), _mm512_mul_ps(rate, M));
    _mm512_mask_storeu_ps(m + i, k, M);
    _mm512_mask_storeu_ps(p + i, k, P);
  }
#elif defined(__AVX2__)
  const __m256 mu = _mm256_set1_ps(momentum), rate = _mm256_set1_ps(lr), kp = _mm256_set1_ps(keep);
  for (size_t i = 0; i < n; i += 8) {
    const __m256i k = tail_mask8(n - i);
    const __m256 G = _mm256_maskload_ps(g + i, k);
    __m256 M = _mm256_maskload_ps(m + i, k), P = _mm256_maskload_ps(p + i, k);
    M = _mm256_add_ps(_mm256_mul_ps(mu, M), G);
    P = _mm256_sub_ps(_mm256_mul_ps(kp, P), _mm256_mul_ps(rate, M));
    _mm256_maskstore_ps(m + i, k, M);
    _mm256_maskstore_ps(p + i, k, P);
  }
#else
  for (size_t i = 0; i < n; ++i) {
    m[i] = momentum * m[i] + g[i];
    p[i] = keep * p[i] - lr * m[i];
  }
#endif
}

}  // namespace spinsc::nn
