// Counter-based seeding and a small fast PRNG.
//
// Determinism on any thread count comes from never sharing a generator between work items:
// every stream, image, device or minibatch derives its own generator from (seed, purpose,
// keys...) with derive_seed(). Work may then be split across threads in any way.
//
// Named seed streams: the purpose (SeedStream) is the first key of every derivation, so two
// uses of one seed for different purposes can never draw the same generator, whatever their
// other keys (a repeat index and a training stage, say, both numbered 1).
//
// Thread-safety: all functions are pure; an Xoshiro256 object is not shared between threads.
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <numbers>

namespace spinsc {

// SplitMix64 finaliser: a bijective 64-bit mix with full avalanche.
constexpr uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// What a derived seed is for. Values are part of the results: never renumber one (append).
enum class SeedStream : uint64_t {
  // SC evaluation (sc_engine.hpp)
  EvalRepeat = 1,     // the run seed of repeat r: {r}
  BitStream,          // one SNG stream (stream_hash.hpp): {image, layer, role}, then the device
  MuxSelect,          // a mux accumulator's select sequence: {image, layer, output}
  ShortcutDraw,       // the binomial shortcut's draws: {image, layer, output or ~0}
  // Training (train.hpp, sc_noise.hpp)
  WeightInit,         // {layer}
  Shuffle,            // {epoch}
  ShiftAugment,       // {epoch, image}
  TrainingNoise,      // the SC noise's seed, from the training seed: {}
  NoiseDraw,          // the SC noise of one pre-activation row: {epoch, image, layer[, position]}
  // Experiments (reproduce.hpp, sweep.hpp): a grid's trainings from the run seed
  ContinuationTraining,  // the base model's continuation without SC: {}
  ScTraining,            // the continuation with the SC noise of length L: {L}
  // Devices (device/)
  DeviceVariation,    // one device's parameters: {layer, role, device}
  DeviceStream,       // a telegraph device's stream: {image, layer, role, device}; i.i.d.: {}
  TraceReplay,        // where a trace replay starts: {image, layer, role, device}
  DeviceSimulate,     // one simulated bias point: {point, temperature in mK}
  LlgStart,           // the macrospin's initial state: {}
  LlgNoise,           // the macrospin's thermal field: {}
  StatsSweep,         // `device stats`: one bias point of the sweep {point}
  StatsTrace,         // `device stats`: the trace at p = 1/2 {}
  // Fixtures
  BenchNetwork,       // the bench's random networks: {layer}
  TestFixture,        // tests' random data: {any}
};

// Version of the seed derivations: raised whenever a derivation changes, so that models and jobs
// stored by a run with other derivations are never reused (reproduce fingerprints, job hashes).
inline constexpr int kSeedingVersion = 2;

namespace detail {
constexpr uint64_t hash_keys(uint64_t h, std::initializer_list<uint64_t> keys) {
  for (uint64_t k : keys) h = mix64(h ^ mix64(k + 0x632be59bd9b4e019ULL));
  return h;
}
}  // namespace detail

// A seed for the work item named by `keys` of purpose `purpose` under the seed `seed`.
// Distinct (purpose, keys) give statistically independent generators.
constexpr uint64_t derive_seed(uint64_t seed, SeedStream purpose, std::initializer_list<uint64_t> keys = {}) {
  return detail::hash_keys(detail::hash_keys(mix64(seed ^ 0x5350494e5343ULL), {static_cast<uint64_t>(purpose)}), keys);  // "SPINSC"
}

// xoshiro256** (Blackman & Vigna): 2^256-1 period, passes BigCrush; 4 words of state.
class Xoshiro256 {
 public:
  explicit Xoshiro256(uint64_t seed) {
    uint64_t z = seed;
    for (auto& w : s_) {
      z += 0x9e3779b97f4a7c15ULL;
      w = mix64(z);
    }
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  uint64_t operator()() { return next(); }
  static constexpr uint64_t min() { return 0; }
  static constexpr uint64_t max() { return ~uint64_t{0}; }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform in (0, 1]: safe to take the logarithm of.
  double uniform_pos() { return static_cast<double>((next() >> 11) + 1) * 0x1.0p-53; }
  // Uniform integer in [0, n) (Lemire's multiply-shift; bias < n / 2^64).
  uint64_t below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64); }
  // Standard normal (Box–Muller; one of the pair is discarded to keep the generator stateless).
  double normal() {
    const double u = uniform_pos(), v = uniform();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * std::numbers::pi * v);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace spinsc
