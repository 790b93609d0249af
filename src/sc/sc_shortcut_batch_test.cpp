// Tests of the batched binomial shortcut: ScEngine::accuracy() evaluates batches of images with
// one routing product per stage (sc_engine.cpp, shortcut_stage). The batch and the thread count
// never change a result, and the accuracies have the bit-level path's law, for dense and conv
// networks, K = 5 and 11. (Per-neuron counter laws at a batch of one: sc_engine_test.cpp and
// sc_engine_conv_test.cpp.) Tolerances: 5 standard errors, Kolmogorov-Smirnov at its 0.1%
// critical value; the draws are seeded, so a test's outcome is fixed, not flaky.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <string>
#include <tuple>

#include "testutil.hpp"
#include "spinsc/digital.hpp"
#include "spinsc/quantize.hpp"
#include "spinsc/rng.hpp"
#include "spinsc/sc_engine.hpp"

namespace spinsc {
namespace {

// Random levels (some at 0 and +-1, so that the exact slots are used), biases near 0.3.
Network random_net(const std::string& arch, Shape input, int K, uint64_t seed) {
  Network net = Network::zeros(parse_architecture(arch, input), K, TrainMode::Qat);
  Xoshiro256 rng(seed);
  for (DenseLayer& layer : net.layers) {
    layer.scale = static_cast<float>(1.5 / std::sqrt(layer.in));
    for (float& w : layer.weight)
      w = weight_value(static_cast<int>(rng.below(static_cast<uint64_t>(K))) - (K - 1) / 2, layer.scale, K);
    for (float& b : layer.bias) b = static_cast<float>(0.3 + rng.normal() * 0.1);
  }
  return net;
}

// Images of about MNIST's sparsity, labelled by the network's digital prediction (so that the
// accuracy is high and its spread comes from the SC noise).
Dataset labelled_data(const Network& net, int count, int rows, int cols, uint64_t seed) {
  Dataset d;
  d.name = "synthetic";
  d.count = count;
  d.rows = rows;
  d.cols = cols;
  Xoshiro256 rng(seed);
  d.images.resize(static_cast<size_t>(count) * rows * cols);
  for (auto& px : d.images) px = rng.uniform() < 0.6 ? 0 : static_cast<uint8_t>(rng.below(256));
  std::vector<float> x(static_cast<size_t>(rows) * cols);
  for (int i = 0; i < count; ++i) {
    for (size_t f = 0; f < x.size(); ++f) x[f] = d.pixel(i, static_cast<int>(f));
    const auto y = digital_forward(net, x.data());
    d.labels.push_back(static_cast<uint8_t>(argmax_class(y.data(), static_cast<int>(y.size()))));
  }
  return d;
}

struct Case {
  std::string arch;
  Shape input;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.arch; }  // readable test names

class ShortcutBatch : public ::testing::TestWithParam<std::tuple<Case, int>> {
 protected:
  Network net() const { return random_net(std::get<0>(GetParam()).arch, std::get<0>(GetParam()).input, std::get<1>(GetParam()), 21); }
  Dataset data(const Network& n, int count) const {
    const Shape& s = std::get<0>(GetParam()).input;
    return s.flat() ? labelled_data(n, count, 1, n.arch.front(), 5) : labelled_data(n, count, s.height, s.width, 5);
  }
};

// 70 images x 2 repeats: full batches, a partial one, and batches across the repeat boundary.
TEST_P(ShortcutBatch, BatchesAndThreadsChangeNoResult) {
  const Network n = net();
  const Dataset d = data(n, 70);
  ScConfig cfg;
  cfg.length = 24;
  cfg.seed = 7;
  cfg.exact_bits = false;
  const ScEngine eng(n, cfg);
  ASSERT_TRUE(eng.binomial_shortcut());
  const ScAccuracy one = eng.accuracy(d, 2, 1), two = eng.accuracy(d, 2, 2), three = eng.accuracy(d, 2, 3);
  EXPECT_EQ(one.per_repeat, two.per_repeat);
  EXPECT_EQ(one.per_repeat, three.per_repeat);
  // Image by image (a batch of one each): the same predictions.
  std::vector<float> x(static_cast<size_t>(d.features()));
  for (int r = 0; r < 2; ++r) {
    int correct = 0;
    for (int i = 0; i < d.count; ++i) {
      for (size_t f = 0; f < x.size(); ++f) x[f] = d.pixel(i, static_cast<int>(f));
      correct += eng.predict(x.data(), static_cast<uint64_t>(i), r) == d.labels[static_cast<size_t>(i)];
    }
    EXPECT_EQ(one.per_repeat[static_cast<size_t>(r)], static_cast<double>(correct) / d.count) << "repeat " << r;
  }
}

// Per-repeat accuracies of the whole network, shortcut vs bit level: equal means (5 standard
// errors), equal variances (5 relative standard errors of the ratio, sqrt(4/(R-1))), and a
// two-sample KS distance below 1.95 sqrt(2/R).
TEST_P(ShortcutBatch, AccuraciesHaveTheBitLevelLaw) {
  const int R = 300;
  const Network n = net();
  const Dataset d = data(n, 40);
  ScConfig exact;
  exact.length = 12;
  ScConfig fast = exact;
  fast.exact_bits = false;
  const ScEngine a(n, exact), b(n, fast);
  ASSERT_FALSE(a.binomial_shortcut());
  ASSERT_TRUE(b.binomial_shortcut());
  std::vector<double> ca = a.accuracy(d, R, 0).per_repeat, cb = b.accuracy(d, R, 0).per_repeat;
  const auto [ma, va] = spinsc::testing::mean_and_variance(ca);
  const auto [mb, vb] = spinsc::testing::mean_and_variance(cb);
  ASSERT_GT(va, 0.0) << "no SC noise in the accuracies: the test would prove nothing";
  EXPECT_NEAR(ma, mb, 5 * std::sqrt(2 * va / R));
  EXPECT_NEAR(vb / va, 1.0, 5 * std::sqrt(4.0 / (R - 1)));
  std::sort(ca.begin(), ca.end());
  std::sort(cb.begin(), cb.end());
  double ks = 0;
  for (const auto* c : {&ca, &cb})
    for (double t : *c) {
      const double fa = static_cast<double>(std::upper_bound(ca.begin(), ca.end(), t) - ca.begin()) / R;
      const double fb = static_cast<double>(std::upper_bound(cb.begin(), cb.end(), t) - cb.begin()) / R;
      ks = std::max(ks, std::fabs(fa - fb));
    }
  EXPECT_LT(ks, 1.95 * std::sqrt(2.0 / R));
}

INSTANTIATE_TEST_SUITE_P(DenseAndConv, ShortcutBatch,
                         ::testing::Combine(::testing::Values(Case{"30,12,4", {}},
                                                              Case{"conv:2x3x3:p1,maxpool:2,conv:3x3x3,avgpool:2,dense:3", {1, 8, 8}}),
                                            ::testing::Values(5, 11)));

}  // namespace
}  // namespace spinsc
