// MacrospinLlg: stochastic Landau–Lifshitz–Gilbert dynamics of a low-barrier perpendicular
// free layer (SPEC §3.2), the physics behind the telegraph model.
//
// Reduced units: time tau = gamma mu0 Hk t / (1 + alpha^2), fields h = H / Hk. With easy axis z,
// reference-layer polarisation z and m_z = +1 read as AP:
//   dm = -m x (h dtau + dW) - alpha m x (m x (h dtau + dW)) + j (-m x (m x z) + alpha m x z) dtau
// where h = m_z z (uniaxial anisotropy; barrier Delta = mu0 Ms Hk V / (2 kT)), dW is Brown's
// thermal field integrated over the step (each component Gaussian with variance
// alpha dtau / (Delta (1 + alpha^2)), i.e. 2 alpha kT / (gamma mu0 Ms V dt) in SI units), and
// j = alpha I / Ic0 is the Slonczewski damping-like torque (the alpha m x z part is what it
// becomes in Landau–Lifshitz form), Ic0 = 4 e alpha Delta kT / (hbar eta) the zero-temperature
// switching current. Heun's scheme (the Stratonovich limit, as Brown's field requires), m
// renormalised every step.
//
// Axial symmetry makes m_z a one-dimensional diffusion with the pseudo-potential
// U(x) = -Delta (x^2 + 2 x I/Ic0), so the stationary P(m_z > 0) and the mean dwell times are
// exact integrals (macrospin_p_up, macrospin_mean_dwell): the tests hold the simulation to
// them. Near I = 0, ln(tau_AP / tau_P) = 4 Delta I / Ic0: the telegraph model's Ic is Ic0 / 2.
//
// Thread-safety: a MacrospinLlg is used by one thread; the free functions are pure.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "spinsc/device_config.hpp"
#include "spinsc/rng.hpp"
#include "spinsc/trace.hpp"

namespace spinsc {

struct MacrospinParameters {
  double delta = 5.0;          // barrier E_b / kT at temperature_K
  double temperature_K = 300.0;
  double alpha = 0.01;
  double mu0_hk_T = 0.1;
  double polarization = 0.6;
  double time_step = 0.05;     // reduced units; Heun's weak error in the dwell time grows like alpha * time_step

  double critical_current_A() const;            // Ic0 = 4 e alpha Delta kT / (hbar eta)
  double telegraph_critical_current_A() const;  // Ic0 / 2: the telegraph model's Ic near I = 0
  double time_unit_s() const;                   // (1 + alpha^2) / (gamma mu0 Hk)
};

// The macrospin of a device description, with barrier `delta_at_reference` (kT at the
// description's reference temperature) at `temperature_K`.
MacrospinParameters macrospin_parameters(const DeviceConfig& config, double delta_at_reference, double temperature_K);

class MacrospinLlg {
 public:
  MacrospinLlg(const MacrospinParameters& parameters, uint64_t seed, bool start_up = true);

  void set_current(double current_A);
  void step();  // one Heun step of parameters.time_step reduced units
  void advance(int64_t steps) {
    for (int64_t i = 0; i < steps; ++i) step();
  }
  double mz() const { return m_[2]; }
  const std::array<double, 3>& m() const { return m_; }

 private:
  double normal();

  MacrospinParameters p_;
  double j_ = 0;             // reduced STT strength alpha * I / Ic0
  double noise_sigma_;       // standard deviation of each component of dW over one step
  std::array<double, 3> m_;
  Xoshiro256 rng_;
  double spare_ = 0;
  bool has_spare_ = false;
};

// Dwell times (reduced units) with hysteretic detection: the state becomes up when m_z reaches
// +threshold and down at -threshold. The run starts up and discards its first, partial dwell;
// it stops after `dwells` complete dwells or `max_steps` steps.
struct MacrospinDwells {
  std::vector<double> up, down;
  int64_t steps = 0;
};
MacrospinDwells measure_dwells(const MacrospinParameters& parameters, double current_A, int dwells, double threshold,
                               uint64_t seed, int64_t max_steps);

// Exact mean first-passage time (reduced units) from +threshold to -threshold (up = true) or the
// reverse, for current ratio i = I / Ic0.
double macrospin_mean_dwell(double delta, double alpha, double current_ratio, double threshold, bool up);
// Exact stationary P(m_z > 0).
double macrospin_p_up(double delta, double current_ratio);
// Slowest relaxation rate lambda_1 (reduced units) of m_z: the smallest non-zero eigenvalue of
// the Fokker–Planck operator (finite volumes, 4000 cells, Sturm bisection). A sign readout
// sampled every Ts much longer than the in-well relaxation is the two-state chain with
// rho = exp(-lambda_1 Ts): the telegraph model's tau_AP = 1/(lambda_1 (1 - p)), tau_P = 1/(lambda_1 p).
double macrospin_relaxation_rate(double delta, double alpha, double current_ratio);

// A trace of `samples` readings every `sample_period_s` (bit = m_z > 0, 1 = AP), started from
// the stationary state distribution, plus the m_z values read.
struct MacrospinTrace {
  Trace trace;
  std::vector<float> mz;
};
MacrospinTrace simulate_macrospin_trace(const MacrospinParameters& parameters, double current_A, int64_t samples,
                                        double sample_period_s, uint64_t seed);

}  // namespace spinsc
