#include "spinsc/device_config.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "spinsc/error.hpp"
#include "spinsc/files.hpp"
#include "spinsc/json_text.hpp"

namespace spinsc {

using nlohmann::json;

DeviceConfig reference_device() {
  DeviceConfig c;
  c.name = "reference";
  c.description =
      "Perpendicular superparamagnetic MTJ, Delta = 10 kT at 300 K, tau0 = 1 ns (zero-bias dwell 22 us), "
      "sampled every 250 us: the i.i.d. limit (lag-1 correlation exp(-lambda Ts) < 1e-9), a slow device whose bits "
      "equal the ideal source's; nanosecond junctions: perpendicular_ns.json, inplane_ns.json";
  return c;
}

namespace {

// Strict reader of one JSON object: every key must be consumed, unknown keys are errors.
class ObjectReader {
 public:
  ObjectReader(const json& object, std::string where) : object_(object), where_(std::move(where)) {
    if (!object_.is_object()) fail("{}: expected a JSON object", where_);
  }

  const json* find(const char* key) {
    seen_.insert(key);
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }

  void number(const char* key, double& out, double min, double max, bool open_min = false) {
    const json* v = find(key);
    if (!v) return;
    if (!v->is_number()) fail("{}: field '{}' must be a number, got {}", where_, key, v->dump());
    const double x = v->get<double>();
    if (!std::isfinite(x) || x < min || x > max || (open_min && x == min))
      fail("{}: field '{}' = {} is out of range ({}{}, {}]", where_, key, x, open_min ? "(" : "[", min, max);
    out = x;
  }

  void integer(const char* key, int64_t& out, int64_t min, int64_t max) {
    const json* v = find(key);
    if (!v) return;
    if (!v->is_number_integer()) fail("{}: field '{}' must be an integer, got {}", where_, key, v->dump());
    const int64_t x = v->get<int64_t>();
    if (x < min || x > max) fail("{}: field '{}' = {} is out of range [{}, {}]", where_, key, x, min, max);
    out = x;
  }

  void text(const char* key, std::string& out) {
    const json* v = find(key);
    if (!v) return;
    if (!v->is_string()) fail("{}: field '{}' must be a string, got {}", where_, key, v->dump());
    out = v->get<std::string>();
  }

  template <class E>
  void choice(const char* key, E& out, const std::map<std::string, E>& options) {
    const json* v = find(key);
    if (!v) return;
    std::string known;
    for (auto& [name, e] : options) known += (known.empty() ? "" : ", ") + name;
    if (!v->is_string()) fail("{}: field '{}' must be one of {}, got {}", where_, key, known, v->dump());
    auto it = options.find(v->get<std::string>());
    if (it == options.end()) fail("{}: field '{}' = '{}' is not one of {}", where_, key, v->get<std::string>(), known);
    out = it->second;
  }

  void finish() const {
    for (auto& [key, value] : object_.items())
      if (!seen_.count(key)) fail("{}: unknown field '{}'", where_, key);
  }

  const std::string& where() const { return where_; }

 private:
  const json& object_;
  std::string where_;
  std::set<std::string> seen_;
};

const std::map<std::string, ParameterSpread::Law> kLaws = {{"normal", ParameterSpread::Law::Normal},
                                                           {"lognormal", ParameterSpread::Law::LogNormal}};

void read_spread(ObjectReader& parent, const char* key, ParameterSpread& spread) {
  const json* v = parent.find(key);
  if (!v) return;
  ObjectReader r(*v, parent.where() + ": variation." + key);
  r.number("sigma", spread.sigma, 0, 1e3);
  std::string kind = spread.relative ? "relative" : "absolute";
  r.choice("kind", kind, std::map<std::string, std::string>{{"relative", "relative"}, {"absolute", "absolute"}});
  spread.relative = kind == "relative";
  r.choice("distribution", spread.law, kLaws);
  r.finish();
  if (spread.law == ParameterSpread::Law::LogNormal && (!spread.relative || std::string(key) == "offset_current"))
    fail("{}: a lognormal spread is relative to a positive nominal value: use kind 'relative', and 'normal' for "
         "offset_current",
         r.where());
}

json spread_json(const ParameterSpread& s) {
  return {{"sigma", s.sigma},
          {"kind", s.relative ? "relative" : "absolute"},
          {"distribution", s.law == ParameterSpread::Law::Normal ? "normal" : "lognormal"}};
}

const std::map<std::string, DeviceConfig::Readout> kReadouts = {{"ap", DeviceConfig::Readout::AntiParallel},
                                                                {"p", DeviceConfig::Readout::Parallel}};
const std::map<std::string, DeviceConfig::BiasRule> kBiasRules = {{"nominal", DeviceConfig::BiasRule::Nominal},
                                                                  {"calibrated", DeviceConfig::BiasRule::Calibrated}};
const std::map<std::string, DeviceConfig::ExtremeRule> kExtremes = {{"constant", DeviceConfig::ExtremeRule::Constant},
                                                                    {"clamp", DeviceConfig::ExtremeRule::Clamp}};
const std::map<std::string, DeviceConfig::InitialState> kInitial = {
    {"stationary", DeviceConfig::InitialState::Stationary},
    {"p", DeviceConfig::InitialState::Parallel},
    {"ap", DeviceConfig::InitialState::AntiParallel}};

template <class E>
std::string name_of(const std::map<std::string, E>& options, E value) {
  for (auto& [name, e] : options)
    if (e == value) return name;
  return "?";
}

}  // namespace

void validate_device_config(const DeviceConfig& c, const std::string& origin) {
  auto range = [&](const char* field, double v, double lo, double hi) {
    if (!(v >= lo && v <= hi)) fail("{}: field '{}' = {} is outside the physical range [{}, {}]", origin, field, v, lo, hi);
  };
  range("temperature_K", c.temperature_K, 0.1, 2000);
  range("reference_temperature_K", c.reference_temperature_K, 0.1, 2000);
  range("tau0_s", c.tau0_s, 1e-15, 1e3);
  range("sample_period_s", c.sample_period_s, 1e-12, 1e6);
  if (!(c.delta > 0 && c.delta <= 200)) fail("{}: field 'delta' = {} is outside (0, 200]", origin, c.delta);
  if (!(c.critical_current_A > 0 && c.critical_current_A <= 1))
    fail("{}: field 'critical_current_A' = {} is outside (0, 1] A", origin, c.critical_current_A);
  const double delta_t = c.delta_at_temperature();
  if (!(delta_t > 0 && delta_t <= 200))
    fail("{}: the barrier at the operating temperature, delta * reference_temperature_K / temperature_K = {} * {} / {} = "
         "{:.4g}, is outside (0, 200]",
         origin, c.delta, c.reference_temperature_K, c.temperature_K, delta_t);
  const double dwell_s = c.tau0_s * std::exp(delta_t), dwell_samples = dwell_s / c.sample_period_s;
  if (!(dwell_samples <= kMaxDwellSamples))
    fail("{}: the device never switches on the time scale of its samples: the zero-bias dwell time tau0 exp(Delta) = "
         "{:.3g} s is {:.3g} sample periods of {:.3g} s (at most {:.0e}); lower delta or raise temperature_K or "
         "sample_period_s",
         origin, dwell_s, dwell_samples, c.sample_period_s, kMaxDwellSamples);
}

DeviceConfig parse_device_config(std::string_view json_text, const std::string& origin) {
  const json j = parse_json(json_text, origin);
  DeviceConfig c = reference_device();
  ObjectReader r(j, origin);
  r.text("name", c.name);
  r.text("description", c.description);
  r.number("delta", c.delta, 0, 200, true);
  r.number("reference_temperature_K", c.reference_temperature_K, 0, 2000, true);
  r.number("temperature_K", c.temperature_K, 0, 2000, true);
  r.number("tau0_s", c.tau0_s, 0, 1e3, true);
  r.number("critical_current_A", c.critical_current_A, 0, 1, true);
  r.number("offset_current_A", c.offset_current_A, -1, 1);
  r.number("sample_period_s", c.sample_period_s, 0, 1e6, true);
  r.number("max_bias_A", c.max_bias_A, 0, 1, true);
  r.number("resistance_p_ohm", c.resistance_p_ohm, 0, 1e12, true);
  r.number("tmr", c.tmr, 0, 1e3, true);
  r.number("sense_energy_J", c.sense_energy_J, 0, 1e-6);
  r.choice("readout", c.readout, kReadouts);
  r.choice("bias", c.bias, kBiasRules);
  r.choice("extreme_p", c.extreme_p, kExtremes);
  r.choice("initial_state", c.initial_state, kInitial);
  r.integer("warmup_periods", c.warmup_periods, 0, int64_t{1} << 50);
  if (const json* v = r.find("variation")) {
    ObjectReader vr(*v, origin + ": variation");
    if (const json* s = vr.find("seed")) {
      if (!s->is_number_unsigned()) fail("{}: variation: field 'seed' must be a non-negative integer, got {}", origin, s->dump());
      c.variation.seed = s->get<uint64_t>();
    }
    read_spread(vr, "delta", c.variation.delta);
    read_spread(vr, "critical_current", c.variation.critical_current);
    read_spread(vr, "offset_current", c.variation.offset_current);
    vr.finish();
  }
  if (const json* v = r.find("macrospin")) {
    ObjectReader mr(*v, origin + ": macrospin");
    mr.number("alpha", c.macrospin.alpha, 0, 10, true);
    mr.number("mu0_hk_T", c.macrospin.mu0_hk_T, 0, 100, true);
    mr.number("polarization", c.macrospin.polarization, 0, 1, true);
    mr.number("time_step", c.macrospin.time_step, 0, 0.5, true);
    mr.finish();
  }
  r.finish();
  validate_device_config(c, origin);
  return c;
}

DeviceConfig load_device_config(const std::filesystem::path& path) {
  return parse_device_config(read_file(path, kMaxJsonFileBytes), path.string());
}

namespace detail {
extern const std::pair<std::string_view, std::string_view> kBuiltinDeviceFiles[];
extern const int kBuiltinDeviceFileCount;
}  // namespace detail

std::vector<std::string> builtin_device_names() {
  std::vector<std::string> names;
  for (int i = 0; i < detail::kBuiltinDeviceFileCount; ++i) names.emplace_back(detail::kBuiltinDeviceFiles[i].first);
  return names;
}

namespace {
// The built-in file of that name, or nullptr.
const std::string_view* builtin_device_text(const std::string& name) {
  for (int i = 0; i < detail::kBuiltinDeviceFileCount; ++i)
    if (detail::kBuiltinDeviceFiles[i].first == name) return &detail::kBuiltinDeviceFiles[i].second;
  return nullptr;
}

std::string builtin_device_list() {
  std::string known;
  for (const std::string& n : builtin_device_names()) known += (known.empty() ? "" : ", ") + n;
  return known;
}
}  // namespace

DeviceConfig builtin_device(const std::string& name) {
  const std::string_view* text = builtin_device_text(name);
  if (!text) fail("no built-in device '{}' (built in: {})", name, builtin_device_list());
  return parse_device_config(*text, fmt::format("built-in device '{}'", name));
}

DeviceConfig resolve_device(const std::string& file_or_name, const std::filesystem::path& base_dir) {
  const std::filesystem::path path = std::filesystem::path(file_or_name).is_absolute() ? std::filesystem::path(file_or_name)
                                                                                       : base_dir / file_or_name;
  if (!names_builtin(file_or_name, base_dir)) return load_device_config(path);
  if (!builtin_device_text(file_or_name))
    fail("device '{}': no such file, and no built-in device of that name (built in: {})", file_or_name, builtin_device_list());
  return builtin_device(file_or_name);
}

std::string to_json_text(const DeviceConfig& c) {
  json j;
  j["name"] = c.name;
  j["description"] = c.description;
  j["delta"] = c.delta;
  j["reference_temperature_K"] = c.reference_temperature_K;
  j["temperature_K"] = c.temperature_K;
  j["tau0_s"] = c.tau0_s;
  j["critical_current_A"] = c.critical_current_A;
  j["offset_current_A"] = c.offset_current_A;
  j["sample_period_s"] = c.sample_period_s;
  j["max_bias_A"] = c.max_bias_A;
  j["resistance_p_ohm"] = c.resistance_p_ohm;
  j["tmr"] = c.tmr;
  j["sense_energy_J"] = c.sense_energy_J;
  j["readout"] = name_of(kReadouts, c.readout);
  j["bias"] = name_of(kBiasRules, c.bias);
  j["extreme_p"] = name_of(kExtremes, c.extreme_p);
  j["initial_state"] = name_of(kInitial, c.initial_state);
  j["warmup_periods"] = c.warmup_periods;
  j["variation"] = {{"seed", c.variation.seed},
                    {"delta", spread_json(c.variation.delta)},
                    {"critical_current", spread_json(c.variation.critical_current)},
                    {"offset_current", spread_json(c.variation.offset_current)}};
  j["macrospin"] = {{"alpha", c.macrospin.alpha},
                    {"mu0_hk_T", c.macrospin.mu0_hk_T},
                    {"polarization", c.macrospin.polarization},
                    {"time_step", c.macrospin.time_step}};
  return j.dump(2) + "\n";
}

}  // namespace spinsc
