// Internal: x86 intrinsics for the vector paths of the bit sources and the SC engine.
// GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 headers (their _mm512_undefined_*
// placeholders); the pragma keeps those false reports out of the build log.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstdint>

namespace spinsc::detail {

// pdep: the low bits of `src` placed, in order, at the set bits of `mask`.
inline uint64_t deposit_bits(uint64_t src, uint64_t mask) {
#if defined(__BMI2__)
  return _pdep_u64(src, mask);
#else
  uint64_t out = 0;
  for (uint64_t bit = 1; mask; bit <<= 1) {
    if (src & bit) out |= mask & (~mask + 1);
    mask &= mask - 1;
  }
  return out;
#endif
}

}  // namespace spinsc::detail
