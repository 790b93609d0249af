// BitSource: the one interface of every stochastic number generator (SNG), SPEC §3.
//
// A source turns a target probability p into a packed stream of L bits. Bit t of the stream is
// bit (t % 64) of words[t / 64]; the bits of the last word past L are zero (masked, never
// garbage). What the bits are depends on the source: i.i.d. Bernoulli(p) (`ideal`), an LFSR or
// Sobol comparator, a simulated s-MTJ with its own transfer curve and autocorrelation (`smtj`),
// or windows of recorded traces (`trace`).
//
// Determinism: a stream depends only on the source's configuration, p, L and the StreamKey,
// so the same key gives the same bits on any thread, in any order. `device` names the physical
// SNG (its variation parameters are a function of (layer, role, device) only); `seed` and
// `image` select the draw.
//
// Thread-safety: generate() is const and may be called concurrently.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace spinsc {

enum class StreamRole : uint32_t { Input = 0, Weight = 1, Bias = 2 };

struct StreamKey {
  uint64_t seed = 0;    // run seed, with the repeat index mixed in
  uint64_t image = 0;   // inference index: streams are drawn afresh for every image
  uint32_t layer = 0;   // layer index (0 = first weight layer)
  StreamRole role = StreamRole::Input;
  uint64_t device = 0;  // which SNG of (layer, role): input index, synapse index or level index
};

constexpr int words_for(int length) { return (length + 63) / 64; }
// Mask of the valid bits of the last word of a stream of `length` bits.
constexpr uint64_t tail_mask(int length) { return (length % 64) ? (~0ULL >> (64 - length % 64)) : ~0ULL; }

class BitSource {
 public:
  virtual ~BitSource() = default;

  // Short name with its arguments, as accepted by make_bit_source(): "ideal", "lfsr:32", ...
  virtual std::string name() const = 0;

  // Writes words_for(length) words. Requires 0 <= p <= 1 and length >= 1.
  virtual void generate(double p, int length, const StreamKey& key, uint64_t* words) const = 0;
  // Throws spinsc::Error when the source cannot give streams of `length` bits (a trace shorter
  // than the length, a Sobol sequence beyond what it stratifies). Users of a source call it
  // once before generating, so the error comes before any work, not from a worker thread.
  virtual void check_length(int length) const {}

  // Mean of one bit for target p on the SNG named by key: p for an ideal source; the device's
  // own transfer curve for an uncalibrated s-MTJ with variation.
  virtual double bit_mean(double p, const StreamKey& key) const { return p; }

  // Variance of the number of ones in a stream of `length` bits at target p, divided by
  // length * m * (1 - m) with m = bit_mean: 1 for independent bits, larger for positively
  // correlated bits (s-MTJ sampled faster than it relaxes), smaller for low-discrepancy ones.
  // Used by the moment-matched noise of SC training.
  virtual double count_variance_factor(double p, int length) const { return 1.0; }

  // For sources whose bits form a stationary two-state Markov chain (s-MTJs sampled at a clock
  // period Ts): the lag-1 correlation rho = exp(-lambda Ts) of the nominal SNG at target p;
  // 0 for i.i.d. bits. NaN for sources of another kind (LFSR, Sobol, traces), which only
  // count_variance_factor() describes. Used by the moment-matched noise of SC training.
  virtual double markov_correlation(double p) const { return std::nan(""); }

  // True when p = 0 always gives the all-zero stream and p = 1 the all-one stream, whatever the
  // key (comparator sources). The SC engine then computes products with such streams without
  // generating them. A source whose extremes are not exact (an s-MTJ with a clamped bias) keeps
  // the default.
  virtual bool exact_extremes() const { return false; }

  // True when every stream's bits are i.i.d. Bernoulli(p) at exactly the target p and streams of
  // distinct keys are independent (ideal; an s-MTJ sampled much slower than it relaxes, without
  // variation). The engine may then draw a neuron's product counts from their exact binomial
  // distribution instead of generating the weight streams (SPEC §8).
  virtual bool iid_bits() const { return false; }

  // Generates `count` streams in one call: stream s has target probability p[s] and the key
  // `key` with key.device = devices[s]; its words_for(length) words go to out + s * stride
  // (stride >= words_for(length)). The bits are exactly those generate() gives for the same
  // keys; a source overrides this to amortise per-key work and vectorise across streams.
  virtual void generate_batch(int count, const double* p, const uint64_t* devices, int length, const StreamKey& key,
                              uint64_t* out, size_t stride) const {
    StreamKey k = key;
    for (int s = 0; s < count; ++s) {
      k.device = devices[s];
      generate(p[s], length, k, out + static_cast<size_t>(s) * stride);
    }
  }
};

using BitSourceFactory = std::function<std::unique_ptr<BitSource>(std::string_view argument)>;

// The kinds of source a program can build from a command-line spec ("ideal", "lfsr:16",
// "smtj:device.json", ...): a value the caller owns and passes to what builds sources, never
// process-wide state. A default-constructed registry has the bits layer's kinds: `ideal`,
// `lfsr[:n]`, `sobol`; standard_sources() (device_sources.hpp) adds the device-backed ones.
//
// Thread-safety: add() is not; make() and kinds() are const and may be called concurrently.
class SourceRegistry {
 public:
  SourceRegistry();
  // Adds (or replaces) a kind; `argument` is the text after ':' in the spec.
  void add(const std::string& kind, BitSourceFactory factory);
  // Builds a source from its spec. Throws spinsc::Error on an unknown kind (naming the known
  // ones) or a bad argument.
  std::unique_ptr<BitSource> make(std::string_view spec) const;
  std::vector<std::string> kinds() const;  // sorted

 private:
  std::map<std::string, BitSourceFactory, std::less<>> factories_;
};

// The bits layer's kinds only (ideal, lfsr, sobol): an immutable registry.
std::shared_ptr<const SourceRegistry> builtin_sources();

// builtin_sources()->make(spec): for code and tests that use the built-in kinds only.
std::unique_ptr<BitSource> make_bit_source(std::string_view spec);

}  // namespace spinsc
