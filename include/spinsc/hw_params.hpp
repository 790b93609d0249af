// HwParams: the technology assumptions of the hardware cost model (SPEC §7), from a JSON file.
//
// Every parameter is an object {"value": number, "unit": "fJ", "source": "..."} (or
// "reasoning" instead of / beside "source"), grouped in sections smtj, lfsr, logic, bias,
// precision and memory; configs/hw/default.json is the built-in default_hw_params() and
// docs/cost-model.md lists every parameter. Units carry SI prefixes (a f p n u µ m k M G) on
// J, s, A, V, W, m2 and are converted to SI; counts take "1", "bit(s)" or "transistor(s)".
// A file may start from another with "extends": "default" (the built-in) or a path relative
// to the file, replacing whole parameters. Parsing is strict: a missing parameter or field, an
// unknown key, a wrong type, an unknown or mismatched unit, a negative energy, a zero period
// throw spinsc::Error naming the file and the parameter.
//
// One device for accuracy and cost (SPEC §11): with_device() replaces the s-MTJ figures that
// belong to the junction — smtj.bit_period, smtj.bias_current, smtj.read_voltage and
// smtj.sense_amp_energy — by those of the device description (device_config.hpp) that the
// `smtj` bit source simulates; smtj.area and every other section stay hardware parameters.
// device_sng_figures() states the mapping (docs/cost-model.md, "One device for accuracy and
// cost"):
//   bit period       = sample_period_s
//   bias current     = I(q) = clamp(offset_current_A + Ic/(2 Delta(T)) ln(q/(1-q)), +-max_bias_A), the
//                      nominal p(I) curve's bias for P(AP) = q (either readout: the target p is
//                      uniform, so is q); reported as its rms over q uniform in [0, 1]
//   junction power   = mean over q of I(q)^2 R_P (1 + tmr q)  (in AP a fraction q of the time)
//   read voltage     = junction power / rms current (so that current x voltage = the power)
//   sense energy     = sense_energy_J (read pulse + latch decision, once per bit)
// Without a device the hw file's own smtj figures are used (`spinsc cost` without --device).
//
// Thread-safety: plain values; the functions are pure.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "spinsc/device_config.hpp"

namespace spinsc {

struct SmtjSngParams {
  double bias_current_A = 0;      // current through the junction while it makes bits
  double read_voltage_V = 0;      // voltage across it
  double bit_period_s = 0;        // Ts: one bit per period, also the clock of the SC logic
  double sense_amp_energy_J = 0;  // one latch decision per bit
  double area_m2 = 0;             // junction + bias transistor + sense amplifier
};

struct LfsrSngParams {
  int register_bits = 32;         // n of the n-bit LFSR and of its comparator
  int xor_gates = 3;              // feedback XORs
  double clock_period_s = 0;      // one bit per clock, also the clock of the SC logic
  int flip_flop_transistors = 24;
  int comparator_bit_transistors = 8;
  int xor_transistors = 12;
};

struct LogicParams {
  double and_energy_J = 0, xnor_energy_J = 0;  // per evaluation
  double full_adder_energy_J = 0;              // per bit of an addition
  double flip_flop_energy_J = 0;               // per clocked bit
  double comparator_bit_energy_J = 0;          // per bit of a magnitude comparison
  double gate_delay_s = 0;                     // FO4: the unit of every logic delay
  double transistor_area_m2 = 0;
};

struct BiasParams {
  double reference_branch_power_W = 0;  // one preset level or one DAC reference, while its layer runs
  double switch_energy_J = 0;           // connecting an SNG bias node to a preset level
  double switch_time_constant_s = 0;
  double dac_energy_per_step_J = 0;     // E(b bits) = this * 2^b
  double dac_time_constant_s = 0;       // settling to half an LSB: (b + 1) ln2 time constants
  double lut_read_energy_per_bit_J = 0; // logit lookup of a continuous s-MTJ bias
  double lut_access_time_s = 0;
};

struct PrecisionParams {
  int analog_weight_bits = 8;
  int analog_activation_bits = 8;
  int pixel_bits = 8;
};

struct MemoryParams {
  double read_energy_per_bit_J = 0;
  double access_time_s = 0;
  bool reload_weights_per_inference = true;
};

// One parameter as written in the file, for reports.
struct HwParameter {
  std::string path;    // "smtj.bias_current"
  std::string value;   // as written: "10", "true"
  std::string unit;    // as written: "uA"
  double si = 0;       // value in SI units (1/0 for flags)
  std::string si_unit; // "A", "J", ... ("" for counts and flags)
  std::string note;    // source and/or reasoning
};

struct HwParams {
  std::string name, description;
  std::string origin;  // file name, or "built-in default"
  // The device description the s-MTJ figures come from (its name and file, or "" when they are
  // this file's own smtj section; see with_device()).
  std::string device_name, device_origin;
  SmtjSngParams smtj;
  LfsrSngParams lfsr;
  LogicParams logic;
  BiasParams bias;
  PrecisionParams precision;
  MemoryParams memory;
  std::vector<HwParameter> parameters;  // every parameter, in file order of the sections
};

// The built-in default: exactly configs/hw/default.json.
HwParams default_hw_params();
std::string_view default_hw_params_json();
// `origin` names the text in error messages; `base_dir` resolves a relative "extends".
HwParams parse_hw_params(std::string_view json_text, const std::string& origin,
                         const std::filesystem::path& base_dir = {});
HwParams load_hw_params(const std::filesystem::path& path);

// What a device description gives the s-MTJ SNG (the mapping in the header comment).
struct DeviceSngFigures {
  double bit_period_s = 0;        // sample_period_s
  double rms_bias_current_A = 0;  // rms of I(q) over q uniform in [0, 1]
  double mean_abs_bias_current_A = 0;  // mean of |I(q)|, for reports
  double junction_power_W = 0;    // mean of I(q)^2 R(q)
  double read_voltage_V = 0;      // junction_power_W / rms_bias_current_A (0 when no current flows)
  double sense_energy_J = 0;      // sense_energy_J
  double bit_energy_J() const { return junction_power_W * bit_period_s + sense_energy_J; }
};
// Throws spinsc::Error naming `origin` and the field when the device is outside the physical
// ranges of validate_device_config().
DeviceSngFigures device_sng_figures(const DeviceConfig& device, const std::string& origin = "device");
// `hw` with smtj.bit_period, smtj.bias_current, smtj.read_voltage and smtj.sense_amp_energy
// (values and their entries in `parameters`) taken from the device; `origin` names the device
// (its file) in reports and errors.
HwParams with_device(HwParams hw, const DeviceConfig& device, const std::string& origin);

}  // namespace spinsc
