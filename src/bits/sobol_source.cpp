// The `sobol` source: comparator SNG on a digitally shifted Sobol sequence.
//
// Bit t of a stream is [(X_d(t) XOR a) < T], T = round(p 2^32). X_d is linear over GF(2) in the
// bits of t, so for t = 64 w + j, X_d(t) = X_d(64 w) XOR X_d(j): one word of the stream is 64
// comparisons of a fixed 64-entry table XOR one per-word constant, done 16 at a time with
// AVX-512 compares. A digital shift keeps every dyadic block stratified.
#include "bits/simd.hpp"

#include <array>
#include <bit>
#include <cmath>

#include "bits/stream_hash.hpp"
#include "core/cpu.hpp"
#include "spinsc/error.hpp"
#include "spinsc/sources.hpp"

namespace spinsc {
namespace {

constexpr int kDims = 3;

// Direction numbers v[d][k] (bit k of t contributes v[k]), Joe & Kuo's first dimensions:
// d=1 van der Corput; d=2 polynomial x+1 (m = 1); d=3 polynomial x^2+x+1 (m = 1, 3).
struct Directions {
  std::array<std::array<uint32_t, 32>, kDims> v{};
  std::array<std::array<uint32_t, 64>, kDims> low{};  // X_d(j) for j < 64
  Directions() {
    for (int k = 0; k < 32; ++k) v[0][k] = uint32_t{1} << (31 - k);
    v[1][0] = uint32_t{1} << 31;
    for (int k = 1; k < 32; ++k) v[1][k] = v[1][k - 1] ^ (v[1][k - 1] >> 1);
    v[2][0] = uint32_t{1} << 31;
    v[2][1] = uint32_t{3} << 29;
    for (int k = 2; k < 32; ++k) v[2][k] = v[2][k - 1] ^ v[2][k - 2] ^ (v[2][k - 2] >> 2);
    for (int d = 0; d < kDims; ++d)
      for (uint32_t j = 0; j < 64; ++j) {
        uint32_t x = 0;
        for (int k = 0; k < 6; ++k)
          if ((j >> k) & 1) x ^= v[d][k];
        low[d][j] = x;
      }
  }
};

const Directions& directions() {
  static const Directions dirs;
  return dirs;
}

uint64_t threshold(double p) {
  if (!(p >= 0.0 && p <= 1.0)) fail("bit source 'sobol': probability {} is outside [0, 1]", p);
  return static_cast<uint64_t>(std::llround(std::ldexp(p, 32)));
}

// X_d(64 w) XOR a: the direction numbers v of w's set bits, shifted by 6.
inline uint32_t word_base(const uint32_t* v, uint32_t a, int w) {
  uint32_t base = a;
  for (uint64_t bits = static_cast<uint64_t>(w); bits; bits &= bits - 1) base ^= v[std::countr_zero(bits) + 6];
  return base;
}

// Words w < nw of a stream: bit j of word w is [(low[j] XOR word_base(w)) < t32].
void sobol_words(const uint32_t* low, const uint32_t* v, uint32_t a, uint32_t t32, int nw, uint64_t* words) {
  for (int w = 0; w < nw; ++w) {
    const uint32_t base = word_base(v, a, w);
    uint64_t word = 0;
    for (int j = 0; j < 64; ++j) word |= static_cast<uint64_t>((low[j] ^ base) < t32) << j;
    words[w] = word;
  }
}

// The same on AVX-512 F, 16 comparisons per instruction: compiled for AVX-512 whatever the
// build's baseline, run only where the CPU has it.
SPINSC_TARGET_BEGIN("avx512f")
void sobol_words_avx512(const uint32_t* low, const uint32_t* v, uint32_t a, uint32_t t32, int nw, uint64_t* words) {
  const __m512i thr = _mm512_set1_epi32(static_cast<int>(t32));
  for (int w = 0; w < nw; ++w) {
    const __m512i b = _mm512_set1_epi32(static_cast<int>(word_base(v, a, w)));
    uint64_t word = 0;
    for (int q = 0; q < 4; ++q) {
      const __m512i x = _mm512_xor_si512(_mm512_loadu_si512(low + 16 * q), b);
      word |= static_cast<uint64_t>(_mm512_cmplt_epu32_mask(x, thr)) << (16 * q);
    }
    words[w] = word;
  }
}
SPINSC_TARGET_END

}  // namespace

int SobolSource::dimension(StreamRole role) {
  switch (role) {
    case StreamRole::Input: return 1;
    case StreamRole::Weight: return 2;
    case StreamRole::Bias: return 3;
  }
  return 1;
}

uint32_t SobolSource::point(int dimension, uint64_t t) {
  if (dimension < 1 || dimension > kDims) fail("sobol: dimension {} is not one of 1..{}", dimension, kDims);
  if (t >> 32) fail("sobol: index {} exceeds the 2^32 points of a 32-bit sequence", t);
  const auto& v = directions().v[static_cast<size_t>(dimension - 1)];
  uint32_t x = 0;
  for (int k = 0; k < 32; ++k)
    if ((t >> k) & 1) x ^= v[static_cast<size_t>(k)];
  return x;
}

uint32_t SobolSource::shift(const StreamKey& key) { return static_cast<uint32_t>(detail::stream_hash(key) >> 32); }

double SobolSource::bit_mean(double p, const StreamKey&) const { return std::ldexp(static_cast<double>(threshold(p)), -32); }

double SobolSource::count_variance_factor(double p, int length) const { return simulated_variance_factor(*this, p, length); }

void SobolSource::check_length(int length) const {
  if (length > (1 << 26)) fail("bit source 'sobol': stream length {} exceeds the 2^26 bits a 32-bit sequence stratifies", length);
}

void SobolSource::generate(double p, int length, const StreamKey& key, uint64_t* words) const {
  if (length < 1) fail("bit source 'sobol': stream length {} must be at least 1", length);
  const int nw = words_for(length);
  const uint64_t T = threshold(p);
  check_length(length);
  if (T == 0 || T >> 32) {
    std::fill_n(words, nw, T == 0 ? 0 : ~uint64_t{0});
    words[nw - 1] &= tail_mask(length);
    return;
  }
  const int d = dimension(key.role);
  const auto& low = directions().low[static_cast<size_t>(d - 1)];
  const uint32_t a = shift(key);
  const uint32_t t32 = static_cast<uint32_t>(T);
  const auto& v = directions().v[static_cast<size_t>(d - 1)];
  if (detail::cpu_features().avx512_sobol()) {
    sobol_words_avx512(low.data(), v.data(), a, t32, nw, words);
  } else {
    sobol_words(low.data(), v.data(), a, t32, nw, words);
  }
  words[nw - 1] &= tail_mask(length);
}

}  // namespace spinsc
