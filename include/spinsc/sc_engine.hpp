// ScEngine: a trained network run as a stochastic computer, bit by bit (SPEC §2-4, §8).
//
// Every layer is computed from packed bitstreams drawn from one BitSource:
//   inputs     x_i in [0, 1] (pixels, or the previous layer's activation levels) -> unipolar
//              streams, `broadcast`: one SNG per input of a layer shared by all neurons
//              (key role Input, device i); with sharing `independent-all` one per synapse
//              (device j*n+i) instead.
//   weights    magnitudes |w_q|/s (quantized: exactly |q| 2/(K-1)) -> unipolar streams, key role
//              Weight; sharing `independent`: one SNG per synapse (device j*n+i), `per-level`: one
//              per distinct magnitude of the layer (device = |q|; bipolar: q + (K-1)/2).
//   multiply   `signmag`: product bit = x AND |w|, the weight's sign routes it to the up or the
//              down count; `bipolar`: XNOR of the bipolar streams P = (x+1)/2, P = (w/s+1)/2,
//              one synapse contributing 2 ones - L.
//   accumulate `apc`: all product bits of a neuron are counted every cycle, C_j = up - down;
//              `mux`: one synapse per cycle, chosen uniformly by the neuron's own generator,
//              C_j = n (up - down): the scaled adder, far noisier.
//   estimate   (W_q x)_j = s C_j / L. The bias b_j is added in the counter domain (digital and
//              exact: it is a constant of the neuron's comparators, no stream). Hidden layers:
//              a_j = Q_K(clip(gain_j s C_j / L + b_j, 0, 1)) (K-1 comparators on the counter);
//              the next layer's input streams are generated at those levels k/(K-1). Output:
//              class = argmax_j (s C_j / L + b_j), ties to the lowest index.
//   analog     (the unquantized baseline; automatic for a float-mode network) the stored
//              continuous weights with s_a = max |w| of the layer, continuous activations
//              clip(z, 0, 1) whose streams are generated at arbitrary p. per-level sharing has no
//              meaning there and is rejected.
// Every stream is drawn afresh per inference: StreamKey{derive_seed(seed, {repeat}), image,
// layer, role, device}. Results depend on the seed only, never on the thread count.
//
// Speed: the product bits of a synapse whose input stream is all zero are zero whatever the
// weight stream, so such weight streams are not generated (an exact skip: the same bits as
// computing them, because every stream has its own key). Everything else is computed bit by bit.
// With signmag + apc and broadcast inputs the engine walks a layer input by input (each input
// stream is loaded once and meets the weight streams of all its synapses; counts go to
// per-neuron accumulators); otherwise neuron by neuron. Keys make both orders give the same bits.
//
// Thread-safety: a constructed ScEngine is immutable; all methods are const and may run
// concurrently (each call uses its own buffers).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "spinsc/bit_source.hpp"
#include "spinsc/dataset.hpp"
#include "spinsc/network.hpp"

namespace spinsc {

enum class Multiply { SignMagnitude, Bipolar };
enum class Accumulate { Apc, Mux };
enum class Sharing { Independent, PerLevel, IndependentAll };

std::string to_string(Multiply m);      // "signmag", "bipolar"
std::string to_string(Accumulate a);    // "apc", "mux"
std::string to_string(Sharing s);       // "independent", "per-level", "independent-all"
Multiply parse_multiply(const std::string& text);  // each throws spinsc::Error on unknown text
Accumulate parse_accumulate(const std::string& text);
Sharing parse_sharing(const std::string& text);

struct ScConfig {
  std::string source = "ideal";  // make_bit_source() spec
  int length = 100;              // L, bits per stream (>= 1)
  Multiply multiply = Multiply::SignMagnitude;
  Accumulate accumulate = Accumulate::Apc;
  Sharing sharing = Sharing::Independent;
  bool analog = false;           // forced on for a float-mode network
  // true: the bit-level path, every product bit computed. false: where it is exact in
  // distribution (see binomial_shortcut()), a neuron's product counts are drawn from their
  // binomial law given the input streams; elsewhere the bit-level path.
  bool exact_bits = true;
  uint64_t seed = 1;
};

// One layer of one inference.
struct ScLayerResult {
  std::vector<int64_t> counter;  // C_j (mux: already scaled by n)
  std::vector<float> estimate;   // s C_j / L: the SC estimate of (W_q x)_j, before gain and bias
  std::vector<float> output;     // hidden layer: activation a_j; output layer: s C_j / L + b_j
};

struct ScAccuracy {
  double mean = 0, std = 0;          // over repeats (sample std, 0 for one repeat)
  std::vector<double> per_repeat;
  int images = 0, repeats = 0;
  double seconds = 0;
  // Work actually done: weight streams generated vs synapses evaluated (their ratio is what the
  // exact zero-input skip leaves; per-level sharing generates a handful per layer instead).
  long long weight_streams = 0, synapses = 0;
};

class ScEngine {
 public:
  // Builds the source from config.source. Throws spinsc::Error on a bad configuration.
  ScEngine(const Network& net, ScConfig config);
  ScEngine(const Network& net, ScConfig config, std::shared_ptr<const BitSource> source);
  ~ScEngine();
  ScEngine(ScEngine&&) noexcept;

  const ScConfig& config() const { return config_; }
  const BitSource& source() const { return *source_; }
  bool analog() const { return config_.analog; }
  // Whether the binomial shortcut is in use: exact_bits off, an i.i.d. source (iid_bits()),
  // quantized weights with independent weight streams, signmag multiply and apc counting. Then,
  // given the input streams, the up count of neuron j is a sum of independent
  // Binomial(ones(x_i), p_l) over its synapses, i.e. Binomial(sum of ones(x_i) over the
  // synapses at level l, p_l) per level l: the same distribution as the bit-level counters.
  bool binomial_shortcut() const;
  int layers() const;

  // All layers of one inference of input x (arch[0] values in [0, 1]); `image` and `repeat`
  // select the streams.
  std::vector<ScLayerResult> forward(const float* x, uint64_t image, int repeat = 0) const;
  int predict(const float* x, uint64_t image, int repeat = 0) const;
  // Layer l alone for the given layer input (arch[l] values in [0, 1]): the counters SC
  // training needs to measure the noise of each pre-activation.
  ScLayerResult layer(int l, const float* input, uint64_t image, int repeat = 0) const;

  // Test accuracy over `repeats` independent draws (repeat r uses derive_seed(seed, {r})),
  // images in parallel on `threads` OpenMP threads (0: all). Progress on stderr unless quiet.
  // 1 <= repeats <= kMaxRepeats, else spinsc::Error; an error of the source in a worker thread
  // (e.g. a trace shorter than L) is rethrown here.
  static constexpr int kMaxRepeats = 1000000;
  ScAccuracy accuracy(const Dataset& data, int repeats, int threads = 0, bool quiet = true) const;

  // The digital computation this engine converges to as L grows: digital_forward() of the
  // network (quantized) or of its float version (analog).
  std::vector<float> reference_forward(const float* x) const;

 private:
  struct Impl;
  ScConfig config_;
  std::shared_ptr<const BitSource> source_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace spinsc
