// ScEngine: a trained network run as a stochastic computer, bit by bit (SPEC §2-4, §8-9).
//
// The engine walks the network's stages (network.hpp: each weight layer with the pooling after
// it); stage l is "layer l" below and in every key. A neuron is a dense unit j, or a conv2d
// output o = (f * OH + oy) * OW + ox (filter f at position (oy, ox)), whose synapses are the
// taps t = (c * k + ky) * k + kx of its receptive field that fall on the input: padding is no
// synapse (an all-zero stream contributes nothing). A dense stage is the case o = j, t = i, so
// every MLP key below is what it was before conv stages existed.
// Every stage is computed from packed bitstreams drawn from one BitSource:
//   inputs     x_i in [0, 1] (pixels, or the previous stage's activation levels) -> unipolar
//              streams, `broadcast`: one SNG per input of a stage shared by all neurons that
//              read it (key role Input, device i); with sharing `independent-all` one per
//              synapse (device o*fan_in+t) instead.
//   weights    magnitudes |w_q|/s (quantized: exactly |q| 2/(K-1)) -> unipolar streams, key role
//              Weight; sharing `independent`: one SNG per synapse (device o*fan_in+t; dense:
//              j*n+i), `per-tap`: one SNG per kernel weight (device f*fan_in+t), reused at every
//              output position of the image (for a dense stage the same as independent),
//              `per-level`: one per distinct magnitude of the stage (device = |q|; bipolar:
//              q + (K-1)/2).
//   multiply   `signmag`: product bit = x AND |w|, the weight's sign routes it to the up or the
//              down count; `bipolar`: XNOR of the bipolar streams P = (x+1)/2, P = (w/s+1)/2,
//              one synapse contributing 2 ones - L.
//   accumulate `apc`: all product bits of a neuron are counted every cycle, C_j = up - down;
//              `mux`: one synapse per cycle, chosen uniformly among the neuron's n synapses
//              (conv2d: its real, unpadded ones) by the neuron's own generator, C_j = n (up - down):
//              the scaled adder, far noisier.
//   estimate   (W_q x)_j = s C_j / L. The bias b_j is added in the counter domain (digital and
//              exact: it is a constant of the neuron's comparators, no stream). Hidden layers:
//              a_j = Q_K(clip(gain_j s C_j / L + b_j, 0, 1)) (K-1 comparators on the counter);
//              the next layer's input streams are generated at those levels k/(K-1). Output:
//              class = argmax_j (s C_j / L + b_j), ties to the lowest index.
//   pooling    avgpool2d: the counters of each window are summed before the comparators, the
//              estimate is s * sum / (L window^2), then gain, bias and comparators; maxpool2d:
//              the maximum of the window's activations after the comparators. The next stage's
//              input streams are generated at the (pooled) activation levels.
//   analog     (the unquantized baseline; automatic for a float-mode network) the stored
//              continuous weights with s_a = max |w| of the layer, continuous activations
//              clip(z, 0, 1) whose streams are generated at arbitrary p. per-level sharing has no
//              meaning there and is rejected.
// Every stream is drawn afresh per inference: StreamKey{derive_seed(seed, SeedStream::EvalRepeat, {repeat}), image,
// layer, role, device}. Results depend on the seed only, never on the thread count.
// Bipolar multiply, mux accumulation and independent-all run on conv stages as on dense ones.
//
// Speed: the product bits of a synapse whose input stream is all zero are zero whatever the
// weight stream, so such weight streams are not generated (an exact skip: the same bits as
// computing them, because every stream has its own key). Everything else is computed bit by bit.
// With signmag + apc and broadcast inputs the engine walks a stage input by input (each input
// stream is loaded once and meets the weight streams of all its synapses, from lists built
// once in the constructor; counts go to per-neuron accumulators; per-tap streams are drawn
// once per conv stage while they fit in 64 MiB, else filter by filter); otherwise neuron by
// neuron over each output's synapse program. Keys make every order give the same bits.
//
// Thread-safety: a constructed ScEngine is immutable; all methods are const and may run
// concurrently (each call uses its own buffers).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "spinsc/arithmetic.hpp"
#include "spinsc/bit_source.hpp"
#include "spinsc/dataset.hpp"
#include "spinsc/network.hpp"

namespace spinsc {

class ProgressObserver;  // context.hpp

// Multiply and Accumulate (and their rules): arithmetic.hpp.
enum class Sharing { Independent, PerLevel, IndependentAll, PerTap };

std::string to_string(Sharing s);  // "independent", "per-level", "independent-all", "per-tap"
Sharing parse_sharing(const std::string& text);  // throws spinsc::Error on unknown text

struct ScConfig {
  std::string source = "ideal";  // SourceRegistry::make() spec
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

// One stage of one inference. counter and estimate are per pre-activation u (network.hpp):
// per neuron (dense unit, or conv2d output in C x H x W order), or per window after an
// avgpool2d (the window's summed counters); output is the stage's output (after maxpool2d).
struct ScLayerResult {
  std::vector<int64_t> counter;  // C_j (mux: already scaled by n; avgpool2d: the window's sum)
  std::vector<float> estimate;   // s C_j / L (avgpool2d: s C_j / (L window^2)): the SC estimate of
                                 // u_j, before gain and bias
  std::vector<float> output;     // hidden stage: activation a_j; last stage: estimate + b_j
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
  // Builds the source from config.source with `sources` (a kind it lacks is an error naming
  // the known ones); without a registry, with builtin_sources() (ideal, lfsr, sobol). Throws
  // spinsc::Error on a bad configuration.
  ScEngine(const Network& net, ScConfig config, const SourceRegistry& sources);
  ScEngine(const Network& net, ScConfig config);
  ScEngine(const Network& net, ScConfig config, std::shared_ptr<const BitSource> source);
  ~ScEngine();
  ScEngine(ScEngine&&) noexcept;

  const ScConfig& config() const { return config_; }
  const BitSource& source() const { return *source_; }
  bool analog() const { return config_.analog; }
  // Whether the binomial shortcut is in use: exact_bits off, an i.i.d. source (iid_bits()),
  // quantized weights with independent weight streams, signmag multiply and apc counting. Then,
  // given the input streams, the up count of neuron j (dense unit or conv output) is a sum of
  // independent Binomial(ones(x_i), p_l) over its synapses, i.e. Binomial(sum of ones(x_i) over
  // the synapses at level l, p_l) per level l, independently for every neuron: the same joint
  // distribution as the bit-level counters (an avgpool2d sum is then the sum of the draws).
  // Not with per-tap sharing on a conv stage: one weight stream serves every position, which
  // correlates the positions' counters; such networks take the bit-level path (an MLP with
  // per-tap is an MLP with independent streams and keeps the shortcut).
  // It runs as linear algebra on batches of images (accuracy(): 32 at a time; forward() and
  // layer(): one): per stage, each input stream's count of ones is drawn (Binomial(L, x_i)),
  // the batch's count matrix (conv2d: one row per image and output position, its receptive
  // field's counts by tap) is multiplied by the stage's routing matrix, whose columns are the
  // indicators of (unit, thinning probability) plus an exact column (exact integer arithmetic),
  // and each neuron's counter is drawn: a negative weight at q gives -Binomial(c, q), which has
  // the law of Binomial(c, 1 - q) - c, so the ones routed through each distinct probability (q
  // of a positive weight, 1 - q of a negative one: as many as the drawn levels) are thinned by
  // one binomial draw, and the exact column adds the p = 1 products and the -c terms. Every draw comes from a generator keyed by (seed, repeat, image, stage, neuron), so
  // neither the batch nor the thread count changes a result.
  bool binomial_shortcut() const;
  int layers() const;

  // All stages of one inference of input x (arch[0] values in [0, 1]); `image` and `repeat`
  // select the streams.
  std::vector<ScLayerResult> forward(const float* x, uint64_t image, int repeat = 0) const;
  int predict(const float* x, uint64_t image, int repeat = 0) const;
  // Stage l alone for the given stage input (arch[l] values in [0, 1]): the counters SC
  // training needs to measure the noise of each pre-activation.
  ScLayerResult layer(int l, const float* input, uint64_t image, int repeat = 0) const;

  // Test accuracy over `repeats` independent draws (repeat r uses derive_seed(seed,
  // SeedStream::EvalRepeat, {r})),
  // images in parallel on `threads` OpenMP threads (0: all). Progress (task "sc eval", units
  // image x repeat) goes to `observer` when given (context.hpp), from the calling thread.
  // 1 <= repeats <= kMaxRepeats, else spinsc::Error; an error of the source in a worker thread
  // (e.g. a trace shorter than L) is rethrown here.
  static constexpr int kMaxRepeats = 1000000;
  ScAccuracy accuracy(const Dataset& data, int repeats, int threads = 0, ProgressObserver* observer = nullptr) const;

  // The digital computation this engine converges to as L grows: digital_forward() of the
  // network (quantized) or of its float version (analog).
  std::vector<float> reference_forward(const float* x) const;
  // That network: the engine's copy, quantized, or in float mode when analog.
  const Network& reference() const;

 private:
  struct Impl;
  ScConfig config_;
  std::shared_ptr<const BitSource> source_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace spinsc
