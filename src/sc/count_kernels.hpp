// Internal: the counting kernels of the SC engine's accumulators.
//
// They sum, over a batch of synapses, the product-bit counts of one neuron: popcount(x AND w)
// routed up or down by the weight's sign (signmag), or 2 popcount(XNOR(x, w)) - L (bipolar).
// Streams follow the layout of bitstream.hpp (tails zero). The AVX-512 path keeps per-lane
// partial sums in a vector and reduces once per batch. Integer counts: every path gives the same
// numbers, so the choice between them, made at run time from the CPU, never changes a result.
#pragma once

#include <bit>
#include <cstdint>

#include "bits/simd.hpp"
#include "core/cpu.hpp"
#include "spinsc/bitstream.hpp"

namespace spinsc::detail {

// The AVX-512 forms (F and VPOPCNTDQ): compiled for those features whatever the build's
// baseline, called only where the CPU has them (cpu_features().avx512_popcount()). The
// callables x, w, neg are inlined into them.
SPINSC_TARGET_BEGIN("avx512f,avx512vpopcntdq")

template <class X, class W, class Neg>
int64_t signed_and_sum_avx512(int count, int nw, X x, W w, Neg neg) {
  __m512i acc = _mm512_setzero_si512();
  if (nw <= 8) {
    // Streams of one vector (L <= 512): no inner loop.
    const __mmask8 m = static_cast<__mmask8>(0xffu >> (8 - nw));
    for (int a = 0; a < count; ++a) {
      const __m512i s = _mm512_set1_epi64(-static_cast<long long>(neg(a)));
      const __m512i v = _mm512_popcnt_epi64(_mm512_and_si512(_mm512_maskz_loadu_epi64(m, x(a)), _mm512_maskz_loadu_epi64(m, w(a))));
      acc = _mm512_add_epi64(acc, _mm512_sub_epi64(_mm512_xor_si512(v, s), s));
    }
  } else {
    const int full = nw & ~7;
    const __mmask8 tail = static_cast<__mmask8>((1u << (nw & 7)) - 1);
    for (int a = 0; a < count; ++a) {
      const uint64_t* xa = x(a);
      const uint64_t* wa = w(a);
      const __m512i s = _mm512_set1_epi64(-static_cast<long long>(neg(a)));
      __m512i v = _mm512_setzero_si512();
      for (int c = 0; c < full; c += 8)
        v = _mm512_add_epi64(v, _mm512_popcnt_epi64(_mm512_and_si512(_mm512_loadu_si512(xa + c), _mm512_loadu_si512(wa + c))));
      if (tail) {
        const __m512i xv = _mm512_maskz_loadu_epi64(tail, xa + full), wv = _mm512_maskz_loadu_epi64(tail, wa + full);
        v = _mm512_add_epi64(v, _mm512_popcnt_epi64(_mm512_and_si512(xv, wv)));
      }
      acc = _mm512_add_epi64(acc, _mm512_sub_epi64(_mm512_xor_si512(v, s), s));  // -v for a negative weight
    }
  }
  // Reduced through memory: GCC 12 reports its own _mm512_reduce_add_epi64 as uninitialized use.
  alignas(64) int64_t lanes[8];
  _mm512_store_si512(lanes, acc);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
}

// Streams of one vector (nw <= 8) only.
template <class W>
void accumulate_signed_and_avx512(int count, int nw, const uint64_t* x, W w, const uint8_t* neg, const uint32_t* neuron, int64_t* acc) {
  const __mmask8 m = static_cast<__mmask8>(0xffu >> (8 - nw));
  const __m512i xv = _mm512_maskz_loadu_epi64(m, x);
  for (int a = 0; a < count; ++a) {
    const __m512i s = _mm512_set1_epi64(-static_cast<long long>(neg[a]));
    const __m512i v = _mm512_popcnt_epi64(_mm512_and_si512(xv, _mm512_maskz_loadu_epi64(m, w(a))));
    int64_t* dst = acc + static_cast<size_t>(neuron[a]) * 8;
    _mm512_storeu_si512(dst, _mm512_add_epi64(_mm512_loadu_si512(dst), _mm512_sub_epi64(_mm512_xor_si512(v, s), s)));
  }
}

SPINSC_TARGET_END

// sum_a (neg(a) ? -1 : 1) * popcount(x(a) AND w(a)) over a < count; x(a), w(a) return word
// pointers, neg(a) 0 or 1.
template <class X, class W, class Neg>
int64_t signed_and_sum(int count, int nw, X x, W w, Neg neg) {
  if (cpu_features().avx512_popcount()) return signed_and_sum_avx512(count, nw, x, w, neg);
  int64_t sum = 0;
  for (int a = 0; a < count; ++a) {
    const int64_t c = and_count(x(a), w(a), nw), s = neg(a);
    sum += (c ^ -s) + s;
  }
  return sum;
}

// For one input stream x and the weight streams w(a), a < count: acc[8 neuron[a] + lane] +=
// the lane's popcount(x AND w(a)), negated where neg[a]. acc holds 8 partial counts per neuron
// (their sum is the neuron's count), so no horizontal sum is needed per synapse.
template <class W>
void accumulate_signed_and(int count, int nw, const uint64_t* x, W w, const uint8_t* neg, const uint32_t* neuron, int64_t* acc) {
  if (nw <= 8 && cpu_features().avx512_popcount()) {
    accumulate_signed_and_avx512(count, nw, x, w, neg, neuron, acc);
    return;
  }
  for (int a = 0; a < count; ++a) {
    const int64_t c = and_count(x, w(a), nw), s = neg[a];
    acc[static_cast<size_t>(neuron[a]) * 8] += (c ^ -s) + s;
  }
}

// sum_a (2 popcount(XNOR(x(a), w(a))) - L) over the first L bits.
template <class X, class W>
int64_t xnor_sum(int count, int length, X x, W w) {
  int64_t sum = 0;
  for (int a = 0; a < count; ++a) sum += 2 * xnor_count(x(a), w(a), length) - length;
  return sum;
}

}  // namespace spinsc::detail
