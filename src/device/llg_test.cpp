#include "spinsc/llg.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "spinsc/calibrate.hpp"

namespace spinsc {
namespace {

struct Mean {
  double value, se;
};

Mean mean_of(const MacrospinDwells& d) {
  double s = 0, s2 = 0;
  int n = 0;
  for (const auto* v : {&d.up, &d.down})
    for (double x : *v) s += x, s2 += x * x, ++n;
  const double m = s / n;
  return {m, std::sqrt((s2 / n - m * m) / n)};
}

MacrospinParameters fast_macrospin(double delta) {
  MacrospinParameters p;
  p.delta = delta;
  p.alpha = 0.1;       // ten times the reference damping: ten times more switches per step
  p.time_step = 0.02;  // Heun's weak error on the dwell time is about +2% at this step (measured)
  return p;
}

// Mean dwell time vs barrier: each simulated mean (400 dwells) matches the exact first-passage
// time within 4 standard errors (the sample standard deviation over sqrt(n)); ln tau vs Delta
// is linear with the slope of the exact result, close to 1 (1 - O(1/Delta): the prefactor).
TEST(MacrospinLlg, DwellTimesFollowArrhenius) {
  const double threshold = 0.5;
  std::vector<double> deltas = {2.0, 3.0, 4.0}, log_mean, var_log, exact_log;
  for (double delta : deltas) {
    const MacrospinParameters p = fast_macrospin(delta);
    const MacrospinDwells d = measure_dwells(p, 0.0, 400, threshold, 17 + static_cast<uint64_t>(delta), 200000000);
    ASSERT_EQ(d.up.size() + d.down.size(), 400u);
    const Mean m = mean_of(d);
    const double exact = macrospin_mean_dwell(delta, p.alpha, 0.0, threshold, true);
    EXPECT_NEAR(m.value, exact, 4 * m.se) << "Delta " << delta;
    log_mean.push_back(std::log(m.value));
    var_log.push_back(std::pow(m.se / m.value, 2));
    exact_log.push_back(std::log(exact));
  }
  // Weighted least-squares slope of ln tau against Delta, with its standard error.
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t k = 0; k < deltas.size(); ++k) {
    const double w = 1 / var_log[k];
    sw += w, sx += w * deltas[k], sy += w * log_mean[k], sxx += w * deltas[k] * deltas[k], sxy += w * deltas[k] * log_mean[k];
  }
  const double det = sw * sxx - sx * sx;
  const double slope = (sw * sxy - sx * sy) / det, slope_se = std::sqrt(sw / det);
  const double exact_slope = (exact_log.back() - exact_log.front()) / (deltas.back() - deltas.front());
  EXPECT_NEAR(slope, exact_slope, 4 * slope_se);
  EXPECT_GT(exact_slope, 0.75);
  EXPECT_LT(exact_slope, 1.0);
  EXPECT_NEAR(slope, 1.0, 4 * slope_se + 0.25) << "Arrhenius: ln tau rises by about one per kT of barrier";
}

// The exact mean dwell obeys Arrhenius with slope -> 1 at high barriers, and the up/down
// symmetry under current reversal.
TEST(MacrospinLlg, ExactDwellTimeLimits) {
  const double a = macrospin_mean_dwell(15, 0.01, 0.0, 0.5, true), b = macrospin_mean_dwell(16, 0.01, 0.0, 0.5, true);
  EXPECT_NEAR(std::log(b / a), 1.0, 0.05);
  EXPECT_DOUBLE_EQ(macrospin_mean_dwell(5, 0.01, 0.1, 0.5, true), macrospin_mean_dwell(5, 0.01, -0.1, 0.5, false));
  EXPECT_GT(macrospin_mean_dwell(5, 0.01, 0.1, 0.5, true), macrospin_mean_dwell(5, 0.01, 0.0, 0.5, true))
      << "positive current stabilises the up (AP) state";
  // Halving alpha doubles the time (the dynamics of m_z scale with alpha).
  EXPECT_NEAR(macrospin_mean_dwell(5, 0.005, 0.0, 0.5, true) / macrospin_mean_dwell(5, 0.01, 0.0, 0.5, true), 2.0, 1e-9);
}

// p(I) from the simulation is the exact stationary curve, within 4 batch-means standard errors,
// and close to the telegraph sigmoid 1/(1+exp(-4 Delta I/Ic0)) (Ic_telegraph = Ic0/2).
TEST(MacrospinLlg, StateProbabilityIsSigmoidalInCurrent) {
  const MacrospinParameters p = fast_macrospin(3.0);
  const double ic0 = p.critical_current_A();
  EXPECT_DOUBLE_EQ(p.telegraph_critical_current_A(), ic0 / 2);
  double previous = 0;
  for (double i : {-0.15, -0.05, 0.05, 0.15}) {
    MacrospinLlg llg(p, 100 + static_cast<uint64_t>(10 * (i + 1)), i > 0);
    llg.set_current(i * ic0);
    llg.advance(5000);
    const int batches = 20, steps_per_batch = 100000;  // each batch ~ 9 mean dwell times
    double s = 0, s2 = 0;
    for (int b = 0; b < batches; ++b) {
      int up = 0;
      for (int k = 0; k < steps_per_batch; ++k) {
        llg.step();
        up += llg.mz() > 0;
      }
      const double f = static_cast<double>(up) / steps_per_batch;
      s += f, s2 += f * f;
    }
    const double mean = s / batches, se = std::sqrt((s2 / batches - mean * mean) / (batches - 1));
    const double exact = macrospin_p_up(p.delta, i);
    EXPECT_NEAR(mean, exact, 4 * se) << "I/Ic0 = " << i;
    EXPECT_GT(mean, previous);
    previous = mean;
  }
  // At a high barrier the exact curve is the telegraph sigmoid with slope 4 Delta / Ic0, up to
  // the prefactor ratio (1 - i)/(1 + i) of the two wells (Laplace's method at m_z = +-1).
  for (double i : {-0.02, 0.01, 0.03}) {
    const double logit = 4 * 40 * i + std::log((1 - i) / (1 + i));
    EXPECT_NEAR(macrospin_p_up(40, i), 1 / (1 + std::exp(-logit)), 2e-4) << i;
  }
}

// A macrospin trace read by sign is the telegraph chain of the slowest Fokker–Planck mode: its
// fitted P(AP) is the exact stationary value and its fitted lag-1 correlation exp(-lambda_1 Ts),
// each within 4 standard errors.
TEST(MacrospinLlg, TraceIsTheTelegraphChainOfTheSlowestMode) {
  MacrospinParameters p = fast_macrospin(3.0);
  const double lambda = macrospin_relaxation_rate(3.0, p.alpha, 0.05);
  const double ts = 0.5 / lambda * p.time_unit_s();
  const MacrospinTrace t = simulate_macrospin_trace(p, 0.05 * p.critical_current_A(), 6000, ts, 9);
  EXPECT_EQ(t.trace.length, 6000);
  EXPECT_EQ(t.mz.size(), 6000u);
  const MarkovFit f = fit_markov(t.trace);
  EXPECT_TRUE(f.resolved);
  EXPECT_NEAR(f.p.value, macrospin_p_up(3.0, 0.05), 4 * f.p.se);
  EXPECT_NEAR(f.rho.value, std::exp(-0.5), 4 * f.rho.se);
  // lambda_1 is the two-well rate: at a high barrier 2/lambda_1 approaches the first-passage time.
  EXPECT_NEAR(2 / macrospin_relaxation_rate(12, 0.01, 0) / macrospin_mean_dwell(12, 0.01, 0, 0.5, true), 1.0, 0.05);
}

}  // namespace
}  // namespace spinsc
