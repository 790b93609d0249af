#include "spinsc/binomial.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace spinsc {
namespace {

double pmf(int64_t n, double p, int64_t k) {
  return std::exp(std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0) + k * std::log(p) +
                  (n - k) * std::log1p(-p));
}

// Chi-square statistic of `draws` variates against the exact pmf, bins merged until each
// expects >= 20 draws; returns {statistic, degrees of freedom}.
std::pair<double, int> chi_square(int64_t n, double p, int draws, uint64_t seed) {
  Xoshiro256 rng(seed);
  std::vector<long> hist(static_cast<size_t>(n) + 1, 0);
  for (int i = 0; i < draws; ++i) {
    const int64_t k = binomial(n, p, rng);
    EXPECT_GE(k, 0);
    EXPECT_LE(k, n);
    if (k < 0 || k > n) return {1e300, 1};
    ++hist[static_cast<size_t>(k)];
  }
  double stat = 0, expected = 0, observed = 0;
  int bins = 0;
  for (int64_t k = 0; k <= n; ++k) {
    expected += draws * pmf(n, p, k);
    observed += static_cast<double>(hist[static_cast<size_t>(k)]);
    if (expected >= 20 || k == n) {
      stat += (observed - expected) * (observed - expected) / std::max(expected, 1e-300);
      ++bins;
      expected = observed = 0;
    }
  }
  return {stat, bins - 1};
}

// Upper 1e-6 quantile of chi-square(df) (Wilson–Hilferty, z = 4.753): a correct sampler fails
// one case in a million; a wrong pmf shape at 1e5 draws is far beyond it.
double chi_square_limit(int df) {
  const double d = df, z = 4.753;
  const double t = 1.0 - 2.0 / (9.0 * d) + z * std::sqrt(2.0 / (9.0 * d));
  return d * t * t * t;
}

TEST(Binomial, MatchesTheExactLawInEveryRegime) {
  struct Case {
    int64_t n;
    double p;
  };
  // Inversion (n p < 10), BTRS (n p >= 10), p > 1/2 by symmetry, the shortcut's levels.
  const Case cases[] = {{1, 0.3},     {7, 0.5},     {40, 0.2},     {60, 0.9},   {49, 0.2},  {51, 0.2},
                        {500, 0.02},  {500, 0.2},   {500, 0.6},    {5000, 0.4}, {40000, 0.8}, {392000, 0.2},
                        {100000, 1e-4}, {100000, 0.5}};
  uint64_t seed = 11;
  for (const Case& c : cases) {
    const auto [stat, df] = chi_square(c.n, c.p, 200000, ++seed);
    EXPECT_LT(stat, chi_square_limit(df)) << "n " << c.n << " p " << c.p << " df " << df;
  }
}

TEST(Binomial, EdgeCases) {
  Xoshiro256 rng(3);
  EXPECT_EQ(binomial(0, 0.3, rng), 0);
  EXPECT_EQ(binomial(-5, 0.3, rng), 0);
  EXPECT_EQ(binomial(17, 0.0, rng), 0);
  EXPECT_EQ(binomial(17, 1.0, rng), 17);
  EXPECT_EQ(binomial(17, std::nan(""), rng), 0);
}

TEST(Binomial, SameSeedSameDraws) {
  Xoshiro256 a(9), b(9);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(binomial(1000 + i, 0.2 + 0.0005 * i, a), binomial(1000 + i, 0.2 + 0.0005 * i, b));
}

}  // namespace
}  // namespace spinsc
