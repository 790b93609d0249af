// digital_accuracy (the fast path) against digital_forward (the per-image reference).
#include <gtest/gtest.h>

#include <cmath>

#include "spinsc/digital.hpp"
#include "spinsc/rng.hpp"
#include "testutil.hpp"

namespace spinsc {
namespace {

TEST(DigitalAccuracy, EqualsArgmaxOfDigitalForwardImageForImage) {
  const Dataset test = load_dataset("mnist", testing::data_dir(), Split::Test).head(400);
  for (TrainMode mode : {TrainMode::Float, TrainMode::Qat}) {
    for (int K : {3, 11}) {
      Network net = Network::zeros({784, 48, 24, 10}, K, mode);
      Xoshiro256 rng(derive_seed(5, {static_cast<uint64_t>(K)}));
      for (DenseLayer& layer : net.layers) {
        const double a = 2.0 / std::sqrt(layer.in);
        for (float& w : layer.weight) w = static_cast<float>((2 * rng.uniform() - 1) * a);
        for (float& b : layer.bias) b = static_cast<float>(rng.uniform() * 0.5);
        layer.scale = static_cast<float>(0.7 * a);
      }
      long correct = 0;
      for (int n = 0; n < test.count; ++n) {
        std::vector<float> x(784);
        for (int f = 0; f < 784; ++f) x[f] = test.pixel(n, f);
        const std::vector<float> y = digital_forward(net, x.data());
        correct += argmax_class(y.data(), 10) == test.labels[n];
      }
      const double reference = static_cast<double>(correct) / test.count;
      EXPECT_EQ(digital_accuracy(net, test, 1), reference) << to_string(mode) << " K=" << K;
      EXPECT_EQ(digital_accuracy(net, test, 2), reference) << to_string(mode) << " K=" << K;
      EXPECT_GT(reference, 0.0);
    }
  }
}

}  // namespace
}  // namespace spinsc
