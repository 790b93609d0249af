// The `lfsr:n` source: a comparator SNG on an n-bit maximal-length Fibonacci LFSR.
//
// Definition (the serial reference): state s_0 seeded nonzero from the key; output bit t is
// [s_t < T]; s_{t+1} = ((s_t << 1) | parity(s_t & taps)) mod 2^n.
//
// Fast path: the register is a window onto one bit sequence b, s_t = sum_k b[t+k] 2^(n-1-k),
// with b[t+n] = XOR of b[t+n-tap]. We generate b 64 bits at a time (the next 64 bits are a
// GF(2)-linear function of the current window: one table lookup per window byte), then decide
// [s_t < T] for 64 (or 512) consecutive t at once by comparing the shifted sequence words
// b[t+k] with T's bits MSB first, stopping when every bit is decided. Same bits as the
// reference, which the tests check.
#include "bits/simd.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include "bits/stream_hash.hpp"
#include "core/cpu.hpp"
#include "spinsc/error.hpp"
#include "spinsc/sources.hpp"

namespace spinsc {
namespace {

// Maximal-length taps (Xilinx XAPP052, "Efficient Shift Registers, LFSR Counters, and Long
// Pseudo-Random Sequence Generators", table 3), n = 3..64. Primitivity is checked by the tests.
const std::vector<std::vector<int>> kTaps = {
    {3, 2}, {4, 3}, {5, 3}, {6, 5}, {7, 6}, {8, 6, 5, 4}, {9, 5}, {10, 7}, {11, 9}, {12, 6, 4, 1},
    {13, 4, 3, 1}, {14, 5, 3, 1}, {15, 14}, {16, 15, 13, 4}, {17, 14}, {18, 11}, {19, 6, 2, 1}, {20, 17},
    {21, 19}, {22, 21}, {23, 18}, {24, 23, 22, 17}, {25, 22}, {26, 6, 2, 1}, {27, 5, 2, 1}, {28, 25},
    {29, 27}, {30, 6, 4, 1}, {31, 28}, {32, 22, 2, 1}, {33, 20}, {34, 27, 2, 1}, {35, 33}, {36, 25},
    {37, 5, 4, 3, 2, 1}, {38, 6, 5, 1}, {39, 35}, {40, 38, 21, 19}, {41, 38}, {42, 41, 20, 19},
    {43, 42, 38, 37}, {44, 43, 18, 17}, {45, 44, 42, 41}, {46, 45, 26, 25}, {47, 42}, {48, 47, 21, 20},
    {49, 40}, {50, 49, 24, 23}, {51, 50, 36, 35}, {52, 49}, {53, 52, 38, 37}, {54, 53, 18, 17}, {55, 31},
    {56, 55, 35, 34}, {57, 50}, {58, 39}, {59, 58, 38, 37}, {60, 59}, {61, 60, 46, 45}, {62, 61, 6, 5},
    {63, 62}, {64, 63, 61, 60}};

uint64_t reverse_bits(uint64_t x) {
  x = ((x >> 1) & 0x5555555555555555ULL) | ((x & 0x5555555555555555ULL) << 1);
  x = ((x >> 2) & 0x3333333333333333ULL) | ((x & 0x3333333333333333ULL) << 2);
  x = ((x >> 4) & 0x0f0f0f0f0f0f0f0fULL) | ((x & 0x0f0f0f0f0f0f0f0fULL) << 4);
  return __builtin_bswap64(x);
}

// Funnel shift: bits k..k+63 of the 128-bit value hi:lo (0 <= k < 64).
inline uint64_t funnel(uint64_t lo, uint64_t hi, int k) { return k == 0 ? lo : (lo >> k) | (hi << (64 - k)); }

}  // namespace

const std::vector<int>& lfsr_taps(int n) {
  if (n < 3 || n > 64) fail("lfsr: register length {} must be between 3 and 64", n);
  return kTaps[static_cast<size_t>(n - 3)];
}

LfsrSource::LfsrSource(int bits) : bits_(bits) {
  const auto& taps = lfsr_taps(bits);
  mask_ = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  scale_ = std::ldexp(1.0, bits);
  tap_mask_ = 0;
  for (int t : taps) tap_mask_ |= uint64_t{1} << (t - 1);
  // Response of the next 64 sequence bits to each unit window b[k] = 1 (window bit k = b[t+k]).
  std::vector<uint64_t> response(static_cast<size_t>(bits));
  for (int k = 0; k < bits; ++k) {
    std::vector<uint8_t> b(static_cast<size_t>(bits) + 64, 0);
    b[static_cast<size_t>(k)] = 1;
    uint64_t r = 0;
    for (int i = 0; i < 64; ++i) {
      uint8_t f = 0;
      for (int t : taps) f ^= b[static_cast<size_t>(i + bits - t)];
      b[static_cast<size_t>(i + bits)] = f;
      r |= static_cast<uint64_t>(f) << i;
    }
    response[static_cast<size_t>(k)] = r;
  }
  jump_.assign(static_cast<size_t>((bits + 7) / 8), {});
  for (size_t q = 0; q < jump_.size(); ++q)
    for (int v = 0; v < 256; ++v) {
      uint64_t r = 0;
      for (int j = 0; j < 8; ++j) {
        const int k = static_cast<int>(q) * 8 + j;
        if ((v >> j) & 1 && k < bits) r ^= response[static_cast<size_t>(k)];
      }
      jump_[q][static_cast<size_t>(v)] = r;
    }
}

uint64_t LfsrSource::initial_state(const StreamKey& key) const {
  const uint64_t s = detail::stream_hash(key) & mask_;
  return s ? s : 1;
}

uint64_t LfsrSource::step(uint64_t state) const {
  const uint64_t fb = static_cast<uint64_t>(std::popcount(state & tap_mask_) & 1);
  return ((state << 1) | fb) & mask_;
}

unsigned __int128 LfsrSource::threshold(double p) const {
  if (!(p >= 0.0 && p <= 1.0)) fail("bit source '{}': probability {} is outside [0, 1]", name(), p);
  const double x = p * scale_;  // exact: a multiplication by 2^n
  if (x >= 18446744073709551616.0) return static_cast<unsigned __int128>(1) << 64;
  const auto whole = static_cast<uint64_t>(x);  // exact truncation below 2^64
  return whole + (x - static_cast<double>(whole) >= 0.5 ? 1 : 0);
}

double LfsrSource::bit_mean(double p, const StreamKey&) const {
  const unsigned __int128 T = threshold(p);
  const long double period = std::ldexp(1.0L, bits_) - 1.0L;
  if (T == 0) return 0.0;
  if (T > mask_) return 1.0;
  return static_cast<double>(static_cast<long double>(static_cast<uint64_t>(T) - 1) / period);
}

double LfsrSource::count_variance_factor(double p, int length) const { return simulated_variance_factor(*this, p, length); }

void LfsrSource::generate_serial(double p, int length, const StreamKey& key, uint64_t* words) const {
  if (length < 1) fail("bit source '{}': stream length {} must be at least 1", name(), length);
  const unsigned __int128 T = threshold(p);
  uint64_t s = initial_state(key);
  std::fill_n(words, words_for(length), 0);
  for (int t = 0; t < length; ++t) {
    words[t >> 6] |= static_cast<uint64_t>(static_cast<unsigned __int128>(s) < T) << (t & 63);
    s = step(s);
  }
}

void LfsrSource::generate(double p, int length, const StreamKey& key, uint64_t* words) const {
  const uint64_t device = key.device;
  generate_batch(1, &p, &device, length, key, words, static_cast<size_t>(words_for(length)));
}

namespace {

// The vector form of compare_windows: eight words at a time, the last vector masked. Compiled
// for AVX-512 F and VBMI2 whatever the build's baseline; run only where the CPU has them.
SPINSC_TARGET_BEGIN("avx512f,avx512vbmi2")
void compare_windows_avx512(const uint64_t* seq, uint64_t T, int n, int nw, int last, uint64_t* words) {
  for (int w = 0; w < nw; w += 8) {
    const __mmask8 m = nw - w >= 8 ? 0xff : static_cast<__mmask8>((1u << (nw - w)) - 1);
    const __m512i lo = _mm512_maskz_loadu_epi64(m, seq + w), hi = _mm512_maskz_loadu_epi64(m, seq + w + 1);
    __m512i res = _mm512_setzero_si512(), und = _mm512_maskz_set1_epi64(m, -1);
    for (int k = 0; k <= last; ++k) {
      const __m512i u = _mm512_shrdv_epi64(lo, hi, _mm512_set1_epi64(k));
      const __m512i tb = _mm512_set1_epi64(-static_cast<long long>((T >> (n - 1 - k)) & 1));
      res = _mm512_or_si512(res, _mm512_ternarylogic_epi64(und, u, tb, 0x20));  // und & ~u & tb
      und = _mm512_ternarylogic_epi64(und, u, tb, 0x90);                          // und & ~(u ^ tb)
      if (!_mm512_test_epi64_mask(und, und)) break;
    }
    _mm512_mask_storeu_epi64(words + w, m, res);
  }
}
SPINSC_TARGET_END

// [s_t < T] for t < 64 nw: compares b[t], b[t+1], ... with T's bits from bit n-1 down, MSB
// first, stopping when every bit of the word (vector) is decided.
void compare_windows(const uint64_t* seq, uint64_t T, int n, int nw, uint64_t* words) {
  const int last = n - 1 - std::countr_zero(T);
  if (detail::cpu_features().avx512_lfsr()) {
    compare_windows_avx512(seq, T, n, nw, last, words);
    return;
  }
  for (int w = 0; w < nw; ++w) {
    uint64_t res = 0, und = ~uint64_t{0};
    for (int k = 0; k <= last && und; ++k) {
      const uint64_t u = funnel(seq[w], seq[w + 1], k);
      const uint64_t tb = uint64_t{0} - ((T >> (n - 1 - k)) & 1);
      res |= und & ~u & tb;
      und &= ~(u ^ tb);
    }
    words[w] = res;
  }
}

}  // namespace

void LfsrSource::generate_batch(int count, const double* p, const uint64_t* devices, int length, const StreamKey& key,
                                uint64_t* out, size_t stride) const {
  if (length < 1) fail("bit source '{}': stream length {} must be at least 1", name(), length);
  const int n = bits_, nw = words_for(length);
  const uint64_t tail = tail_mask(length);
  // Each stream's sequence b[0 .. length + n - 2], packed, plus a spare word for the funnel
  // shifts. Blocks of 64 new bits start at bit n + 64 m; each depends on the previous window, so
  // eight streams are advanced together to overlap their lookup chains.
  const int blocks = (length - 1 + 63) / 64;
  const size_t seq_words = static_cast<size_t>(words_for(length + n - 1)) + 2;
  constexpr int kGroup = 8;
  thread_local std::vector<uint64_t> seqs;
  seqs.resize(seq_words * kGroup);
  const uint64_t prefix = detail::stream_prefix(key);
  for (int g = 0; g < count; g += kGroup) {
    const int G = std::min(kGroup, count - g);
    for (int q = 0; q < G; ++q) {
      uint64_t* seq = seqs.data() + static_cast<size_t>(q) * seq_words;
      std::fill_n(seq, seq_words, 0);
      uint64_t s0 = detail::stream_hash(prefix, devices[g + q]) & mask_;
      if (!s0) s0 = 1;
      seq[0] = reverse_bits(s0) >> (64 - n);  // b[k] = bit n-1-k of s_0
    }
    for (int m = 0; m < blocks; ++m)
      for (int q = 0; q < G; ++q) {
        uint64_t* seq = seqs.data() + static_cast<size_t>(q) * seq_words;
        const uint64_t window = seq[m] & mask_;
        uint64_t block = 0;
        for (size_t b = 0; b < jump_.size(); ++b) block ^= jump_[b][(window >> (8 * b)) & 0xff];
        if (n < 64) {
          seq[m] |= block << n;
          seq[m + 1] = block >> (64 - n);
        } else {
          seq[m + 1] = block;
        }
      }
    for (int q = 0; q < G; ++q) {
      uint64_t* words = out + static_cast<size_t>(g + q) * stride;
      const unsigned __int128 Tw = threshold(p[g + q]);
      if (Tw == 0 || Tw > mask_) {
        std::fill_n(words, nw, Tw == 0 ? 0 : ~uint64_t{0});
      } else {
        compare_windows(seqs.data() + static_cast<size_t>(q) * seq_words, static_cast<uint64_t>(Tw), n, nw, words);
      }
      words[nw - 1] &= tail;
    }
  }
}

}  // namespace spinsc
