// Exact Binomial(n, p) variates, fast for any n.
//
// The SC engine's binomial shortcut draws a few binomials per neuron with n up to L times the
// fan-in (~4e5); the standard library's sampler costs several logarithms and normals per draw.
// This one inverts the distribution when n min(p, 1-p) < 10 (about n p + 1 steps) and otherwise
// uses Hormann's transformed rejection with squeeze (BTRS, 1993): two uniforms and no
// logarithm for ~86% of draws, an exact log-pmf test for the rest. Exact up to double rounding.
//
// Thread-safety: pure function of its arguments; the generator is the caller's.
#pragma once

#include <cstdint>

#include "spinsc/rng.hpp"

namespace spinsc {

// A Binomial(n, p) variate; n <= 0 or p <= 0 give 0, p >= 1 gives n.
int64_t binomial(int64_t n, double p, Xoshiro256& rng);

}  // namespace spinsc
