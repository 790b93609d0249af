#include "spinsc/hw_params.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <set>
#include <utility>
#include <variant>

#include "spinsc/error.hpp"
#include "spinsc/files.hpp"
#include "spinsc/json_text.hpp"

namespace spinsc {
namespace hw_detail {
extern const std::string_view kDefaultHwJson;
}

namespace {

using nlohmann::json;

enum class Dim { Energy, Time, Current, Voltage, Power, Area, Count, Flag };

struct DimInfo {
  const char* noun;
  const char* base;  // SI symbol the prefixes attach to
  const char* hint;
};

DimInfo info(Dim d) {
  switch (d) {
    case Dim::Energy: return {"an energy", "J", "J with an SI prefix, e.g. fJ, pJ"};
    case Dim::Time: return {"a time", "s", "s with an SI prefix, e.g. ns, ps"};
    case Dim::Current: return {"a current", "A", "A with an SI prefix, e.g. uA, nA"};
    case Dim::Voltage: return {"a voltage", "V", "V with an SI prefix, e.g. V, mV"};
    case Dim::Power: return {"a power", "W", "W with an SI prefix, e.g. uW, mW"};
    case Dim::Area: return {"an area", "m2", "m2 with an SI prefix on the metre, e.g. um2, nm2"};
    case Dim::Count: return {"a count", "", "1, bit, bits, transistor or transistors"};
    case Dim::Flag: return {"a flag", "", "no unit"};
  }
  return {"", "", ""};
}

// Prefix factor, or NaN when `p` is not an SI prefix we accept.
double prefix_factor(std::string_view p) {
  static const std::pair<std::string_view, double> prefixes[] = {
      {"", 1.0},    {"a", 1e-18}, {"f", 1e-15}, {"p", 1e-12}, {"n", 1e-9}, {"u", 1e-6}, {"\u00b5", 1e-6},
      {"\u03bc", 1e-6}, {"m", 1e-3}, {"k", 1e3},  {"M", 1e6},  {"G", 1e9}};
  for (const auto& [name, f] : prefixes)
    if (p == name) return f;
  return std::nan("");
}

// Factor converting a value in `unit` to SI, or NaN when the unit does not fit the dimension.
double unit_factor(const std::string& unit, Dim d) {
  if (d == Dim::Count) {
    static const std::set<std::string> counts = {"1", "bit", "bits", "transistor", "transistors"};
    return counts.count(unit) ? 1.0 : std::nan("");
  }
  std::string base = info(d).base;
  std::string u = unit;
  if (d == Dim::Area && u.size() >= 3 && u.compare(u.size() - 3, 3, "m^2") == 0) u = u.substr(0, u.size() - 3) + "m2";
  if (d == Dim::Area && u.size() >= 3 && u.compare(u.size() - 3, 3, "m\u00b2") == 0) u = u.substr(0, u.size() - 3) + "m2";
  if (u.size() < base.size() || u.compare(u.size() - base.size(), base.size(), base) != 0) return std::nan("");
  const double f = prefix_factor(std::string_view(u).substr(0, u.size() - base.size()));
  return d == Dim::Area ? f * f : f;
}

enum class Range { NonNegative, Positive };

using Field = std::variant<double*, int*, bool*>;

struct Spec {
  const char* section;
  const char* key;
  Dim dim;
  Range range = Range::NonNegative;
  int min_int = 0, max_int = 0;  // integers: inclusive range
  std::function<Field(HwParams&)> field;
};

const std::vector<Spec>& specs() {
  using R = Range;
  static const std::vector<Spec> table = {
      {"smtj", "bias_current", Dim::Current, R::NonNegative, 0, 0, [](HwParams& h) -> Field { return &h.smtj.bias_current_A; }},
      {"smtj", "read_voltage", Dim::Voltage, R::NonNegative, 0, 0, [](HwParams& h) -> Field { return &h.smtj.read_voltage_V; }},
      {"smtj", "bit_period", Dim::Time, R::Positive, 0, 0, [](HwParams& h) -> Field { return &h.smtj.bit_period_s; }},
      {"smtj", "sense_amp_energy", Dim::Energy, R::NonNegative, 0, 0, [](HwParams& h) -> Field { return &h.smtj.sense_amp_energy_J; }},
      {"smtj", "area", Dim::Area, R::NonNegative, 0, 0, [](HwParams& h) -> Field { return &h.smtj.area_m2; }},
      {"lfsr", "register_bits", Dim::Count, R::Positive, 3, 64, [](HwParams& h) -> Field { return &h.lfsr.register_bits; }},
      {"lfsr", "xor_gates", Dim::Count, R::NonNegative, 0, 64, [](HwParams& h) -> Field { return &h.lfsr.xor_gates; }},
      {"lfsr", "clock_period", Dim::Time, R::Positive, 0, 0, [](HwParams& h) -> Field { return &h.lfsr.clock_period_s; }},
      {"lfsr", "flip_flop_transistors", Dim::Count, R::Positive, 1, 1000, [](HwParams& h) -> Field { return &h.lfsr.flip_flop_transistors; }},
      {"lfsr", "comparator_bit_transistors", Dim::Count, R::Positive, 1, 1000, [](HwParams& h) -> Field { return &h.lfsr.comparator_bit_transistors; }},
      {"lfsr", "xor_transistors", Dim::Count, R::Positive, 1, 1000, [](HwParams& h) -> Field { return &h.lfsr.xor_transistors; }},
      {"logic", "and_energy", Dim::Energy, R::NonNegative, 0, 0, [](HwParams& h) -> Field { return &h.logic.and_energy_J; }},
      {"logic", "xnor_energy", Dim::Energy, R::NonNegative, 0, 0, [](HwParams& h) -> Field { return &h.logic.xnor_energy_J; }},
      {"logic", "full_adder_energy", Dim::Energy, R::NonNegative, 0, 0, [](HwParams& h) -> Field { return &h.logic.full_adder_energy_J; }},
      {"logic", "flip_flop_energy", Dim::Energy, R::NonNegative, 0, 0, [](HwParams& h) -> Field { return &h.logic.flip_flop_energy_J; }},
      {"logic", "comparator_bit_energy", Dim::Energy, R::NonNegative, 0, 0, [](HwParams& h) -> Field { return &h.logic.comparator_bit_energy_J; }},
      {"logic", "gate_delay", Dim::Time, R::Positive, 0, 0, [](HwParams& h) -> Field { return &h.logic.gate_delay_s; }},
      {"logic", "transistor_area", Dim::Area, R::NonNegative, 0, 0, [](HwParams& h) -> Field { return &h.logic.transistor_area_m2; }},
      {"bias", "reference_branch_power", Dim::Power, R::NonNegative, 0, 0, [](HwParams& h) -> Field { return &h.bias.reference_branch_power_W; }},
      {"bias", "switch_energy", Dim::Energy, R::NonNegative, 0, 0, [](HwParams& h) -> Field { return &h.bias.switch_energy_J; }},
      {"bias", "switch_time_constant", Dim::Time, R::NonNegative, 0, 0, [](HwParams& h) -> Field { return &h.bias.switch_time_constant_s; }},
      {"bias", "dac_energy_per_step", Dim::Energy, R::NonNegative, 0, 0, [](HwParams& h) -> Field { return &h.bias.dac_energy_per_step_J; }},
      {"bias", "dac_time_constant", Dim::Time, R::NonNegative, 0, 0, [](HwParams& h) -> Field { return &h.bias.dac_time_constant_s; }},
      {"bias", "lut_read_energy_per_bit", Dim::Energy, R::NonNegative, 0, 0, [](HwParams& h) -> Field { return &h.bias.lut_read_energy_per_bit_J; }},
      {"bias", "lut_access_time", Dim::Time, R::NonNegative, 0, 0, [](HwParams& h) -> Field { return &h.bias.lut_access_time_s; }},
      {"precision", "analog_weight_bits", Dim::Count, R::Positive, 1, 24, [](HwParams& h) -> Field { return &h.precision.analog_weight_bits; }},
      {"precision", "analog_activation_bits", Dim::Count, R::Positive, 1, 24, [](HwParams& h) -> Field { return &h.precision.analog_activation_bits; }},
      {"precision", "pixel_bits", Dim::Count, R::Positive, 1, 24, [](HwParams& h) -> Field { return &h.precision.pixel_bits; }},
      {"memory", "read_energy_per_bit", Dim::Energy, R::NonNegative, 0, 0, [](HwParams& h) -> Field { return &h.memory.read_energy_per_bit_J; }},
      {"memory", "access_time", Dim::Time, R::NonNegative, 0, 0, [](HwParams& h) -> Field { return &h.memory.access_time_s; }},
      {"memory", "reload_weights_per_inference", Dim::Flag, R::NonNegative, 0, 0, [](HwParams& h) -> Field { return &h.memory.reload_weights_per_inference; }},
  };
  return table;
}

std::vector<std::string> section_names() {
  std::vector<std::string> out;
  for (const auto& s : specs())
    if (out.empty() || out.back() != s.section) out.push_back(s.section);
  return out;
}

// Applies "extends": the base's parameters, each replaced whole by the file's own.
json resolve_extends(json j, const std::string& origin, const std::filesystem::path& base_dir, int depth) {
  if (!j.is_object()) fail("{}: expected a JSON object of hardware parameters", origin);
  auto it = j.find("extends");
  if (it == j.end()) return j;
  if (!it->is_string()) fail("{}: 'extends' must be a string ('default' or a file path), got {}", origin, it->dump());
  if (depth > 8) fail("{}: 'extends' chain is longer than 8 files (a cycle?)", origin);
  const std::string target = it->get<std::string>();
  json base;
  if (target == "default") {
    base = resolve_extends(parse_json(hw_detail::kDefaultHwJson, "built-in default"), "built-in default", {}, depth + 1);
  } else {
    const std::filesystem::path p = base_dir / target;
    json text;
    try {
      text = read_json_file(p);
    } catch (const Error& e) {
      fail("{}: 'extends' names a file that cannot be read: {}", origin, e.what());
    }
    base = resolve_extends(std::move(text), p.string(), p.parent_path(), depth + 1);
  }
  for (auto& [key, value] : j.items()) {
    if (key == "extends") continue;
    if (value.is_object() && base.contains(key) && base[key].is_object()) {
      for (auto& [param, def] : value.items()) base[key][param] = def;
    } else {
      base[key] = value;
    }
  }
  return base;
}

std::string note_of(const json& p, const std::string& where) {
  std::string note;
  for (const char* k : {"source", "reasoning"}) {
    auto it = p.find(k);
    if (it == p.end()) continue;
    if (!it->is_string()) fail("{}: field '{}' must be a string, got {}", where, k, it->dump());
    const std::string text = it->get<std::string>();
    if (text.empty()) fail("{}: field '{}' is empty: say where the value comes from", where, k);
    note += (note.empty() ? "" : " | ") + std::string(k) + ": " + text;
  }
  if (note.empty()) fail("{}: missing field 'source' or 'reasoning': every parameter says where its value comes from", where);
  return note;
}

}  // namespace

std::string_view default_hw_params_json() { return hw_detail::kDefaultHwJson; }

HwParams parse_hw_params(std::string_view json_text, const std::string& origin, const std::filesystem::path& base_dir) {
  const json j = resolve_extends(parse_json(json_text, origin), origin, base_dir, 0);
  HwParams h;
  h.origin = origin;
  const std::vector<std::string> sections = section_names();
  for (const auto& [key, value] : j.items()) {
    if (key == "name" || key == "description" || key == "extends") continue;
    if (std::find(sections.begin(), sections.end(), key) == sections.end())
      fail("{}: unknown key '{}' (expected name, description, extends and the sections {})", origin, key,
           fmt::format("{}", fmt::join(sections, ", ")));
  }
  auto name = j.find("name");
  if (name == j.end()) fail("{}: missing field 'name'", origin);
  if (!name->is_string() || name->get<std::string>().empty()) fail("{}: field 'name' must be a non-empty string", origin);
  h.name = name->get<std::string>();
  if (auto d = j.find("description"); d != j.end()) {
    if (!d->is_string()) fail("{}: field 'description' must be a string", origin);
    h.description = d->get<std::string>();
  }
  for (const auto& section : sections) {
    auto s = j.find(section);
    if (s == j.end()) fail("{}: missing section '{}'", origin, section);
    if (!s->is_object()) fail("{}: section '{}' must be an object of parameters", origin, section);
    for (const auto& [key, value] : s->items()) {
      bool known = false;
      for (const auto& spec : specs()) known |= (spec.section == section && spec.key == key);
      if (!known) fail("{}: unknown parameter '{}.{}'", origin, section, key);
    }
  }
  for (const auto& spec : specs()) {
    const std::string path = fmt::format("{}.{}", spec.section, spec.key);
    const std::string where = fmt::format("{}: parameter '{}'", origin, path);
    const json& s = j[spec.section];
    auto it = s.find(spec.key);
    if (it == s.end()) fail("{}: missing parameter '{}' (each is {{\"value\", \"unit\", \"source\" or \"reasoning\"}})", origin, path);
    const json& p = *it;
    if (!p.is_object()) fail("{} must be an object {{\"value\", \"unit\", \"source\" or \"reasoning\"}}, got {}", where, p.dump());
    for (const auto& [k, v] : p.items())
      if (k != "value" && k != "unit" && k != "source" && k != "reasoning")
        fail("{}: unknown field '{}' (expected value, unit, source, reasoning)", where, k);
    HwParameter record;
    record.path = path;
    record.note = note_of(p, where);
    auto v = p.find("value");
    if (v == p.end()) fail("{}: missing field 'value'", where);
    record.value = v->dump();
    Field field = spec.field(h);
    if (spec.dim == Dim::Flag) {
      if (!v->is_boolean()) fail("{}: field 'value' must be true or false, got {}", where, v->dump());
      if (p.contains("unit")) fail("{}: a flag has no unit", where);
      *std::get<bool*>(field) = v->get<bool>();
      record.si = v->get<bool>() ? 1.0 : 0.0;
      h.parameters.push_back(std::move(record));
      continue;
    }
    if (!v->is_number()) fail("{}: field 'value' must be a number, got {}", where, v->dump());
    auto u = p.find("unit");
    if (u == p.end()) fail("{}: missing field 'unit' ({} in {})", where, info(spec.dim).noun, info(spec.dim).hint);
    if (!u->is_string()) fail("{}: field 'unit' must be a string, got {}", where, u->dump());
    record.unit = u->get<std::string>();
    const double factor = unit_factor(record.unit, spec.dim);
    if (std::isnan(factor))
      fail("{}: unit '{}' is not {}: use {}", where, record.unit, info(spec.dim).noun, info(spec.dim).hint);
    const double x = v->get<double>();
    if (x < 0) fail("{}: value {} {} is negative: {} cannot be negative", where, v->dump(), record.unit, info(spec.dim).noun);
    if (spec.range == Range::Positive && x == 0) fail("{}: value {} must be positive", where, v->dump());
    record.si = x * factor;
    record.si_unit = info(spec.dim).base;
    if (auto* d = std::get_if<double*>(&field)) {
      **d = record.si;
    } else {
      if (!v->is_number_integer() || x < spec.min_int || x > spec.max_int)
        fail("{}: value {} must be an integer in [{}, {}]", where, v->dump(), spec.min_int, spec.max_int);
      *std::get<int*>(field) = static_cast<int>(x);
    }
    h.parameters.push_back(std::move(record));
  }
  return h;
}

HwParams load_hw_params(const std::filesystem::path& path) {
  return parse_hw_params(read_file(path, kMaxJsonFileBytes), path.string(), path.parent_path());
}

HwParams default_hw_params() {
  HwParams h = parse_hw_params(hw_detail::kDefaultHwJson, "built-in default");
  return h;
}

}  // namespace spinsc
