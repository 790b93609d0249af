#include "spinsc/markov_stream.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <map>
#include <vector>

#include "device/test_stats.hpp"
#include "spinsc/bit_source.hpp"
#include "spinsc/smtj.hpp"

namespace spinsc {
namespace {

// The regimes of the fast sampler: word-parallel (dense and sparse hold masks), run lengths,
// near-constant streams.
const std::vector<MarkovChain2> kChains = {
    {0.5, 0.0, 0.5},    {0.3, 0.4, 0.3},    {0.2, 0.95, 0.2},  {0.5, 0.999, 0.5},
    {0.05, 0.0, 0.05},  {0.01, 0.5, 0.01},  {0.93, 0.02, 0.93}, {0.7, 0.6, 0.1},  // warm-up start
};

int64_t count_ones(const std::vector<uint64_t>& w) {
  int64_t n = 0;
  for (uint64_t x : w) n += std::popcount(x);
  return n;
}

int64_t count_switches(const std::vector<uint64_t>& w, int64_t length) {
  int64_t n = 0;
  for (int64_t t = 1; t < length; ++t) n += ((w[t >> 6] >> (t & 63)) & 1) != ((w[(t - 1) >> 6] >> ((t - 1) & 63)) & 1);
  return n;
}

TEST(MarkovStream, TailBitsAreZero) {
  for (const auto& c : kChains)
    for (int length : {1, 2, 63, 64, 65, 100, 127, 500}) {
      Xoshiro256 rng(length);
      for (int rep = 0; rep < 50; ++rep) {
        std::vector<uint64_t> w(words_for(length) + 1, ~0ULL);
        sample_markov_stream(c, length, rng, w.data());
        EXPECT_EQ(w[words_for(length) - 1] & ~tail_mask(length), 0u) << "p " << c.p << " rho " << c.rho << " L " << length;
        EXPECT_EQ(w[words_for(length)], ~0ULL) << "wrote past the stream";
      }
    }
}

TEST(MarkovStream, BernoulliWordsHaveTheRightMean) {
  const int64_t n = 1 << 22;
  std::vector<uint64_t> w(n / 64);
  Xoshiro256 rng(7);
  for (double q : {1e-4, 0.03, 0.0625, 0.3, 0.5, 0.77, 0.9375, 0.97, 0.9995}) {
    sample_markov_stream(MarkovChain2{q, 0.0, q}, n, rng, w.data());  // rho = 0: Bernoulli(q) bits
    const double k = static_cast<double>(count_ones(w));
    EXPECT_NEAR(k, n * q, 5 * std::sqrt(n * q * (1 - q))) << "q " << q;
  }
}

// Fast and per-bit samplers agree in distribution: two-sample chi-square tests on the number
// of ones and the number of switches of 100-bit streams, and on the first bit.
TEST(MarkovStream, FastSamplerMatchesReferenceInDistribution) {
  const int length = 100, streams = 20000;
  for (const auto& c : kChains) {
    std::map<int64_t, double> ones[2], switches[2];
    double first[2] = {0, 0};
    for (int which = 0; which < 2; ++which) {
      Xoshiro256 rng(1000 + which);
      std::vector<uint64_t> w(words_for(length));
      for (int s = 0; s < streams; ++s) {
        if (which == 0) sample_markov_stream(c, length, rng, w.data());
        else sample_markov_stream_reference(c, length, rng, w.data());
        ones[which][count_ones(w)] += 1;
        switches[which][count_switches(w, length)] += 1;
        first[which] += w[0] & 1;
      }
    }
    const auto t1 = testing::two_sample_chi_square(ones[0], ones[1]);
    const auto t2 = testing::two_sample_chi_square(switches[0], switches[1]);
    EXPECT_LT(t1.z(), 3.72) << "ones: p " << c.p << " rho " << c.rho << " chi2 " << t1.statistic << " dof " << t1.dof;
    EXPECT_LT(t2.z(), 3.72) << "switches: p " << c.p << " rho " << c.rho << " chi2 " << t2.statistic << " dof " << t2.dof;
    EXPECT_NEAR(first[0] / streams, c.first_p, 4.5 * std::sqrt(c.first_p * (1 - c.first_p) / streams) + 1e-12);
  }
}

// Lag-k autocorrelation of a sampled telegraph device against exp(-k lambda Ts); the standard
// error of an AR(1) sample autocorrelation is Bartlett's formula.
TEST(MarkovStream, AutocorrelationIsExpOfMinusKLambdaTs) {
  const TelegraphMtj mtj({5.0, 10e-6, 0.0, 1e-9}, 60e-9);
  const double current = 1e-6;
  const double lambda = 1 / mtj.tau_ap(current) + 1 / mtj.tau_p(current);
  const int64_t n = 1 << 21;
  std::vector<uint64_t> w(n / 64);
  Xoshiro256 rng(3);
  sample_markov_stream(mtj.chain(current), n, rng, w.data());
  std::vector<double> x(n);
  double mean = 0;
  for (int64_t t = 0; t < n; ++t) mean += x[t] = (w[t >> 6] >> (t & 63)) & 1;
  mean /= n;
  double var = 0;
  for (double v : x) var += (v - mean) * (v - mean);
  var /= n;
  const double rho = std::exp(-lambda * 60e-9);
  ASSERT_GT(rho, 0.3);
  ASSERT_LT(rho, 0.9);
  for (int k = 1; k <= 6; ++k) {
    double c = 0;
    for (int64_t t = 0; t + k < n; ++t) c += (x[t] - mean) * (x[t + k] - mean);
    const double r = c / n / var, expected = std::exp(-k * lambda * 60e-9);
    const double r2 = rho * rho, r2k = std::pow(rho, 2 * k);
    const double se = std::sqrt(((1 + r2) * (1 - r2k) / (1 - r2) - 2 * k * r2k) / n);
    EXPECT_NEAR(r, expected, 4 * se) << "lag " << k;
  }
}

// Runs of ones of a sampled device: geometric with P(leave) = a = (1-p)(1-rho), the discrete
// image of the exponential dwell time. Mean within 4 standard errors, shape by chi-square.
TEST(MarkovStream, DwellTimesAreGeometricWithTheRightMean) {
  const TelegraphMtj mtj({6.0, 10e-6, 0.0, 1e-9}, 5e-9);
  const MarkovChain2 c = mtj.chain(-0.4e-6);
  const int64_t n = 1 << 22;
  std::vector<uint64_t> w(n / 64);
  Xoshiro256 rng(5);
  sample_markov_stream(c, n, rng, w.data());
  std::vector<int64_t> runs;
  int64_t start = -1;
  for (int64_t t = 0; t < n; ++t) {
    const bool b = (w[t >> 6] >> (t & 63)) & 1;
    const bool prev = t > 0 && ((w[(t - 1) >> 6] >> ((t - 1) & 63)) & 1);
    if (b && !prev) start = t;
    if (!b && prev && start > 0) runs.push_back(t - start);  // complete runs only
  }
  const double a = c.leave_one();
  ASSERT_GT(runs.size(), 1000u);
  double mean = 0;
  for (auto r : runs) mean += r;
  mean /= runs.size();
  EXPECT_NEAR(mean, 1 / a, 4 * std::sqrt((1 - a) / (a * a) / runs.size()));
  // In seconds the mean run approaches tau_AP when Ts << tau_AP: 1/a * Ts = tau_AP / (1 + O(Ts/tau)).
  EXPECT_NEAR(mean * 5e-9 / mtj.tau_ap(-0.4e-6), 1.0, 0.03);
  const int bins = 200;
  std::vector<double> observed(bins + 1, 0), expected(bins + 1, 0);
  for (auto r : runs) observed[std::min<int64_t>(r - 1, bins)] += 1;
  for (int k = 0; k < bins; ++k) expected[k] = runs.size() * a * std::pow(1 - a, k);
  expected[bins] = runs.size() * std::pow(1 - a, bins);
  const auto chi = testing::chi_square_fit(observed, expected);
  EXPECT_LT(chi.z(), 3.72) << "chi2 " << chi.statistic << " dof " << chi.dof;
}

// Var(count) / (L m (1-m)) of many streams against the closed form (its standard error is
// about factor * sqrt(2 / streams) for near-normal counts).
TEST(MarkovStream, CountVarianceFactorMatchesSimulation) {
  const int length = 200, streams = 40000;
  for (double rho : {0.0, 0.5, 0.93}) {
    const MarkovChain2 c{0.35, rho, 0.35};
    Xoshiro256 rng(11);
    std::vector<uint64_t> w(words_for(length));
    double s = 0, s2 = 0;
    for (int i = 0; i < streams; ++i) {
      sample_markov_stream(c, length, rng, w.data());
      const double k = static_cast<double>(count_ones(w));
      s += k, s2 += k * k;
    }
    const double var = s2 / streams - (s / streams) * (s / streams);
    const double factor = var / (length * c.p * (1 - c.p));
    const double expected = markov_count_variance_factor(rho, length);
    EXPECT_NEAR(factor, expected, 4.5 * expected * std::sqrt(2.0 / streams)) << "rho " << rho;
  }
  // The closed form (rho < 0.9) and the direct sum (rho >= 0.9) both equal the definition.
  for (double rho : {0.8999999, 0.9, 0.95}) {
    double direct = 0, power = 1;
    for (int k = 1; k < 300; ++k) power *= rho, direct += (1 - k / 300.0) * power;
    EXPECT_NEAR(markov_count_variance_factor(rho, 300), 1 + 2 * direct, 1e-9 * direct) << rho;
  }
  EXPECT_EQ(markov_count_variance_factor(0.7, 1), 1.0);
}

}  // namespace
}  // namespace spinsc
