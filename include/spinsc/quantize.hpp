// Uniform quantizers of SPEC §5, shared by training, the digital reference and the SC engine.
//
// K is odd and >= 3. Rounding is to the nearest level, ties away from zero (std::round), so
// the weight quantizer is symmetric under sign.
//   weights:     levels s * q * 2/(K-1), q in {-(K-1)/2, ..., (K-1)/2}   (K = 5: s*{-1,-1/2,0,1/2,1})
//   activations: levels  k / (K-1),      k in {0, ..., K-1}
#pragma once

#include <algorithm>
#include <cmath>

namespace spinsc {

// Signed level index q of weight w at scale s.
inline int weight_level(float w, float s, int K) {
  const float half = 0.5f * static_cast<float>(K - 1);
  const float u = std::clamp(w / s, -1.0f, 1.0f);
  return static_cast<int>(std::round(u * half));
}
inline float weight_value(int q, float s, int K) { return s * static_cast<float>(q) * 2.0f / static_cast<float>(K - 1); }
inline float quantize_weight(float w, float s, int K) { return weight_value(weight_level(w, s, K), s, K); }

// Level index k of an activation a (clipped to [0, 1] first).
inline int activation_level(float a, int K) {
  return static_cast<int>(std::round(std::clamp(a, 0.0f, 1.0f) * static_cast<float>(K - 1)));
}
inline float activation_value(int k, int K) { return static_cast<float>(k) / static_cast<float>(K - 1); }
inline float quantize_activation(float a, int K) { return activation_value(activation_level(a, K), K); }

}  // namespace spinsc
