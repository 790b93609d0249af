// The built-in bit sources of SPEC §3: `ideal`, `lfsr[:n]` and `sobol`.
//
// All three are comparator SNGs: bit t of a stream is [U_t < T] with T the target p as a
// fixed-point threshold; they differ in where the numbers U_t come from.
//
//   ideal     U_t = 32 fresh random bits per stream bit, from the counter-based hash
//             mix64(h + i * golden) of rng.hpp (SplitMix64 outputs, h = stream_seed(key)).
//             The comparison runs MSB first, bit-parallel over 64-bit words and AVX-512
//             vectors: kDenseSteps steps for every bit, then the few undecided bits take the
//             bits of a continuation comparison (same sequence from index kContinuationIndex
//             on) scattered into place; the exact definition is in ideal_source.cpp. Bits are
//             i.i.d. Bernoulli(T / 2^32): p is resolved to 32 bits (|error| <= 2^-33).
//   lfsr:n    U_t = the state of an n-bit maximal-length Fibonacci LFSR (3 <= n <= 64, default
//             32) advanced once per bit, T = round(p * 2^n). The state is seeded (nonzero) from
//             the key. Over a full period the mean is (T - 1) / (2^n - 1), not T / 2^n: the
//             all-zero state never occurs. Consecutive states are shifted copies of each other,
//             so successive bits are correlated (the CMOS baseline's known weakness).
//   sobol     U_t = X_d(t) XOR a, the 32-bit Sobol point t of dimension d with a random digital
//             shift a drawn from the key (so that streams differ). d depends on the stream's
//             role: inputs use dimension 1 (van der Corput), weights dimension 2, so an input and
//             a weight stream form a 2-D (0,2)-sequence and their AND estimates the product with
//             O(log L / L) error instead of O(1/sqrt L). Every aligned block of 2^k bits holds
//             floor(p 2^k) or floor(p 2^k) + 1 ones. Two streams of the same role differ only by
//             their shift and are therefore strongly correlated with each other.
//
// Thread-safety: the sources are immutable after construction; all methods are const and may
// be called concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "spinsc/bit_source.hpp"

namespace spinsc {

class IdealSource final : public BitSource {
 public:
  static constexpr int kResolutionBits = 32;
  static constexpr int kDenseSteps = 4;  // S: comparison steps done for every bit (see ideal_source.cpp)
  static constexpr uint64_t kContinuationIndex = uint64_t{1} << 40;  // first random word of phase B

  std::string name() const override { return "ideal"; }
  bool exact_extremes() const override { return true; }
  void generate(double p, int length, const StreamKey& key, uint64_t* words) const override;
  double markov_correlation(double) const override { return 0.0; }  // i.i.d. bits
  bool iid_bits() const override { return true; }
  void generate_batch(int count, const double* p, const uint64_t* devices, int length, const StreamKey& key,
                      uint64_t* out, size_t stride) const override;
  double bit_mean(double p, const StreamKey& key) const override;
  // The portable (scalar) path: the same bits as generate_batch() without AVX-512; used when the
  // build has no AVX-512 and by the tests to check both paths.
  void generate_batch_portable(int count, const double* p, const uint64_t* devices, int length, const StreamKey& key,
                               uint64_t* out, size_t stride) const;
  // The AVX2 path (chosen by generate_batch() where the CPU has AVX2 and BMI2 but not the
  // AVX-512 path's features): the same bits. Throws spinsc::Error where the CPU lacks AVX2 or
  // BMI2. Public for the tests, which check every path the CPU can run against the definition.
  void generate_batch_avx2(int count, const double* p, const uint64_t* devices, int length, const StreamKey& key,
                           uint64_t* out, size_t stride) const;

  // The hash seed h of the stream named by key; random word i of the stream is mix64(h + i * golden),
  // word w of the output uses i = 64 w + k for comparison step k (MSB first).
  static uint64_t stream_seed(const StreamKey& key);
  // round(p * 2^32) for p in [0, 1]; throws spinsc::Error for p outside [0, 1] or NaN.
  static uint64_t threshold(double p);
};

// Feedback taps of a maximal-length n-bit LFSR (3 <= n <= 64): bit positions 1..n, largest first,
// of the primitive polynomial's terms (Xilinx XAPP052 table). The recurrence is
// b[t+n] = XOR over taps of b[t+n-tap].
const std::vector<int>& lfsr_taps(int n);

class LfsrSource final : public BitSource {
 public:
  explicit LfsrSource(int bits = 32);

  std::string name() const override { return "lfsr:" + std::to_string(bits_); }
  bool exact_extremes() const override { return true; }
  void generate(double p, int length, const StreamKey& key, uint64_t* words) const override;
  void generate_batch(int count, const double* p, const uint64_t* devices, int length, const StreamKey& key,
                      uint64_t* out, size_t stride) const override;
  double bit_mean(double p, const StreamKey& key) const override;
  double count_variance_factor(double p, int length) const override;

  int bits() const { return bits_; }
  // The seeded state of the stream named by key (nonzero, < 2^n).
  uint64_t initial_state(const StreamKey& key) const;
  // One step of the register: state' = ((state << 1) | feedback) mod 2^n.
  uint64_t step(uint64_t state) const;
  // round(p * 2^n) (halves up) in [0, 2^n]; 128 bits because 2^64 is a valid value for n = 64.
  unsigned __int128 threshold(double p) const;
  // Bit-serial reference: the same bits as generate(), one state step per bit.
  void generate_serial(double p, int length, const StreamKey& key, uint64_t* words) const;

 private:
  int bits_;
  uint64_t mask_;
  uint64_t tap_mask_;  // state bits whose parity is the feedback bit
  double scale_;       // 2^n
  // Jump tables: the next 64 sequence bits as a GF(2)-linear function of the current window,
  // one table of 256 entries per window byte.
  std::vector<std::array<uint64_t, 256>> jump_;
};

class SobolSource final : public BitSource {
 public:
  std::string name() const override { return "sobol"; }
  bool exact_extremes() const override { return true; }
  void generate(double p, int length, const StreamKey& key, uint64_t* words) const override;
  void check_length(int length) const override;  // at most 2^26 bits
  double bit_mean(double p, const StreamKey& key) const override;
  double count_variance_factor(double p, int length) const override;

  // Sobol dimension used for a role: Input 1, Weight 2, Bias 3.
  static int dimension(StreamRole role);
  // The unshifted 32-bit point X_d(t) (d = 1, 2, 3).
  static uint32_t point(int dimension, uint64_t t);
  // The digital shift of the stream named by key.
  static uint32_t shift(const StreamKey& key);
};

// Estimated count_variance_factor of any source by simulation: `streams` streams of `length`
// bits at target p under fixed keys; used by sources whose count variance has no closed form.
double simulated_variance_factor(const BitSource& source, double p, int length, int streams = 512);

}  // namespace spinsc
