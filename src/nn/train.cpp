#include "spinsc/train.hpp"

#include <omp.h>

#include <fmt/ranges.h>

// GCC 12 reports -Wmaybe-uninitialized inside its AVX-512 headers when Eigen instantiates them
// (false reports on _mm512_undefined_* placeholders): kept out of the build log.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Core>
#pragma GCC diagnostic pop
#include <algorithm>
#include <chrono>
#include <cmath>
#include <numbers>
#include <numeric>
#include <fstream>
#include <thread>

#include "nn/fast_quantize.hpp"
#include "core/aligned_vector.hpp"
#include "core/enum_names.hpp"
#include "nn/tiled_gemm.hpp"
#include "nn/update_kernels.hpp"
#include "spinsc/digital.hpp"
#include "spinsc/error.hpp"
#include "spinsc/parallel.hpp"
#include "spinsc/quantize.hpp"
#include "spinsc/rng.hpp"

namespace spinsc {

namespace {
constexpr detail::EnumNames<Optimizer, 2> kOptimizers{{{Optimizer::Adam, "adam"}, {Optimizer::Sgd, "sgd"}}};
constexpr detail::EnumNames<LrSchedule, 3> kSchedules{
    {{LrSchedule::Constant, "constant"}, {LrSchedule::Cosine, "cosine"}, {LrSchedule::Step, "step"}}};
}  // namespace

std::string to_string(Optimizer optimizer) { return detail::enum_name(kOptimizers, optimizer); }
Optimizer parse_optimizer(const std::string& text) { return detail::parse_enum(kOptimizers, text, "optimizer"); }
std::string to_string(LrSchedule schedule) { return detail::enum_name(kSchedules, schedule); }
LrSchedule parse_schedule(const std::string& text) { return detail::parse_enum(kSchedules, text, "learning-rate schedule"); }

double default_lr(Optimizer optimizer) { return optimizer == Optimizer::Adam ? 5e-3 : 0.1; }
double default_weight_decay(Optimizer optimizer) { return optimizer == Optimizer::Adam ? 0.1 : 1e-3; }

void validate(const TrainConfig& c, int features) {
  if (c.arch.size() < 2) fail("--arch needs at least an input and an output width, got {} entries", c.arch.size());
  for (size_t l = 0; l < c.arch.size(); ++l)
    if (c.arch[l] < 1 || c.arch[l] > 1 << 16) fail("--arch width {} at position {} is out of range (1..65536)", c.arch[l], l);
  if (features > 0 && c.arch.front() != features)
    fail("--arch starts with {} inputs but the {} images have {} pixels", c.arch.front(), c.dataset, features);
  if (c.arch.back() < 2) fail("--arch must end with at least 2 classes, got {}", c.arch.back());
  if (c.states < 3 || c.states % 2 == 0 || c.states > 1025) fail("--states K = {} must be odd and between 3 and 1025", c.states);
  if (c.epochs < 1 || c.epochs > 100000) fail("--epochs {} must be between 1 and 100000", c.epochs);
  if (c.batch < 1 || c.batch > 65536) fail("--batch {} must be between 1 and 65536", c.batch);
  if (!(c.lr >= 0.0) || !std::isfinite(c.lr) || c.lr > 10.0) fail("--lr {} must be positive and at most 10", c.lr);
  if (!(c.momentum >= 0.0 && c.momentum < 1.0)) fail("--momentum {} must be in [0, 1)", c.momentum);
  if (!(c.weight_decay >= 0.0 && c.weight_decay < 10.0) && c.weight_decay != -1.0)
    fail("--weight-decay {} must be in [0, 10)", c.weight_decay);
  if (c.val < 0) fail("--val {} must not be negative", c.val);
  if (c.shift < 0 || c.shift > 8) fail("--shift {} must be between 0 and 8 pixels", c.shift);
  if (c.threads < 0 || c.threads > 4096) fail("--threads {} must be between 0 (automatic) and 4096", c.threads);
}

namespace {

using nn::quantize_activation_fast;
using nn::quantize_weight_fast;
using nn::round_away;

// Tags of derive_seed keys, so that each use of the seed draws an independent generator.
constexpr uint64_t kInitTag = 0x696e6974;     // "init"
constexpr uint64_t kShuffleTag = 0x73687566;  // "shuf"
constexpr uint64_t kShiftTag = 0x73686674;    // "shft"

constexpr float kBeta1 = 0.9f, kBeta2 = 0.999f, kEps = 1e-8f;
constexpr int kRowBlock = 16;  // rows per elementwise task: fixed, so results ignore the thread count

struct Moments {
  detail::AlignedVector<float> m, v;
  void resize(size_t n) { m.assign(n, 0.0f), v.assign(n, 0.0f); }
};

struct LayerBuffers {
  detail::AlignedVector<float> wq;       // out x in: weights as used in the forward pass
  detail::AlignedVector<float> dwq;      // out x in: dL/dW_q
  detail::AlignedVector<float> product;  // rows x out: u = x W_q^T (+ SC noise)
  detail::AlignedVector<float> pre;      // rows x out: z = gain*u + b (hidden)
  detail::AlignedVector<float> act;      // rows x out: activation (hidden) or logits (output)
  detail::AlignedVector<float> dpre;     // rows x out: dL/dz (hidden) or dL/dy (output)
  detail::AlignedVector<float> du;       // rows x out: dL/du
  detail::AlignedVector<float> db, dg;   // out
  std::vector<double> scale_partial;  // out: per-row terms of dL/ds, summed in order
  Moments w, b, g;
  float log_scale = 0.0f, ms = 0.0f, vs = 0.0f;
};

// Optimizer step on n parameters p with gradients g: Adam (bias-corrected step size `a`) or SGD
// with heavy-ball momentum (velocity in m); decoupled weight decay when `decayed`.
struct Update {
  Optimizer opt;
  float lr, a, momentum, decay;
  void operator()(float* p, float* m, float* v, const float* g, size_t n, bool decayed) const {
    const float keep = decayed ? 1.0f - lr * decay : 1.0f;
    if (opt == Optimizer::Adam)
      nn::adam_update(p, m, v, g, n, nn::AdamStep{kBeta1, kBeta2, kEps, a, keep});
    else
      nn::sgd_update(p, m, g, n, lr, momentum, keep);
  }
};

float max_abs(const std::vector<float>& v) {
  float m = 0.0f;
  for (float x : v) m = std::max(m, std::fabs(x));
  return m;
}

int resolve_threads(int threads) { return threads > 0 ? threads : omp_get_max_threads(); }

// CPUs that other processes leave idle, from /proc/stat over 100 ms (Linux); -1 if unknown.
double idle_cpus() {
  auto sample = [](uint64_t& idle, uint64_t& total) {
    std::ifstream f("/proc/stat");
    std::string cpu;
    f >> cpu;
    idle = total = 0;
    uint64_t v = 0;
    for (int k = 0; k < 8 && f >> v; ++k) {
      total += v;
      if (k == 3 || k == 4) idle += v;  // idle, iowait
    }
    return cpu == "cpu" && total > 0;
  };
  uint64_t i0 = 0, t0 = 0, i1 = 0, t1 = 0;
  if (!sample(i0, t0)) return -1.0;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (!sample(i1, t1) || t1 <= t0) return -1.0;
  return static_cast<double>(i1 - i0) / static_cast<double>(t1 - t0) * omp_get_num_procs();
}

// Threads for training when the user left the choice to us: all cores, but only the idle
// ones on a busy machine. A training step is ~1 ms between barriers, and a team thread that
// the OS preempts for a time slice stalls the whole team at every barrier: measured 0.6 s vs
// 12 s per epoch (784-256-128-64-10) with 2 threads on 2 cores already busy with other work,
// where 1 thread took 0.7 s. Results do not depend on the thread count, so this is safe.
int auto_threads() {
  const int most = omp_get_max_threads();
  const double idle = idle_cpus();
  if (idle < 0.0) return most;
  return std::clamp(static_cast<int>(std::lround(idle)), 1, most);
}

}  // namespace

struct Trainer::Impl {
  TrainConfig cfg;
  const Dataset& data;
  Dataset val_set;  // the held-out tail of `data`
  PreactivationNoise* noise;
  Network net;
  std::vector<LayerBuffers> buf;
  int threads = 1;                  // team size of the current epoch
  std::chrono::steady_clock::time_point threads_checked{};
  bool threads_known = false;
  int train_count = 0;
  long steps_per_epoch = 0;
  long step = 0;  // global minibatch step, 0-based
  int epoch = 0;  // epochs completed
  detail::AlignedVector<float> input;  // rows x arch[0]
  std::vector<int> order, batch_images;
  detail::AlignedVector<float> row_loss;
  std::vector<int> row_correct;
  detail::AlignedVector<float> noise_dinput;  // rows x in: dL/dx through the SC noise (noise->backward)
  std::vector<double> epoch_seconds;
  bool from_network = false;
  nlohmann::json history = nlohmann::json::array();

  bool qat() const { return cfg.mode != TrainMode::Float; }
  bool train_gain() const { return qat(); }
  int layers() const { return static_cast<int>(net.layers.size()); }

  Impl(TrainConfig c, const Dataset& d, PreactivationNoise* n, const Network* init) : cfg(std::move(c)), data(d), noise(n) {
    if (cfg.lr == 0.0) cfg.lr = default_lr(cfg.optimizer);
    if (cfg.weight_decay < 0.0) cfg.weight_decay = default_weight_decay(cfg.optimizer);
    validate(cfg, data.features());
    if (cfg.mode == TrainMode::Sc && noise == nullptr) fail("mode sc arrives with SC training");
    if (data.count < 1) fail("the training set '{}' is empty", data.name);
    if (cfg.val >= data.count) fail("--val {} leaves no training images out of {}", cfg.val, data.count);
    for (int i = 0; i < data.count; ++i)
      if (data.labels[i] >= cfg.arch.back())
        fail("label {} of training image {} does not fit the {} outputs of --arch", data.labels[i], i, cfg.arch.back());
    threads = resolve_threads(cfg.threads);
    // Eigen's own threading would change its blocking with the thread count; the trainer
    // parallelises over fixed tiles instead.
    Eigen::setNbThreads(1);
    train_count = data.count - cfg.val;
    if (cfg.val > 0) {
      val_set.name = data.name + " (validation)";
      val_set.rows = data.rows, val_set.cols = data.cols, val_set.count = cfg.val;
      val_set.images.assign(data.image(train_count), data.image(train_count) + static_cast<size_t>(cfg.val) * data.features());
      val_set.labels.assign(data.labels.begin() + train_count, data.labels.end());
    }
    steps_per_epoch = (train_count + cfg.batch - 1) / cfg.batch;
    initialise(init);
  }

  // Weights U(-sqrt(3/n), sqrt(3/n)) (variance 1/n: unit-scale pre-activations for inputs of
  // unit mean square), biases 0, gains 1; LSQ's initial scale s = 2 sqrt(h) mean|w|.
  void initialise(const Network* init) {
    net = Network::zeros(cfg.arch, cfg.states, cfg.mode);
    if (init) {
      validate(*init);
      if (init->arch != cfg.arch)
        fail("the initial network's arch {} differs from --arch {}", fmt::join(init->arch, ","), fmt::join(cfg.arch, ","));
    }
    from_network = init != nullptr;
    const bool keep_scales = init && init->quantized() && init->states == cfg.states;
    const float half = 0.5f * static_cast<float>(cfg.states - 1);
    buf.resize(net.layers.size());
    for (int l = 0; l < layers(); ++l) {
      DenseLayer& layer = net.layers[l];
      if (init) {
        const DenseLayer& from = init->layers[l];
        layer.weight = from.weight;
        layer.bias = from.bias;
        layer.gain = from.gain;
      } else {
        Xoshiro256 rng(derive_seed(cfg.seed, {kInitTag, static_cast<uint64_t>(l)}));
        const double a = std::sqrt(3.0 / layer.in);
        for (float& w : layer.weight) w = static_cast<float>((2.0 * rng.uniform() - 1.0) * a);
      }
      double mean_abs = 0.0;
      for (float w : layer.weight) mean_abs += std::fabs(w);
      mean_abs /= static_cast<double>(layer.weight.size());
      layer.scale = keep_scales ? init->layers[l].scale : static_cast<float>(std::max(2.0 * std::sqrt(half) * mean_abs, 1e-6));
      LayerBuffers& b = buf[l];
      b.log_scale = std::log(layer.scale);
      b.wq.assign(layer.weight.size(), 0.0f);
      b.dwq.assign(layer.weight.size(), 0.0f);
      b.db.assign(layer.out, 0.0f);
      b.dg.assign(layer.out, 0.0f);
      b.scale_partial.assign(layer.out, 0.0);
      b.w.resize(layer.weight.size());
      b.b.resize(layer.out);
      b.g.resize(layer.out);
    }
  }

  void resize_batch(int rows) {
    input.resize(static_cast<size_t>(rows) * cfg.arch[0]);
    for (int l = 0; l < layers(); ++l) {
      const size_t n = static_cast<size_t>(rows) * net.layers[l].out;
      for (auto* v : {&buf[l].product, &buf[l].pre, &buf[l].act, &buf[l].dpre, &buf[l].du}) v->resize(n);
    }
    row_loss.resize(rows);
    row_correct.resize(rows);
  }

  // Row ranges in fixed blocks of kRowBlock, in parallel.
  template <class F>
  void for_row_blocks(int rows, F&& f) const {
    const int blocks = (rows + kRowBlock - 1) / kRowBlock;
    ParallelErrors errors;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (threads > 1 && blocks > 1)
    for (int t = 0; t < blocks; ++t) errors.run([&] { f(t * kRowBlock, std::min(rows, (t + 1) * kRowBlock)); });
    errors.rethrow();
  }

  double lr_at(long t) const {
    const long total = steps_per_epoch * cfg.epochs;
    switch (cfg.schedule) {
      case LrSchedule::Constant: return cfg.lr;
      case LrSchedule::Cosine: return cfg.lr * 0.5 * (1.0 + std::cos(std::numbers::pi * static_cast<double>(t) / total));
      case LrSchedule::Step: {
        const long e = t / steps_per_epoch;
        double lr = cfg.lr;
        if (2 * e >= cfg.epochs) lr *= 0.1;
        if (4 * e >= 3L * cfg.epochs) lr *= 0.1;
        return lr;
      }
    }
    return cfg.lr;
  }

  // The minibatch's input rows and every layer's quantized weights, in one parallel pass of
  // fixed row blocks (fewer fork-joins per step: each is a wait on a busy machine).
  void prepare_step(int rows, bool with_input) {
    const float half = 0.5f * static_cast<float>(cfg.states - 1), km1 = static_cast<float>(cfg.states - 1);
    std::vector<int> first_task{0};  // task ranges: input blocks, then each layer's row blocks
    first_task.push_back(with_input ? (rows + kRowBlock - 1) / kRowBlock : 0);
    for (int l = 0; l < layers(); ++l)
      first_task.push_back(first_task.back() + (qat() ? (net.layers[l].out + kRowBlock - 1) / kRowBlock : 0));
    const int tasks = first_task.back(), n0 = cfg.arch[0];
    ParallelErrors errors;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (threads > 1 && tasks > 1)
    for (int t = 0; t < tasks; ++t) errors.run([&] {
      if (t < first_task[1]) {
        for (int r = t * kRowBlock; r < std::min(rows, (t + 1) * kRowBlock); ++r)
          gather(batch_images[r], &input[static_cast<size_t>(r) * n0]);
        return;
      }
      int l = 0;
      while (t >= first_task[l + 2]) ++l;
      const DenseLayer& layer = net.layers[l];
      const int j0 = (t - first_task[l + 1]) * kRowBlock, j1 = std::min(layer.out, j0 + kRowBlock);
      const float s = layer.scale;
      const float* w = layer.weight.data();
      float* q = buf[l].wq.data();
      for (size_t k = static_cast<size_t>(j0) * layer.in; k < static_cast<size_t>(j1) * layer.in; ++k)
        q[k] = quantize_weight_fast(w[k], s, half, km1);
    });
    errors.rethrow();
  }

  const float* used_weights(int l) const { return qat() ? buf[l].wq.data() : net.layers[l].weight.data(); }
  const float* layer_input(int l) const { return l == 0 ? input.data() : buf[l - 1].act.data(); }

  // Forward and backward of one minibatch; returns nothing, fills row_loss / row_correct and
  // every layer's gradients.
  void forward_backward(int rows) {
    const float km1 = static_cast<float>(cfg.states - 1);
    const int L = layers();
    for (int l = 0; l < L; ++l) {
      const DenseLayer& layer = net.layers[l];
      LayerBuffers& b = buf[l];
      const bool hidden = l + 1 < L;
      const int m = layer.out;
      const float* gain = layer.gain.data();
      const float* bias = layer.bias.data();
      const bool quant = qat();
      // z = gain*u + b and the activation (hidden) or y = u + b (output) on a block of the
      // product; elementwise, so any blocking gives the same values.
      auto activate = [&](int r0, int h, int c0, int w) {
        for (int r = r0; r < r0 + h; ++r) {
          const float* u = &b.product[static_cast<size_t>(r) * m];
          float* z = &b.pre[static_cast<size_t>(r) * m];
          float* a = &b.act[static_cast<size_t>(r) * m];
          if (hidden) {
            for (int j = c0; j < c0 + w; ++j) z[j] = gain[j] * u[j] + bias[j];
            if (quant)
              for (int j = c0; j < c0 + w; ++j) a[j] = quantize_activation_fast(z[j], km1);
            else
              for (int j = c0; j < c0 + w; ++j) a[j] = std::clamp(z[j], 0.0f, 1.0f);
          } else {
            for (int j = c0; j < c0 + w; ++j) a[j] = u[j] + bias[j];
          }
        }
      };
      if (!noise) {
        nn::gemm_xwt(layer_input(l), used_weights(l), b.product.data(), rows, layer.in, m, threads, activate);
        continue;
      }
      nn::gemm_xwt(layer_input(l), used_weights(l), b.product.data(), rows, layer.in, m, threads);
      PreactivationBatch pb;
      pb.layer = l, pb.rows = rows, pb.in = layer.in, pb.out = m;
      pb.input = layer_input(l), pb.weight = used_weights(l), pb.scale = layer.scale;
      pb.images = batch_images.data(), pb.epoch = epoch, pb.product = b.product.data(), pb.threads = threads;
      noise->perturb(pb);
      for_row_blocks(rows, [&](int r0, int r1) { activate(r0, r1 - r0, 0, m); });
    }
    // Softmax cross-entropy; dL/dy = (softmax - onehot) / rows for the minibatch mean.
    {
      LayerBuffers& b = buf[L - 1];
      const int m = net.layers[L - 1].out;
      const float inv_rows = 1.0f / static_cast<float>(rows);
      for_row_blocks(rows, [&](int r0, int r1) {
        for (int r = r0; r < r1; ++r) {
          const float* y = &b.act[static_cast<size_t>(r) * m];
          float* d = &b.dpre[static_cast<size_t>(r) * m];
          int best = 0;
          for (int j = 1; j < m; ++j)
            if (y[j] > y[best]) best = j;
          const float top = y[best];
          double sum = 0.0;
          for (int j = 0; j < m; ++j) sum += std::exp(static_cast<double>(y[j] - top));
          const int label = data.labels[batch_images[r]];
          row_loss[r] = static_cast<float>(std::log(sum) - static_cast<double>(y[label] - top));
          row_correct[r] = best == label;
          for (int j = 0; j < m; ++j) d[j] = static_cast<float>(std::exp(static_cast<double>(y[j] - top)) / sum) * inv_rows;
          d[label] -= inv_rows;
        }
      });
      std::copy(b.dpre.begin(), b.dpre.begin() + static_cast<size_t>(rows) * m, b.du.begin());
    }
    for (int l = L - 1; l >= 0; --l) {
      const DenseLayer& layer = net.layers[l];
      LayerBuffers& b = buf[l];
      const int m = layer.out;
      // Column sums in row order: dL/db and dL/dgain.
      std::fill(b.db.begin(), b.db.end(), 0.0f);
      std::fill(b.dg.begin(), b.dg.end(), 0.0f);
      for (int r = 0; r < rows; ++r) {
        const float* d = &b.dpre[static_cast<size_t>(r) * m];
        const float* u = &b.product[static_cast<size_t>(r) * m];
        for (int j = 0; j < m; ++j) b.db[j] += d[j];
        if (l + 1 < L)
          for (int j = 0; j < m; ++j) b.dg[j] += d[j] * u[j];
      }
      nn::gemm_dtx(b.du.data(), layer_input(l), b.dwq.data(), rows, m, layer.in, threads);
      float* noise_dx = nullptr;
      if (noise) {
        // The noise's own gradient (if it has one): into dW_q, and into dL/dx of the layer
        // below, which joins that layer's gradient before its straight-through mask.
        PreactivationBatch pb;
        pb.layer = l, pb.rows = rows, pb.in = layer.in, pb.out = m;
        pb.input = layer_input(l), pb.weight = used_weights(l), pb.scale = layer.scale;
        pb.images = batch_images.data(), pb.epoch = epoch, pb.product = b.product.data(), pb.threads = threads;
        if (l > 0) {
          noise_dinput.assign(static_cast<size_t>(rows) * layer.in, 0.0f);
          noise_dx = noise_dinput.data();
        }
        noise->backward(pb, b.du.data(), b.dwq.data(), noise_dx);
      }
      if (l == 0) continue;
      // dL/da of the layer below, then through its activation's straight-through gradient
      // (1 inside 0 < z < 1 only) and its gain.
      LayerBuffers& below = buf[l - 1];
      const DenseLayer& below_layer = net.layers[l - 1];
      const int n = layer.in;
      const float* g = below_layer.gain.data();
      nn::gemm_dw(b.du.data(), used_weights(l), below.dpre.data(), rows, m, n, threads,
                  [&](int r0, int h, int c0, int w) {
                    for (int r = r0; r < r0 + h; ++r) {
                      float* dz = &below.dpre[static_cast<size_t>(r) * n];
                      float* du = &below.du[static_cast<size_t>(r) * n];
                      const float* z = &below.pre[static_cast<size_t>(r) * n];
                      const float* ndx = noise_dx ? noise_dx + static_cast<size_t>(r) * n : nullptr;
                      for (int j = c0; j < c0 + w; ++j) {
                        const float extra = ndx ? ndx[j] : 0.0f;
                        dz[j] = (z[j] > 0.0f && z[j] < 1.0f) ? dz[j] + extra : 0.0f;
                        du[j] = dz[j] * g[j];
                      }
                    }
                  });
    }
  }

  // Turns dL/dW_q of layer l into dL/dW in place and returns dL/ds. Straight-through where
  // |w/s| <= 1, zero outside; LSQ: dw_q/ds = q/h - w/s inside the range, sign(w) outside.
  // Float mode: W_q = W, nothing to do.
  double weight_gradient(int l, const Update* upd = nullptr) {
    DenseLayer& layer = net.layers[l];
    LayerBuffers& b = buf[l];
    const int in = layer.in;
    const float s = layer.scale, half = 0.5f * static_cast<float>(cfg.states - 1);
    const bool quant = qat();
    for_row_blocks(layer.out, [&](int j0, int j1) {
      if (quant) {
        std::vector<float> dq(in);
        for (int j = j0; j < j1; ++j) {
          const size_t k0 = static_cast<size_t>(j) * in;
          const float* w = &layer.weight[k0];
          float* g = &b.dwq[k0];
          nn::lsq_scale_derivative(w, s, half, dq.data(), in);
          b.scale_partial[j] = nn::dot_fixed_order(g, dq.data(), in);
          nn::mask_saturated(w, s, g, in);
        }
      }
      // The rows' gradients are final: step their weights now, in the same pass (s itself
      // moves only after every row has used the old s).
      if (upd) {
        const size_t k0 = static_cast<size_t>(j0) * in, n = static_cast<size_t>(j1 - j0) * in;
        (*upd)(&layer.weight[k0], &b.w.m[k0], &b.w.v[k0], &b.dwq[k0], n, true);
      }
    });
    if (!quant) return 0.0;
    double ds = 0.0;
    for (int j = 0; j < layer.out; ++j) ds += b.scale_partial[j];
    return ds;
  }

  void update(long t) {
    const double lr = lr_at(t);
    const double tt = static_cast<double>(t + 1);
    const double a = lr * std::sqrt(1.0 - std::pow(static_cast<double>(kBeta2), tt)) / (1.0 - std::pow(static_cast<double>(kBeta1), tt));
    const Update upd{cfg.optimizer, static_cast<float>(lr), static_cast<float>(a), static_cast<float>(cfg.momentum),
                     static_cast<float>(cfg.weight_decay)};
    for (int l = 0; l < layers(); ++l) {
      DenseLayer& layer = net.layers[l];
      LayerBuffers& b = buf[l];
      const double ds = weight_gradient(l, &upd);
      const size_t m = layer.out;
      upd(layer.bias.data(), b.b.m.data(), b.b.v.data(), b.db.data(), m, false);
      if (l + 1 < layers() && train_gain()) upd(layer.gain.data(), b.g.m.data(), b.g.v.data(), b.dg.data(), m, false);
      if (qat()) {
        // Learned through log s: the step is relative to s, whatever the layer's weight range.
        const float gs = static_cast<float>(ds * layer.scale);
        upd(&b.log_scale, &b.ms, &b.vs, &gs, 1, false);
        b.log_scale = std::clamp(b.log_scale, -30.0f, 30.0f);
        layer.scale = std::exp(b.log_scale);
      }
    }
  }

  // Image `i` as model input; with augmentation, translated by a random (dx, dy) in
  // [-shift, shift]^2 drawn from (seed, epoch, image), the uncovered border filled with 0.
  void gather(int i, float* x) const {
    const uint8_t* px = data.image(i);
    const int n0 = cfg.arch[0];
    if (cfg.shift == 0) {
      for (int f = 0; f < n0; ++f) x[f] = px[f] * (1.0f / 255.0f);
      return;
    }
    Xoshiro256 rng(derive_seed(cfg.seed, {kShiftTag, static_cast<uint64_t>(epoch), static_cast<uint64_t>(i)}));
    const int span = 2 * cfg.shift + 1;
    const int dx = static_cast<int>(rng.below(span)) - cfg.shift, dy = static_cast<int>(rng.below(span)) - cfg.shift;
    const int R = data.rows, C = data.cols;
    for (int y = 0; y < R; ++y)
      for (int c = 0; c < C; ++c) {
        const int sy = y - dy, sc = c - dx;
        x[y * C + c] = (sy >= 0 && sy < R && sc >= 0 && sc < C) ? px[sy * C + sc] * (1.0f / 255.0f) : 0.0f;
      }
  }

  EpochReport run_epoch(const StepCallback& on_step) {
    if (epoch >= cfg.epochs) fail("training already ran its {} epochs", cfg.epochs);
    if (cfg.threads == 0 && (!threads_known || std::chrono::steady_clock::now() - threads_checked > std::chrono::seconds(5))) {
      threads = auto_threads();
      threads_checked = std::chrono::steady_clock::now();
      threads_known = true;
    }
    const auto start = std::chrono::steady_clock::now();
    // Seeded shuffle of the training images (the validation tail is never touched).
    order.resize(train_count);
    std::iota(order.begin(), order.end(), 0);
    Xoshiro256 rng(derive_seed(cfg.seed, {kShuffleTag, static_cast<uint64_t>(epoch)}));
    for (int i = train_count - 1; i > 0; --i) std::swap(order[i], order[rng.below(static_cast<uint64_t>(i) + 1)]);
    double loss_sum = 0.0;
    long correct = 0, seen = 0;
    for (long s = 0; s < steps_per_epoch; ++s) {
      const int first = static_cast<int>(s * cfg.batch);
      const int rows = std::min(cfg.batch, train_count - first);
      resize_batch(rows);
      batch_images.assign(order.begin() + first, order.begin() + first + rows);
      prepare_step(rows, true);
      forward_backward(rows);
      update(step);
      for (int r = 0; r < rows; ++r) {
        loss_sum += row_loss[r];
        correct += row_correct[r];
      }
      seen += rows;
      ++step;
      if (on_step) on_step(s + 1, steps_per_epoch, loss_sum / seen, static_cast<double>(correct) / seen);
    }
    EpochReport rep;
    rep.epoch = ++epoch;
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rep.loss = loss_sum / seen;
    rep.train_accuracy = static_cast<double>(correct) / seen;
    rep.lr = lr_at(step - 1);
    rep.threads = threads;
    if (cfg.val > 0) rep.val_accuracy = digital_accuracy(network(), val_set, threads);
    epoch_seconds.push_back(rep.seconds);
    nlohmann::json h = {{"epoch", rep.epoch}, {"loss", rep.loss}, {"train_accuracy", rep.train_accuracy},
                        {"seconds", rep.seconds}, {"lr", rep.lr}, {"threads", threads}};
    if (cfg.val > 0) h["val_accuracy"] = rep.val_accuracy;
    history.push_back(h);
    return rep;
  }

  Network network() const {
    Network out = net;
    if (!qat())
      for (DenseLayer& layer : out.layers) {
        const float m = max_abs(layer.weight);
        layer.scale = m > 0.0f ? m : 1.0f;
      }
    const std::string arch = fmt::format("{}", fmt::join(cfg.arch, ","));
    nlohmann::json& t = out.training;
    t = nlohmann::json::object();
    t["arch"] = arch;
    t["states"] = cfg.states;
    t["mode"] = to_string(cfg.mode);
    t["epochs"] = cfg.epochs;
    t["epochs_done"] = epoch;
    t["batch"] = cfg.batch;
    t["lr"] = cfg.lr;
    t["optimizer"] = to_string(cfg.optimizer);
    if (cfg.optimizer == Optimizer::Sgd) t["momentum"] = cfg.momentum;
    t["schedule"] = to_string(cfg.schedule);
    t["weight_decay"] = cfg.weight_decay;
    t["val"] = cfg.val;
    t["shift"] = cfg.shift;
    t["seed"] = cfg.seed;
    t["threads"] = cfg.threads;  // 0: automatic (see the history for each epoch's team)
    t["dataset"] = cfg.dataset;
    t["train_images"] = train_count;
    t["init"] = from_network ? "from a trained network" : "w ~ U(-sqrt(3/n), sqrt(3/n)), b = 0, gain = 1";
    t["weight_scale"] = qat() ? "learned (LSQ on log s)" : "max|w| (float)";
    t["activation_ste"] = "gradient inside 0 < z < 1 only";
    t["gain"] = train_gain() ? "trained" : "fixed at 1";
    if (!epoch_seconds.empty())
      t["seconds_per_epoch"] = std::accumulate(epoch_seconds.begin(), epoch_seconds.end(), 0.0) / epoch_seconds.size();
    t["history"] = history;
    return out;
  }
};

Trainer::Trainer(TrainConfig config, const Dataset& train, PreactivationNoise* noise, const Network* init)
    : impl_(std::make_unique<Impl>(std::move(config), train, noise, init)) {}
Trainer::~Trainer() = default;
EpochReport Trainer::run_epoch(const StepCallback& on_step) { return impl_->run_epoch(on_step); }
bool Trainer::done() const { return impl_->epoch >= impl_->cfg.epochs; }
int Trainer::epochs_done() const { return impl_->epoch; }
int Trainer::train_images() const { return impl_->train_count; }
long Trainer::steps_per_epoch() const { return impl_->steps_per_epoch; }
Network Trainer::network() const { return impl_->network(); }
const TrainConfig& Trainer::config() const { return impl_->cfg; }

Gradients loss_gradients(const Network& net, const Dataset& data, const std::vector<int>& images, int threads) {
  validate(net);
  if (images.empty()) fail("loss_gradients needs at least one image");
  for (int i : images)
    if (i < 0 || i >= data.count) fail("image {} is outside the {} images of '{}'", i, data.count, data.name);
  TrainConfig cfg;
  cfg.arch = net.arch;
  cfg.states = net.states;
  cfg.mode = net.quantized() ? TrainMode::Qat : TrainMode::Float;
  cfg.batch = static_cast<int>(images.size());
  cfg.epochs = 1;
  cfg.shift = 0;
  cfg.threads = threads;
  cfg.dataset = data.name;
  Trainer::Impl impl(cfg, data, nullptr, &net);
  const int rows = static_cast<int>(images.size());
  impl.resize_batch(rows);
  impl.batch_images = images;
  impl.prepare_step(rows, true);
  impl.forward_backward(rows);
  Gradients g;
  for (int r = 0; r < rows; ++r) g.loss += impl.row_loss[r];
  g.loss /= rows;
  for (int l = 0; l < impl.layers(); ++l) {
    g.scale.push_back(impl.weight_gradient(l));
    const LayerBuffers& b = impl.buf[l];
    g.weight.emplace_back(b.dwq.begin(), b.dwq.end());
    g.bias.emplace_back(b.db.begin(), b.db.end());
    if (l + 1 < impl.layers())
      g.gain.emplace_back(b.dg.begin(), b.dg.end());
    else
      g.gain.emplace_back(static_cast<size_t>(net.layers[l].out), 0.0f);
  }
  return g;
}

}  // namespace spinsc
