// Packed bitstreams (SPEC §2): the word layout and the counting kernels of the SC engine.
//
// A stream of L bits occupies words_for(L) 64-bit words; bit t is bit (t % 64) of word t / 64,
// and the bits of the last word past L are zero. Every kernel here relies on that invariant
// (an AND or a popcount never has to mask), except the XNOR count, which masks explicitly
// because the complement of a zero tail is not zero.
//
// Thread-safety: pure functions; Bitstream is a value type.
#pragma once

#include <bit>
#include <cstdint>
#include <vector>

#include "spinsc/bit_source.hpp"

namespace spinsc {

// An owned stream: length bits in words_for(length) words, tail zero.
struct Bitstream {
  int length = 0;
  std::vector<uint64_t> words;

  Bitstream() = default;
  explicit Bitstream(int length_bits) : length(length_bits), words(static_cast<size_t>(words_for(length_bits)), 0) {}
  bool bit(int t) const { return (words[static_cast<size_t>(t) >> 6] >> (t & 63)) & 1u; }
  void set(int t, bool value) {
    const uint64_t m = uint64_t{1} << (t & 63);
    words[static_cast<size_t>(t) >> 6] = value ? (words[static_cast<size_t>(t) >> 6] | m) : (words[static_cast<size_t>(t) >> 6] & ~m);
  }
  long ones() const;
  double value() const { return length ? static_cast<double>(ones()) / length : 0.0; }  // unipolar estimate
};

// Number of ones in `nwords` words.
inline long count_ones(const uint64_t* a, int nwords) {
  long c = 0;
  for (int w = 0; w < nwords; ++w) c += std::popcount(a[w]);
  return c;
}

// Ones of a AND b: the count of a unipolar product stream.
inline long and_count(const uint64_t* a, const uint64_t* b, int nwords) {
  long c = 0;
  for (int w = 0; w < nwords; ++w) c += std::popcount(a[w] & b[w]);
  return c;
}

// Ones of XNOR(a, b) over the first `length` bits: the count of a bipolar product stream.
inline long xnor_count(const uint64_t* a, const uint64_t* b, int length) {
  const int nwords = words_for(length);
  long c = 0;
  for (int w = 0; w + 1 < nwords; ++w) c += std::popcount(~(a[w] ^ b[w]));
  c += std::popcount(~(a[nwords - 1] ^ b[nwords - 1]) & tail_mask(length));
  return c;
}

inline bool all_zero(const uint64_t* a, int nwords) {
  uint64_t any = 0;
  for (int w = 0; w < nwords; ++w) any |= a[w];
  return any == 0;
}

// True when every bit past `length` in the last word is zero (the layout invariant).
inline bool tail_is_clean(const uint64_t* a, int length) { return (a[words_for(length) - 1] & ~tail_mask(length)) == 0; }

inline long Bitstream::ones() const { return count_ones(words.data(), static_cast<int>(words.size())); }

// Draws one stream of `source` into a fresh Bitstream (convenience for tests and tools).
inline Bitstream draw_stream(const BitSource& source, double p, int length, const StreamKey& key) {
  Bitstream s(length);
  source.generate(p, length, key, s.words.data());
  return s;
}

}  // namespace spinsc
