#include "spinsc/sc_noise.hpp"

#include <gtest/gtest.h>

#include <set>

#include <cmath>

#include "spinsc/device_sources.hpp"
#include "spinsc/error.hpp"
#include "spinsc/quantize.hpp"
#include "spinsc/rng.hpp"
#include "testutil.hpp"

namespace spinsc {
namespace {

// A one-layer quantized network with weights on all K levels and an input on the pixel grid.
struct Case {
  Network net;
  std::vector<float> x;
};

Case make_case(int in, int out, int K, uint64_t seed) {
  Case c{Network::zeros({in, out}, K, TrainMode::Qat), std::vector<float>(in)};
  Xoshiro256 rng(seed);
  DenseLayer& layer = c.net.layers[0];
  layer.scale = 0.8f;
  const int h = (K - 1) / 2;
  for (float& w : layer.weight) w = weight_value(static_cast<int>(rng.below(2 * h + 1)) - h, layer.scale, K);
  for (float& v : c.x) v = static_cast<float>(rng.below(256)) / 255.0f;
  c.x[0] = 0.0f;  // a silent input and a saturated one, as in MNIST
  c.x[1] = 1.0f;
  return c;
}

// Compares the moment-matched variance of every pre-activation estimate with the empirical
// variance of the bit-level engine over R independent draws. The sample variance of R draws
// has relative standard error sqrt(2/(R-1)) (the sums are close to Gaussian); 5 of those.
void expect_variance_matches(const std::string& source_spec, int L, int K) {
  const Case c = make_case(48, 6, K, 7);
  ScConfig cfg;
  cfg.source = source_spec;
  cfg.length = L;
  cfg.seed = 11;
  const ScEngine engine(c.net, cfg, *standard_sources());
  const int R = 3000;
  const int out = c.net.arch[1];
  std::vector<double> sum(out), sum2(out);
  for (int r = 0; r < R; ++r) {
    const ScLayerResult res = engine.layer(0, c.x.data(), static_cast<uint64_t>(r));
    for (int j = 0; j < out; ++j) {
      sum[j] += res.estimate[j];
      sum2[j] += static_cast<double>(res.estimate[j]) * res.estimate[j];
    }
  }
  MomentMatchedNoise noise(std::shared_ptr<const BitSource>(standard_sources()->make(source_spec)), L, K, 3);
  const DenseLayer& layer = c.net.layers[0];
  const std::vector<double> model = noise.variance(c.x.data(), 1, layer.in, layer.weight.data(), out, layer.scale);
  const double tol = 5.0 * std::sqrt(2.0 / (R - 1));
  for (int j = 0; j < out; ++j) {
    const double mean = sum[j] / R;
    const double var = (sum2[j] - R * mean * mean) / (R - 1);
    ASSERT_GT(model[j], 0.0);
    EXPECT_NEAR(var / model[j], 1.0, tol) << source_spec << " neuron " << j << ": empirical " << var << ", model "
                                          << model[j];
  }
}

TEST(MomentMatchedNoise, VarianceMatchesBitLevelEngineIdeal) { expect_variance_matches("ideal", 64, 5); }

TEST(MomentMatchedNoise, VarianceMatchesBitLevelEngineIdealK11ShortStream) { expect_variance_matches("ideal", 16, 11); }

TEST(MomentMatchedNoise, VarianceMatchesBitLevelEngineCorrelatedSmtj) {
  // The correlated device: Ts about half the dwell time, lag-1 correlation 0.4 at p = 1/2, so
  // the count variance is well above the binomial one; the model must follow it.
  const auto path = testing::source_dir() / "configs/device/correlated.json";
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  expect_variance_matches("smtj:" + path.string(), 100, 5);
}

TEST(MomentMatchedNoise, CorrelationInflatesTheVariance) {
  const Case c = make_case(32, 4, 5, 5);
  const DenseLayer& layer = c.net.layers[0];
  const auto path = testing::source_dir() / "configs/device/correlated.json";
  MomentMatchedNoise iid(std::shared_ptr<const BitSource>(make_bit_source("ideal")), 100, 5, 1);
  MomentMatchedNoise corr(std::shared_ptr<const BitSource>(standard_sources()->make("smtj:" + path.string())), 100, 5, 1);
  const auto a = iid.variance(c.x.data(), 1, layer.in, layer.weight.data(), 4, layer.scale);
  const auto b = corr.variance(c.x.data(), 1, layer.in, layer.weight.data(), 4, layer.scale);
  for (int j = 0; j < 4; ++j) EXPECT_GT(b[j], 1.2 * a[j]);
}

// The noise `noise` adds to a zero product for `rows` rows of the first layer of `c` (4
// neurons), `positions` rows per image, reading `input` (rows x in) and the images' indices.
std::vector<float> perturbed(PreactivationNoise& noise, const Case& c, const std::vector<float>& input,
                             const int* images, int rows, int positions) {
  const DenseLayer& layer = c.net.layers[0];
  std::vector<float> product(static_cast<size_t>(rows) * layer.out, 0.0f);
  PreactivationBatch b;
  b.rows = rows;
  b.positions = positions;
  b.in = layer.in;
  b.out = layer.out;
  b.input = input.data();
  b.weight = layer.weight.data();
  b.scale = layer.scale;
  b.images = images;
  b.product = product.data();
  noise.perturb(b);
  return product;
}

TEST(MomentMatchedNoise, PerturbIsDeterministicAndScaledByTheVariance) {
  const Case c = make_case(32, 4, 5, 9);
  const DenseLayer& layer = c.net.layers[0];
  MomentMatchedNoise noise(std::shared_ptr<const BitSource>(make_bit_source("ideal")), 32, 5, 1);
  const int rows = 2000;
  std::vector<float> input;
  for (int r = 0; r < rows; ++r) input.insert(input.end(), c.x.begin(), c.x.end());
  std::vector<int> images(rows);
  for (int r = 0; r < rows; ++r) images[r] = r;
  const auto p1 = perturbed(noise, c, input, images.data(), rows, 1), p2 = perturbed(noise, c, input, images.data(), rows, 1);
  EXPECT_EQ(p1, p2);
  const auto var = noise.variance(c.x.data(), 1, layer.in, layer.weight.data(), 4, layer.scale);
  for (int j = 0; j < 4; ++j) {
    double s = 0, s2 = 0;
    for (int r = 0; r < rows; ++r) {
      s += p1[static_cast<size_t>(r) * 4 + j];
      s2 += static_cast<double>(p1[static_cast<size_t>(r) * 4 + j]) * p1[static_cast<size_t>(r) * 4 + j];
    }
    const double m = s / rows, v = (s2 - rows * m * m) / (rows - 1);
    EXPECT_NEAR(m, 0.0, 5 * std::sqrt(var[j] / rows));
    EXPECT_NEAR(v / var[j], 1.0, 5 * std::sqrt(2.0 / (rows - 1)));
  }
}

// Conv2d rows (one per image and output position): each position draws its own noise, dense
// rows (positions = 1) keep the per-(epoch, image, layer) draws.
TEST(MomentMatchedNoise, ConvRowsDrawPerPosition) {
  const Case c = make_case(32, 4, 5, 9);
  MomentMatchedNoise noise(std::shared_ptr<const BitSource>(make_bit_source("ideal")), 16, 5, 1);
  const int positions = 3;
  std::vector<float> input;
  for (int r = 0; r < 2 * positions; ++r) input.insert(input.end(), c.x.begin(), c.x.end());
  const std::vector<int> images{4, 9};
  const std::vector<float> conv = perturbed(noise, c, input, images.data(), 2 * positions, positions),
                           dense = perturbed(noise, c, input, images.data(), 2, 1);
  auto row = [](const std::vector<float>& v, int r) { return std::vector<float>(v.begin() + 4 * r, v.begin() + 4 * r + 4); };
  for (int r = 0; r < 2 * positions; ++r)
    for (int q = r + 1; q < 2 * positions; ++q) EXPECT_NE(row(conv, r), row(conv, q)) << "rows " << r << ", " << q;
  EXPECT_NE(row(dense, 0), row(dense, 1));
  EXPECT_NE(row(conv, 0), row(dense, 0));  // position 0 is not the dense row's stream
  EXPECT_EQ(perturbed(noise, c, input, images.data(), 2 * positions, positions), conv);
}

// Conv rows (one receptive field per row, `positions` per image) are dense neurons of the
// engine, each position with its own draw: positions with the same input get different
// estimates, whose mean is the product W x; the same batch gives the same estimates.
TEST(BitLevelNoise, ConvRowsDrawPerPosition) {
  ScConfig cfg;
  cfg.source = "ideal";
  cfg.length = 256;
  BitLevelNoise noise(cfg, 5, std::shared_ptr<const BitSource>(make_bit_source("ideal")));
  const int positions = 64, in = 9, out = 2;
  std::vector<float> input(static_cast<size_t>(positions) * in, 0.5f), weight(static_cast<size_t>(out) * in, 0.5f);
  for (int i = 0; i < in; ++i) weight[in + i] = -1.0f;  // filter 1: all at -s
  const int image = 7;
  PreactivationBatch b;
  b.rows = positions;
  b.positions = positions;
  b.in = in;
  b.out = out;
  b.input = input.data();
  b.weight = weight.data();
  b.scale = 1.0f;
  b.images = &image;
  auto run = [&] {
    std::vector<float> product(static_cast<size_t>(positions) * out, 0.0f);
    b.product = product.data();
    noise.perturb(b);
    return product;
  };
  const std::vector<float> first = run();
  EXPECT_EQ(run(), first);
  double mean0 = 0, mean1 = 0;
  std::set<float> distinct;
  for (int r = 0; r < positions; ++r) {
    mean0 += first[2 * r] / positions;
    mean1 += first[2 * r + 1] / positions;
    distinct.insert(first[2 * r]);
  }
  EXPECT_GT(distinct.size(), 3u) << "positions share one draw";
  // u = 9 * 0.5 * 0.5 = 2.25 and -4.5; each estimate's sd is at most sqrt(9 / (4 L)) = 0.094.
  EXPECT_NEAR(mean0, 2.25, 5 * 0.094 / std::sqrt(positions));
  EXPECT_NEAR(mean1, -4.5, 5 * 0.094 / std::sqrt(positions));
}

// The i.i.d. variance (s / L)^2 L sum_i p (1 - p), p = x_i |w_q| / s, written in double, against
// the model's on an input of pixels and on one that is mostly zeros (which takes the sparse
// product, nn/sparse_gemm.hpp), for a Markov source (the default device, whose correlation is
// negligible) and for the ideal source (per-synapse sum). Float sums of <= 100 terms: 1e-5.
TEST(MomentMatchedNoise, VarianceOfDenseAndMostlyZeroInputsIsTheIidFormula) {
  const int in = 100, out = 70, rows = 9, K = 5, L = 32;
  const Case c = make_case(in, out, K, 21);
  const DenseLayer& layer = c.net.layers[0];
  Xoshiro256 rng(22);
  for (double zeros : {0.0, 0.85}) {
    std::vector<float> x(static_cast<size_t>(rows) * in);
    for (float& v : x) v = rng.uniform() < zeros ? 0.0f : static_cast<float>(rng.below(256)) / 255.0f;
    for (const char* spec : {"smtj", "ideal"}) {
      MomentMatchedNoise noise(std::shared_ptr<const BitSource>(standard_sources()->make(spec)), L, K, 1);
      const std::vector<double> var = noise.variance(x.data(), rows, in, layer.weight.data(), out, layer.scale, 2);
      for (int r = 0; r < rows; ++r)
        for (int j = 0; j < out; ++j) {
          double sum = 0;
          for (int i = 0; i < in; ++i) {
            const double p = x[static_cast<size_t>(r) * in + i] * std::fabs(static_cast<double>(layer.weight[static_cast<size_t>(j) * in + i])) /
                             layer.scale;
            sum += L * p * (1 - p);
          }
          const double want = sum * (layer.scale / static_cast<double>(L)) * (layer.scale / static_cast<double>(L));
          EXPECT_NEAR(var[static_cast<size_t>(r) * out + j], want, 1e-5 * want + 1e-12)
              << spec << ", zeros " << zeros << ", row " << r << ", neuron " << j;
        }
    }
  }
}

// backward() against its formula (sc_noise.cpp) in double, with eps / (2 sigma) recovered from
// the drawn noise: dL/dw_ji += sign(w_ji) / s sum_b C_bj (x_bi - 2 a_ji x_bi^2) and dL/dx_bi +=
// sum_j C_bj (a_ji - 2 x_bi a_ji^2), C = du eps / (2 sigma) s^2 / L, a = min(|w| / s, 1); on
// dense and mostly-zero inputs, 1 and 2 threads bit-identical.
TEST(MomentMatchedNoise, BackwardIsTheVarianceGradientOnDenseAndMostlyZeroInputs) {
  const int in = 60, out = 70, rows = 24, K = 11, L = 16;
  Case c = make_case(in, out, K, 31);
  DenseLayer& layer = c.net.layers[0];
  layer.weight[3] = 1.3f * layer.scale;  // saturated: a = 1
  Xoshiro256 rng(32);
  std::vector<int> images(rows);
  for (int r = 0; r < rows; ++r) images[r] = r;
  for (double zeros : {0.0, 0.85}) {
    std::vector<float> x(static_cast<size_t>(rows) * in), du(static_cast<size_t>(rows) * out);
    for (float& v : x) v = rng.uniform() < zeros ? 0.0f : static_cast<float>(rng.below(256)) / 255.0f;
    for (float& v : du) v = static_cast<float>(rng.uniform() - 0.5);
    std::vector<float> start_w(static_cast<size_t>(out) * in), start_x(x.size());
    for (float& v : start_w) v = static_cast<float>(rng.uniform());
    for (float& v : start_x) v = static_cast<float>(rng.uniform());
    std::vector<float> dw[2], dx[2], product;
    for (int threads : {1, 2}) {
      MomentMatchedNoise noise(std::shared_ptr<const BitSource>(standard_sources()->make("smtj")), L, K, 5);
      product.assign(static_cast<size_t>(rows) * out, 0.0f);
      PreactivationBatch b;
      b.layer = 1;
      b.rows = rows, b.in = in, b.out = out;
      b.input = x.data(), b.weight = layer.weight.data(), b.scale = layer.scale;
      b.images = images.data(), b.product = product.data(), b.threads = threads;
      noise.perturb(b);
      dw[threads - 1] = start_w, dx[threads - 1] = start_x;
      noise.backward(b, du.data(), dw[threads - 1].data(), dx[threads - 1].data());
    }
    EXPECT_EQ(dw[0], dw[1]) << "zeros " << zeros;
    EXPECT_EQ(dx[0], dx[1]) << "zeros " << zeros;
    MomentMatchedNoise noise(std::shared_ptr<const BitSource>(standard_sources()->make("smtj")), L, K, 5);
    const std::vector<double> var = noise.variance(x.data(), rows, in, layer.weight.data(), out, layer.scale, 1);
    const double s = layer.scale, k = s * s / L;
    std::vector<double> C(du.size());
    for (size_t q = 0; q < C.size(); ++q) C[q] = var[q] > 0 ? du[q] * (product[q] / (2 * var[q])) * k : 0.0;
    auto a_of = [&](int j, int i) { return std::min(std::fabs(static_cast<double>(layer.weight[static_cast<size_t>(j) * in + i])) / s, 1.0); };
    for (int j = 0; j < out; ++j)
      for (int i = 0; i < in; ++i) {
        const double w = layer.weight[static_cast<size_t>(j) * in + i], a = a_of(j, i);
        double sum = 0, size = 0;
        for (int r = 0; r < rows; ++r) {
          const double xv = x[static_cast<size_t>(r) * in + i];
          const double term = C[static_cast<size_t>(r) * out + j] * (xv - 2 * a * xv * xv);
          sum += term, size += std::fabs(term);
        }
        const double want = start_w[static_cast<size_t>(j) * in + i] + (w > 0 ? 1 : w < 0 ? -1 : 0) / s * sum;
        EXPECT_NEAR(dw[0][static_cast<size_t>(j) * in + i], want, 1e-4 * size / s + 1e-6) << "zeros " << zeros << " w " << j << "," << i;
      }
    for (int r = 0; r < rows; ++r)
      for (int i = 0; i < in; ++i) {
        const double xv = x[static_cast<size_t>(r) * in + i];
        double sum = 0, size = 0;
        for (int j = 0; j < out; ++j) {
          const double a = a_of(j, i), term = C[static_cast<size_t>(r) * out + j] * (a - 2 * xv * a * a);
          sum += term, size += std::fabs(term);
        }
        EXPECT_NEAR(dx[0][static_cast<size_t>(r) * in + i], start_x[static_cast<size_t>(r) * in + i] + sum, 1e-4 * size + 1e-6)
            << "zeros " << zeros << " x " << r << "," << i;
      }
  }
}

// Every trained parameter of `a` and `b`, layer by layer, bit for bit.
void expect_same_parameters(const Network& a, const Network& b) {
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t l = 0; l < a.layers.size(); ++l) {
    EXPECT_EQ(a.layers[l].weight, b.layers[l].weight) << "layer " << l;
    EXPECT_EQ(a.layers[l].bias, b.layers[l].bias) << "layer " << l;
    EXPECT_EQ(a.layers[l].gain, b.layers[l].gain) << "layer " << l;
    EXPECT_EQ(a.layers[l].scale, b.layers[l].scale) << "layer " << l;
  }
}

// SC training of an MLP on MNIST pixels (the first layer's products and noise take the sparse
// path) with the default device's moment-matched noise: bit-identical on 1 and 2 threads.
TEST(ScTraining, MlpOnPixelsSameWeightsOnOneAndTwoThreads) {
  const Dataset data = load_dataset("mnist", testing::data_dir(), Split::Train).head(500);
  TrainConfig cfg;
  cfg.arch = {784, 80, 10};
  cfg.states = 11;
  cfg.mode = TrainMode::Sc;
  cfg.epochs = 1;
  cfg.batch = 50;
  cfg.seed = 4;
  auto train_once = [&](int threads) {
    cfg.threads = threads;
    MomentMatchedNoise noise(std::shared_ptr<const BitSource>(standard_sources()->make("smtj")), 16, 11, 5);
    Trainer t(cfg, data, &noise);
    while (!t.done()) t.run_epoch();
    return t.network();
  };
  expect_same_parameters(train_once(1), train_once(2));
}

// SC training of a conv net (moment-matched noise with its variance gradient through col2im)
// is bit-identical on 1 and 2 threads and differs from qat training.
TEST(ScTraining, ConvNetSameWeightsOnOneAndTwoThreads) {
  const Dataset data = load_dataset("mnist", testing::data_dir(), Split::Train).head(600);
  TrainConfig cfg;
  cfg.arch = parse_architecture("conv:4x5x5:p2,maxpool:2,conv:6x3x3:s2,avgpool:2,dense:10");
  cfg.states = 5;
  cfg.mode = TrainMode::Sc;
  cfg.epochs = 1;
  cfg.batch = 64;
  cfg.seed = 3;
  auto train_once = [&](int threads, TrainMode mode) {
    cfg.threads = threads;
    cfg.mode = mode;
    MomentMatchedNoise noise(std::shared_ptr<const BitSource>(make_bit_source("ideal")), 8, 5, 5);
    Trainer t(cfg, data, mode == TrainMode::Sc ? &noise : nullptr);
    while (!t.done()) t.run_epoch();
    return t.network();
  };
  const Network a = train_once(1, TrainMode::Sc);
  expect_same_parameters(a, train_once(2, TrainMode::Sc));
  EXPECT_NE(a.layers[0].weight, train_once(1, TrainMode::Qat).layers[0].weight);
}

}  // namespace
}  // namespace spinsc
