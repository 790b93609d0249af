#include "spinsc/smtj.hpp"

#include <cmath>

#include "spinsc/error.hpp"

namespace spinsc {

TelegraphMtj::TelegraphMtj(const MtjParameters& parameters, double sample_period_s)
    : parameters_(parameters), sample_period_s_(sample_period_s) {
  if (!(parameters.delta > 0) || !(parameters.critical_current_A > 0) || !(parameters.tau0_s > 0) ||
      !(sample_period_s > 0))
    fail("s-MTJ parameters out of range: Delta {}, Ic {} A, tau0 {} s, Ts {} s (all must be > 0)", parameters.delta,
         parameters.critical_current_A, parameters.tau0_s, sample_period_s);
}

TelegraphMtj TelegraphMtj::nominal(const DeviceConfig& config) {
  return TelegraphMtj({config.delta_at_temperature(), config.critical_current_A, config.offset_current_A, config.tau0_s},
                      config.sample_period_s);
}

double TelegraphMtj::tau_ap(double current_A) const {
  const auto& d = parameters_;
  return d.tau0_s * std::exp(d.delta * (1.0 + (current_A - d.offset_current_A) / d.critical_current_A));
}

double TelegraphMtj::tau_p(double current_A) const {
  const auto& d = parameters_;
  return d.tau0_s * std::exp(d.delta * (1.0 - (current_A - d.offset_current_A) / d.critical_current_A));
}

double TelegraphMtj::p_ap(double current_A) const {
  const auto& d = parameters_;
  return 1.0 / (1.0 + std::exp(-2.0 * d.delta * (current_A - d.offset_current_A) / d.critical_current_A));
}

double TelegraphMtj::current_for_p_ap(double p_ap) const {
  const auto& d = parameters_;
  return d.offset_current_A + d.critical_current_A / (2.0 * d.delta) * std::log(p_ap / (1.0 - p_ap));
}

double TelegraphMtj::relaxation_rate(double current_A) const {
  // 1/tau_AP + 1/tau_P = (2/tau0) e^-Delta cosh(Delta x): written this way it cannot overflow
  // to inf/inf for large |x|.
  const auto& d = parameters_;
  const double x = (current_A - d.offset_current_A) / d.critical_current_A;
  return 2.0 / d.tau0_s * std::exp(-d.delta) * std::cosh(d.delta * x);
}

double TelegraphMtj::correlation(double current_A) const {
  return std::exp(-relaxation_rate(current_A) * sample_period_s_);
}

MarkovChain2 TelegraphMtj::chain(double current_A) const {
  const double p = p_ap(current_A);
  return MarkovChain2{p, correlation(current_A), p};
}

}  // namespace spinsc
