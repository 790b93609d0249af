// Trace generation from a device model (`spinsc device simulate`): one trace file per bias point.
//
// `telegraph`: the device description's telegraph model (optionally one device instance of its
// variation) sampled exactly every Ts. `llg`: the macrospin of llg.hpp with the description's
// `macrospin` parameters, read every Ts as bit = (m_z > 0); its barrier defaults to 5 kT (the
// reference device's 10 kT costs ~100x more CPU per dwell), its sample period to half the exact
// zero-bias dwell time 2/lambda_1 (so the dwell times are resolved), its bias points to P(AP) =
// 0.1..0.9 on the telegraph-equivalent curve (Ic = Ic0 / 2). Files are named
// T<temperature>_b<index>.trace so that runs at several temperatures can share a directory, and
// a summary (the model's exact p and dwell times per bias point) goes to simulation_T<...>.json.
//
// Thread-safety: bias points run in parallel (OpenMP), each from its own derived seed: the
// traces do not depend on the thread count.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "spinsc/device_config.hpp"

namespace spinsc {

class ProgressObserver;  // context.hpp

// The most samples per bias point: the trace files stay well below read_file()'s cap, so that
// what simulate writes, spinsc reads back.
inline constexpr int64_t kMaxSimulatedSamples = int64_t{1} << 26;

struct SimulationRequest {
  enum class Model { Telegraph, Llg };
  Model model = Model::Telegraph;
  DeviceConfig device = reference_device();
  std::optional<double> delta;            // barrier at the description's reference temperature
  std::optional<double> temperature_K;
  std::vector<double> bias_A;             // empty: the defaults above
  int64_t samples = 20000;            // 1 .. kMaxSimulatedSamples
  std::optional<double> sample_period_s;  // default: the description's (telegraph), see above (llg)
  uint64_t seed = 1;
  std::optional<uint64_t> instance;       // telegraph: simulate device `instance` of the variation
  std::optional<double> alpha, time_step; // llg overrides of the description's macrospin section
  bool resistance = false;                // write resistances (R_P, R_AP from TMR) instead of bits
};

struct SimulatedPoint {
  double bias_A = 0;
  double p_ap_model = 0;     // exact stationary P(AP) of the model
  double p_ap_sampled = 0;   // fraction of AP samples in the trace
  double tau_ap_model_s = 0; // telegraph: tau_AP(I); llg: 1/(lambda_1 (1 - p)) (what calibrate measures)
  double tau_p_model_s = 0;
  double tau_ap_fpt_s = 0;   // llg: exact mean first passage m_z = +0.5 -> -0.5 (hysteretic dwell)
  double tau_p_fpt_s = 0;
  std::filesystem::path file;
};

struct SimulationSummary {
  std::string model;
  double delta = 0;            // at the simulated temperature
  double temperature_K = 0;
  double sample_period_s = 0;
  double telegraph_critical_current_A = 0;  // telegraph: Ic; llg: Ic0 / 2
  double llg_critical_current_A = 0;        // llg: Ic0
  double llg_time_unit_s = 0;
  std::vector<SimulatedPoint> points;
  std::filesystem::path summary_file;

  std::string text() const;
};

// Progress (task "simulate <model>", units: bias points) goes to `observer` when given.
SimulationSummary simulate_traces(const SimulationRequest& request, const std::filesystem::path& out_dir,
                                  ProgressObserver* observer = nullptr);

}  // namespace spinsc
