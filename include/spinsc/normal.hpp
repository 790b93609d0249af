// Fast exact standard normal variates (Marsaglia and Tsang's ziggurat, 256 layers).
//
// The SC noise model draws one normal per pre-activation of every training image (~58 000 per
// minibatch of the default network); Box–Muller (Xoshiro256::normal) spends a logarithm, a
// square root and a cosine on each. The ziggurat accepts ~99% of draws with one 64-bit word,
// a multiply and a compare: 8 bits pick the layer, 53 bits the position in it. The rest are
// decided by the density (one exp) or drawn from the tail beyond r = 3.654 (Marsaglia's
// method, two logarithms). Exact up to double rounding.
//
// Thread-safety: the tables are constants built once (thread-safe static initialisation); the
// generator is the caller's.
#pragma once

#include "spinsc/rng.hpp"

namespace spinsc {

// A standard normal variate.
double ziggurat_normal(Xoshiro256& rng);

}  // namespace spinsc
