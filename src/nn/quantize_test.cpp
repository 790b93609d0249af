// Quantizers of SPEC §5 (quantize.hpp) and their vectorised twins used by training.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>
#include <vector>

#include "nn/fast_quantize.hpp"
#include "spinsc/quantize.hpp"

namespace spinsc {
namespace {

class QuantizerK : public ::testing::TestWithParam<int> {};

TEST_P(QuantizerK, WeightLevelsAreKUniformPointsOfMinusSToS) {
  const int K = GetParam();
  const float s = 0.8f;
  std::set<float> levels;
  for (int i = -3000; i <= 3000; ++i) levels.insert(quantize_weight(i * 0.001f, s, K));  // covers [-3.75 s, 3.75 s]
  ASSERT_EQ(levels.size(), static_cast<size_t>(K));
  const float step = 2.0f * s / static_cast<float>(K - 1);
  int q = -(K - 1) / 2;
  for (float v : levels) EXPECT_NEAR(v, q++ * step, 1e-6f) << "K=" << K;
  EXPECT_EQ(*levels.begin(), -s);
  EXPECT_EQ(*levels.rbegin(), s);
}

TEST_P(QuantizerK, WeightRoundsToNearestTiesAwayFromZeroAndClips) {
  const int K = GetParam(), half = (K - 1) / 2;
  const float s = 0.5f;  // a power of two: level midpoints are exact floats
  for (int q = -half; q <= half; ++q) {
    const float level = weight_value(q, s, K);
    EXPECT_EQ(weight_level(level, s, K), q);
    const float step = 2.0f * s / static_cast<float>(K - 1);
    // Just inside either side of a level stays on it.
    EXPECT_EQ(weight_level(level + 0.49f * step, s, K), q);  // the top level clips to itself
    EXPECT_EQ(weight_level(level - 0.49f * step, s, K), q);
  }
  // Exact ties (u * half = k + 1/2) go away from zero, symmetrically.
  for (int k = 0; k < half; ++k) {
    const float u = (static_cast<float>(k) + 0.5f) / static_cast<float>(half);
    EXPECT_EQ(weight_level(u * s, s, K), k + 1) << "K=" << K << " k=" << k;
    EXPECT_EQ(weight_level(-u * s, s, K), -(k + 1));
  }
  EXPECT_EQ(quantize_weight(10.0f, s, K), s);
  EXPECT_EQ(quantize_weight(-10.0f, s, K), -s);
  EXPECT_EQ(quantize_weight(0.0f, s, K), 0.0f);
}

TEST_P(QuantizerK, ActivationLevelsAreKUniformPointsOfZeroToOne) {
  const int K = GetParam();
  std::set<float> levels;
  for (int i = -1000; i <= 2000; ++i) levels.insert(quantize_activation(i * 0.001f, K));
  ASSERT_EQ(levels.size(), static_cast<size_t>(K));
  int k = 0;
  for (float v : levels) EXPECT_NEAR(v, static_cast<float>(k++) / static_cast<float>(K - 1), 1e-6f);
  EXPECT_EQ(quantize_activation(-3.0f, K), 0.0f);
  EXPECT_EQ(quantize_activation(7.0f, K), 1.0f);
  // Ties between levels k and k+1 go up (away from zero).
  for (int t = 0; t + 1 < K; ++t) {
    const double mid = (t + 0.5) / (K - 1);
    const float z = static_cast<float>(mid);
    if (static_cast<double>(z) * (K - 1) != t + 0.5) continue;  // not an exact tie in float
    EXPECT_EQ(activation_level(z, K), t + 1);
  }
}

INSTANTIATE_TEST_SUITE_P(K, QuantizerK, ::testing::Values(3, 5, 11));

TEST(Quantizer, K5HasThePapersLevels) {
  const float s = 1.0f;
  EXPECT_EQ(quantize_weight(0.74f, s, 5), 0.5f);
  EXPECT_EQ(quantize_weight(0.75f, s, 5), 1.0f);   // tie -> away from zero
  EXPECT_EQ(quantize_weight(-0.25f, s, 5), -0.5f); // tie -> away from zero
  EXPECT_EQ(quantize_weight(0.24f, s, 5), 0.0f);
  EXPECT_EQ(quantize_activation(0.125f, 5), 0.25f);  // tie -> up
  EXPECT_EQ(quantize_activation(0.12f, 5), 0.0f);
}

// rint and std::round differ only at exact ties k + 1/2, so check every tie up to 2^20, both
// neighbouring floats of each, and a sweep of ordinary values.
TEST(FastQuantizer, RoundAwayMatchesStdRound) {
  uint32_t mismatches = 0;
  auto check = [&](float x) {
    mismatches += nn::round_away(x) != std::round(x);
    mismatches += nn::round_away(-x) != std::round(-x);
  };
  for (int k = 0; k < 1 << 20; ++k) {
    const float tie = static_cast<float>(k) + 0.5f;
    check(tie);
    check(std::nextafter(tie, 0.0f));
    check(std::nextafter(tie, 1e30f));
  }
  for (int i = 0; i <= 1000000; ++i) check(static_cast<float>(i) * 1.7e-5f);
  EXPECT_EQ(mismatches, 0u);
}

TEST(FastQuantizer, BitIdenticalToQuantizeHpp) {
  for (int K : {3, 5, 11, 255}) {
    const float half = 0.5f * static_cast<float>(K - 1), km1 = static_cast<float>(K - 1);
    for (float s : {0.013f, 0.37f, 1.0f, 2.9f}) {
      for (int i = -40000; i <= 40000; ++i) {
        const float w = s * static_cast<float>(i) * 3e-5f;
        const float a = nn::quantize_weight_fast(w, s, half, km1), b = quantize_weight(w, s, K);
        ASSERT_EQ(std::memcmp(&a, &b, sizeof a), 0) << "w=" << w << " s=" << s << " K=" << K;
      }
    }
    for (int i = -20000; i <= 60000; ++i) {
      const float z = i == 0 ? -0.0f : static_cast<float>(i) * 2.5e-5f;
      const float a = nn::quantize_activation_fast(z, km1), b = quantize_activation(z, K);
      ASSERT_EQ(std::memcmp(&a, &b, sizeof a), 0) << "z=" << z << " K=" << K;
    }
  }
}

}  // namespace
}  // namespace spinsc
