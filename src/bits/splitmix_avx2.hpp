// Internal: SplitMix64's finaliser on 4 lanes of AVX2, for the ideal source's AVX2 path and the
// bench's random-bit floor. AVX2 has no 64-bit multiply: each of the finaliser's two is built
// from three 32-bit ones. Only for code that runs where cpu_features() reports AVX2.
#pragma once

#include <cstdint>

#include "bits/simd.hpp"
#include "core/cpu.hpp"

namespace spinsc::detail {

SPINSC_TARGET_BEGIN("avx2")

// x * c mod 2^64 on 4 lanes: lo(x) c + ((hi(x) lo(c) + lo(x) hi(c)) << 32), with c_lo and c_hi
// the halves of c in every lane.
inline __m256i mullo64x4(__m256i x, __m256i c_lo, __m256i c_hi) {
  const __m256i ll = _mm256_mul_epu32(x, c_lo);
  const __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(x, 32), c_lo), _mm256_mul_epu32(x, c_hi));
  return _mm256_add_epi64(ll, _mm256_slli_epi64(cross, 32));
}

// SplitMix64's finaliser (rng.hpp's mix64 without its leading increment) on 4 lanes.
inline __m256i splitmix_finalise4(__m256i x) {
  const __m256i m1_lo = _mm256_set1_epi64x(static_cast<long long>(0xbf58476d1ce4e5b9ULL & 0xffffffffULL));
  const __m256i m1_hi = _mm256_set1_epi64x(static_cast<long long>(0xbf58476d1ce4e5b9ULL >> 32));
  const __m256i m2_lo = _mm256_set1_epi64x(static_cast<long long>(0x94d049bb133111ebULL & 0xffffffffULL));
  const __m256i m2_hi = _mm256_set1_epi64x(static_cast<long long>(0x94d049bb133111ebULL >> 32));
  x = _mm256_xor_si256(x, _mm256_srli_epi64(x, 30));
  x = mullo64x4(x, m1_lo, m1_hi);
  x = _mm256_xor_si256(x, _mm256_srli_epi64(x, 27));
  x = mullo64x4(x, m2_lo, m2_hi);
  return _mm256_xor_si256(x, _mm256_srli_epi64(x, 31));
}

SPINSC_TARGET_END

}  // namespace spinsc::detail
