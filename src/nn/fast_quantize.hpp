// The quantizers of spinsc/quantize.hpp in a form that vectorises, bit-identical to them.
//
// quantize.hpp rounds with std::round (ties away from zero), which compilers do not vectorise;
// these use rint (ties to even, one instruction) and move exact ties away from zero by hand.
// The arithmetic is otherwise the same operation for operation, so results are identical.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

namespace spinsc::nn {

// Without AVX-512 masks, GCC vectorises a loop only if it can evaluate every branch in every
// lane, which a float operation or a signalling comparison (<, <=) under a branch forbids (it
// could raise an exception the scalar code would not). So the functions below select bitwise
// between values computed in every case, with quiet comparisons (__builtin_isless...): the same
// values as the plain conditionals (NaN and signed zeros included), and AVX2 loops.

// c ? a : b, bitwise.
inline float select_bits(bool c, float a, float b) {
  const uint32_t m = 0u - static_cast<uint32_t>(c);
  return std::bit_cast<float>((std::bit_cast<uint32_t>(a) & m) | (std::bit_cast<uint32_t>(b) & ~m));
}
// std::clamp(v, lo, hi), value for value.
inline float clamp_quiet(float v, float lo, float hi) {
  const float a = select_bits(__builtin_isless(v, lo), lo, v);
  return select_bits(__builtin_isless(hi, a), hi, a);
}

// std::round(x) for |x| < 2^22.
inline float round_away(float x) {
  const float r = std::rint(x), away = x + std::copysign(0.5f, x);
  return select_bits(std::fabs(x - r) == 0.5f, away, r);
}

// quantize_weight(w, s, K) with half = (K-1)/2 and km1 = K-1 precomputed as floats.
inline float quantize_weight_fast(float w, float s, float half, float km1) {
  const float u = clamp_quiet(w / s, -1.0f, 1.0f);
  return s * (round_away(u * half) + 0.0f) * 2.0f / km1;  // + 0: -0 -> +0, as via the int level
}

// quantize_activation(z, K) with km1 = K-1.
inline float quantize_activation_fast(float z, float km1) {
  return (round_away(clamp_quiet(z, 0.0f, 1.0f) * km1) + 0.0f) / km1;
}

}  // namespace spinsc::nn

namespace spinsc::nn {

// LSQ's dw_q/ds for n weights at scale s (half = (K-1)/2): q/h - w/s inside the quantizer's
// range, sign(w) outside.
inline void lsq_scale_derivative(const float* __restrict w, float s, float half, float* __restrict dq, int n) {
  for (int i = 0; i < n; ++i) {
    const float u = w[i] / s;
    const float inside = round_away(u * half) / half - u;
    dq[i] = select_bits(__builtin_islessequal(std::fabs(u), 1.0f), inside, select_bits(__builtin_isgreater(u, 0.0f), 1.0f, -1.0f));
  }
}

// Straight-through gradient of the weight quantizer: g kept where |w/s| <= 1, else 0.
inline void mask_saturated(const float* __restrict w, float s, float* __restrict g, int n) {
  for (int i = 0; i < n; ++i) g[i] = select_bits(__builtin_islessequal(std::fabs(w[i] / s), 1.0f), g[i], 0.0f);
}

// sum_i a[i] * b[i] in a fixed order that does not depend on the pointers' alignment (as
// Eigen's dot product does): 16 interleaved partial sums, then the tail, then the partials in
// index order. Vectorises to one 16-lane multiply-add per step.
inline float dot_fixed_order(const float* a, const float* b, int n) {
  float acc[16] = {};
  int i = 0;
  for (; i + 16 <= n; i += 16)
    for (int l = 0; l < 16; ++l) acc[l] += a[i + l] * b[i + l];
  float tail = 0.0f;
  for (; i < n; ++i) tail += a[i] * b[i];
  float sum = 0.0f;
  for (float v : acc) sum += v;
  return sum + tail;
}

// sum_i a[i] in the same fixed order as dot_fixed_order.
inline float sum_fixed_order(const float* a, int n) {
  float acc[16] = {};
  int i = 0;
  for (; i + 16 <= n; i += 16)
    for (int l = 0; l < 16; ++l) acc[l] += a[i + l];
  float tail = 0.0f;
  for (; i < n; ++i) tail += a[i];
  float sum = 0.0f;
  for (float v : acc) sum += v;
  return sum + tail;
}

}  // namespace spinsc::nn
