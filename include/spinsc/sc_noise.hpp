// SC noise in the training loop (mode `sc`, SPEC §5): what the forward pass of training sees
// of the stochastic computer.
//
// MomentMatchedNoise replaces each pre-activation product u_j = (W_q x)_j by u_j + e_j with
// e_j Gaussian, mean 0 and the variance of the engine's estimate s C_j / L for the configured
// source and L, under the engine's default layout (sign-magnitude AND, APC counting, broadcast
// inputs, one SNG per synapse). C_j = sum_i sign_ij N_ij, the N_ij independent across synapses,
// N_ij the ones of (x-stream AND w-stream) over L cycles, so
//   Var(s C_j / L) = (s/L)^2 sum_i Var(N_ij).
// For a source whose bits form a two-state Markov chain (s-MTJ; ideal is rho = 0), with
// p_x = x_i, p_w = |w_ij|/s, a = p_x(1-p_x), b = p_w(1-p_w), rho_x, rho_w the lag-1 correlations:
//   Var(N) = L p_x p_w (1 - p_x p_w)
//          + 2 [p_x^2 b T(rho_w) + p_w^2 a T(rho_x) + a b T(rho_x rho_w)],
//   T(r) = sum_{k=1}^{L-1} (L - k) r^k,
// exact for stationary chains. Other sources (LFSR, Sobol, traces) are described by their
// count_variance_factor() F: Var(N) = L p (1 - p) F(p) with p = p_x p_w (an approximation).
// Tests check the variance against the bit-level engine's empirical variance. The standard
// normals come from a ziggurat (normal.hpp); on an input that is mostly zeros (pixels) the
// variance and its gradient are sums over the nonzero inputs only (nn/sparse_gemm.hpp).
//
// BitLevelNoise instead runs the bit-level SC engine on every row of the minibatch and replaces
// u by the engine's estimate: exact for any source, multiply, accumulate and sharing, and
// about as slow as SC inference.
//
// Conv2d layers arrive as im2col rows (train.hpp): both treat each output position as a dense
// neuron with independent weight streams and its own draws (the correlation between positions
// through shared input streams, which the engine's broadcast inputs have, is not modelled).
//
// Randomness: derive_seed(seed, SeedStream::NoiseDraw, {epoch, image, layer}) per row, and {epoch, image, layer,
// position} for conv2d rows: deterministic on any thread count. Thread-safety: perturb() is
// called from the training thread and parallelises inside.
#pragma once

#include <memory>
#include <vector>

#include "spinsc/bit_source.hpp"
#include "spinsc/sc_engine.hpp"
#include "spinsc/train.hpp"

namespace spinsc {

class MomentMatchedNoise : public PreactivationNoise {
 public:
  // `states` is the network's K (weights are on its levels). Throws spinsc::Error if the
  // configuration is not the one this model describes (see BitLevelNoise for the others).
  MomentMatchedNoise(std::shared_ptr<const BitSource> source, int length, int states, uint64_t seed);
  MomentMatchedNoise(const MomentMatchedNoise&) = delete;  // its tables refer to it
  MomentMatchedNoise& operator=(const MomentMatchedNoise&) = delete;

  void perturb(const PreactivationBatch& batch) override;
  // The gradient through sigma(x, W_q) of the drawn noise sigma * eps (reparameterisation), so
  // that training can also lower the SC variance where it costs accuracy: a weight at a full
  // level |w| = s on a saturated input (p = 1) is noise-free, a half level is the noisiest. It
  // uses the i.i.d. part of the variance, sum_i L p (1 - p) (the correlation terms are left out
  // of the gradient, not of the noise). Disabled by set_variance_gradient(false).
  void backward(const PreactivationBatch& batch, const float* du, float* dweight, float* dinput) override;
  void set_variance_gradient(bool on) { variance_gradient_ = on; }

  // Var(s C_j / L) for each row and neuron: rows x out, row-major (for tests and reports);
  // `threads` 0: OpenMP's default team.
  std::vector<double> variance(const float* input, int rows, int in, const float* weight, int out, float scale,
                               int threads = 0) const;
  ~MomentMatchedNoise() override;

 private:
  double rho(double p) const;  // lag-1 correlation of a stream at p (0 for non-Markov sources)
  double t_sum(double r) const;
  double factor(double p) const;  // count_variance_factor, interpolated from factor_

  static constexpr int kFactorGrid = 32;
  std::vector<double> factor_;

  std::shared_ptr<const BitSource> source_;
  int length_, states_;
  uint64_t seed_;
  bool markov_;
  bool variance_gradient_ = true;
  struct SourceStats;
  std::unique_ptr<const SourceStats> stats_;  // built by the constructor
  // Per layer: the last perturb()'s draws and the matrices of a step, kept between steps (a
  // minibatch's would otherwise be allocated and page-faulted afresh at every step).
  struct Scratch;
  void variance_into(const float* input, int rows, int in, const float* weight, const float* weight_t, int out, float scale, int threads,
                     Scratch& scratch, std::vector<double>& result) const;
  Scratch& scratch(int layer);
  std::vector<std::unique_ptr<Scratch>> scratch_;
};

class BitLevelNoise : public PreactivationNoise {
 public:
  // `source` generates the streams (config.source is only its name); throws spinsc::Error
  // for an analog configuration.
  BitLevelNoise(ScConfig config, int states, std::shared_ptr<const BitSource> source);
  void perturb(const PreactivationBatch& batch) override;

 private:
  ScConfig config_;
  int states_;
  std::shared_ptr<const BitSource> source_;
};

}  // namespace spinsc
