// Calibration of the telegraph model from traces: transfer curve p(I) and dwell times.
//
// Dwell times: a trace sampled every Ts is the chain of markov_stream.hpp. fit_markov() counts
// the transitions 1->0, 1->1, 0->1, 0->0 between consecutive samples; their frequencies are the
// maximum-likelihood estimates of the per-sample switching probabilities a = P(1->0) and
// b = P(0->1), conditional on the first sample. This uses every sample, so the censored first
// and last runs are neither dropped nor biased: the last run contributes its "no switch yet"
// factors, the first is conditioned on. The continuous-time rates follow exactly from
// rho = 1 - a - b = exp(-lambda Ts) and p = b / (a + b): tau_AP = 1/(lambda (1 - p)),
// tau_P = 1/(lambda p). When rho is not significantly above 0 (sampling much slower than the
// dwell times) they are not identifiable and `resolved` is false. Standard errors come from
// the Fisher information of the transition counts (binomial) through the delta method.
//
// Transfer curve: fit_sigmoid() is the maximum-likelihood logistic fit
// p = 1 / (1 + exp(-(I - I0) / w)) over the bias points (Newton iterations), each point's
// binomial likelihood divided by its variance inflation (1 + rho)/(1 - rho) so that correlated
// samples do not overstate the precision (quasi-likelihood). Standard errors from the inverse
// Fisher information. w = Ic / (2 Delta).
//
// Delta alone is not identifiable from one temperature: the dwell times give ln(tau0) + Delta
// (the mean of ln sqrt(tau_AP tau_P) over the bias points, which the telegraph model makes
// bias-independent), so calibrate() reports Delta for an assumed tau0. When the traces carry
// two or more temperatures (`temperature_K` headers), the Arrhenius fit of ln sqrt(tau_AP tau_P)
// against 300 K / T gives Delta(300 K) as its slope and ln tau0 as its intercept, and no tau0 is
// assumed. The sigmoid uses the traces of one temperature (the one with most bias points; w
// depends on T through Delta); Ic = 2 Delta(T) w at that temperature.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "spinsc/device_config.hpp"
#include "spinsc/trace.hpp"

namespace spinsc {

struct Estimate {
  double value = 0;
  double se = 0;  // standard error
};

struct MarkovFit {
  int64_t samples = 0, ones = 0;
  int64_t n11 = 0, n10 = 0, n01 = 0, n00 = 0;  // transition counts (from, to)
  Estimate p;              // fraction of samples in state 1; error inflated by the correlation
  Estimate leave_one;      // a = P(1 -> 0) per sample
  Estimate leave_zero;     // b = P(0 -> 1) per sample
  Estimate rho;            // 1 - a - b: lag-1 autocorrelation
  bool resolved = false;   // rho > 3 standard errors: the dwell times below are meaningful
  Estimate tau_ap_s, tau_p_s;
  Estimate log_sqrt_tau_product;  // ln sqrt(tau_AP tau_P) = ln tau0 + Delta in the telegraph model
  double variance_inflation() const;  // (1 + rho) / (1 - rho), rho clamped to [0, 0.999999]
};
MarkovFit fit_markov(const uint64_t* words, int64_t length, double sample_period_s);
inline MarkovFit fit_markov(const Trace& t) { return fit_markov(t.words.data(), t.length, t.sample_period_s); }

struct BiasPoint {
  double current_A = 0;
  double ones = 0;
  double samples = 0;
  double variance_inflation = 1;
};

struct SigmoidFit {
  Estimate center_A;    // I0: p(I0) = 1/2
  Estimate width_A;     // w = Ic / (2 Delta)
  Estimate slope_per_A; // 1 / w = 2 Delta / Ic
  double deviance = 0;  // quasi-deviance at the optimum (a lack-of-fit measure, ~ points - 2)
  int iterations = 0;
};
// Needs at least two distinct currents and data that are not perfectly separated.
SigmoidFit fit_sigmoid(const std::vector<BiasPoint>& points);

struct LinearFit {
  Estimate intercept, slope;  // y = intercept + slope * x (weighted least squares)
};

struct CalibrationPoint {
  std::string origin;
  std::optional<double> current_A;
  std::optional<double> target_p;
  double sample_period_s = 0;
  MarkovFit fit;
};

struct Calibration {
  std::vector<CalibrationPoint> points;
  double assumed_tau0_s = 1e-9;
  std::optional<double> temperature_K;             // of the points behind the sigmoid (if known)
  std::optional<SigmoidFit> sigmoid;               // when >= 2 points (one temperature) have a current
  std::optional<LinearFit> ln_tau_ap_vs_current;   // slope Delta/Ic in the telegraph model
  std::optional<LinearFit> ln_tau_p_vs_current;    // slope -Delta/Ic
  std::optional<Estimate> log_tau0_plus_delta;     // weighted mean over resolved points at temperature_K
  std::optional<LinearFit> arrhenius;              // ln sqrt(tau_AP tau_P) vs 300 K / T (>= 2 temperatures)
  std::optional<Estimate> tau0_s;                  // exp(arrhenius intercept); else tau0 is assumed
  std::optional<Estimate> delta;                   // at temperature_K
  std::optional<Estimate> critical_current_A;      // 2 Delta w
};

Calibration calibrate(const std::vector<Trace>& traces, double assumed_tau0_s = 1e-9);
std::string calibration_text(const Calibration& c);
std::string calibration_json(const Calibration& c);
// `base` with the fitted Delta, Ic, offset and tau0 (and the traces' sample period, when they
// share one); throws when the calibration lacks the sigmoid or the dwell times.
DeviceConfig fitted_device(const Calibration& c, const DeviceConfig& base);

}  // namespace spinsc
