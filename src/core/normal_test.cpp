#include "spinsc/normal.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace spinsc {
namespace {

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// Kolmogorov–Smirnov against the normal law. With n = 10^6 the statistic's 0.1% critical value
// is 1.95 / sqrt(n) = 0.00195; a wrong layer table or tail shifts the CDF by far more.
TEST(ZigguratNormal, HasTheNormalLaw) {
  Xoshiro256 rng(1);
  const int n = 1000000;
  std::vector<double> v(n);
  double sum = 0, sum2 = 0;
  for (double& x : v) {
    x = ziggurat_normal(rng);
    sum += x, sum2 += x * x;
  }
  std::sort(v.begin(), v.end());
  double d = 0;
  for (int k = 0; k < n; ++k) {
    const double c = normal_cdf(v[static_cast<size_t>(k)]);
    d = std::max({d, c - static_cast<double>(k) / n, static_cast<double>(k + 1) / n - c});
  }
  EXPECT_LT(d, 1.95 / std::sqrt(n));
  // Mean and variance within 5 standard errors (1/sqrt(n) and sqrt(2/n)).
  EXPECT_NEAR(sum / n, 0.0, 5 / std::sqrt(n));
  EXPECT_NEAR(sum2 / n, 1.0, 5 * std::sqrt(2.0 / n));
}

// The tail beyond the base layer's edge r = 3.654 (drawn by its own method) and the layers'
// wedges: counts beyond 2, 3.654 and 4.5 in each half, against the exact probabilities
// (binomial standard errors, 5 of them).
TEST(ZigguratNormal, TailsHaveTheirProbabilities) {
  Xoshiro256 rng(2);
  const long n = 4000000;
  const double edges[] = {2.0, 3.6541528853610088, 4.5};
  long above[3] = {}, below[3] = {};
  for (long k = 0; k < n; ++k) {
    const double x = ziggurat_normal(rng);
    for (int e = 0; e < 3; ++e) {
      above[e] += x > edges[e];
      below[e] += x < -edges[e];
    }
  }
  for (int e = 0; e < 3; ++e) {
    const double p = 1 - normal_cdf(edges[e]), se = std::sqrt(n * p * (1 - p));
    EXPECT_NEAR(above[e], n * p, 5 * se + 1) << "x > " << edges[e];
    EXPECT_NEAR(below[e], n * p, 5 * se + 1) << "x < -" << edges[e];
  }
}

TEST(ZigguratNormal, SameSeedSameDraws) {
  Xoshiro256 a(7), b(7);
  for (int k = 0; k < 1000; ++k) ASSERT_EQ(ziggurat_normal(a), ziggurat_normal(b));
}

}  // namespace
}  // namespace spinsc
