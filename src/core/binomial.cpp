#include "spinsc/binomial.hpp"

#include <array>
#include <cmath>

namespace spinsc {
namespace {

// Inversion by sequential search from 0 (n p < 10, p <= 1/2: q^n >= e^-20, no underflow).
int64_t binomial_inversion(int64_t n, double p, Xoshiro256& rng) {
  const double q = 1.0 - p, ratio = p / q;
  double u = rng.uniform(), f = std::pow(q, static_cast<double>(n));
  int64_t k = 0;
  while (u >= f && k < n) {
    u -= f;
    f *= ratio * static_cast<double>(n - k) / static_cast<double>(k + 1);
    ++k;
  }
  return k;
}

// log k!, for the ~14% of BTRS draws that miss the squeeze: tabulated (lgamma) below 128, else
// Stirling's series to x^-5 with x = k + 1, whose next term (x^-7 / 1680 < 1e-18) is far below
// the rounding of the value itself; several times cheaper than lgamma.
double log_factorial(int64_t k) {
  static const std::array<double, 128> table = [] {
    std::array<double, 128> t{};
    for (size_t i = 0; i < t.size(); ++i) t[i] = std::lgamma(static_cast<double>(i) + 1.0);
    return t;
  }();
  if (k < 128) return table[static_cast<size_t>(k)];
  const double x = static_cast<double>(k) + 1.0, r = 1.0 / x, r2 = r * r;
  constexpr double kHalfLog2Pi = 0.91893853320467274178;
  return (x - 0.5) * std::log(x) - x + kHalfLog2Pi + r * (1.0 / 12 - r2 * (1.0 / 360 - r2 / 1260));
}

// BTRS for p <= 1/2 and n p >= 10.
int64_t binomial_btrs(int64_t n, double p, Xoshiro256& rng) {
  const double nd = static_cast<double>(n), q = 1.0 - p;
  const double spq = std::sqrt(nd * p * q);
  const double b = 1.15 + 2.53 * spq;
  const double a = -0.0873 + 0.0248 * b + 0.01 * p;
  const double c = nd * p + 0.5;
  const double alpha = (2.83 + 5.1 / b) * spq;
  const double v_r = 0.92 - 4.2 / b;
  // What only the exact test needs (two lgamma and a logarithm): computed on its first use, so
  // that the ~86% of draws the squeeze accepts at once cost no transcendental function.
  double log_odds = 0, log_fm = 0;
  int64_t m = -1;
  for (;;) {
    const double u = rng.uniform() - 0.5, v = rng.uniform();
    const double us = 0.5 - std::fabs(u);
    const double kd = std::floor((2.0 * a / us + b) * u + c);
    if (kd < 0 || kd > nd) continue;
    const int64_t k = static_cast<int64_t>(kd);
    if (us >= 0.07 && v <= v_r) return k;
    // Accept when v * hat(k) <= pmf(k) / pmf(m), in logarithms.
    if (m < 0) {
      log_odds = std::log(p / q);
      m = static_cast<int64_t>(std::floor((nd + 1.0) * p));
      log_fm = log_factorial(m) + log_factorial(n - m);
    }
    const double lhs = std::log(v * alpha / (a / (us * us) + b));
    const double rhs = log_fm - log_factorial(k) - log_factorial(n - k) + static_cast<double>(k - m) * log_odds;
    if (lhs <= rhs) return k;
  }
}

}  // namespace

int64_t binomial(int64_t n, double p, Xoshiro256& rng) {
  if (n <= 0 || !(p > 0)) return 0;
  if (p >= 1) return n;
  const bool flip = p > 0.5;
  const double r = flip ? 1.0 - p : p;
  const int64_t k = static_cast<double>(n) * r < 10.0 ? binomial_inversion(n, r, rng) : binomial_btrs(n, r, rng);
  return flip ? n - k : k;
}

}  // namespace spinsc
