// The fixed reference workload of `spinsc bench` and the machine's AND+popcount peak.
//
// Workload: network 784-256-128-64-10, K = 11, weights drawn uniformly in [-s, s] with
// s = 3 / sqrt(fan-in) from Xoshiro256(derive_seed(2024, SeedStream::BenchNetwork, {layer})), zero biases, unit gains;
// L = 500; broadcast inputs, independent weight streams, source `ideal`, signmag + apc, the
// bit-level path; the first 2000 MNIST test images (or 2000 synthetic images: each pixel 0 with
// probability 0.8, else uniform in 1..255, about MNIST's density). Rate =
// images * synapses * L / seconds with synapses = 784*256 + 256*128 + 128*64 + 64*10.
//
// Beside it, the same workload with per-level weight streams (a different configuration, not a
// shortcut): generation then nearly vanishes and the rate shows the AND+popcount path alone;
// and the same workload through the binomial shortcut (ScConfig::exact_bits = false), reported
// as its own figure, never in the ratio (3 passes over the images: long enough to time).
//
// PyTorch peer of the shortcut (run_torch_shortcut_peer): bench/torch_shortcut.py, the same
// shortcut written in plain PyTorch (torch.binomial input counts, one matrix product per batch
// routing them to every neuron's levels and signs, one torch.binomial draw per neuron, level and
// sign; also with the signs folded as spinsc does), on the same workload, images and threads.
//
// Conv workload (SPEC §9), reported beside the MLP's: LeNet-5 (the `lenet5` preset), K = 11,
// weights uniform in [-s, s] with s = 3 / sqrt(fan-in) from Xoshiro256(derive_seed(2025, BenchNetwork,
// {layer})), zero biases, unit gains; the same images, L, source and path; independent and
// per-tap weight streams. Its synapses per image count the real (unpadded) taps of every conv
// output: 6 * 17 956 + 16 * 15 000 + 400 * 120 + 120 * 84 + 84 * 10 = 406 656.
//
// Peak: every thread ANDs two L1-resident arrays of 64-bit words and sums the popcounts, the
// tight kernel the engine's inner product is made of; bits/s = threads * words * 64 / seconds.
//
// Thread-safety: run one at a time (both saturate the machine).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "spinsc/dataset.hpp"
#include "spinsc/network.hpp"

namespace spinsc {

class ProgressObserver;  // context.hpp

struct ScBenchOptions {
  int threads = 0;                   // 0: all
  bool synthetic = false;
  std::filesystem::path data_dir;    // empty: default_data_dir()
  int images = 2000;
  int length = 500;
  double peak_seconds = 1.0;         // duration of the peak measurement
  ProgressObserver* observer = nullptr;  // progress of the evaluations (context.hpp); not owned
};

struct ScBenchResult {
  std::string data;                  // "mnist" or "synthetic"
  int threads = 0, images = 0, length = 0;
  long long synapses = 0;            // per image
  double seconds = 0, images_per_s = 0;
  double synapse_bit_ops_per_s = 0;  // images * synapses * L / seconds
  double roofline_bit_ops_per_s = 0; // AND+popcount peak, same threads
  double ratio = 0;                  // synapse_bit_ops_per_s / roofline_bit_ops_per_s
  double generated_fraction = 0;     // weight streams generated / synapses (zero-input skip)
  // Core time (seconds x threads) per generated weight stream, and what it would have to be for
  // a ratio of 0.25 (the time scales as 1 / ratio).
  double ns_per_weight_stream = 0, ns_per_weight_stream_at_quarter_peak = 0;
  // The random-bit floor (random_bits_peak, same threads): an exact Bernoulli(p) stream of L bits
  // needs on average 2 random bits per output bit (bit-serial comparison with early exit), plus
  // its AND+popcount; per core: 2 L / (random bits/s) + L / (AND+popcount bit-ops/s). The ratio
  // is ns_per_weight_stream / floor_ns_per_weight_stream.
  double random_bits_per_s = 0, floor_ns_per_weight_stream = 0, weight_stream_floor_ratio = 0;
  double accuracy = 0;               // of the random network: a checksum, not a figure of merit
  // The same workload with per-level weight sharing (one SNG per weight level and layer):
  // still bit level, but almost no weight-stream generation, so it shows the counting path alone.
  double per_level_synapse_bit_ops_per_s = 0, per_level_ratio = 0;
  // The same workload through the binomial shortcut (exact in distribution, not bit level):
  // images/s and the synapse bit-operations per second it stands in for.
  double shortcut_images_per_s = 0, shortcut_equivalent_bit_ops_per_s = 0;
  // The conv workload: synapses per image, images/s and synapse bit-ops/s with independent and
  // with per-tap weight streams (both bit level), the former's ratio to the peak.
  long long conv_synapses = 0;
  double conv_images_per_s = 0, conv_synapse_bit_ops_per_s = 0, conv_ratio = 0;
  double conv_per_tap_images_per_s = 0, conv_per_tap_synapse_bit_ops_per_s = 0;
};

Network bench_network();
Network bench_conv_network();  // the conv workload's LeNet-5
Dataset synthetic_images(int count, uint64_t seed);
// AND+popcount bits per second on `threads` threads (0: all), measured for about `seconds`.
double and_popcount_peak(int threads, double seconds);
// Random bits per second of the fastest generator the engine uses (the ideal source's SplitMix64:
// AVX-512, 8 lanes x 4 vectors in flight, where the CPU has it; else the faster of AVX2, 4 lanes
// x 4 vectors, and 64-bit scalars, 4 in flight) on `threads` threads (0: all), measured for
// about `seconds`.
double random_bits_peak(int threads, double seconds);
ScBenchResult run_sc_bench(const ScBenchOptions& options);

// The PyTorch shortcut's figures (bench/torch_shortcut.py --json).
struct TorchShortcutPeer {
  double images_per_s = 0;         // one draw per neuron, level and sign (the plain way)
  double folded_images_per_s = 0;  // signs folded into 1 - q, as spinsc does
  double best_images_per_s = 0;    // the faster of the two: the peer's figure
  std::string torch_version;
  std::string data;                // "mnist" or "synthetic": the images it ran on
};
// Runs `python script --json` on the bench's images (MNIST from data_dir, or synthetic when
// `synthetic`) and threads. nullopt, with the reason in *why, when the interpreter, torch or the
// script is missing or the script fails; never throws for that.
std::optional<TorchShortcutPeer> run_torch_shortcut_peer(const std::filesystem::path& python, const std::filesystem::path& script,
                                                         int threads, int images, bool synthetic,
                                                         const std::filesystem::path& data_dir, std::string* why);

}  // namespace spinsc
