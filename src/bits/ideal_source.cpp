// The `ideal` source: i.i.d. Bernoulli(T / 2^32) bits, bit-parallel.
//
// Definition. Stream hash h (stream_seed), T = round(p 2^32), S = 4, random words
// r_i = mix64(h + i golden) (one SplitMix64 sequence per stream), r'_i = r_{2^40 + i}: phase B
// reads the same sequence from index 2^40 on, far past any index phase A uses.
//   Phase A: bit j of output word w compares the uniform U with T MSB first, U's bit k (k < S)
//   being bit j of r_{64w+k}: the bit is 1 once a U bit is 0 where T's is 1, 0 once a U bit is
//   1 where T's is 0. After S steps all but ~2^-S of the bits are decided.
//   Phase B: the still undecided bits t < L of the stream, in order of position, get the bits of
//   a continuation stream in order: continuation bit c (word c / 64, bit c % 64) is the same MSB
//   first comparison of fresh bits of r'_{64 (c/64) + k} with T's low 32 - S bits.
// Every bit is thus [U < T] for 32 independent fair bits U: i.i.d. Bernoulli(T / 2^32). Phase B
// spends random words only on the few undecided bits (scattered back with pdep), so a 500-bit
// stream costs about S + 1.3 random vectors instead of the ~11 a dense comparison needs.
// Comparisons stop at T's lowest set bit (below it an undecided bit can only end as 0), so
// p = 1/2 costs one step and no continuation. The AVX-512 paths and the scalar path compute the
// same bits; the tests check all of them against this definition.
//
// AVX-512 paths (compiled for AVX-512 whatever the build's baseline, chosen at run time where the
// CPU has AVX-512 F, DQ, CD and BMI2): streams of 1..4 words share vectors; 5..8 words (L = 257..512) take one vector
// each (generate_vector_streams); longer streams go 8 words per vector. The cost is vector
// operations (~9 per random vector), so the one-vector path avoids unpredictable branches: a
// fixed number of continuation steps, the rare lanes still undecided finished scalar.
#include <algorithm>
#include <bit>
#include <cmath>
#include <vector>

#include "bits/aligned_words.hpp"
#include "core/cpu.hpp"
#include "bits/simd.hpp"
#include "bits/splitmix_avx2.hpp"
#include "bits/stream_hash.hpp"
#include "spinsc/error.hpp"
#include "spinsc/sources.hpp"

namespace spinsc {
namespace {

constexpr uint64_t kFull = uint64_t{1} << 32;  // threshold of p = 1
constexpr int kDense = IdealSource::kDenseSteps;
// Steps of the vector comparison of continuation word 0 in the one-vector path (then scalar).
constexpr int kVectorContinuationSteps = 12;
// Phase B's hash: its counters h' + (i + 1) golden are phase A's from index 2^40 on.
inline uint64_t continuation_hash(uint64_t h) { return h + IdealSource::kContinuationIndex * detail::kGolden; }

// SplitMix64's finaliser without its leading increment (the counters below include it).
inline uint64_t finalise(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Counter of random word i = 64 w + 0: mix64(h + i golden) = finalise(h + (i + 1) golden).
inline uint64_t first_counter(uint64_t h, uint64_t w) { return h + (w * 64 + 1) * detail::kGolden; }

// MSB-first comparison of `bits`-bit uniforms (bit k from the word at counter + k golden) with
// `thr` (< 2^bits) for the lanes in `und`; returns the lanes decided as 1 and leaves in `und`
// those still undecided after `steps` steps.
inline uint64_t compare_scalar(uint64_t counter, uint64_t thr, int bits, int steps, uint64_t& und) {
  uint64_t res = 0;
  for (int k = 0; k < steps && und; ++k) {
    const uint64_t u = finalise(counter + static_cast<uint64_t>(k) * detail::kGolden);
    const uint64_t tb = uint64_t{0} - ((thr >> (bits - 1 - k)) & 1);
    res |= und & ~u & tb;
    und &= ~(u ^ tb);
  }
  return res;
}

// Comparison steps that can still produce a 1 for a `bits`-bit threshold: up to its lowest set bit.
inline int useful_steps(uint64_t thr, int bits) { return thr ? bits - std::countr_zero(thr) : 0; }

// Continuation word cw of a stream, for the lanes in `need`.
inline uint64_t continuation_word(uint64_t h2, uint64_t low_thr, uint64_t cw, uint64_t need) {
  uint64_t und = need;
  return compare_scalar(first_counter(h2, cw), low_thr, 32 - kDense, useful_steps(low_thr, 32 - kDense), und);
}

// Bits [offset, offset + 64) of a packed bit array (zero past its end).
inline uint64_t bits_at(const uint64_t* a, size_t nwords, uint64_t offset) {
  const size_t w = offset >> 6;
  const int b = static_cast<int>(offset & 63);
  const uint64_t lo = w < nwords ? a[w] : 0, hi = w + 1 < nwords ? a[w + 1] : 0;
  return b ? (lo >> b) | (hi << (64 - b)) : lo;
}

struct StreamPlan {
  uint64_t h = 0, T = 0;
};

using detail::AlignedWords;

struct Scratch {
  std::vector<StreamPlan> plan;
  AlignedWords hash, thr, res0, und, cont, staging;
  std::vector<uint64_t> extra;
  std::vector<int> pending;
};

// out[w] = in[w] | the bits of word0, in order, at the set bits of und[w], for w < nw; returns the
// number of undecided bits. This is the whole of phase B when that number is at most 64 (one
// continuation word); word w takes its bits from offset off_w < 64 whenever it has an undecided
// bit (otherwise pdep with an empty mask gives 0).
inline unsigned deposit_first_word(uint64_t word0, const uint64_t* und, int nw, const uint64_t* in, uint64_t* out) {
  unsigned off = 0;
  for (int w = 0; w < nw; ++w) {
    out[w] = in[w] | detail::deposit_bits(word0 >> (off & 63), und[w]);
    off += static_cast<unsigned>(std::popcount(und[w]));
  }
  return off;
}

// Phase B for one stream: scatters the continuation bits into the undecided positions.
// `first_word` is continuation word 0 when already computed (vector path), else computed here.
void finish_stream(uint64_t h, uint64_t T, const uint64_t* und, long total, int nw, uint64_t* out, std::vector<uint64_t>& extra,
                   const uint64_t* first_word) {
  if (total == 0) return;
  const uint64_t low = T & ((uint64_t{1} << (32 - kDense)) - 1);
  if (total <= 64 && first_word) {  // the common case: one continuation word
    deposit_first_word(*first_word, und, nw, out, out);
    return;
  }
  const uint64_t h2 = continuation_hash(h);
  const size_t ncw = static_cast<size_t>((total + 63) / 64);
  extra.resize(ncw);
  for (size_t c = 0; c < ncw; ++c) {
    const long left = total - static_cast<long>(c) * 64;
    const uint64_t need = left >= 64 ? ~uint64_t{0} : (uint64_t{1} << left) - 1;
    extra[c] = (c == 0 && first_word) ? *first_word & need : continuation_word(h2, low, c, need);
  }
  uint64_t offset = 0;
  for (int w = 0; w < nw; ++w) {
    if (!und[w]) continue;
    out[w] |= detail::deposit_bits(bits_at(extra.data(), ncw, offset), und[w]);
    offset += static_cast<uint64_t>(std::popcount(und[w]));
  }
}

// The scalar end of phase B for one pending stream of the vector paths, whose continuation word 0
// (`word0`) was compared for kVectorContinuationSteps steps with `late` its lanes still undecided:
// those lanes are finished, then the continuation bits go, in order, to the undecided bits `und`
// of the phase-A results `res`, into `out` (the general path when one word is not enough).
inline void finish_pending_stream(uint64_t h, uint64_t T, uint64_t word0, uint64_t late, const uint64_t* und, const uint64_t* res,
                                  int nw, uint64_t* out, std::vector<uint64_t>& extra) {
  if (late) {
    constexpr int kBits = 32 - kDense - kVectorContinuationSteps;
    const uint64_t rest = T & ((uint64_t{1} << kBits) - 1);  // T's bits below the dense and vector steps
    const uint64_t counter = first_counter(continuation_hash(h), 0) + kVectorContinuationSteps * detail::kGolden;
    word0 |= compare_scalar(counter, rest, kBits, useful_steps(rest, kBits), late);
  }
  const unsigned off = deposit_first_word(word0, und, nw, res, out);
  if (off > 64) {  // more than one continuation word: the general path
    for (int w = 0; w < nw; ++w) out[w] = res[w];
    finish_stream(h, T, und, off, nw, out, extra, &word0);
  }
}

// The AVX-512 paths: compiled for these features whatever the build's baseline, run only where
// the CPU has them (cpu_features().avx512_ideal()).
SPINSC_TARGET_BEGIN("avx512f,avx512dq,avx512cd,bmi,bmi2")

inline __m512i finalise8(__m512i x) {
  x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 30));
  x = _mm512_mullo_epi64(x, _mm512_set1_epi64(static_cast<long long>(0xbf58476d1ce4e5b9ULL)));
  x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 27));
  x = _mm512_mullo_epi64(x, _mm512_set1_epi64(static_cast<long long>(0x94d049bb133111ebULL)));
  return _mm512_xor_si512(x, _mm512_srli_epi64(x, 31));
}

// MSB-first comparison on 8 lanes with per-lane thresholds held in the top bits of thr
// (thr = T << (64 - bits)); at most `steps` steps, stopping early when no lane is undecided.
template <bool kEarlyExit>
inline __m512i compare8(__m512i counter, __m512i thr, __m512i& und, int steps) {
  const __m512i golden = _mm512_set1_epi64(static_cast<long long>(detail::kGolden));
  __m512i res = _mm512_setzero_si512();
  for (int k = 0; k < steps; ++k) {
    const __m512i u = finalise8(counter);
    const __m512i tb = _mm512_srai_epi64(thr, 63);
    res = _mm512_or_si512(res, _mm512_ternarylogic_epi64(und, u, tb, 0x20));  // und & ~u & tb
    und = _mm512_ternarylogic_epi64(und, u, tb, 0x90);                          // und & ~(u ^ tb)
    if (kEarlyExit && !_mm512_test_epi64_mask(und, und)) break;
    counter = _mm512_add_epi64(counter, golden);
    thr = _mm512_add_epi64(thr, thr);
  }
  return res;
}

// Largest number of useful steps over the lanes (thr = T << (64 - bits), 0 for inactive lanes).
inline int max_useful_steps(__m512i thr) {
  const __mmask8 live = _mm512_test_epi64_mask(thr, thr);
  const __m512i lowest = _mm512_and_si512(thr, _mm512_sub_epi64(_mm512_setzero_si512(), thr));
  return static_cast<int>(_mm512_reduce_max_epi64(_mm512_maskz_add_epi64(live, _mm512_maskz_lzcnt_epi64(live, lowest), _mm512_set1_epi64(1))));
}

// mix64 of rng.hpp on 8 lanes.
inline __m512i mix64_8(__m512i x) { return finalise8(_mm512_add_epi64(x, _mm512_set1_epi64(static_cast<long long>(detail::kGolden)))); }

// Streams of 1 to 8 words (L <= 512, the engine's lengths): P = bit_ceil(nw) lanes per stream,
// G = 8 / P streams per vector. Groups of 8 streams share the per-stream set-up (hash and
// threshold, computed on 8 lanes) and one phase-B comparison for their continuation words.
// Phase A runs a fixed kDense steps (steps past T's lowest set bit leave the result unchanged
// and only shrink the undecided lanes of a stream that has no continuation). Phase B's vector
// comparison also runs a fixed number of steps, and each pending stream is then finished
// scalar: its few lanes still undecided, and the scatter of the continuation bits. Vector
// operations are what this costs, and a mispredicted branch costs as much as a dozen of them, so
// the only branches on random data are rarely taken (~1.6% of streams). Same bits as the general
// path.
template <int P>
void generate_vector_streams(int count, const double* p, const uint64_t* devices, int nw, uint64_t tail, uint64_t prefix, uint64_t* out,
                             size_t stride, Scratch& sc) {
  constexpr uint64_t kLowMask = (uint64_t{1} << (32 - kDense)) - 1;
  constexpr int G = 8 / P;
  const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i lane_stream = _mm512_srli_epi64(lane, static_cast<unsigned>(std::countr_zero(static_cast<unsigned>(P))));
  static_assert(P == 1 || P == 2 || P == 4 || P == 8);
  const __m512i lane_word = _mm512_and_si512(lane, _mm512_set1_epi64(P - 1));
  // Random word 64 w + k of a stream: counter h + (64 w + 1 + k) golden (first_counter).
  const __m512i word_counter = _mm512_mullo_epi64(_mm512_add_epi64(_mm512_slli_epi64(lane_word, 6), _mm512_set1_epi64(1)),
                                                  _mm512_set1_epi64(static_cast<long long>(detail::kGolden)));
  // The valid bits of each lane: words < nw, the last one cut at L.
  const __mmask8 word_lanes = _mm512_cmplt_epi64_mask(lane_word, _mm512_set1_epi64(nw));
  const __m512i valid = _mm512_mask_set1_epi64(_mm512_maskz_set1_epi64(word_lanes, -1),
                                               _mm512_cmpeq_epi64_mask(lane_word, _mm512_set1_epi64(nw - 1)), static_cast<long long>(tail));
  const __mmask8 words = static_cast<__mmask8>((1u << nw) - 1);
  // The lanes of the vector's streams whose bit is set in `streams` (bit q: its stream q).
  const unsigned first_lanes = 0xffu / ((1u << P) - 1);  // bit q P for every q < G
  auto lanes_of = [&](unsigned streams) {
    if constexpr (G == 1) return static_cast<__mmask8>(-(streams & 1u));
    return static_cast<__mmask8>(detail::deposit_bits(streams & ((1u << G) - 1), first_lanes) * ((1u << P) - 1));
  };
  const size_t padded = (static_cast<size_t>(count) + 7) & ~size_t{7};
  uint64_t* R = sc.res0.get(padded * P);  // phase A results, P words per stream
  uint64_t* U = sc.und.get(padded * P);   // and their undecided lanes
  uint64_t* H = sc.hash.get(padded);      // per stream: hash, threshold, continuation word 0
  uint64_t* TH = sc.thr.get(padded);
  uint64_t* C = sc.cont.get(padded);
  uint64_t* CU = sc.staging.get(padded);  // lanes of C still undecided after kVectorContinuationSteps
  // Pending stream s, scalar: the lanes of its continuation word 0 still undecided after the
  // vector steps (all 64: counting the ~L/16 it uses first costs more), then the continuation
  // bits go, in order, to its undecided bits. Interleaved below with the next group's vector
  // work so that the two overlap.
  auto finish = [&](size_t s) {
    finish_pending_stream(H[s], TH[s], C[s], CU[s], U + static_cast<size_t>(P) * s, R + static_cast<size_t>(P) * s, nw,
                          out + s * stride, sc.extra);
  };
  unsigned prev_pending = 0;
  int prev_g0 = 0;
  for (int g0 = 0; g0 < count; g0 += 8) {
    const int g = std::min(8, count - g0);
    const __mmask8 in = static_cast<__mmask8>((1u << g) - 1);
    const __m512d pv = _mm512_maskz_loadu_pd(in, p + g0);
    const __mmask8 ok = _mm512_cmp_pd_mask(pv, _mm512_setzero_pd(), _CMP_GE_OQ) & _mm512_cmp_pd_mask(pv, _mm512_set1_pd(1.0), _CMP_LE_OQ);
    if ((ok & in) != in)
      for (int q = 0; q < g; ++q) IdealSource::threshold(p[g0 + q]);  // throws, naming the value
    // threshold(): round(p 2^32), computed the same way in double.
    const __m512i T = _mm512_cvttpd_epu64(_mm512_add_pd(_mm512_mul_pd(pv, _mm512_set1_pd(4294967296.0)), _mm512_set1_pd(0.5)));
    const __m512i dv = _mm512_maskz_loadu_epi64(in, devices + g0);
    const __m512i h = mix64_8(_mm512_xor_si512(_mm512_set1_epi64(static_cast<long long>(prefix)),
                                               _mm512_mullo_epi64(dv, _mm512_set1_epi64(static_cast<long long>(0xd1b54a32d192ed03ULL)))));
    const __m512i full_t = _mm512_set1_epi64(static_cast<long long>(kFull));
    const __mmask8 live = _mm512_mask_cmplt_epu64_mask(_mm512_test_epi64_mask(T, T) & in, T, full_t);
    const __mmask8 full = _mm512_mask_cmpge_epu64_mask(in, T, full_t);
    const __m512i low = _mm512_and_si512(T, _mm512_set1_epi64(static_cast<long long>(kLowMask)));
    const unsigned pending = _mm512_mask_test_epi64_mask(live, low, low);
    const __m512i thr_all = _mm512_maskz_slli_epi64(live, T, 32);
    for (int v = 0; v < 8 / G; ++v) {
      const int s0 = g0 + v * G;  // first stream of this vector
      if (s0 < count) {
        const __m512i idx = G == 1 ? _mm512_set1_epi64(v) : _mm512_add_epi64(_mm512_set1_epi64(v * G), lane_stream);
        const __m512i thr = _mm512_permutexvar_epi64(idx, thr_all);
        const __m512i counter = _mm512_add_epi64(_mm512_permutexvar_epi64(idx, h), word_counter);
        __m512i und = _mm512_maskz_mov_epi64(lanes_of(live >> (v * G)), valid);
        __m512i r = compare8<false>(counter, thr, und, kDense);
        r = _mm512_mask_mov_epi64(r, lanes_of(full >> (v * G)), valid);
        _mm512_store_si512(R + static_cast<size_t>(P) * s0, r);
        _mm512_store_si512(U + static_cast<size_t>(P) * s0, und);
        if constexpr (G == 1) {
          _mm512_mask_storeu_epi64(out + static_cast<size_t>(s0) * stride, words, r);
        } else {
          for (int q = 0; q < G && s0 + q < count; ++q)
            _mm512_mask_storeu_epi64(out + static_cast<size_t>(s0 + q) * stride, words,
                                     _mm512_maskz_compress_epi64(static_cast<__mmask8>(((1u << P) - 1) << (q * P)), r));
        }
      }
      for (int q = v * G; q < (v + 1) * G; ++q)
        if ((prev_pending >> q) & 1u) finish(static_cast<size_t>(prev_g0 + q));
    }
    prev_pending = pending;
    prev_g0 = g0;
    if (!pending) continue;
    // Phase B: continuation word 0 of every pending stream of the group, one stream per lane.
    const __m512i t = _mm512_maskz_slli_epi64(static_cast<__mmask8>(pending), low, 32 + kDense);
    __m512i need = _mm512_maskz_set1_epi64(static_cast<__mmask8>(pending), -1);
    const __m512i c0 = _mm512_add_epi64(h, _mm512_set1_epi64(static_cast<long long>((IdealSource::kContinuationIndex + 1) * detail::kGolden)));
    _mm512_store_si512(C + g0, compare8<false>(c0, t, need, kVectorContinuationSteps));
    _mm512_store_si512(CU + g0, need);
    _mm512_store_si512(H + g0, h);
    _mm512_store_si512(TH + g0, T);
  }
  for (unsigned m = prev_pending; m; m &= m - 1) finish(static_cast<size_t>(prev_g0 + std::countr_zero(m)));
}

// IdealSource::generate_batch on AVX-512: the same bits as generate_batch_portable.
void generate_batch_avx512(int count, const double* p, const uint64_t* devices, int length, const StreamKey& key, uint64_t* out,
                           size_t stride) {
  if (length < 1) fail("bit source 'ideal': stream length {} must be at least 1", length);
  if (count <= 0) return;
  const int nw = words_for(length);
  const uint64_t tail = tail_mask(length);
  const uint64_t prefix = detail::stream_prefix(key);
  constexpr uint64_t kLowMask = (uint64_t{1} << (32 - kDense)) - 1;
  thread_local Scratch sc;
  if (nw <= 8) {
    switch (std::bit_ceil(static_cast<unsigned>(nw))) {
      case 1: generate_vector_streams<1>(count, p, devices, nw, tail, prefix, out, stride, sc); break;
      case 2: generate_vector_streams<2>(count, p, devices, nw, tail, prefix, out, stride, sc); break;
      case 4: generate_vector_streams<4>(count, p, devices, nw, tail, prefix, out, stride, sc); break;
      default: generate_vector_streams<8>(count, p, devices, nw, tail, prefix, out, stride, sc); break;
    }
    return;
  }
  // Longer streams: phase A stream by stream, 8 words per vector (the last vector masked).
  sc.plan.resize(static_cast<size_t>(count));
  for (int s = 0; s < count; ++s) sc.plan[static_cast<size_t>(s)] = {detail::stream_hash(prefix, devices[s]), IdealSource::threshold(p[s])};
  const size_t total = static_cast<size_t>(count) * nw, padded = (total + 7) & ~size_t{7};
  uint64_t* und_lanes = sc.und.get(padded + 8);
  // Results go to an aligned staging area with whole-vector stores (masked stores do not forward
  // to the scalar reloads of phase B), then to `out`.
  uint64_t* dst = sc.staging.get(padded + 8);
  thread_local std::vector<long> undecided;
  undecided.assign(static_cast<size_t>(count), 0);
  const __m512i lane_counter = _mm512_mullo_epi64(_mm512_set_epi64(449, 385, 321, 257, 193, 129, 65, 1),
                                                  _mm512_set1_epi64(static_cast<long long>(detail::kGolden)));
  const __m512i chunk_step = _mm512_set1_epi64(static_cast<long long>(512 * detail::kGolden));
  for (int s = 0; s < count; ++s) {
    const StreamPlan& pl = sc.plan[static_cast<size_t>(s)];
    const bool live = pl.T > 0 && pl.T < kFull;
    const __m512i thr = _mm512_set1_epi64(live ? static_cast<long long>(pl.T << 32) : 0);
    const __m512i r0 = _mm512_set1_epi64(pl.T >= kFull ? -1 : 0);
    const int steps = live ? std::min(kDense, useful_steps(pl.T, 32)) : 0;
    __m512i counter = _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(pl.h)), lane_counter);
    uint64_t* d = dst + static_cast<size_t>(s) * nw;
    uint64_t* u = und_lanes + static_cast<size_t>(s) * nw;
    for (int w = 0; w < nw; w += 8) {
      const int left = nw - w;
      const __mmask8 m = left >= 8 ? 0xff : static_cast<__mmask8>((1u << left) - 1);
      __m512i und = _mm512_maskz_set1_epi64(live ? m : 0, -1);
      const __m512i r = _mm512_or_si512(r0, compare8<false>(counter, thr, und, steps));
      if (left <= 8) {  // the stream's last word: positions past L take no continuation bits
        const __m512i last = _mm512_mask_set1_epi64(_mm512_set1_epi64(-1), static_cast<__mmask8>(1u << (left - 1)),
                                                     static_cast<long long>(tail));
        und = _mm512_and_si512(und, last);
      }
      _mm512_storeu_si512(d + w, r);  // spills past the stream are overwritten by the next one
      _mm512_storeu_si512(u + w, und);
      counter = _mm512_add_epi64(counter, chunk_step);
    }
  }
  for (int s = 0; s < count; ++s) {
    const uint64_t* u = und_lanes + static_cast<size_t>(s) * nw;
    long c = 0;
    for (int w = 0; w < nw; ++w) c += std::popcount(u[w]);
    undecided[static_cast<size_t>(s)] = c;
  }
  // Phase B: continuation word 0 of up to 8 pending streams at once, one stream per lane.
  sc.pending.clear();
  for (int s = 0; s < count; ++s) {
    const StreamPlan& pl = sc.plan[static_cast<size_t>(s)];
    if (pl.T > 0 && pl.T < kFull && (pl.T & kLowMask) && undecided[static_cast<size_t>(s)]) sc.pending.push_back(s);
  }
  const size_t np = sc.pending.size();
  uint64_t* cont = sc.cont.get((np + 7) & ~size_t{7});
  for (size_t g = 0; g < np; g += 8) {
    alignas(64) uint64_t c[8] = {}, t[8] = {}, need[8] = {};
    for (size_t q = 0; q < 8 && g + q < np; ++q) {
      const int s = sc.pending[g + q];
      const StreamPlan& pl = sc.plan[static_cast<size_t>(s)];
      const long u = undecided[static_cast<size_t>(s)];
      c[q] = first_counter(continuation_hash(pl.h), 0);
      t[q] = (pl.T & kLowMask) << (32 + kDense);
      need[q] = u >= 64 ? ~uint64_t{0} : (uint64_t{1} << u) - 1;
    }
    const __m512i thr = _mm512_load_si512(t);
    __m512i und = _mm512_load_si512(need);
    _mm512_store_si512(cont + g, compare8<true>(_mm512_load_si512(c), thr, und, max_useful_steps(thr)));
  }
  for (size_t q = 0; q < np; ++q) {
    const int s = sc.pending[q];
    const size_t f0 = static_cast<size_t>(s) * nw;
    const uint64_t* und = und_lanes + f0;
    const StreamPlan& pl = sc.plan[static_cast<size_t>(s)];
    finish_stream(pl.h, pl.T, und, undecided[static_cast<size_t>(s)], nw, dst + f0, sc.extra, cont + q);
  }
  const __mmask8 last_mask = static_cast<__mmask8>(1u << ((nw - 1) & 7));
  for (int s = 0; s < count; ++s) {
    uint64_t* stream = out + static_cast<size_t>(s) * stride;
    const uint64_t* src = dst + static_cast<size_t>(s) * nw;
    for (int w = 0; w < nw; w += 8) {
      const int left = nw - w;
      __m512i v = _mm512_loadu_si512(src + w);
      if (left <= 8) v = _mm512_mask_and_epi64(v, last_mask, v, _mm512_set1_epi64(static_cast<long long>(tail)));
      if (left >= 8) {
        _mm512_storeu_si512(stream + w, v);
      } else {
        _mm512_mask_storeu_epi64(stream + w, static_cast<__mmask8>((1u << left) - 1), v);
      }
    }
  }
}
SPINSC_TARGET_END

// The AVX2 path (4 lanes; x86-64-v3 CPUs without AVX-512, e.g. Zen 3): the same bits as the
// portable path.
// Phase A takes the batch's (stream, word) pairs as one flat list, 4 per vector, so that short
// streams (one word: L <= 64) fill every lane; it runs a fixed kDense steps (past T's lowest set
// bit a step changes no result, and such streams have no phase B). Phase B compares continuation
// word 0 of 4 pending streams at once for a fixed number of steps, then finishes each stream
// scalar (the rare lanes still undecided, the scatter), as the AVX-512 path does.
SPINSC_TARGET_BEGIN("avx2,bmi,bmi2")

// `steps` MSB-first comparison steps on 4 lanes, thresholds in the lanes' top bits; `und` keeps
// the lanes still undecided. The threshold's top bit as a mask: 0 > thr, signed.
inline __m256i compare4(__m256i counter, __m256i thr, __m256i& und, int steps) {
  const __m256i golden = _mm256_set1_epi64x(static_cast<long long>(detail::kGolden));
  const __m256i zero = _mm256_setzero_si256();
  __m256i res = zero;
  for (int k = 0; k < steps; ++k) {
    const __m256i u = detail::splitmix_finalise4(counter);
    const __m256i tb = _mm256_cmpgt_epi64(zero, thr);
    res = _mm256_or_si256(res, _mm256_andnot_si256(u, _mm256_and_si256(und, tb)));  // und & ~u & tb
    und = _mm256_andnot_si256(_mm256_xor_si256(u, tb), und);                       // und & ~(u ^ tb)
    counter = _mm256_add_epi64(counter, golden);
    thr = _mm256_add_epi64(thr, thr);
  }
  return res;
}

void generate_batch_avx2_impl(int count, const double* p, const uint64_t* devices, int length, const StreamKey& key, uint64_t* out,
                              size_t stride) {
  if (length < 1) fail("bit source 'ideal': stream length {} must be at least 1", length);
  if (count <= 0) return;
  constexpr uint64_t kLowMask = (uint64_t{1} << (32 - kDense)) - 1;
  const int nw = words_for(length);
  const uint64_t tail = tail_mask(length);
  const uint64_t prefix = detail::stream_prefix(key);
  thread_local Scratch sc;
  // The flat list of (stream, word) pairs: counter of random word 64 w + 0, threshold in the top
  // bits (0 for a stream at p = 0 or 1), and on entry the lanes to compare and the bits known.
  const size_t items = static_cast<size_t>(count) * nw, padded = (items + 3) & ~size_t{3};
  uint64_t* CTR = sc.hash.get(padded);
  uint64_t* THR = sc.thr.get(padded);
  uint64_t* R = sc.res0.get(padded);
  uint64_t* U = sc.und.get(padded);
  sc.plan.resize(static_cast<size_t>(count));
  for (int s = 0; s < count; ++s) {
    const StreamPlan pl{detail::stream_hash(prefix, devices[s]), IdealSource::threshold(p[s])};
    sc.plan[static_cast<size_t>(s)] = pl;
    const bool live = pl.T > 0 && pl.T < kFull;
    const uint64_t thr = live ? pl.T << 32 : 0, known = pl.T >= kFull ? ~uint64_t{0} : 0;
    const size_t i0 = static_cast<size_t>(s) * nw;
    for (int w = 0; w < nw; ++w) {
      const uint64_t valid = w == nw - 1 ? tail : ~uint64_t{0};
      CTR[i0 + w] = first_counter(pl.h, static_cast<uint64_t>(w));
      THR[i0 + w] = thr;
      U[i0 + w] = live ? valid : 0;
      R[i0 + w] = known & valid;
    }
  }
  for (size_t i = items; i < padded; ++i) CTR[i] = THR[i] = U[i] = R[i] = 0;
  for (size_t i = 0; i < padded; i += 4) {
    __m256i und = _mm256_load_si256(reinterpret_cast<const __m256i*>(U + i));
    const __m256i r = compare4(_mm256_load_si256(reinterpret_cast<const __m256i*>(CTR + i)),
                               _mm256_load_si256(reinterpret_cast<const __m256i*>(THR + i)), und, kDense);
    _mm256_store_si256(reinterpret_cast<__m256i*>(R + i), _mm256_or_si256(r, _mm256_load_si256(reinterpret_cast<const __m256i*>(R + i))));
    _mm256_store_si256(reinterpret_cast<__m256i*>(U + i), und);
  }
  // Phase B for the streams with undecided bits and a threshold below the dense steps' bits.
  sc.pending.clear();
  for (int s = 0; s < count; ++s) {
    const StreamPlan& pl = sc.plan[static_cast<size_t>(s)];
    const uint64_t* r = R + static_cast<size_t>(s) * nw;
    uint64_t* o = out + static_cast<size_t>(s) * stride;
    for (int w = 0; w < nw; ++w) o[w] = r[w];
    if (!(pl.T > 0 && pl.T < kFull && (pl.T & kLowMask))) continue;
    const uint64_t* u = U + static_cast<size_t>(s) * nw;
    uint64_t any = 0;
    for (int w = 0; w < nw; ++w) any |= u[w];
    if (any) sc.pending.push_back(s);
  }
  const size_t np = sc.pending.size(), np4 = (np + 3) & ~size_t{3};
  uint64_t* C = sc.cont.get(np4);
  uint64_t* CU = sc.staging.get(np4);
  for (size_t g = 0; g < np; g += 4) {
    alignas(32) uint64_t c[4] = {}, t[4] = {};
    for (size_t q = 0; q < 4 && g + q < np; ++q) {
      const StreamPlan& pl = sc.plan[static_cast<size_t>(sc.pending[g + q])];
      c[q] = first_counter(continuation_hash(pl.h), 0);
      t[q] = (pl.T & kLowMask) << (32 + kDense);
    }
    __m256i und = _mm256_set1_epi64x(-1);  // all 64 lanes (counting the ~L/16 used first costs more)
    _mm256_store_si256(reinterpret_cast<__m256i*>(C + g),
                       compare4(_mm256_load_si256(reinterpret_cast<const __m256i*>(c)), _mm256_load_si256(reinterpret_cast<const __m256i*>(t)),
                                und, kVectorContinuationSteps));
    _mm256_store_si256(reinterpret_cast<__m256i*>(CU + g), und);
  }
  for (size_t q = 0; q < np; ++q) {
    const int s = sc.pending[q];
    const StreamPlan& pl = sc.plan[static_cast<size_t>(s)];
    const size_t f0 = static_cast<size_t>(s) * nw;
    finish_pending_stream(pl.h, pl.T, C[q], CU[q], U + f0, R + f0, nw, out + static_cast<size_t>(s) * stride, sc.extra);
  }
}
SPINSC_TARGET_END

}  // namespace

uint64_t IdealSource::threshold(double p) {
  if (!(p >= 0.0 && p <= 1.0)) fail("bit source 'ideal': probability {} is outside [0, 1]", p);
  return static_cast<uint64_t>(p * 4294967296.0 + 0.5);  // round half up; exact in double
}

uint64_t IdealSource::stream_seed(const StreamKey& key) { return detail::stream_hash(key); }

double IdealSource::bit_mean(double p, const StreamKey&) const { return std::ldexp(static_cast<double>(threshold(p)), -32); }

void IdealSource::generate(double p, int length, const StreamKey& key, uint64_t* words) const {
  const uint64_t device = key.device;
  generate_batch(1, &p, &device, length, key, words, static_cast<size_t>(words_for(length)));
}

void IdealSource::generate_batch_portable(int count, const double* p, const uint64_t* devices, int length, const StreamKey& key,
                                          uint64_t* out, size_t stride) const {
  if (length < 1) fail("bit source 'ideal': stream length {} must be at least 1", length);
  if (count <= 0) return;
  const int nw = words_for(length);
  const uint64_t tail = tail_mask(length);
  const uint64_t prefix = detail::stream_prefix(key);
  thread_local Scratch sc;
  uint64_t* und = sc.und.get(static_cast<size_t>(nw));
  for (int s = 0; s < count; ++s) {
    const StreamPlan pl{detail::stream_hash(prefix, devices[s]), threshold(p[s])};
    uint64_t* stream = out + static_cast<size_t>(s) * stride;
    const bool live = pl.T > 0 && pl.T < kFull;
    const int steps = live ? std::min(kDense, useful_steps(pl.T, 32)) : 0;
    long total = 0;
    for (int w = 0; w < nw; ++w) {
      und[w] = live ? ~uint64_t{0} : 0;
      stream[w] = (pl.T >= kFull ? ~uint64_t{0} : 0) | compare_scalar(first_counter(pl.h, static_cast<uint64_t>(w)), pl.T, 32, steps, und[w]);
      if (w == nw - 1) und[w] &= tail;
      total += std::popcount(und[w]);
    }
    if (live && (pl.T & ((uint64_t{1} << (32 - kDense)) - 1))) finish_stream(pl.h, pl.T, und, total, nw, stream, sc.extra, nullptr);
    stream[nw - 1] &= tail;
  }
}

void IdealSource::generate_batch_avx2(int count, const double* p, const uint64_t* devices, int length, const StreamKey& key,
                                      uint64_t* out, size_t stride) const {
  if (!detail::cpu_features().avx2_ideal()) fail("bit source 'ideal': this CPU has no AVX2 and BMI2 for the AVX2 path");
  generate_batch_avx2_impl(count, p, devices, length, key, out, stride);
}

void IdealSource::generate_batch(int count, const double* p, const uint64_t* devices, int length, const StreamKey& key,
                                 uint64_t* out, size_t stride) const {
  if (detail::cpu_features().avx512_ideal()) {
    generate_batch_avx512(count, p, devices, length, key, out, stride);
  } else if (detail::cpu_features().avx2_ideal()) {
    generate_batch_avx2_impl(count, p, devices, length, key, out, stride);
  } else {
    generate_batch_portable(count, p, devices, length, key, out, stride);
  }
}

}  // namespace spinsc
