// DeviceConfig: the JSON description of an s-MTJ stochastic number generator (SPEC §3.1).
//
// One object holds everything the telegraph model, the variation between devices, the bias
// rule, the readout and the macrospin simulation need. reference_device() is the built-in
// default (also configs/device/reference.json); docs/device.md lists every field, its unit and
// where the reference values come from. Parsing is strict: an unknown key, a wrong type or a
// value out of range throws spinsc::Error naming the file and the field.
//
// Thread-safety: plain values; the functions are pure.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>
#include <string_view>

namespace spinsc {

// The spread of one device parameter across devices. `relative`: sigma is a fraction of the
// parameter's scale (the nominal value; for the offset current, the critical current),
// otherwise it is in the parameter's own unit. Normal draws of Delta and Ic are truncated to
// positive values; lognormal ones are scale * exp(sigma * z) (the nominal value is the median).
struct ParameterSpread {
  enum class Law { Normal, LogNormal };
  double sigma = 0;
  bool relative = true;
  Law law = Law::Normal;
};

struct DeviceVariation {
  uint64_t seed = 1;  // with (layer, role, device) it fixes every device's parameters
  ParameterSpread delta;
  ParameterSpread critical_current;
  ParameterSpread offset_current;
  bool enabled() const { return delta.sigma > 0 || critical_current.sigma > 0 || offset_current.sigma > 0; }
};

// Material and numerical parameters of the macrospin (stochastic LLG) simulation, SPEC §3.2.
struct MacrospinConfig {
  double alpha = 0.01;         // Gilbert damping
  double mu0_hk_T = 0.1;       // anisotropy field mu0*Hk (sets the time scale)
  double polarization = 0.6;   // spin polarisation eta of the current
  double time_step = 0.05;     // Heun step in reduced time units (1 + alpha^2) / (gamma mu0 Hk)
};

struct DeviceConfig {
  enum class Readout { AntiParallel, Parallel };   // which state reads as bit 1
  enum class BiasRule { Nominal, Calibrated };     // whose p(I) curve sets the bias
  enum class ExtremeRule { Constant, Clamp };      // p = 0 and p = 1
  enum class InitialState { Stationary, Parallel, AntiParallel };

  std::string name = "reference";
  std::string description;
  double delta = 10.0;                  // barrier E_b / kT at reference_temperature_K
  double reference_temperature_K = 300.0;
  double temperature_K = 300.0;         // Delta(T) = delta * reference_temperature_K / T
  double tau0_s = 1e-9;                 // attempt time
  double critical_current_A = 15e-6;    // Ic of tau(I) = tau0 exp(Delta (1 +- I/Ic))
  double offset_current_A = 0.0;        // current at which p = 1/2
  double sample_period_s = 250e-6;      // clock period Ts of the bit sampling
  double max_bias_A = 7.5e-6;           // bias is clamped to +-max_bias_A (the bias DAC range)
  double resistance_p_ohm = 5000.0;     // parallel-state resistance
  double tmr = 1.0;                     // (R_AP - R_P) / R_P
  double sense_energy_J = 5e-15;        // reading the state once per bit (read pulse + latch decision)
  Readout readout = Readout::AntiParallel;
  BiasRule bias = BiasRule::Nominal;
  ExtremeRule extreme_p = ExtremeRule::Constant;
  InitialState initial_state = InitialState::Stationary;
  int64_t warmup_periods = 0;           // clock periods from initial_state to the first bit
  DeviceVariation variation;
  MacrospinConfig macrospin;

  // The barrier at the operating temperature.
  double delta_at_temperature() const { return delta * reference_temperature_K / temperature_K; }
  double resistance_ap_ohm() const { return resistance_p_ohm * (1.0 + tmr); }
};

// The built-in reference device (the values of configs/device/reference.json).
DeviceConfig reference_device();

// Physical ranges of the telegraph model, checked by parse_device_config() and by everything
// that builds or changes a device (simulate's overrides, calibrate's fitted device):
// temperatures in [0.1, 2000] K, tau0 in [1e-15, 1e3] s, the sample period in [1e-12, 1e6] s, and
// the derived quantities: the barrier at the operating temperature Delta(T) in (0, 200], and a
// device that switches: the zero-bias mean dwell time tau0 exp(Delta(T)) at most
// kMaxDwellSamples sample periods (a device that switches less often is a constant bit, whose
// statistics overflow). Throws spinsc::Error naming `origin` and the field.
inline constexpr double kMaxDwellSamples = 1e12;
void validate_device_config(const DeviceConfig& config, const std::string& origin);

// Parses a description; fields absent from the JSON keep the reference device's values.
// `origin` names the text in error messages (usually the file name).
DeviceConfig parse_device_config(std::string_view json_text, const std::string& origin);
DeviceConfig load_device_config(const std::filesystem::path& path);
// The device files of configs/device/ are built into the program: their names (the file names
// without ".json", sorted), and a description by name (throws spinsc::Error for an unknown name,
// listing the known ones).
std::vector<std::string> builtin_device_names();
DeviceConfig builtin_device(const std::string& name);
// A device file (a relative name is taken in `base_dir`), or, where no file of that name exists
// and the text has no '/' and no ".json", a built-in device: `perpendicular_ns` is
// configs/device/perpendicular_ns.json wherever the program runs. What `smtj:ARG` and a plan's
// "device" setting (base_dir: the plan's folder) read.
DeviceConfig resolve_device(const std::string& file_or_name, const std::filesystem::path& base_dir = {});
// Pretty-printed JSON with every field; parse_device_config(to_json_text(c)) == c.
std::string to_json_text(const DeviceConfig& config);

}  // namespace spinsc
