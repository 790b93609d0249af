// Internal: the bit kernels of the multiply rules (arithmetic.hpp), one type per rule. The
// engine's stage walks (sc_engine.cpp) are compiled once per type and chosen once per stage
// (with_multiply_kernel), so that what a rule does to the bits is written here, once, and the
// walks only drive it. A new multiply rule is a new type here with the same members:
//   active(c)                whether a synapse whose input stream has c ones can contribute
//   constant(one, zero, c, negative, L)
//                            the counter contribution of a synapse whose weight stream is a
//                            constant (all ones or all zeros; neither: 0), from the input's c
//   batch(count, nw, L, x, w, negative)
//                            the summed contributions of `count` synapses with drawn streams
//                            (x(a), w(a): their input and weight streams)
//   bit(x, w, negative, up, down)
//                            one product bit of the scaled adder (mux): counted up or down
//   mux_counter(n, up, down, L)
//                            the mux counter of n synapses from the selected bits' counts
//
// Thread-safety: stateless.
#pragma once

#include <cstdint>

#include "sc/count_kernels.hpp"
#include "spinsc/arithmetic.hpp"

namespace spinsc::detail {

// AND of x and |w|; the weight's sign routes the product to the up or the down count.
struct SignMagnitudeKernel {
  static bool active(int64_t ones) { return ones != 0; }  // an all-zero input: all-zero products
  static int64_t constant(bool one, bool /*zero*/, int64_t c, int64_t negative, int /*L*/) {
    return one * ((c ^ -negative) + negative);  // AND with all ones: the input count, signed
  }
  template <class X, class W, class Neg>
  static int64_t batch(int count, int nw, int /*L*/, X x, W w, Neg negative) {
    return signed_and_sum(count, nw, x, w, negative);
  }
  static void bit(bool x, bool w, bool negative, int64_t& up, int64_t& down) {
    const int64_t prod = x && w, sign = -static_cast<int64_t>(negative);
    up += prod & ~sign;
    down += prod & sign;
  }
  static int64_t mux_counter(int64_t n, int64_t up, int64_t down, int /*L*/) { return n * (up - down); }
};

// XNOR of the bipolar streams; a product bit counts +1 when 1 and -1 when 0.
struct BipolarKernel {
  static bool active(int64_t) { return true; }  // 0 encodes -1: every input contributes
  static int64_t constant(bool one, bool zero, int64_t c, int64_t /*negative*/, int L) {
    return one * (2 * c - L) + zero * (L - 2 * c);  // XNOR with all ones / all zeros
  }
  template <class X, class W, class Neg>
  static int64_t batch(int count, int /*nw*/, int L, X x, W w, Neg) {
    return xnor_sum(count, L, x, w);
  }
  static void bit(bool x, bool w, bool /*negative*/, int64_t& up, int64_t& /*down*/) { up += x == w; }
  static int64_t mux_counter(int64_t n, int64_t up, int64_t /*down*/, int L) { return n * (2 * up - L); }
};

// f(kernel) with the kernel type of the multiply rule m.
template <class F>
decltype(auto) with_multiply_kernel(Multiply m, F&& f) {
  switch (m) {
    case Multiply::Bipolar: return f(BipolarKernel{});
    case Multiply::SignMagnitude: break;
  }
  return f(SignMagnitudeKernel{});
}

}  // namespace spinsc::detail
