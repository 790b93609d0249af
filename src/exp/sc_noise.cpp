#include "spinsc/sc_noise.hpp"

#include <omp.h>

// GCC 12 reports -Wmaybe-uninitialized inside its AVX-512 headers when Eigen instantiates them
// (false reports on _mm512_undefined_* placeholders): kept out of the build log.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Dense>
#pragma GCC diagnostic pop
#include <algorithm>
#include <cmath>
#include <optional>

#include "nn/sparse_gemm.hpp"
#include "nn/tiled_gemm.hpp"
#include "spinsc/error.hpp"
#include "spinsc/normal.hpp"
#include "spinsc/parallel.hpp"
#include "spinsc/quantize.hpp"
#include "spinsc/rng.hpp"

namespace spinsc {
namespace {

using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const Mat>;

// Rows of a minibatch are processed in fixed chunks, so that every row's arithmetic is the
// same whatever the thread count (Eigen is single-threaded inside an OpenMP region).
constexpr int kChunk = 16;

// Per-value statistics of an input stream, looked up through the value grids the inputs live
// on (pixels: k/255; activations: k/(K-1)); other values are computed on the spot.
class InputTable {
 public:
  template <class F>
  InputTable(int states, F stat) : states_(states) {
    for (int k = 0; k <= 255; ++k) pixel_.push_back(stat(k / 255.0));
    for (int k = 0; k < states; ++k) level_.push_back(stat(static_cast<double>(k) / (states - 1)));
    stat_ = stat;
  }
  double operator()(float x) const {
    const float p = x * 255.0f, q = x * static_cast<float>(states_ - 1);
    const float rp = std::round(p), rq = std::round(q);
    if (std::abs(p - rp) < 1e-3f && rp >= 0 && rp <= 255) return pixel_[static_cast<int>(rp)];
    if (std::abs(q - rq) < 1e-3f && rq >= 0 && rq < states_) return level_[static_cast<int>(rq)];
    return stat_(std::clamp(static_cast<double>(x), 0.0, 1.0));
  }

 private:
  int states_;
  std::vector<double> pixel_, level_;
  std::function<double(double)> stat_;
};

// The weights transposed (in x out): `weight_t` when the caller has them, else `weight` (out x
// in) transposed into `store`.
const float* transposed_weights(const float* weight, const float* weight_t, int out, int in, int threads, Mat& store) {
  if (weight_t) return weight_t;
  store.resize(in, out);
  nn::transpose(weight, out, in, store.data(), threads);
  return store.data();
}

}  // namespace

// What the variance needs of the source, L and K, computed once: per weight magnitude level l
// (p_w = l/h) the stream statistics, and for correlated sources the input-side tables.
struct MomentMatchedNoise::SourceStats {
  explicit SourceStats(const MomentMatchedNoise& noise) {
    const int h = (noise.states_ - 1) / 2;
    pw.resize(h + 1), bw.resize(h + 1), rw.resize(h + 1), tw.resize(h + 1);
    for (int l = 0; l <= h; ++l) {
      pw[l] = static_cast<double>(l) / h;
      bw[l] = pw[l] * (1 - pw[l]);
      rw[l] = noise.rho(pw[l]);
      tw[l] = noise.t_sum(rw[l]);
    }
    correlated = noise.markov_ && noise.rho(0.5) > 0;
    for (int l = 0; l <= h; ++l) correlated |= rw[l] > 0;
    if (!correlated) return;
    ax_t.emplace(noise.states_, [&noise](double x) { return 2.0 * x * (1 - x) * noise.t_sum(noise.rho(x)); });
    for (int l = 0; l <= h; ++l)
      coupled.emplace_back(noise.states_, [&noise, b = bw[l], r = rw[l]](double x) {
        return 2.0 * x * (1 - x) * b * noise.t_sum(noise.rho(x) * r);
      });
  }
  std::vector<double> pw, bw, rw, tw;
  bool correlated = false;
  std::optional<InputTable> ax_t;  // 2 a T(rho_x), a = p_x (1 - p_x)
  std::vector<InputTable> coupled;  // per level: 2 a b T(rho_x rho_w)
};

MomentMatchedNoise::MomentMatchedNoise(std::shared_ptr<const BitSource> source, int length, int states, uint64_t seed)
    : source_(std::move(source)), length_(length), states_(states), seed_(seed) {
  if (!source_) fail("SC noise needs a bit source");
  if (length_ < 1) fail("SC length {} must be at least 1", length_);
  source_->check_length(length_);
  markov_ = !std::isnan(source_->markov_correlation(0.5));
  if (!markov_) {
    // count_variance_factor() may be expensive (estimated by simulation): tabulate it once.
    factor_.resize(kFactorGrid + 1, 1.0);
    for (int k = 1; k < kFactorGrid; ++k) factor_[k] = source_->count_variance_factor(static_cast<double>(k) / kFactorGrid, length_);
    factor_[0] = factor_[1];
    factor_[kFactorGrid] = factor_[kFactorGrid - 1];
  }
  stats_ = std::make_unique<const SourceStats>(*this);
}

double MomentMatchedNoise::factor(double p) const {
  const double t = std::clamp(p, 0.0, 1.0) * kFactorGrid;
  const int k = std::min(static_cast<int>(t), kFactorGrid - 1);
  return factor_[k] + (t - k) * (factor_[k + 1] - factor_[k]);
}

double MomentMatchedNoise::rho(double p) const {
  if (!markov_) return 0.0;
  const double r = source_->markov_correlation(p);
  // A correlation r adds at most ~2 r / (1 - r) of the i.i.d. variance: below 1e-9 (the
  // reference device's is ~1e-100) the stream is treated as i.i.d., which skips the
  // correlation terms' extra products in every minibatch.
  return std::isfinite(r) && r > 1e-9 ? std::min(r, 1.0 - 1e-12) : 0.0;
}

double MomentMatchedNoise::t_sum(double r) const {
  // T(r) = sum_{k=1}^{L-1} (L - k) r^k, summed directly: stable for every r in [0, 1).
  if (r <= 0.0) return 0.0;
  double total = 0.0, rk = 1.0;
  for (int k = 1; k < length_; ++k) {
    rk *= r;
    if (rk < 1e-300) break;
    total += static_cast<double>(length_ - k) * rk;
  }
  return total;
}

struct MomentMatchedNoise::Scratch {
  Mat level, P, P2, G2;            // out x in: weight level, and the variance's weight-side factors
  Mat C, A, A2, X2, first, second, ca, ca2;  // backward
  std::vector<double> var;         // rows x out
  std::vector<float> eps_over_sigma;  // rows x out, from the last perturb(): eps / (2 sigma), 0 where sigma = 0
  // The last perturb()'s input as its nonzeros (backward() reuses them), and for an input that
  // is mostly zeros (pixels) the transposed (in x out) factors and gradient sums of the sparse
  // products (nn/sparse_gemm.hpp).
  nn::SparseRows nonzeros, columns, columns_squared;  // of x, x^T and (x o x)^T
  Mat Wt, Pt, G2t, V, firstT, secondT;
};

MomentMatchedNoise::~MomentMatchedNoise() = default;

MomentMatchedNoise::Scratch& MomentMatchedNoise::scratch(int layer) {
  if (static_cast<int>(scratch_.size()) <= layer) scratch_.resize(static_cast<size_t>(layer) + 1);
  auto& s = scratch_[static_cast<size_t>(layer)];
  if (!s) s = std::make_unique<Scratch>();
  return *s;
}

std::vector<double> MomentMatchedNoise::variance(const float* input, int rows, int in, const float* weight, int out,
                                                 float scale, int threads) const {
  Scratch scratch;
  std::vector<double> result;
  variance_into(input, rows, in, weight, nullptr, out, scale, threads > 0 ? threads : omp_get_max_threads(), scratch, result);
  return result;
}

void MomentMatchedNoise::variance_into(const float* input, int rows, int in, const float* weight, const float* weight_t, int out, float scale,
                                       int threads, Scratch& sc, std::vector<double>& result) const {
  const double L = length_;
  const int h = (states_ - 1) / 2;
  ConstMap X(input, rows, in), W(weight, out, in);
  const std::vector<double>&pw = stats_->pw, &bw = stats_->bw, &tw = stats_->tw;
  const bool correlated = stats_->correlated;
  // Per weight: its magnitude level (weight_level() vectorised: Eigen's round is also half away
  // from zero) and the factors P = L p_w, P2 = p_w^2, G2 = -L p_w^2 + 2 b T(rho_w), in row tiles.
  const float half = 0.5f * static_cast<float>(states_ - 1);
  // Var in the units of u: (s / L)^2 times the variance of the count.
  const double to_units = (static_cast<double>(scale) / L) * (static_cast<double>(scale) / L);
  sc.nonzeros.assign(input, rows, in);
  if (markov_ && !correlated) {
    if (sc.nonzeros.sparse_enough()) {
      // The same per-weight factors as below, laid out in x out, and V = X P^T + X^2 G2^T as one
      // sparse product over the nonzero inputs.
      const ConstMap Wt(transposed_weights(weight, weight_t, out, in, threads, sc.Wt), in, out);
      sc.Pt.resize(in, out);
      sc.G2t.resize(in, out);
      nn::for_tiles(in, out, kChunk, out, threads, [&](int i0, int ni, int, int) {
        const auto lv = ((Wt.middleRows(i0, ni).array() / scale).max(-1.0f).min(1.0f) * half).round().abs();
        const auto p2 = (lv / static_cast<float>(h)).square();
        sc.Pt.middleRows(i0, ni) = (lv * static_cast<float>(L / h)).matrix();
        sc.G2t.middleRows(i0, ni) = (p2 * static_cast<float>(-L)).matrix();
      });
      sc.V.resize(rows, out);
      result.resize(static_cast<size_t>(rows) * out);
      nn::sparse_xwt(sc.nonzeros, sc.Pt.data(), sc.G2t.data(), sc.V.data(), out, threads, [&](int r0, int nr, int c0, int w) {
        for (int r = r0; r < r0 + nr; ++r)
          for (int j = c0; j < c0 + w; ++j)
            result[static_cast<size_t>(r) * out + j] = std::max(0.0, static_cast<double>(sc.V(r, j))) * to_units;
      });
      return;
    }
  }
  sc.level.resize(out, in);
  sc.P.resize(out, in);
  sc.P2.resize(out, in);
  sc.G2.resize(out, in);
  nn::for_tiles(out, in, kChunk, in, threads, [&](int j0, int nj, int, int) {
    auto lv = sc.level.middleRows(j0, nj);
    lv = ((W.middleRows(j0, nj).array() / scale).max(-1.0f).min(1.0f) * half).round().abs().matrix();
    if (!correlated) {
      sc.P2.middleRows(j0, nj) = (lv.array() / static_cast<float>(h)).square().matrix();
      sc.P.middleRows(j0, nj) = (lv.array() * static_cast<float>(L / h)).matrix();
      sc.G2.middleRows(j0, nj) = (sc.P2.middleRows(j0, nj).array() * static_cast<float>(-L)).matrix();
      return;
    }
    for (int j = j0; j < j0 + nj; ++j)
      for (int i = 0; i < in; ++i) {
        const int l = static_cast<int>(sc.level(j, i));
        sc.P(j, i) = static_cast<float>(L * pw[l]);
        sc.P2(j, i) = static_cast<float>(pw[l] * pw[l]);
        sc.G2(j, i) = static_cast<float>(-L * pw[l] * pw[l] + 2.0 * bw[l] * tw[l]);
      }
  });
  const Mat& level = sc.level;
  std::vector<Mat> at_level;  // indicator of each magnitude level
  if (correlated)
    for (int l = 0; l <= h; ++l) at_level.push_back((level.array() == static_cast<float>(l)).cast<float>().matrix());
  const bool plain = !markov_;
  result.resize(static_cast<size_t>(rows) * out);
  const int chunks = (rows + kChunk - 1) / kChunk;
  ParallelErrors errors;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && chunks > 1)
  for (int c = 0; c < chunks; ++c) errors.run([&] {
    const int r0 = c * kChunk, nr = std::min(kChunk, rows - r0);
    const auto Xc = X.middleRows(r0, nr);
    Mat V(nr, out);
    if (plain) {
      // Non-Markov source: L p (1 - p) F(p) per synapse with p = p_x p_w (F interpolated); an
      // input at 0 adds nothing, so only the nonzero inputs are visited.
      const nn::SparseRows& nz = sc.nonzeros;
      for (int r = 0; r < nr; ++r)
        for (int j = 0; j < out; ++j) {
          double v = 0;
          for (int k = nz.start[static_cast<size_t>(r0 + r)]; k < nz.start[static_cast<size_t>(r0 + r) + 1]; ++k) {
            const int i = nz.index[static_cast<size_t>(k)];
            const double p = std::clamp(static_cast<double>(nz.value[static_cast<size_t>(k)]), 0.0, 1.0) * pw[static_cast<int>(level(j, i))];
            if (p > 0 && p < 1) v += L * p * (1 - p) * factor(p);
          }
          V(r, j) = static_cast<float>(v);
        }
    } else {
      const Mat Xs = Xc.cwiseProduct(Xc);
      V.noalias() = Xc * sc.P.transpose();
      V.noalias() += Xs * sc.G2.transpose();
      if (correlated) {
        Mat A(nr, in);
        for (int r = 0; r < nr; ++r)
          for (int i = 0; i < in; ++i) A(r, i) = static_cast<float>((*stats_->ax_t)(Xc(r, i)));
        V.noalias() += A * sc.P2.transpose();
        for (int l = 1; l <= h; ++l) {
          if (bw[l] == 0) continue;
          for (int r = 0; r < nr; ++r)
            for (int i = 0; i < in; ++i) A(r, i) = static_cast<float>(stats_->coupled[l](Xc(r, i)));
          V.noalias() += A * at_level[static_cast<size_t>(l)].transpose();
        }
      }
    }
    for (int r = 0; r < nr; ++r)
      for (int j = 0; j < out; ++j)
        result[static_cast<size_t>(r0 + r) * out + j] = std::max(0.0, static_cast<double>(V(r, j))) * to_units;
  });
  errors.rethrow();
}

void MomentMatchedNoise::perturb(const PreactivationBatch& b) {
  Scratch& sc = scratch(b.layer);
  variance_into(b.input, b.rows, b.in, b.weight, b.weight_t, b.out, b.scale, b.threads, sc, sc.var);
  const std::vector<double>& var = sc.var;
  std::vector<float>& keep = sc.eps_over_sigma;
  keep.assign(static_cast<size_t>(b.rows) * b.out, 0.0f);
  ParallelErrors errors;
#pragma omp parallel for schedule(static) num_threads(b.threads) if (b.threads > 1)
  for (int r = 0; r < b.rows; ++r) errors.run([&] {
    // One stream per image and layer, and per output position for conv2d rows (dense rows keep
    // the three-key derivation, so MLP training draws what it always drew).
    const auto image = static_cast<uint64_t>(b.images[r / b.positions]), epoch = static_cast<uint64_t>(b.epoch),
               layer = static_cast<uint64_t>(b.layer);
    Xoshiro256 rng(b.positions == 1 ? derive_seed(seed_, SeedStream::NoiseDraw, {epoch, image, layer})
                                    : derive_seed(seed_, SeedStream::NoiseDraw, {epoch, image, layer, static_cast<uint64_t>(r % b.positions)}));
    float* u = b.product + static_cast<size_t>(r) * b.out;
    for (int j = 0; j < b.out; ++j) {
      const size_t k = static_cast<size_t>(r) * b.out + j;
      const double sigma = std::sqrt(var[k]), eps = ziggurat_normal(rng);
      u[j] += static_cast<float>(sigma * eps);
      if (sigma > 0) keep[k] = static_cast<float>(eps / (2 * sigma));
    }
  });
  errors.rethrow();
}

void MomentMatchedNoise::backward(const PreactivationBatch& b, const float* du, float* dweight, float* dinput) {
  if (!variance_gradient_) return;
  Scratch& sc = scratch(b.layer);
  const std::vector<float>& keep = sc.eps_over_sigma;
  if (keep.size() != static_cast<size_t>(b.rows) * b.out) return;  // no perturb() of this batch shape
  // Var_bj = (s^2 / L) sum_i p (1 - p), p = x_bi a_ji, a = |w_q| / s. With C_bj = du_bj eps_bj /
  // (2 sigma_bj) (s^2 / L):
  //   dL/dw_ji += sign(w_ji) / s [ (C^T X)_ji - 2 a_ji (C^T X^2)_ji ]
  //   dL/dx_bi += (C A)_bi - 2 x_bi (C A^2)_bi
  // The elementwise parts in row tiles and the products by the trainer's tiled GEMMs, each pair
  // combined in the second product's epilogue: bit-identical on any thread count.
  const float s = b.scale;
  const float k = s * s / static_cast<float>(length_);
  const int m = b.out, n = b.in, rows = b.rows, T = b.threads;
  ConstMap X(b.input, rows, n), W(b.weight, m, n), dU(du, rows, m), E(keep.data(), rows, m);
  // The input's nonzeros are those perturb() found for this batch (variance_into() keeps them).
  const bool sparse = sc.nonzeros.sparse_enough();
  sc.C.resize(rows, m);
  if (!sparse) sc.X2.resize(rows, n);
  nn::for_tiles(rows, n, kChunk, n, T, [&](int r0, int nr, int, int) {
    sc.C.middleRows(r0, nr) = (dU.middleRows(r0, nr).array() * E.middleRows(r0, nr).array() * k).matrix();
    if (!sparse) sc.X2.middleRows(r0, nr) = X.middleRows(r0, nr).cwiseProduct(X.middleRows(r0, nr));
  });
  Eigen::Map<Mat> dW(dweight, m, n);
  if (sparse) {
    // The same two sums over the nonzero inputs only, transposed (in x out), combined there with
    // the weights' factors, and added to dW transposed back.
    sc.columns.assign_transpose(sc.nonzeros);
    sc.columns_squared.assign_transpose(sc.nonzeros, true);
    sc.firstT.resize(n, m);
    sc.secondT.resize(n, m);
    nn::sparse_xwt(sc.columns, sc.C.data(), nullptr, sc.firstT.data(), m, T);
    nn::sparse_xwt(sc.columns_squared, sc.C.data(), nullptr, sc.secondT.data(), m, T);
    const ConstMap Wt(transposed_weights(b.weight, b.weight_t, m, n, T, sc.Wt), n, m);
    nn::for_tiles(n, m, kChunk, m, T, [&](int i0, int ni, int, int) {
      const auto w = Wt.middleRows(i0, ni).array();
      sc.firstT.middleRows(i0, ni).array() =
          w.sign() / s * (sc.firstT.middleRows(i0, ni).array() - 2.0f * (w.abs() / s).min(1.0f) * sc.secondT.middleRows(i0, ni).array());
    });
    nn::transpose(sc.firstT.data(), n, m, dweight, T, true);
    if (!dinput) return;
  }
  sc.A.resize(m, n);
  sc.A2.resize(m, n);
  nn::for_tiles(m, n, kChunk, n, T, [&](int j0, int nj, int, int) {
    sc.A.middleRows(j0, nj) = (W.middleRows(j0, nj).array().abs() / s).min(1.0f).matrix();
    sc.A2.middleRows(j0, nj) = sc.A.middleRows(j0, nj).cwiseProduct(sc.A.middleRows(j0, nj));
  });
  if (!sparse) {
    sc.first.resize(m, n);
    sc.second.resize(m, n);
    nn::gemm_dtx(sc.C.data(), X.data(), sc.first.data(), rows, m, n, T);
    nn::gemm_dtx(sc.C.data(), sc.X2.data(), sc.second.data(), rows, m, n, T, [&](int r0, int h, int c0, int w) {
      dW.block(r0, c0, h, w).array() +=
          W.block(r0, c0, h, w).array().sign() / s *
          (sc.first.block(r0, c0, h, w).array() - 2.0f * sc.A.block(r0, c0, h, w).array() * sc.second.block(r0, c0, h, w).array());
    });
  }
  if (dinput) {
    sc.ca.resize(rows, n);
    sc.ca2.resize(rows, n);
    Eigen::Map<Mat> dX(dinput, rows, n);
    nn::gemm_dw(sc.C.data(), sc.A.data(), sc.ca.data(), rows, m, n, T);
    nn::gemm_dw(sc.C.data(), sc.A2.data(), sc.ca2.data(), rows, m, n, T, [&](int r0, int h, int c0, int w) {
      dX.block(r0, c0, h, w).array() +=
          sc.ca.block(r0, c0, h, w).array() - 2.0f * X.block(r0, c0, h, w).array() * sc.ca2.block(r0, c0, h, w).array();
    });
  }
}

BitLevelNoise::BitLevelNoise(ScConfig config, int states, std::shared_ptr<const BitSource> source)
    : config_(std::move(config)), states_(states), source_(std::move(source)) {
  if (config_.analog) fail("training with SC runs the quantized network: --analog does not apply");
}

void BitLevelNoise::perturb(const PreactivationBatch& b) {
  // A one-layer network carrying this layer's weights; its streams are keyed by a per-(epoch,
  // image, layer) draw index, so layers and epochs see independent streams. Device variation
  // maps every layer onto the first layer's device array (documented in docs/training.md).
  Network net = Network::zeros({b.in, b.out}, states_, TrainMode::Sc);
  net.layers[0].weight.assign(b.weight, b.weight + static_cast<size_t>(b.in) * b.out);
  net.layers[0].scale = b.scale;
  const ScEngine engine(net, config_, source_);
  ParallelErrors errors;  // e.g. a trace shorter than L
#pragma omp parallel for schedule(static)
  for (int r = 0; r < b.rows; ++r) errors.run([&] {
    // A conv row (one output position's receptive field) is one dense neuron per filter; its
    // position names its own draw. Positions do not share input streams here (the engine's
    // broadcast inputs do): each position's estimate has the engine's distribution, not the
    // correlation between positions, as in the moment-matched noise.
    const uint64_t image = static_cast<uint64_t>(b.images[r / b.positions]);
    const uint64_t draw =
        b.positions == 1
            ? derive_seed(config_.seed, SeedStream::NoiseDraw, {static_cast<uint64_t>(b.epoch), image, static_cast<uint64_t>(b.layer)})
            : derive_seed(config_.seed, SeedStream::NoiseDraw, {static_cast<uint64_t>(b.epoch), image, static_cast<uint64_t>(b.layer),
                                         static_cast<uint64_t>(r % b.positions)});
    const ScLayerResult res = engine.layer(0, b.input + static_cast<size_t>(r) * b.in, draw);
    std::copy(res.estimate.begin(), res.estimate.end(), b.product + static_cast<size_t>(r) * b.out);
  });
  errors.rethrow();
}

}  // namespace spinsc
