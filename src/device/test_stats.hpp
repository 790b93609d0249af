// Statistical helpers of the device tests: tolerances come from sample sizes, not guesses.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <vector>

namespace spinsc::testing {

// Upper-tail z of a chi-square statistic with `dof` degrees of freedom (Wilson–Hilferty cube
// root transform, accurate to a few 1e-3 in z for dof >= 3). A test fails at z > 3.72 (p = 1e-4).
inline double chi_square_z(double statistic, double dof) {
  const double v = 2.0 / (9.0 * dof);
  return (std::cbrt(statistic / dof) - (1.0 - v)) / std::sqrt(v);
}

struct ChiSquare {
  double statistic = 0;
  int dof = 0;
  double z() const { return chi_square_z(statistic, dof); }
};

// Two-sample chi-square homogeneity test of two histograms (equal totals not required). Bins
// are merged left to right until each merged bin holds >= 20 of the pooled counts.
inline ChiSquare two_sample_chi_square(const std::map<int64_t, double>& a, const std::map<int64_t, double>& b) {
  std::map<int64_t, std::pair<double, double>> all;
  for (auto& [k, v] : a) all[k].first += v;
  for (auto& [k, v] : b) all[k].second += v;
  double na = 0, nb = 0;
  for (auto& [k, v] : all) na += v.first, nb += v.second;
  std::vector<std::pair<double, double>> bins;
  std::pair<double, double> cur{0, 0};
  for (auto& [k, v] : all) {
    cur.first += v.first, cur.second += v.second;
    if (cur.first + cur.second >= 20) bins.push_back(cur), cur = {0, 0};
  }
  if (!bins.empty()) bins.back().first += cur.first, bins.back().second += cur.second;
  ChiSquare r;
  for (auto& [x, y] : bins) {
    const double pooled = (x + y) / (na + nb);
    const double ea = pooled * na, eb = pooled * nb;
    r.statistic += (x - ea) * (x - ea) / ea + (y - eb) * (y - eb) / eb;
  }
  r.dof = static_cast<int>(bins.size()) - 1;
  return r;
}

// Goodness of fit of observed counts against expected counts (same bins), bins merged until the
// expected count reaches 10; `fitted` parameters reduce the degrees of freedom.
inline ChiSquare chi_square_fit(const std::vector<double>& observed, const std::vector<double>& expected, int fitted = 0) {
  ChiSquare r;
  double o = 0, e = 0;
  int bins = 0;
  for (size_t i = 0; i < observed.size(); ++i) {
    o += observed[i], e += expected[i];
    if (e >= 10) r.statistic += (o - e) * (o - e) / e, o = e = 0, ++bins;
  }
  if (e > 0) r.statistic += (o - e) * (o - e) / e, ++bins;
  r.dof = bins - 1 - fitted;
  return r;
}

}  // namespace spinsc::testing
