// The s-MTJ SNG figures of a device description (hw_params.hpp: with_device, device_sng_figures).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "spinsc/error.hpp"
#include "spinsc/hw_params.hpp"

namespace spinsc {
namespace {

// Composite Simpson rule of f over [a, b] with n (even) intervals.
template <class F>
double simpson(F f, double a, double b, int n) {
  if (!(b > a)) return 0;
  const double h = (b - a) / n;
  double s = f(a) + f(b);
  for (int i = 1; i < n; ++i) s += (i % 2 ? 4 : 2) * f(a + i * h);
  return s * h / 3;
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

}  // namespace

DeviceSngFigures device_sng_figures(const DeviceConfig& d, const std::string& origin) {
  validate_device_config(d, origin);
  // In x = ln(q/(1-q)) the uniform density of q is sigma(x) sigma(-x) dx, and the bias is
  // linear in x until it reaches the clamp: integrate each piece (smooth) on its own. Beyond
  // |x| = 60 the density is below 1e-26 of its peak.
  const double w = d.critical_current_A / (2 * d.delta_at_temperature());  // A per unit of x
  const double lo = std::max(-60.0, (-d.max_bias_A - d.offset_current_A) / w);
  const double hi = std::min(60.0, (d.max_bias_A - d.offset_current_A) / w);
  auto current = [&](double x) { return std::clamp(d.offset_current_A + w * x, -d.max_bias_A, d.max_bias_A); };
  auto density = [](double x) { return sigmoid(x) * sigmoid(-x); };
  auto integral = [&](auto g) {
    constexpr int n = 4000;
    double s = 0;
    if (lo > -60) s += simpson(g, -60.0, std::min(lo, 60.0), n);
    if (hi > lo) s += simpson(g, lo, hi, n);
    if (hi < 60) s += simpson(g, std::max(hi, -60.0), 60.0, n);
    return s;
  };
  const double rp = d.resistance_p_ohm, tmr = d.tmr;
  DeviceSngFigures f;
  f.bit_period_s = d.sample_period_s;
  const double i2 = integral([&](double x) { return current(x) * current(x) * density(x); });
  f.rms_bias_current_A = std::sqrt(i2);
  f.mean_abs_bias_current_A = integral([&](double x) { return std::fabs(current(x)) * density(x); });
  f.junction_power_W = integral([&](double x) { return current(x) * current(x) * rp * (1 + tmr * sigmoid(x)) * density(x); });
  f.read_voltage_V = f.rms_bias_current_A > 0 ? f.junction_power_W / f.rms_bias_current_A : 0;
  f.sense_energy_J = d.sense_energy_J;
  if (!std::isfinite(f.junction_power_W) || !std::isfinite(f.bit_energy_J()))
    fail("{}: the s-MTJ's energy per bit is not finite (junction power {} W over {} s): check critical_current_A, "
         "max_bias_A, resistance_p_ohm and tmr",
         origin, f.junction_power_W, f.bit_period_s);
  return f;
}

HwParams with_device(HwParams hw, const DeviceConfig& device, const std::string& origin) {
  const DeviceSngFigures f = device_sng_figures(device, origin);
  hw.smtj.bit_period_s = f.bit_period_s;
  hw.smtj.bias_current_A = f.rms_bias_current_A;
  hw.smtj.read_voltage_V = f.read_voltage_V;
  hw.smtj.sense_amp_energy_J = f.sense_energy_J;
  hw.device_name = device.name;
  hw.device_origin = origin;
  const std::string from = fmt::format("device '{}' ({})", device.name, origin);
  auto replace = [&](const char* path, double si, const char* unit, std::string note) {
    for (auto& p : hw.parameters)
      if (p.path == path) {
        p.value = fmt::format("{:.6g}", si);
        p.unit = unit;
        p.si = si;
        p.si_unit = unit;
        p.note = "from " + from + ": " + note;
        return;
      }
    hw.parameters.push_back({path, fmt::format("{:.6g}", si), unit, si, unit, "from " + from + ": " + note});
  };
  replace("smtj.bias_current", f.rms_bias_current_A, "A",
          fmt::format("rms of the bias I(q) = clamp(offset_current_A + critical_current_A/(2 Delta(T)) ln(q/(1-q)), "
                      "+-max_bias_A) over target P(AP) = q uniform in [0, 1] (mean |I| {:.4g} A)",
                      f.mean_abs_bias_current_A));
  replace("smtj.read_voltage", f.read_voltage_V, "V",
          fmt::format("mean junction power {:.4g} W = mean of I(q)^2 resistance_p_ohm (1 + tmr q), divided by the rms current",
                      f.junction_power_W));
  replace("smtj.bit_period", f.bit_period_s, "s", "sample_period_s");
  replace("smtj.sense_amp_energy", f.sense_energy_J, "J", "sense_energy_J");
  return hw;
}

}  // namespace spinsc
