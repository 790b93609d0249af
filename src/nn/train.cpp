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
#include "nn/sparse_gemm.hpp"
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
  if (c.arch.layers.empty()) fail("--arch needs at least an input and an output width, got {} entries", c.arch.layers.size() + 1);
  std::vector<int> widths;
  try {
    widths = c.arch.widths();
  } catch (const Error& e) {
    fail("--arch {}: {}", to_string(c.arch), e.what());
  }
  for (size_t l = 0; l < widths.size(); ++l)
    if (c.arch.is_mlp() && (widths[l] < 1 || widths[l] > 1 << 16))
      fail("--arch width {} at position {} is out of range (1..65536)", widths[l], l);
  if (features > 0 && widths.front() != features)
    fail("--arch starts with {} inputs but the {} images have {} pixels", widths.front(), c.dataset, features);
  if (widths.back() < 2) fail("--arch must end with at least 2 classes, got {}", widths.back());
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

constexpr float kBeta1 = 0.9f, kBeta2 = 0.999f, kEps = 1e-8f;
constexpr int kRowBlock = 16;  // rows per elementwise task: fixed, so results ignore the thread count

struct Moments {
  detail::AlignedVector<float> m, v;
  void resize(size_t n) { m.assign(n, 0.0f), v.assign(n, 0.0f); }
};

// Channel, row and column of one input value of a conv2d stage.
struct PixelAt {
  int c, y, x;
};

// A stage's buffers (network.hpp's stages). Products are position-major: a conv2d stage's
// product has one row per image and output position (rows x positions rows, one column per
// filter; the im2col product), a dense stage's one row per image. Everything after the
// product is per image in the network's channel-major layout (c, y, x); for a dense stage
// without pooling (every stage of an MLP) the two layouts coincide and `zin` is `product`.
struct LayerBuffers {
  detail::AlignedVector<float> wq;       // out x in: weights as used in the forward pass
  detail::AlignedVector<float> dwq;      // out x in: dL/dW_q
  detail::AlignedVector<float> cols;     // conv2d: (rows x positions) x fan-in, the im2col of the input
  detail::AlignedVector<float> product;  // (rows x positions) x out: u = x W_q^T (+ SC noise)
  detail::AlignedVector<float> zin;      // rows x z size: u channel-major, average-pooled if the stage pools so
  detail::AlignedVector<float> pre;      // rows x z size: z = gain*u + b (hidden)
  detail::AlignedVector<float> act;      // rows x z size: activation (hidden) or logits (output)
  detail::AlignedVector<float> pooled;   // rows x out size: the max-pooled activations
  std::vector<int> argmax;               // rows x out size: index into act's row of each window's first maximum
  detail::AlignedVector<float> dout;     // rows x out size: dL/d(stage output), for stages fed by col2im or pooling
  detail::AlignedVector<float> dpre;     // rows x z size: dL/dz (hidden) or dL/dy (output)
  detail::AlignedVector<float> du;       // (rows x positions) x out: dL/du
  detail::AlignedVector<float> partial;  // rows x 2 units: per image, sum of dz and of dz * zin per unit
  // Stages whose input is mostly zeros (pixels) this step (`sparse`): that input's nonzeros, and
  // W_q^T and dL/dW_q^T (in x out) for the sparse products (nn/sparse_gemm.hpp; conv2d: the
  // direct convolution).
  bool sparse = false;
  nn::SparseRows input_nonzeros, input_columns;  // of x and of x^T
  std::vector<PixelAt> input_at;                   // conv2d: where each of input_nonzeros lies
  detail::AlignedVector<float> wqt, dwqt;
  detail::AlignedVector<float> wqt8, du8, dwqt8;  // conv2d: W_q^T, dL/du and dL/dW_q^T, filters padded to 8
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
  std::vector<Stage> st;  // net's stages, one per layer
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
  detail::AlignedVector<float> noise_dinput;  // product rows x in: dL/dx through the SC noise (noise->backward)
  std::vector<double> epoch_seconds;
  bool from_network = false;
  nlohmann::json history = nlohmann::json::array();

  bool qat() const { return cfg.mode != TrainMode::Float; }
  bool train_gain() const { return qat(); }
  int layers() const { return static_cast<int>(net.layers.size()); }
  // A dense stage without pooling (every stage of an MLP): its product is already the
  // channel-major u, and its elementwise work runs fused into the products.
  bool plain(int l) const { return st[l].kind == LayerKind::Dense && st[l].pool == LayerKind::Flatten; }
  int positions(int l) const { return st[l].conv.height * st[l].conv.width; }  // product rows per image
  const Shape& z_shape(int l) const { return st[l].pool == LayerKind::AvgPool2d ? st[l].out : st[l].conv; }
  int z_size(int l) const { return static_cast<int>(z_shape(l).size()); }

  Impl(TrainConfig c, const Dataset& d, PreactivationNoise* n, const Network* init) : cfg(std::move(c)), data(d), noise(n) {
    if (cfg.lr == 0.0) cfg.lr = default_lr(cfg.optimizer);
    if (cfg.weight_decay < 0.0) cfg.weight_decay = default_weight_decay(cfg.optimizer);
    validate(cfg, data.features());
    if (cfg.mode == TrainMode::Sc && noise == nullptr) fail("mode sc arrives with SC training");
    if (data.count < 1) fail("the training set '{}' is empty", data.name);
    if (cfg.val >= data.count) fail("--val {} leaves no training images out of {}", cfg.val, data.count);
    for (int i = 0; i < data.count; ++i)
      if (data.labels[i] >= cfg.arch.classes())
        fail("label {} of training image {} does not fit the {} outputs of --arch", data.labels[i], i, cfg.arch.classes());
    threads = resolve_threads(cfg.threads);
    // (Eigen's own threading is compiled out, EIGEN_DONT_PARALLELIZE: the trainer parallelises
    // over fixed tiles, so results do not depend on the thread count.)
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
    st = net.stages();
    if (init) {
      validate(*init);
      if (init->architecture != cfg.arch)
        fail("the initial network's arch {} differs from --arch {}", to_string(init->architecture), to_string(cfg.arch));
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
        Xoshiro256 rng(derive_seed(cfg.seed, SeedStream::WeightInit, {static_cast<uint64_t>(l)}));
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
    input.resize(static_cast<size_t>(rows) * net.arch[0]);
    for (int l = 0; l < layers(); ++l) {
      LayerBuffers& b = buf[l];
      const size_t R = rows, P = positions(l), F = net.layers[l].out, Z = z_size(l), O = st[l].out.size();
      for (auto* v : {&b.product, &b.du}) v->resize(R * P * F);
      for (auto* v : {&b.pre, &b.act, &b.dpre}) v->resize(R * Z);
      if (st[l].kind == LayerKind::Conv2d) b.cols.resize(R * P * net.layers[l].in);
      if (!plain(l)) {
        b.zin.resize(R * Z);
        b.partial.resize(R * 2 * F);
        b.dout.resize(R * O);
      }
      if (st[l].pool == LayerKind::MaxPool2d) {
        b.pooled.resize(R * O);
        b.argmax.resize(R * O);
      }
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
    const int tasks = first_task.back(), n0 = net.arch[0];
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
  // A stage's output: its activations, max-pooled if it pools so (rows x out size).
  const float* output(int l) const { return st[l].pool == LayerKind::MaxPool2d ? buf[l].pooled.data() : buf[l].act.data(); }
  const float* layer_input(int l) const { return l == 0 ? input.data() : output(l - 1); }
  // What stage l multiplies by W_q^T: its input rows (dense) or their im2col (conv2d).
  const float* product_input(int l) const { return st[l].kind == LayerKind::Conv2d ? buf[l].cols.data() : layer_input(l); }

  // u = x W_q^T of stage l into its product buffer (for conv2d, of the im2col rows), from the
  // input's nonzeros when it is mostly zeros this step (conv2d: by the direct convolution);
  // epilogue as gemm_xwt's.
  template <class E>
  void layer_product(int l, int rows, E&& epilogue) {
    LayerBuffers& b = buf[l];
    const int m = net.layers[l].out;
    if (b.sparse && st[l].kind == LayerKind::Conv2d)
      sparse_conv_forward(l, rows);  // (conv2d stages are never plain: no epilogue)
    else if (b.sparse)
      nn::sparse_xwt(b.input_nonzeros, b.wqt.data(), nullptr, b.product.data(), m, threads, epilogue);
    else
      nn::gemm_xwt(product_input(l), used_weights(l), b.product.data(), rows * positions(l), net.layers[l].in, m, threads, epilogue);
  }

  // Conv2d stage s on the nonzeros of its input: the input value at (c, iy, ix) is read at
  // tap (c, ky, kx) by output position (oy, ox) when iy = oy stride + ky - padding (and so for
  // x); f(position, tap) for each such pair, ky and kx in order (ky only `only_ky` if >= 0).
  template <class F>
  static void for_each_reader(const Stage& s, PixelAt at, int only_ky, F&& f) {
    const int k = s.kernel, OH = s.conv.height, OW = s.conv.width;
    const int c = at.c, iy = at.y, ix = at.x;
    const int ky_lo = only_ky < 0 ? 0 : only_ky, ky_hi = only_ky < 0 ? k - 1 : only_ky;
    if (s.stride == 1) {  // the readers' ranges without a division per tap
      const int ky0 = std::max(ky_lo, iy + s.padding - (OH - 1)), ky1 = std::min(ky_hi, iy + s.padding);
      const int kx0 = std::max(0, ix + s.padding - (OW - 1)), kx1 = std::min(k - 1, ix + s.padding);
      for (int ky = ky0; ky <= ky1; ++ky)
        for (int kx = kx0; kx <= kx1; ++kx) f((iy + s.padding - ky) * OW + (ix + s.padding - kx), (c * k + ky) * k + kx);
      return;
    }
    for (int ky = ky_lo; ky <= ky_hi; ++ky) {
      const int ty = iy + s.padding - ky;
      if (ty < 0 || ty % s.stride != 0 || ty / s.stride >= OH) continue;
      for (int kx = 0; kx < k; ++kx) {
        const int tx = ix + s.padding - kx;
        if (tx < 0 || tx % s.stride != 0 || tx / s.stride >= OW) continue;
        f((ty / s.stride) * OW + tx / s.stride, (c * k + ky) * k + kx);
      }
    }
  }

  // Where each nonzero of stage l's input lies (input_at), found once per step so that the
  // direct convolution's loops divide nothing.
  void locate_input_nonzeros(int l) {
    LayerBuffers& b = buf[l];
    const int H = st[l].in.height, W = st[l].in.width;
    b.input_at.resize(b.input_nonzeros.index.size());
    for (size_t q = 0; q < b.input_at.size(); ++q) {
      const int index = b.input_nonzeros.index[q];
      b.input_at[q] = {index / (H * W), (index / W) % H, index % W};
    }
  }

  // Filters padded to a multiple of 8 (one AVX register per 8), for the direct convolution.
  static int padded_filters(int m) { return (m + 7) / 8 * 8; }

  // The forward pass of conv2d stage l in a step without SC noise, image by image so that each
  // image's intermediate values stay in cache: the product (by the direct convolution when the
  // input is mostly zeros, else im2col and the product of its rows, the rows kept for the weight
  // gradient) and then stage_forward().
  void conv_forward_by_image(int l, int rows) {
    LayerBuffers& b = buf[l];
    if (b.sparse) return sparse_conv_forward(l, rows, /*then_stage=*/true);
    const int m = net.layers[l].out, n = net.layers[l].in, P = positions(l);
    const size_t in_size = st[l].in.size(), col_size = static_cast<size_t>(P) * n;
    const float* x = layer_input(l);
    const float* w = used_weights(l);
    for_row_blocks(rows, [&](int r0, int r1) {
      for (int r = r0; r < r1; ++r) {
        float* cols = &b.cols[r * col_size];
        im2col(st[l], x + r * in_size, cols);
        nn::gemm_xwt_serial(cols, w, &b.product[static_cast<size_t>(r) * P * m], P, n, m);
        stage_forward(l, r, r + 1);
      }
    });
  }

  // u = x W_q^T of conv2d stage l without im2col: each nonzero input value v adds v W_q[:, tap]
  // to every output position that reads it, in input order (one fused multiply-add per term),
  // on 8-filter groups of the padded transposed weights (wqt8); images in parallel, each its
  // own outputs. (The order taps-outer, nonzeros-inner gives the same sums without the chains
  // of multiply-adds on one accumulator, but was measured slower: it sweeps the whole output
  // once per tap, out of L1.) With `then_stage`, stage_forward() follows on each image while its
  // product is still in cache (for a step without SC noise, which would perturb the product first).
  void sparse_conv_forward(int l, int rows, bool then_stage = false) {
    LayerBuffers& b = buf[l];
    const nn::SparseRows& nz = b.input_nonzeros;
    const int m = net.layers[l].out, n = net.layers[l].in, P = positions(l), M = padded_filters(m);
    b.wqt8.assign(static_cast<size_t>(n) * M, 0.0f);
    for (int t = 0; t < n; ++t)
      std::copy_n(&b.wqt[static_cast<size_t>(t) * m], m, &b.wqt8[static_cast<size_t>(t) * M]);
    for_row_blocks(rows, [&](int r0, int r1) {
      thread_local std::vector<float> acc;
      acc.resize(static_cast<size_t>(P) * M);
      for (int r = r0; r < r1; ++r) {
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (int q = nz.start[static_cast<size_t>(r)]; q < nz.start[static_cast<size_t>(r) + 1]; ++q) {
          const float v = nz.value[static_cast<size_t>(q)];
          for_each_reader(st[l], b.input_at[static_cast<size_t>(q)], -1, [&](int pos, int tap) {
            nn::axpy8(v, &b.wqt8[static_cast<size_t>(tap) * M], &acc[static_cast<size_t>(pos) * M], M);
          });
        }
        float* out = &b.product[static_cast<size_t>(r) * P * m];
        for (int pos = 0; pos < P; ++pos)  // (a loop, not a copy call per position: m is small)
          for (int f = 0; f < m; ++f) out[static_cast<size_t>(pos) * m + f] = acc[static_cast<size_t>(pos) * M + f];
        if (then_stage) stage_forward(l, r, r + 1);
      }
    });
  }

  // dL/dW_q^T (taps x filters) of conv2d stage l from the nonzeros of its input: the sum over
  // images, nonzeros and their readers of v du[position]; one task per (channel, kernel row,
  // group of 8 filters), each summing its taps in image and input order (one fused multiply-add
  // per term, from zero), so no sum depends on the thread count or on which loop below runs.
  void sparse_conv_weight_gradient(int l, int rows) {
    LayerBuffers& b = buf[l];
    const Stage& s = st[l];
    const int m = net.layers[l].out, n = net.layers[l].in, P = positions(l), k = s.kernel;
    const int M = padded_filters(m);
    b.du8.resize(static_cast<size_t>(rows) * P * M);
    for_row_blocks(rows, [&](int r0, int r1) {  // every value written: the filters, then zeros
      for (size_t row = static_cast<size_t>(r0) * P; row < static_cast<size_t>(r1) * P; ++row) {
        for (int f = 0; f < m; ++f) b.du8[row * M + f] = b.du[row * m + f];
        for (int f = m; f < M; ++f) b.du8[row * M + f] = 0.0f;
      }
    });
    b.dwqt8.assign(static_cast<size_t>(n) * M, 0.0f);
    nn::for_tiles(s.in.channels * k, M / 8, 1, 1, threads, [&](int t, int, int group, int) {
      const int c = t / k, ky = t % k;
#if defined(__AVX2__) && defined(__FMA__)
      switch (s.stride == 1 ? k : 0) {
        case 3: return tap_row_gradient<3>(l, rows, c, ky, group);
        case 5: return tap_row_gradient<5>(l, rows, c, ky, group);
        case 7: return tap_row_gradient<7>(l, rows, c, ky, group);
        default: break;
      }
#endif
      const nn::SparseRows& nz = b.input_nonzeros;
      for (int r = 0; r < rows; ++r) {
        const float* du = &b.du8[static_cast<size_t>(r) * P * M + 8 * group];
        for (int q = nz.start[static_cast<size_t>(r)]; q < nz.start[static_cast<size_t>(r) + 1]; ++q) {
          const PixelAt at = b.input_at[static_cast<size_t>(q)];
          if (at.c != c) continue;
          const float v = nz.value[static_cast<size_t>(q)];
          for_each_reader(s, at, ky, [&](int pos, int tap) {
            nn::axpy8(v, du + static_cast<size_t>(pos) * M, &b.dwqt8[static_cast<size_t>(tap) * M + 8 * group], 8);
          });
        }
      }
    });
    for (int t = 0; t < n; ++t)
      std::copy_n(&b.dwqt8[static_cast<size_t>(t) * M], m, &b.dwqt[static_cast<size_t>(t) * m]);
  }

  // One task of sparse_conv_weight_gradient for a stride-1 kernel of width K: the K taps of
  // kernel row (c, ky) on filters [8 group, 8 group + 8), summed in AVX registers (the same terms
  // in the same order as the loop through memory, which builds without AVX2 take instead).
#if defined(__AVX2__) && defined(__FMA__)
  template <int K>
  void tap_row_gradient(int l, int rows, int c, int ky, int group) {
    LayerBuffers& b = buf[l];
    const Stage& s = st[l];
    const nn::SparseRows& nz = b.input_nonzeros;
    const int P = positions(l), M = padded_filters(net.layers[l].out), OH = s.conv.height, OW = s.conv.width;
    float* dw = &b.dwqt8[static_cast<size_t>((c * K + ky) * K) * M + 8 * group];
    __m256 acc[K];
    for (int kx = 0; kx < K; ++kx) acc[kx] = _mm256_setzero_ps();
    for (int r = 0; r < rows; ++r) {
      const float* du = &b.du8[static_cast<size_t>(r) * P * M + 8 * group];
      for (int q = nz.start[static_cast<size_t>(r)]; q < nz.start[static_cast<size_t>(r) + 1]; ++q) {
        const PixelAt at = b.input_at[static_cast<size_t>(q)];
        const int oy = at.y + s.padding - ky;
        if (at.c != c || oy < 0 || oy >= OH) continue;
        const __m256 v = _mm256_set1_ps(nz.value[static_cast<size_t>(q)]);
        const int ox0 = at.x + s.padding;  // the position that reads it at kx = 0
        const float* row = du + static_cast<size_t>(oy) * OW * M;
#pragma GCC unroll 8
        for (int kx = 0; kx < K; ++kx) {
          const int ox = ox0 - kx;
          if (ox >= 0 && ox < OW) acc[kx] = _mm256_fmadd_ps(v, _mm256_loadu_ps(row + static_cast<size_t>(ox) * M), acc[kx]);
        }
      }
    }
    for (int kx = 0; kx < K; ++kx) _mm256_storeu_ps(dw + static_cast<size_t>(kx) * M, acc[kx]);
  }
#endif

  // The SC hook's description of stage l's product (the same in the forward and backward pass).
  PreactivationBatch noise_batch(int l, int rows) {
    PreactivationBatch pb;
    pb.layer = l, pb.rows = rows * positions(l), pb.positions = positions(l), pb.in = net.layers[l].in, pb.out = net.layers[l].out;
    pb.input = product_input(l), pb.weight = used_weights(l), pb.scale = net.layers[l].scale;
    pb.weight_t = buf[l].sparse ? buf[l].wqt.data() : nullptr;
    pb.images = batch_images.data(), pb.epoch = epoch, pb.product = buf[l].product.data(), pb.threads = threads;
    return pb;
  }

  // im2col of one image x (C x H x W) for conv2d stage s: one row per output position (oy, ox),
  // one column per tap (c, ky, kx) in the weights' order; zero where the tap falls on padding.
  // A kernel row's taps inside the image are a contiguous run of an image row: copied at once
  // (of a known length for the common kernel widths, so that the copy is a few moves).
  static void im2col(const Stage& s, const float* x, float* cols) {
    switch (s.kernel) {
      case 3: return im2col_k<3>(s, x, cols);
      case 5: return im2col_k<5>(s, x, cols);
      case 7: return im2col_k<7>(s, x, cols);
      default: return im2col_k<0>(s, x, cols);
    }
  }
  // The adjoint of im2col: dx (C x H x W) = the sum of each tap's gradient over the positions
  // that read it, accumulated in position order.
  static void col2im(const Stage& s, const float* dcols, float* dx) {
    switch (s.kernel) {
      case 3: return col2im_k<3>(s, dcols, dx);
      case 5: return col2im_k<5>(s, dcols, dx);
      case 7: return col2im_k<7>(s, dcols, dx);
      default: return col2im_k<0>(s, dcols, dx);
    }
  }
  // im2col and col2im for kernel width K (0: s.kernel, not known when compiling).
  template <int K>
  static void im2col_k(const Stage& s, const float* x, float* cols) {
    const int C = s.in.channels, H = s.in.height, W = s.in.width, k = K > 0 ? K : s.kernel, n = C * k * k;
    for (int oy = 0; oy < s.conv.height; ++oy)
      for (int ox = 0; ox < s.conv.width; ++ox) {
        float* row = cols + static_cast<size_t>(oy * s.conv.width + ox) * n;
        const int x0 = ox * s.stride - s.padding;  // image column of tap kx = 0
        const int lo = std::max(0, -x0), hi = std::min(k, W - x0);
        for (int c = 0; c < C; ++c)
          for (int ky = 0; ky < k; ++ky) {
            const int iy = oy * s.stride + ky - s.padding;
            float* t = row + (c * k + ky) * k;
            if (iy < 0 || iy >= H || lo >= hi) {
              std::fill(t, t + k, 0.0f);
              continue;
            }
            const float* src = x + (static_cast<size_t>(c) * H + iy) * W + (x0 + lo);  // tap lo
            if (K > 0 && lo == 0 && hi == k) {
              for (int kx = 0; kx < K; ++kx) t[kx] = src[kx];
              continue;
            }
            for (int kx = 0; kx < lo; ++kx) t[kx] = 0.0f;
            for (int kx = lo; kx < hi; ++kx) t[kx] = src[kx - lo];
            for (int kx = hi; kx < k; ++kx) t[kx] = 0.0f;
          }
      }
  }
  template <int K>
  static void col2im_k(const Stage& s, const float* dcols, float* dx) {
    const int C = s.in.channels, H = s.in.height, W = s.in.width, k = K > 0 ? K : s.kernel, n = C * k * k;
    std::fill(dx, dx + s.in.size(), 0.0f);
    for (int oy = 0; oy < s.conv.height; ++oy)
      for (int ox = 0; ox < s.conv.width; ++ox) {
        const float* row = dcols + static_cast<size_t>(oy * s.conv.width + ox) * n;
        const int x0 = ox * s.stride - s.padding;
        const int lo = std::max(0, -x0), hi = std::min(k, W - x0);
        for (int c = 0; c < C; ++c)
          for (int ky = 0; ky < k; ++ky) {
            const int iy = oy * s.stride + ky - s.padding;
            if (iy < 0 || iy >= H) continue;
            float* dst = dx + (static_cast<size_t>(c) * H + iy) * W + (x0 + lo);  // tap lo
            const float* t = row + (c * k + ky) * k;
            if (K > 0 && lo == 0 && hi == k) {
              for (int kx = 0; kx < K; ++kx) dst[kx] += t[kx];
              continue;
            }
            for (int kx = lo; kx < hi; ++kx) dst[kx - lo] += t[kx];
          }
      }
  }

  // The forward rule after the product for images [r0, r1) of a stage that is not plain:
  // u to channel-major (average-pooled over each window first, summed in row-major order and
  // divided by the window's area, as the digital reference does), z = gain * u + b and the
  // activation (hidden) or y = u + b (last stage), then the max pool of the activations.
  void stage_forward(int l, int r0, int r1) {
    const Stage& s = st[l];
    const DenseLayer& layer = net.layers[l];
    LayerBuffers& b = buf[l];
    const int F = layer.out, P = positions(l), Z = z_size(l), zP = Z / F, O = static_cast<int>(s.out.size());
    const int CW = s.conv.width, OH = s.out.height, OW = s.out.width, win = s.window;
    const float km1 = static_cast<float>(cfg.states - 1);
    const bool quant = qat();
    for (int r = r0; r < r1; ++r) {
      const float* u = &b.product[static_cast<size_t>(r) * P * F];
      float* zi = &b.zin[static_cast<size_t>(r) * Z];
      if (s.pool == LayerKind::AvgPool2d) {
        const float area = static_cast<float>(win * win);
        for (int c = 0; c < F; ++c)
          for (int py = 0; py < OH; ++py)
            for (int px = 0; px < OW; ++px) {
              float sum = 0.0f;
              for (int dy = 0; dy < win; ++dy)
                for (int dx = 0; dx < win; ++dx) sum += u[static_cast<size_t>((py * win + dy) * CW + px * win + dx) * F + c];
              zi[(c * OH + py) * OW + px] = sum / area;
            }
      } else {
        for (int c = 0; c < F; ++c)
          for (int p = 0; p < P; ++p) zi[c * P + p] = u[static_cast<size_t>(p) * F + c];
      }
      float* z = &b.pre[static_cast<size_t>(r) * Z];
      float* a = &b.act[static_cast<size_t>(r) * Z];
      for (int c = 0; c < F; ++c) {
        const float g = layer.gain[c], bias = layer.bias[c];
        const int k0 = c * zP, k1 = k0 + zP;
        if (!s.hidden) {
          for (int k = k0; k < k1; ++k) a[k] = zi[k] + bias;
          continue;
        }
        for (int k = k0; k < k1; ++k) z[k] = g * zi[k] + bias;
        if (quant)
          for (int k = k0; k < k1; ++k) a[k] = quantize_activation_fast(z[k], km1);
        else
          for (int k = k0; k < k1; ++k) a[k] = std::clamp(z[k], 0.0f, 1.0f);
      }
      if (s.pool != LayerKind::MaxPool2d) continue;
      float* out = &b.pooled[static_cast<size_t>(r) * O];
      int* arg = &b.argmax[static_cast<size_t>(r) * O];
      for (int c = 0; c < F; ++c)
        for (int py = 0; py < OH; ++py) {
          int px = 0;
          if (win == 2) {
            const int row = (c * OH + py) * OW, first = c * zP + 2 * py * CW;
            px = max_pool2_windows(a + first, CW, OW, first, out + row, arg + row);
          }
          for (; px < OW; ++px) {
            const int first = c * zP + (py * win) * CW + px * win;
            int best = first;
            for (int dy = 0; dy < win; ++dy)
              for (int dx = 0; dx < win; ++dx) {
                const int k = first + dy * CW + dx;
                if (a[k] > a[best]) best = k;  // ties keep the first maximum in row-major order
              }
            out[(c * OH + py) * OW + px] = a[best];
            arg[(c * OH + py) * OW + px] = best;
          }
        }
    }
  }

  // 2x2 max pooling of one row of windows, 8 windows at a time: the windows of rows a[0, 2 OW)
  // and a[CW, CW + 2 OW), window p taking a[2p], a[2p + 1], a[CW + 2p], a[CW + 2p + 1] in that
  // order and keeping the first maximum (as the scalar loop: each later value must be strictly
  // greater), without branches. Writes out[p] and arg[p] = index0 + the maximum's offset; returns
  // how many windows it did (a multiple of 8; the caller does the rest).
  static int max_pool2_windows(const float* a, int CW, int OW, int index0, float* out, int* arg) {
    int p = 0;
#if defined(__AVX2__)
    const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);  // (lo0 lo2 hi0 hi2 lo4 lo6 hi4 hi6) -> in order
    auto split = [&](const float* x, __m256& even, __m256& odd) {
      const __m256 lo = _mm256_loadu_ps(x), hi = _mm256_loadu_ps(x + 8);
      even = _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(_mm256_castps_si256(_mm256_shuffle_ps(lo, hi, 0x88)), order));
      odd = _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(_mm256_castps_si256(_mm256_shuffle_ps(lo, hi, 0xDD)), order));
    };
    const __m256i lane2 = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    for (; p + 8 <= OW; p += 8) {
      __m256 v00, v01, v10, v11;
      split(a + 2 * p, v00, v01);
      split(a + CW + 2 * p, v10, v11);
      const __m256i first = _mm256_add_epi32(_mm256_set1_epi32(index0 + 2 * p), lane2);  // each window's a[2p]
      __m256 best = v00;
      __m256i at = first;
      auto take = [&](__m256 v, int offset) {  // v replaces the best where strictly greater
        const __m256 greater = _mm256_cmp_ps(v, best, _CMP_GT_OQ);
        best = _mm256_blendv_ps(best, v, greater);
        const __m256i moved = _mm256_add_epi32(first, _mm256_set1_epi32(offset));
        at = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(at), _mm256_castsi256_ps(moved), greater));
      };
      take(v01, 1);
      take(v10, CW);
      take(v11, CW + 1);
      _mm256_storeu_ps(out + p, best);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(arg + p), at);
    }
#endif
    return p;
  }

  // The backward of stage_forward for images [r0, r1) of a stage that is not plain, from
  // dL/d(output) in `dout` (hidden) or dL/dy in `dpre` (last stage): the max pool's gradient
  // to each window's first maximum, the straight-through mask (0 < z < 1), per-image sums for
  // dL/db and dL/dgain, then dL/du position-major (average pool: spread over the window / area).
  void stage_backward(int l, int r0, int r1) {
    const Stage& s = st[l];
    const DenseLayer& layer = net.layers[l];
    LayerBuffers& b = buf[l];
    const int F = layer.out, P = positions(l), Z = z_size(l), zP = Z / F, O = static_cast<int>(s.out.size());
    const int CW = s.conv.width, OH = s.out.height, OW = s.out.width, win = s.window;
    for (int r = r0; r < r1; ++r) {
      float* d = &b.dpre[static_cast<size_t>(r) * Z];
      if (s.hidden) {
        const float* dout = &b.dout[static_cast<size_t>(r) * O];
        if (s.pool == LayerKind::MaxPool2d) {
          const int* arg = &b.argmax[static_cast<size_t>(r) * O];
          std::fill(d, d + Z, 0.0f);
          for (int q = 0; q < O; ++q) d[arg[q]] = dout[q];  // windows do not overlap (stride = window)
        } else {
          std::copy(dout, dout + Z, d);
        }
        const float* z = &b.pre[static_cast<size_t>(r) * Z];
        for (int k = 0; k < Z; ++k) d[k] = (z[k] > 0.0f && z[k] < 1.0f) ? d[k] : 0.0f;
      }
      const float* zi = &b.zin[static_cast<size_t>(r) * Z];
      float* part = &b.partial[static_cast<size_t>(r) * 2 * F];
      for (int c = 0; c < F; ++c) {
        part[c] = nn::sum_fixed_order(d + c * zP, zP);
        part[F + c] = s.hidden ? nn::dot_fixed_order(d + c * zP, zi + c * zP, zP) : 0.0f;
      }
      float* du = &b.du[static_cast<size_t>(r) * P * F];
      auto gain = [&](int c) { return s.hidden ? layer.gain[c] : 1.0f; };
      if (s.pool == LayerKind::AvgPool2d) {
        const float area = static_cast<float>(win * win);
        for (int c = 0; c < F; ++c)
          for (int py = 0; py < OH; ++py)
            for (int px = 0; px < OW; ++px) {
              const float v = d[(c * OH + py) * OW + px] * gain(c) / area;
              for (int dy = 0; dy < win; ++dy)
                for (int dx = 0; dx < win; ++dx) du[static_cast<size_t>((py * win + dy) * CW + px * win + dx) * F + c] = v;
            }
      } else {  // position by position, so that the writes are contiguous
        for (int p = 0; p < P; ++p)
          for (int c = 0; c < F; ++c) du[static_cast<size_t>(p) * F + c] = d[c * P + p] * gain(c);
      }
    }
  }

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
      // product of a plain stage; elementwise, so any blocking gives the same values.
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
      // A mostly-zero input (pixels) is multiplied by its nonzeros: dense stages by the sparse
      // products, conv2d stages by a direct convolution from the nonzeros (no im2col, which
      // only the SC noise then still needs).
      b.input_nonzeros.assign(layer_input(l), rows, static_cast<int>(st[l].in.size()));
      b.sparse = b.input_nonzeros.sparse_enough();
      if (b.sparse && st[l].kind == LayerKind::Conv2d) locate_input_nonzeros(l);
      if (b.sparse) {
        b.wqt.resize(static_cast<size_t>(layer.in) * m);
        nn::transpose(used_weights(l), m, layer.in, b.wqt.data(), threads);
      }
      if (st[l].kind == LayerKind::Conv2d && !noise) {
        conv_forward_by_image(l, rows);
        continue;
      }
      if (st[l].kind == LayerKind::Conv2d) {  // the noise reads the im2col rows, whatever the product's path
        const float* x = layer_input(l);
        const size_t in_size = st[l].in.size(), col_size = static_cast<size_t>(positions(l)) * layer.in;
        for_row_blocks(rows, [&](int r0, int r1) {
          for (int r = r0; r < r1; ++r) im2col(st[l], x + r * in_size, &b.cols[r * col_size]);
        });
      }
      if (plain(l) && !noise) {
        layer_product(l, rows, activate);
        continue;
      }
      layer_product(l, rows, nn::NoEpilogue{});
      if (noise) noise->perturb(noise_batch(l, rows));
      if (plain(l))
        for_row_blocks(rows, [&](int r0, int r1) { activate(r0, r1 - r0, 0, m); });
      else
        for_row_blocks(rows, [&](int r0, int r1) { stage_forward(l, r0, r1); });
    }
    // Softmax cross-entropy; dL/dy = (softmax - onehot) / rows for the minibatch mean.
    {
      LayerBuffers& b = buf[L - 1];
      const int m = static_cast<int>(st[L - 1].out.size());
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
        if (!plain(L - 1)) stage_backward(L - 1, r0, r1);
      });
      if (plain(L - 1)) std::copy(b.dpre.begin(), b.dpre.begin() + static_cast<size_t>(rows) * m, b.du.begin());
    }
    for (int l = L - 1; l >= 0; --l) {
      const DenseLayer& layer = net.layers[l];
      LayerBuffers& b = buf[l];
      const int m = layer.out;
      // Column sums in row order: dL/db and dL/dgain (stages that are not plain: of the
      // per-image sums stage_backward() left).
      std::fill(b.db.begin(), b.db.end(), 0.0f);
      std::fill(b.dg.begin(), b.dg.end(), 0.0f);
      if (plain(l)) {
        for (int r = 0; r < rows; ++r) {
          const float* d = &b.dpre[static_cast<size_t>(r) * m];
          const float* u = &b.product[static_cast<size_t>(r) * m];
          for (int j = 0; j < m; ++j) b.db[j] += d[j];
          if (l + 1 < L)
            for (int j = 0; j < m; ++j) b.dg[j] += d[j] * u[j];
        }
      } else {
        for (int r = 0; r < rows; ++r) {
          const float* part = &b.partial[static_cast<size_t>(r) * 2 * m];
          for (int j = 0; j < m; ++j) b.db[j] += part[j];
          if (l + 1 < L)
            for (int j = 0; j < m; ++j) b.dg[j] += part[m + j];
        }
      }
      const int product_rows = rows * positions(l);
      if (b.sparse) {
        b.dwqt.resize(static_cast<size_t>(layer.in) * m);
        if (st[l].kind == LayerKind::Conv2d) {
          sparse_conv_weight_gradient(l, rows);
        } else {
          b.input_columns.assign_transpose(b.input_nonzeros);
          nn::sparse_xwt(b.input_columns, b.du.data(), nullptr, b.dwqt.data(), m, threads);
        }
        nn::transpose(b.dwqt.data(), layer.in, m, b.dwq.data(), threads);
      } else {
        nn::gemm_dtx(b.du.data(), product_input(l), b.dwq.data(), product_rows, m, layer.in, threads);
      }
      float* noise_dx = nullptr;
      if (noise) {
        // The noise's own gradient (if it has one): into dW_q, and into dL/dx of the stage
        // below (for conv2d: of the im2col rows, summed back by col2im), which joins that
        // stage's gradient before its pooling and straight-through mask.
        if (l > 0) {
          noise_dinput.assign(static_cast<size_t>(product_rows) * layer.in, 0.0f);
          noise_dx = noise_dinput.data();
        }
        noise->backward(noise_batch(l, rows), b.du.data(), b.dwq.data(), noise_dx);
      }
      if (l == 0) continue;
      LayerBuffers& below = buf[l - 1];
      const int n = layer.in;
      if (st[l].kind == LayerKind::Conv2d) {
        // dL/d(im2col) = dL/du W_q, then col2im into dL/d(output) of the stage below (never
        // plain: conv2d only follows conv2d) and through that stage's backward.
        // Image by image, so that dL/d(im2col) stays in cache from its product to col2im.
        const int P = positions(l);
        const size_t col_size = static_cast<size_t>(P) * n, in_size = st[l].in.size();
        const float* w = used_weights(l);
        for_row_blocks(rows, [&](int r0, int r1) {
          thread_local detail::AlignedVector<float> dcols;
          dcols.resize(col_size);
          for (int r = r0; r < r1; ++r) {
            nn::gemm_dw_serial(&b.du[static_cast<size_t>(r) * P * m], w, dcols.data(), P, m, n);
            if (noise_dx)
              for (size_t k = 0; k < col_size; ++k) dcols[k] += noise_dx[r * col_size + k];
            col2im(st[l], dcols.data(), &below.dout[r * in_size]);
            stage_backward(l - 1, r, r + 1);
          }
        });
        continue;
      }
      if (!plain(l - 1)) {
        nn::gemm_dw(b.du.data(), used_weights(l), below.dout.data(), rows, m, n, threads);
        for_row_blocks(rows, [&](int r0, int r1) {
          if (noise_dx)
            for (size_t k = static_cast<size_t>(r0) * n; k < static_cast<size_t>(r1) * n; ++k) below.dout[k] += noise_dx[k];
          stage_backward(l - 1, r0, r1);
        });
        continue;
      }
      // dL/da of the plain layer below, then through its activation's straight-through
      // gradient (1 inside 0 < z < 1 only) and its gain.
      const DenseLayer& below_layer = net.layers[l - 1];
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
    const int n0 = net.arch[0];
    if (cfg.shift == 0) {
      for (int f = 0; f < n0; ++f) x[f] = px[f] * (1.0f / 255.0f);
      return;
    }
    Xoshiro256 rng(derive_seed(cfg.seed, SeedStream::ShiftAugment, {static_cast<uint64_t>(epoch), static_cast<uint64_t>(i)}));
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
    Xoshiro256 rng(derive_seed(cfg.seed, SeedStream::Shuffle, {static_cast<uint64_t>(epoch)}));
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
    const std::string arch = to_string(cfg.arch);
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
  cfg.arch = net.architecture;
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
