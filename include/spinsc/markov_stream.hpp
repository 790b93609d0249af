// MarkovChain2: exact sampling of a sampled two-state telegraph process as a packed bitstream.
//
// A random telegraph signal observed every Ts is the Markov chain
//   P(b[t+1] = 1 | b[t] = s) = p + (s - p) * rho,   rho = exp(-lambda * Ts),
// equivalently: with probability rho the bit holds, otherwise it is a fresh Bernoulli(p) draw.
// The first bit is Bernoulli(first_p) (first_p = p: the device has been running for long).
//
// sample_markov_stream() is exact for every rho in [0, 1) and never spends a random number per
// bit: when the chain switches rarely it draws run lengths (geometric), otherwise it builds
// 64 bits at a time from a "hold" word and a "fresh" word (both Bernoulli words, drawn by
// comparing 64 uniforms with p bit-plane by bit-plane, or by geometric gaps when sparse) and
// resolves the holds with a parallel prefix. sample_markov_stream_reference() draws bit by bit;
// tests use it to check the fast path in distribution.
//
// Streams follow the BitSource layout: bit t is bit t%64 of words[t/64], bits past `length`
// are zero. Thread-safety: pure functions of their arguments and the caller's generator.
#pragma once

#include <cstdint>

#include "spinsc/rng.hpp"

namespace spinsc {

struct MarkovChain2 {
  double p = 0.5;        // stationary P(1)
  double rho = 0.0;      // lag-1 autocorrelation exp(-lambda Ts), in [0, 1)
  double first_p = 0.5;  // P(first bit = 1)

  // Per-step switching probabilities: 1 -> 0 and 0 -> 1.
  double leave_one() const { return (1.0 - p) * (1.0 - rho); }
  double leave_zero() const { return p * (1.0 - rho); }
};

void sample_markov_stream(const MarkovChain2& chain, int64_t length, Xoshiro256& rng, uint64_t* words);
void sample_markov_stream_reference(const MarkovChain2& chain, int64_t length, Xoshiro256& rng, uint64_t* words);

// Var(number of ones in `length` consecutive bits) / (length * p * (1 - p)) for a stationary
// chain with lag-1 correlation rho: 1 + 2 * sum_{k=1}^{length-1} (1 - k/length) * rho^k.
double markov_count_variance_factor(double rho, int64_t length);

}  // namespace spinsc
