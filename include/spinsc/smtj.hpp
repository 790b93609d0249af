// TelegraphMtj: one superparamagnetic MTJ as a two-state Markov process (SPEC §3.1).
//
// Néel–Arrhenius dwell times with a spin-transfer-torque bias I, measured from the device's
// offset current I_off (where it sits at p = 1/2):
//   tau_AP(I) = tau0 exp(Delta (1 + (I - I_off)/Ic)),  tau_P(I) = tau0 exp(Delta (1 - (I - I_off)/Ic))
// so P(AP) = tau_AP / (tau_AP + tau_P) = 1 / (1 + exp(-2 Delta (I - I_off) / Ic)), and sampled
// every Ts the state is the chain of markov_stream.hpp with rho = exp(-(1/tau_AP + 1/tau_P) Ts).
// Delta here is the barrier at the operating temperature (DeviceConfig::delta_at_temperature).
//
// Thread-safety: immutable after construction.
#pragma once

#include "spinsc/device_config.hpp"
#include "spinsc/markov_stream.hpp"

namespace spinsc {

struct MtjParameters {
  double delta = 10.0;                // E_b / kT at the operating temperature
  double critical_current_A = 15e-6;  // Ic
  double offset_current_A = 0.0;      // I_off
  double tau0_s = 1e-9;
};

class TelegraphMtj {
 public:
  TelegraphMtj(const MtjParameters& parameters, double sample_period_s);
  // The nominal device of a description (no variation), at its operating temperature.
  static TelegraphMtj nominal(const DeviceConfig& config);

  const MtjParameters& parameters() const { return parameters_; }
  double sample_period_s() const { return sample_period_s_; }

  double tau_ap(double current_A) const;
  double tau_p(double current_A) const;
  double p_ap(double current_A) const;            // stationary P(AP)
  double current_for_p_ap(double p_ap) const;     // inverse of p_ap(); requires 0 < p_ap < 1
  double relaxation_rate(double current_A) const; // lambda = 1/tau_AP + 1/tau_P
  double correlation(double current_A) const;     // rho = exp(-lambda Ts)
  // The AP-state chain (bit 1 = AP) at a bias, started from its stationary distribution.
  MarkovChain2 chain(double current_A) const;

 private:
  MtjParameters parameters_;
  double sample_period_s_;
};

}  // namespace spinsc
