#include "spinsc/calibrate.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "spinsc/error.hpp"

namespace spinsc {

double MarkovFit::variance_inflation() const {
  const double r = std::clamp(rho.value, 0.0, 0.999999);
  return (1.0 + r) / (1.0 - r);
}

MarkovFit fit_markov(const uint64_t* words, int64_t length, double sample_period_s) {
  MarkovFit f;
  f.samples = length;
  const int64_t n = (length + 63) / 64;
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t x = words[i];
    f.ones += std::popcount(x);
    // Sample t pairs with t+1; valid for t < length - 1.
    const uint64_t next = (x >> 1) | ((i + 1 < n ? words[i + 1] : 0) << 63);
    const int64_t last_t = length - 2 - 64 * i;  // highest valid bit index in this word
    if (last_t < 0) break;
    const uint64_t valid = last_t >= 63 ? ~0ULL : ((1ULL << (last_t + 1)) - 1);
    f.n11 += std::popcount(x & next & valid);
    f.n10 += std::popcount(x & ~next & valid);
    f.n01 += std::popcount(~x & next & valid);
    f.n00 += std::popcount(~x & ~next & valid);
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double n1 = static_cast<double>(f.n11 + f.n10), n0 = static_cast<double>(f.n01 + f.n00);
  const double a = n1 > 0 ? f.n10 / n1 : nan, b = n0 > 0 ? f.n01 / n0 : nan;
  const double va = n1 > 0 ? a * (1 - a) / n1 : nan, vb = n0 > 0 ? b * (1 - b) / n0 : nan;
  f.leave_one = {a, std::sqrt(va)};
  f.leave_zero = {b, std::sqrt(vb)};
  f.rho = {1.0 - a - b, std::sqrt(va + vb)};
  const double p = length ? static_cast<double>(f.ones) / length : nan;
  f.p = {p, length ? std::sqrt(p * (1 - p) / length * f.variance_inflation()) : nan};
  f.resolved = f.n10 > 0 && f.n01 > 0 && f.rho.value > 3 * f.rho.se && f.rho.value < 1;
  if (f.resolved) {
    const double rho = f.rho.value, g = -std::log(rho), s = a + b;
    const double ts = sample_period_s;
    const double common = -1.0 / (rho * g) + 1.0 / s;
    const double ap_a = common - 1.0 / a, ap_b = common;
    const double p_a = common, p_b = common - 1.0 / b;
    const double z_a = common - 0.5 / a, z_b = common - 0.5 / b;
    const double tau_ap = ts * s / (g * a), tau_p = ts * s / (g * b);
    f.tau_ap_s = {tau_ap, tau_ap * std::sqrt(ap_a * ap_a * va + ap_b * ap_b * vb)};
    f.tau_p_s = {tau_p, tau_p * std::sqrt(p_a * p_a * va + p_b * p_b * vb)};
    f.log_sqrt_tau_product = {0.5 * (std::log(tau_ap) + std::log(tau_p)), std::sqrt(z_a * z_a * va + z_b * z_b * vb)};
  } else {
    f.tau_ap_s = f.tau_p_s = f.log_sqrt_tau_product = {nan, nan};
  }
  return f;
}

namespace {

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

double quasi_deviance(const std::vector<double>& x, const std::vector<double>& k, const std::vector<double>& n, double b0,
                      double b1) {
  double d = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double p = std::clamp(sigmoid(b0 + b1 * x[i]), 1e-300, 1 - 1e-16);
    if (k[i] > 0) d += k[i] * std::log(k[i] / (n[i] * p));
    if (n[i] - k[i] > 0) d += (n[i] - k[i]) * std::log((n[i] - k[i]) / (n[i] * (1 - p)));
  }
  return 2 * d;
}

std::optional<LinearFit> weighted_line(const std::vector<double>& x, const std::vector<double>& y,
                                       const std::vector<double>& var) {
  if (std::set<double>(x.begin(), x.end()).size() < 2) return std::nullopt;
  double sw = 0, swx = 0, swy = 0, swxx = 0, swxy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double w = 1.0 / var[i];
    sw += w, swx += w * x[i], swy += w * y[i], swxx += w * x[i] * x[i], swxy += w * x[i] * y[i];
  }
  const double det = sw * swxx - swx * swx;
  LinearFit f;
  f.slope = {(sw * swxy - swx * swy) / det, std::sqrt(sw / det)};
  f.intercept = {(swxx * swy - swx * swxy) / det, std::sqrt(swxx / det)};
  return f;
}

}  // namespace

SigmoidFit fit_sigmoid(const std::vector<BiasPoint>& points) {
  std::vector<double> x, k, n;
  std::set<double> currents;
  double total_k = 0, total_n = 0;
  for (const auto& p : points) {
    if (p.samples <= 0) continue;
    x.push_back(p.current_A);
    k.push_back(p.ones / p.variance_inflation);
    n.push_back(p.samples / p.variance_inflation);
    currents.insert(p.current_A);
    total_k += k.back(), total_n += n.back();
  }
  if (currents.size() < 2) fail("sigmoid fit: needs bias points at two or more distinct currents (got {})", currents.size());
  // Standardised currents keep the Newton system well conditioned (currents are ~1e-6 A).
  double mean = 0;
  for (double c : currents) mean += c;
  mean /= currents.size();
  double sd = 0;
  for (double c : currents) sd += (c - mean) * (c - mean);
  sd = std::sqrt(sd / currents.size());
  for (double& v : x) v = (v - mean) / sd;

  const double p_all = std::clamp(total_k / total_n, 1e-6, 1 - 1e-6);
  double b0 = std::log(p_all / (1 - p_all)), b1 = 0;
  double h00 = 0, h01 = 0, h11 = 0;
  double dev = quasi_deviance(x, k, n, b0, b1);
  SigmoidFit fit;
  for (int it = 1;; ++it) {
    double g0 = 0, g1 = 0;
    h00 = h01 = h11 = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const double p = sigmoid(b0 + b1 * x[i]), v = n[i] * p * (1 - p);
      g0 += k[i] - n[i] * p, g1 += (k[i] - n[i] * p) * x[i];
      h00 += v, h01 += v * x[i], h11 += v * x[i] * x[i];
    }
    const double det = h00 * h11 - h01 * h01;
    if (!(det > 0)) fail("sigmoid fit: singular information matrix (are all points at p = 0 or 1?)");
    double d0 = (h11 * g0 - h01 * g1) / det, d1 = (h00 * g1 - h01 * g0) / det;
    // Step halving keeps every Newton step a descent step of the deviance.
    double step = 1, next = quasi_deviance(x, k, n, b0 + d0, b1 + d1);
    while (next > dev + 1e-12 * std::abs(dev) && step > 1e-6) {
      step /= 2;
      next = quasi_deviance(x, k, n, b0 + step * d0, b1 + step * d1);
    }
    b0 += step * d0, b1 += step * d1, dev = next;
    fit.iterations = it;
    if (std::abs(b1) > 1e4)
      fail("sigmoid fit: the bias points are perfectly separated (the p(I) step is narrower than their spacing); "
           "add points between the last p = 0 and the first p = 1");
    if (std::max(std::abs(step * d0), std::abs(step * d1)) < 1e-11) break;
    if (it >= 200) fail("sigmoid fit: Newton iterations did not converge");
  }
  // Covariance of (b0, b1) = inverse information at the optimum.
  const double det = h00 * h11 - h01 * h01;
  const double v00 = h11 / det, v01 = -h01 / det, v11 = h00 / det;
  const double center = mean - sd * b0 / b1;
  const double dc0 = -sd / b1, dc1 = sd * b0 / (b1 * b1);
  fit.center_A = {center, std::sqrt(dc0 * dc0 * v00 + 2 * dc0 * dc1 * v01 + dc1 * dc1 * v11)};
  fit.width_A = {sd / b1, sd / (b1 * b1) * std::sqrt(v11)};
  fit.slope_per_A = {b1 / sd, std::sqrt(v11) / sd};
  fit.deviance = dev;
  return fit;
}

Calibration calibrate(const std::vector<Trace>& traces, double assumed_tau0_s) {
  if (traces.empty()) fail("calibrate: no traces");
  if (!(assumed_tau0_s > 0)) fail("calibrate: the assumed tau0 must be > 0, got {}", assumed_tau0_s);
  Calibration c;
  c.assumed_tau0_s = assumed_tau0_s;
  // Points grouped by temperature (-1: not stated); the sigmoid uses the group with the most
  // bias currents.
  std::map<double, std::vector<size_t>> groups;
  for (const auto& t : traces) {
    groups[t.temperature_K.value_or(-1.0)].push_back(c.points.size());
    c.points.push_back({t.origin, t.bias_current_A, t.target_p, t.sample_period_s, fit_markov(t)});
  }
  double chosen = groups.begin()->first;
  size_t most = 0;
  for (const auto& [temperature, members] : groups) {
    size_t with_current = 0;
    for (size_t i : members) with_current += c.points[i].current_A.has_value();
    if (with_current > most) most = with_current, chosen = temperature;
  }
  if (chosen > 0) c.temperature_K = chosen;

  std::vector<BiasPoint> bias_points;
  std::vector<double> x, y_ap, v_ap, y_p, v_p;
  double zw = 0, zwv = 0;
  std::set<double> currents;
  for (size_t i : groups[chosen]) {
    const CalibrationPoint& cp = c.points[i];
    const MarkovFit& f = cp.fit;
    if (cp.current_A) {
      bias_points.push_back(
          {*cp.current_A, static_cast<double>(f.ones), static_cast<double>(f.samples), f.variance_inflation()});
      currents.insert(*cp.current_A);
    }
    if (!f.resolved) continue;
    const double w = 1.0 / (f.log_sqrt_tau_product.se * f.log_sqrt_tau_product.se);
    zw += w, zwv += w * f.log_sqrt_tau_product.value;
    if (cp.current_A) {
      x.push_back(*cp.current_A);
      y_ap.push_back(std::log(f.tau_ap_s.value));
      v_ap.push_back(std::pow(f.tau_ap_s.se / f.tau_ap_s.value, 2));
      y_p.push_back(std::log(f.tau_p_s.value));
      v_p.push_back(std::pow(f.tau_p_s.se / f.tau_p_s.value, 2));
    }
  }
  if (currents.size() >= 2) c.sigmoid = fit_sigmoid(bias_points);
  c.ln_tau_ap_vs_current = weighted_line(x, y_ap, v_ap);
  c.ln_tau_p_vs_current = weighted_line(x, y_p, v_p);
  if (zw > 0) c.log_tau0_plus_delta = Estimate{zwv / zw, std::sqrt(1.0 / zw)};

  // Arrhenius over temperatures: ln sqrt(tau_AP tau_P) = ln tau0 + Delta(300 K) * 300 K / T.
  std::vector<double> inv_t, z, vz;
  for (size_t i = 0; i < c.points.size(); ++i) {
    const CalibrationPoint& cp = c.points[i];
    if (!cp.fit.resolved || !traces[i].temperature_K) continue;
    inv_t.push_back(300.0 / *traces[i].temperature_K);
    z.push_back(cp.fit.log_sqrt_tau_product.value);
    vz.push_back(cp.fit.log_sqrt_tau_product.se * cp.fit.log_sqrt_tau_product.se);
  }
  c.arrhenius = weighted_line(inv_t, z, vz);
  if (c.arrhenius && c.temperature_K) {
    const double tau0 = std::exp(c.arrhenius->intercept.value);
    c.tau0_s = Estimate{tau0, tau0 * c.arrhenius->intercept.se};
    const double scale = 300.0 / *c.temperature_K;
    c.delta = Estimate{c.arrhenius->slope.value * scale, c.arrhenius->slope.se * scale};
  } else if (c.log_tau0_plus_delta) {
    c.delta = Estimate{c.log_tau0_plus_delta->value - std::log(assumed_tau0_s), c.log_tau0_plus_delta->se};
  }
  if (c.delta && c.sigmoid) {
    const double d = c.delta->value, w = c.sigmoid->width_A.value;
    const double ic = 2 * d * w;
    c.critical_current_A = Estimate{ic, std::abs(ic) * std::hypot(c.delta->se / d, c.sigmoid->width_A.se / w)};
  }
  return c;
}

namespace {

std::string pm(const Estimate& e, const char* spec = "{:.4g}") {
  if (std::isnan(e.value)) return "-";
  return fmt::format(fmt::runtime(spec), e.value) + " ± " + fmt::format("{:.2g}", e.se);
}

nlohmann::json est(const Estimate& e) {
  if (std::isnan(e.value)) return nullptr;
  return {{"value", e.value}, {"stderr", e.se}};
}

}  // namespace

std::string calibration_text(const Calibration& c) {
  std::string s;
  s += fmt::format("{:<28} {:>12} {:>9} {:>20} {:>8} {:>22} {:>22}\n", "trace", "bias_A", "samples", "p(AP)", "rho",
                   "tau_AP_s", "tau_P_s");
  for (const auto& p : c.points) {
    const std::string name = std::filesystem::path(p.origin).filename().string();
    const std::string bias = p.current_A ? fmt::format("{:.4g}", *p.current_A) : fmt::format("p={:.3g}", *p.target_p);
    s += fmt::format("{:<28} {:>12} {:>9} {:>20} {:>8.4f} {:>22} {:>22}\n", name, bias, p.fit.samples, pm(p.fit.p),
                     p.fit.rho.value, p.fit.resolved ? pm(p.fit.tau_ap_s) : "unresolved",
                     p.fit.resolved ? pm(p.fit.tau_p_s) : "unresolved");
  }
  s += "\n";
  if (c.sigmoid) {
    const auto& g = *c.sigmoid;
    s += fmt::format("transfer curve p(I) = 1/(1+exp(-(I-I0)/w)), quasi-ML over {} bias points ({} Newton steps):\n",
                     c.points.size(), g.iterations);
    s += fmt::format("  I0 (offset)      = {} A\n", pm(g.center_A));
    s += fmt::format("  w = Ic/(2 Delta) = {} A\n", pm(g.width_A));
    s += fmt::format("  2 Delta/Ic = 1/w = {} 1/A\n", pm(g.slope_per_A));
    s += fmt::format("  quasi-deviance   = {:.3g} (expected about {} for a good fit)\n", g.deviance,
                     static_cast<int>(c.points.size()) - 2);
  } else {
    s += "transfer curve: not fitted (needs traces at two or more bias currents)\n";
  }
  if (c.ln_tau_ap_vs_current && c.ln_tau_p_vs_current) {
    s += "dwell times vs bias (weighted least squares of ln tau):\n";
    s += fmt::format("  d ln tau_AP/dI   = {} 1/A (telegraph model: Delta/Ic = 1/(2w))\n", pm(c.ln_tau_ap_vs_current->slope));
    s += fmt::format("  d ln tau_P/dI    = {} 1/A (telegraph model: -Delta/Ic)\n", pm(c.ln_tau_p_vs_current->slope));
  }
  const std::string at = c.temperature_K ? fmt::format(" at {:.4g} K", *c.temperature_K) : "";
  if (c.log_tau0_plus_delta)
    s += fmt::format("  ln(tau0/s) + Delta = {} (mean of ln sqrt(tau_AP tau_P) over resolved points{})\n",
                     pm(*c.log_tau0_plus_delta), at);
  if (c.arrhenius) {
    s += fmt::format("Arrhenius fit over temperatures: ln sqrt(tau_AP tau_P) = ln tau0 + Delta(300 K) 300 K/T\n");
    s += fmt::format("  Delta(300 K)     = {}\n", pm(c.arrhenius->slope));
    if (c.tau0_s) s += fmt::format("  tau0             = {} s\n", pm(*c.tau0_s));
  }
  if (c.delta) {
    s += fmt::format("  Delta{:<11} = {}{}\n", at, pm(*c.delta),
                     c.tau0_s ? std::string(" (from the Arrhenius fit)")
                              : fmt::format(" (assuming tau0 = {:.3g} s)", c.assumed_tau0_s));
    if (c.critical_current_A) s += fmt::format("  Ic = 2 Delta w   = {} A\n", pm(*c.critical_current_A));
  }
  if (!c.log_tau0_plus_delta) {
    s += "dwell times: unresolved at every bias point (sampling much slower than the dwell times: bits independent)\n";
  }
  return s;
}

std::string calibration_json(const Calibration& c) {
  nlohmann::json j;
  j["assumed_tau0_s"] = c.assumed_tau0_s;
  j["points"] = nlohmann::json::array();
  for (const auto& p : c.points) {
    nlohmann::json q;
    q["trace"] = p.origin;
    q["bias_current_A"] = p.current_A ? nlohmann::json(*p.current_A) : nlohmann::json(nullptr);
    q["target_p"] = p.target_p ? nlohmann::json(*p.target_p) : nlohmann::json(nullptr);
    q["sample_period_s"] = p.sample_period_s;
    q["samples"] = p.fit.samples;
    q["transitions"] = {{"n11", p.fit.n11}, {"n10", p.fit.n10}, {"n01", p.fit.n01}, {"n00", p.fit.n00}};
    q["p_ap"] = est(p.fit.p);
    q["leave_ap_per_sample"] = est(p.fit.leave_one);
    q["leave_p_per_sample"] = est(p.fit.leave_zero);
    q["rho"] = est(p.fit.rho);
    q["dwell_resolved"] = p.fit.resolved;
    q["tau_ap_s"] = est(p.fit.tau_ap_s);
    q["tau_p_s"] = est(p.fit.tau_p_s);
    j["points"].push_back(q);
  }
  if (c.sigmoid)
    j["sigmoid"] = {{"center_A", est(c.sigmoid->center_A)},
                    {"width_A", est(c.sigmoid->width_A)},
                    {"slope_per_A", est(c.sigmoid->slope_per_A)},
                    {"quasi_deviance", c.sigmoid->deviance}};
  if (c.ln_tau_ap_vs_current) j["dlog_tau_ap_dI_per_A"] = est(c.ln_tau_ap_vs_current->slope);
  if (c.ln_tau_p_vs_current) j["dlog_tau_p_dI_per_A"] = est(c.ln_tau_p_vs_current->slope);
  if (c.temperature_K) j["temperature_K"] = *c.temperature_K;
  if (c.log_tau0_plus_delta) j["log_tau0_plus_delta"] = est(*c.log_tau0_plus_delta);
  if (c.arrhenius) j["arrhenius"] = {{"delta_300K", est(c.arrhenius->slope)}, {"log_tau0", est(c.arrhenius->intercept)}};
  if (c.tau0_s) j["tau0_s"] = est(*c.tau0_s);
  if (c.delta) j["delta"] = est(*c.delta);
  if (c.critical_current_A) j["critical_current_A"] = est(*c.critical_current_A);
  return j.dump(2) + "\n";
}

DeviceConfig fitted_device(const Calibration& c, const DeviceConfig& base) {
  if (!c.sigmoid || !c.delta || !c.critical_current_A)
    fail("calibrate: a device description needs both the transfer curve (two or more bias currents) and resolved "
         "dwell times");
  DeviceConfig d = base;
  d.name = "fitted";
  d.description = fmt::format("fitted by `spinsc device calibrate` from {} traces ({})", c.points.size(),
                              c.tau0_s ? std::string("tau0 from the Arrhenius fit")
                                       : fmt::format("tau0 assumed {:.3g} s", c.assumed_tau0_s));
  if (c.temperature_K) d.temperature_K = d.reference_temperature_K = *c.temperature_K;
  d.delta = c.delta->value * d.temperature_K / d.reference_temperature_K;
  d.critical_current_A = c.critical_current_A->value;
  d.offset_current_A = c.sigmoid->center_A.value;
  d.tau0_s = c.tau0_s ? c.tau0_s->value : c.assumed_tau0_s;
  std::set<double> periods;
  for (const auto& p : c.points) periods.insert(p.sample_period_s);
  if (periods.size() == 1) d.sample_period_s = *periods.begin();
  d.variation = DeviceVariation{};
  // The description must be one the program reads back (`--write-device`): the parser's range
  // checks decide, e.g. a p(AP) that falls with the bias gives a negative critical current.
  try {
    parse_device_config(to_json_text(d), "fitted device");
  } catch (const Error& e) {
    fail("calibrate: the fitted parameters are not a valid device description ({}); check the traces' bias currents "
         "and high_state",
         e.what());
  }
  return d;
}

}  // namespace spinsc
