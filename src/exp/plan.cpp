#include "spinsc/plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "spinsc/arithmetic.hpp"
#include "spinsc/data_fetch.hpp"
#include "spinsc/device_config.hpp"
#include "spinsc/error.hpp"
#include "spinsc/files.hpp"
#include "spinsc/network.hpp"
#include "spinsc/rng.hpp"
#include "spinsc/sc_engine.hpp"
#include "spinsc/trace.hpp"

#ifndef SPINSC_VERSION
#error "SPINSC_VERSION must be defined by the build (the project version)"
#endif

namespace spinsc {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::set<std::string> kSettings = {"arch",  "states", "dataset", "training",   "epochs",  "sc_epochs",
                                         "seed",  "source", "device",  "length",     "sharing", "multiply",
                                         "accumulate", "exact_bits", "repeats", "limit", "train_limit"};

template <class... Args>
[[noreturn]] void bad(const std::string& where, fmt::format_string<Args...> format, Args&&... args) {
  fail("{}: {}", where, fmt::format(format, std::forward<Args>(args)...));
}

int int_setting(const json& v, const std::string& where, const char* name, int lo, int hi) {
  if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi)
    bad(where, "'{}' = {} must be an integer in {}..{}", name, v.dump(), lo, hi);
  return static_cast<int>(v.get<int64_t>());
}

std::string string_setting(const json& v, const std::string& where, const char* name, std::initializer_list<const char*> choices = {}) {
  if (!v.is_string()) bad(where, "'{}' = {} must be a string", name, v.dump());
  const std::string s = v.get<std::string>();
  if (choices.size() == 0) return s;
  for (const char* c : choices)
    if (s == c) return s;
  std::string list;
  for (const char* c : choices) list += fmt::format("{}{}", list.empty() ? "" : ", ", c);
  bad(where, "'{}' = '{}' is not one of {}", name, s, list);
}

// The device description as a JSON object with every field (parsed, so validated).
json device_object(const json& v, const std::string& where, const fs::path& base_dir) {
  if (v.is_string()) {
    try {  // a file beside the plan, or a built-in device's name
      return json::parse(to_json_text(resolve_device(v.get<std::string>(), base_dir)));
    } catch (const Error& e) {
      bad(where, "'device': {}", e.what());
    }
  }
  if (!v.is_object()) bad(where, "'device' = {} must be a device file name or a device object", v.dump().substr(0, 80));
  try {
    return json::parse(to_json_text(parse_device_config(v.dump(), where + " device")));
  } catch (const Error& e) {
    bad(where, "'device': {}", e.what());
  }
}

// The trace libraries that loaded, by checksum, within one expansion: a plan's cells share a
// library, which is parsed once (a library of long traces takes a while) but hashed for every
// cell, so a changed file is always seen.
using LoadedLibraries = std::set<std::string>;

// A trace:DIR source as the cell keeps it: "trace:<absolute directory>" and the library's
// checksum. `loaded` (may be null) skips parsing a library already parsed.
std::pair<std::string, std::string> trace_source(const std::string& spec, const std::string& where, const fs::path& base_dir,
                                                 LoadedLibraries* loaded) {
  fs::path dir = spec.substr(6);
  if (dir.empty()) bad(where, "'source' = '{}' names no directory (trace:DIR, a trace library)", spec);
  if (dir.is_relative() && !base_dir.empty()) dir = base_dir / dir;
  std::error_code ec;
  dir = fs::absolute(dir, ec).lexically_normal();
  if (ec) bad(where, "'source' = '{}': cannot resolve the directory: {}", spec, ec.message());
  if (!dir.has_filename() && dir.has_parent_path()) dir = dir.parent_path();  // no trailing '/': one name per library
  try {
    const std::string sha = trace_library_sha256(dir);
    if (!loaded || !loaded->contains(sha)) load_trace_library(dir);
    if (loaded) loaded->insert(sha);
    return {"trace:" + dir.string(), sha};
  } catch (const Error& e) {
    bad(where, "'source' = '{}': {}", spec, e.what());  // the library's error names the directory (or its file)
  }
}

}  // namespace

std::string spinsc_version() { return SPINSC_VERSION; }

std::string trace_library_sha256(const fs::path& dir) {
  // Per file its name and the hash of its bytes: the whole library is never in memory at once.
  json list = json::array();
  for (const auto& f : trace_library_files(dir)) list.push_back({f.filename().string(), sha256_hex(read_file(f))});
  return sha256_hex(list.dump());
}

json CellConfig::to_json() const {
  json j = {{"arch", arch},         {"states", states},       {"dataset", dataset},   {"training", training},
            {"epochs", epochs},     {"sc_epochs", sc_epochs}, {"seed", seed},         {"source", source},
            {"length", length},     {"sharing", sharing},     {"multiply", multiply}, {"accumulate", accumulate},
            {"exact_bits", exact_bits}, {"repeats", repeats}, {"limit", limit}};
  if (train_limit > 0) j["train_limit"] = train_limit;
  if (!device.is_null()) j["device"] = device;
  if (!library_sha256.empty()) j["library_sha256"] = library_sha256;
  return j;
}

namespace {
CellConfig cell_config(const json& settings, const std::string& where, const fs::path& base_dir, LoadedLibraries* loaded);
}  // namespace

CellConfig cell_config(const json& settings, const std::string& where, const fs::path& base_dir) {
  return cell_config(settings, where, base_dir, nullptr);
}

namespace {
CellConfig cell_config(const json& settings, const std::string& where, const fs::path& base_dir, LoadedLibraries* loaded) {
  if (!settings.is_object()) bad(where, "a cell's settings must be a JSON object, not {}", settings.dump().substr(0, 80));
  CellConfig c;
  // Plain settings first, then the device (a file or object), then device.<field> overrides.
  json device_overrides = json::object();
  for (const auto& [key, v] : settings.items()) {
    if (key.starts_with("device.")) {
      device_overrides[key.substr(7)] = v;
      continue;
    }
    if (!kSettings.contains(key)) {
      std::string names;
      for (const auto& s : kSettings) names += (names.empty() ? "" : ", ") + s;
      bad(where, "unknown setting '{}' (settings: {}, device.<field>)", key, names);
    }
    if (key == "arch") {
      c.arch = string_setting(v, where, "arch");
      try {
        c.arch = to_string(parse_architecture(c.arch));
      } catch (const Error& e) {
        bad(where, "'arch': {}", e.what());
      }
    } else if (key == "states") {
      c.states = int_setting(v, where, "states", 3, 1025);
      if (c.states % 2 == 0) bad(where, "'states' = {} must be odd", c.states);
    } else if (key == "dataset") {
      c.dataset = string_setting(v, where, "dataset", {"mnist", "fashion-mnist"});
    } else if (key == "training") {
      c.training = string_setting(v, where, "training", {"float", "without_sc", "with_sc"});
    } else if (key == "epochs") {
      c.epochs = int_setting(v, where, "epochs", 1, 100000);
    } else if (key == "sc_epochs") {
      c.sc_epochs = int_setting(v, where, "sc_epochs", 0, 100000);
    } else if (key == "train_limit") {
      c.train_limit = int_setting(v, where, "train_limit", 0, 1 << 30);
    } else if (key == "seed") {
      if (!v.is_number_unsigned()) bad(where, "'seed' = {} must be a non-negative integer", v.dump());
      c.seed = v.get<uint64_t>();
    } else if (key == "source") {
      c.source = string_setting(v, where, "source");
      if (c.source.starts_with("trace:")) {
        std::tie(c.source, c.library_sha256) = trace_source(c.source, where, base_dir, loaded);
      } else if (c.source != "ideal" && c.source != "sobol" && c.source != "smtj" && c.source != "lfsr" &&
                 !c.source.starts_with("lfsr:")) {
        bad(where, "'source' = '{}' is not ideal, lfsr[:n], sobol, smtj or trace:DIR (the device comes from 'device')", c.source);
      }
    } else if (key == "device") {
      c.device = device_object(v, where, base_dir);
    } else if (key == "length") {
      c.length = int_setting(v, where, "length", 1, 1 << 20);
    } else if (key == "sharing") {
      c.sharing = string_setting(v, where, "sharing");
      try {
        parse_sharing(c.sharing);
      } catch (const Error& e) {
        bad(where, "'sharing': {}", e.what());
      }
    } else if (key == "multiply") {
      c.multiply = string_setting(v, where, "multiply", {"signmag", "bipolar"});
    } else if (key == "accumulate") {
      c.accumulate = string_setting(v, where, "accumulate", {"apc", "mux"});
    } else if (key == "exact_bits") {
      if (!v.is_boolean()) bad(where, "'exact_bits' = {} must be true or false", v.dump());
      c.exact_bits = v.get<bool>();
    } else if (key == "repeats") {
      c.repeats = int_setting(v, where, "repeats", 1, 10000);
    } else if (key == "limit") {
      c.limit = int_setting(v, where, "limit", 0, 1 << 30);
    }
  }
  if (c.source == "smtj") {
    if (c.device.is_null()) c.device = json::parse(to_json_text(reference_device()));
    for (const auto& [path, v] : device_overrides.items()) {
      // Field names are letters, digits and '_' ('.' separates levels): anything else (a JSON
      // pointer's '~' escapes, '/') is no device parameter.
      if (path.empty() || !std::all_of(path.begin(), path.end(), [](char ch) {
            return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.';
          }))
        bad(where, "'device.{}' is not a device parameter", path);
      std::string pointer = fmt::format("/{}", path);  // device.variation.delta.sigma -> /variation/delta/sigma
      std::replace(pointer.begin(), pointer.end(), '.', '/');
      const json::json_pointer ptr(pointer);
      if (!c.device.contains(ptr) || c.device[ptr].is_object()) bad(where, "'device.{}' is not a device parameter", path);
      c.device[ptr] = v;
    }
    c.device = device_object(c.device, where, base_dir);
  } else if (!device_overrides.empty() || !c.device.is_null()) {
    bad(where, "device settings apply to the smtj source only; 'source' is '{}'", c.source);
  }
  if (c.training == "with_sc" &&
      !moment_matched_noise_models(rule_of(parse_multiply(c.multiply)), rule_of(parse_accumulate(c.accumulate))))
    bad(where,
        "training 'with_sc' trains with the moment-matched SC noise, which models signmag with apc only, not {} with {} "
        "(train such cells 'without_sc', or with `spinsc train --mode sc --exact-bits`)",
        c.multiply, c.accumulate);
  return c;
}
}  // namespace

Plan parse_plan(const json& j, const std::string& origin) {
  if (!j.is_object()) bad(origin, "a plan is a JSON object with \"base\" and \"axes\" (or \"cells\")");
  Plan p;
  p.origin = origin;
  for (const auto& [key, v] : j.items())
    if (key != "name" && key != "base" && key != "axes" && key != "cells" && key != "description")
      bad(origin, "unknown plan field '{}' (name, description, base, axes, cells)", key);
  if (j.contains("name")) p.name = string_setting(j["name"], origin, "name");
  if (j.contains("description")) p.description = string_setting(j["description"], origin, "description");
  p.base = j.value("base", json::object());
  if (!p.base.is_object()) bad(origin, "'base' must be an object of settings");
  if (j.contains("axes")) {
    // nlohmann's objects are sorted by key: the axes are taken in the order of their names.
    const json& axes = j["axes"];
    if (!axes.is_object()) bad(origin, "'axes' must be an object: setting -> list of values");
    for (const auto& [name, values] : axes.items()) {
      if (!values.is_array() || values.empty()) bad(origin, "axis '{}' must be a non-empty list of values", name);
      if (p.base.contains(name)) bad(origin, "'{}' is both in 'base' and an axis", name);
      p.axes.emplace_back(name, std::vector<json>(values.begin(), values.end()));
    }
  }
  if (j.contains("cells")) {
    if (!j["cells"].is_array()) bad(origin, "'cells' must be a list of objects of settings");
    p.cells.assign(j["cells"].begin(), j["cells"].end());
  }
  if (p.axes.empty() && p.cells.empty()) bad(origin, "a plan needs 'axes' or 'cells'");
  return p;
}

json plan_json(const Plan& plan) {
  json j = json::object();
  if (!plan.name.empty()) j["name"] = plan.name;
  if (!plan.description.empty()) j["description"] = plan.description;
  j["base"] = plan.base;
  if (!plan.axes.empty()) {
    json axes = json::object();
    for (const auto& [name, values] : plan.axes) axes[name] = values;
    j["axes"] = axes;
  }
  if (!plan.cells.empty()) j["cells"] = plan.cells;
  return j;
}

Plan load_plan(const fs::path& path) {
  json j;
  try {
    j = json::parse(read_file(path));
  } catch (const json::exception& e) {
    fail("plan '{}' is not valid JSON: {}", path.string(), e.what());
  }
  Plan p = parse_plan(j, fmt::format("plan '{}'", path.string()));
  expand(p, path.parent_path());  // validates every cell
  return p;
}

std::vector<CellConfig> expand(const Plan& plan, const fs::path& base_dir) {
  std::vector<CellConfig> out;
  LoadedLibraries loaded;
  auto with_base = [&](const json& over) {
    json s = plan.base;
    for (const auto& [k, v] : over.items()) s[k] = v;
    return s;
  };
  for (size_t i = 0; i < plan.cells.size(); ++i)
    out.push_back(cell_config(with_base(plan.cells[i]), fmt::format("{} cell {}", plan.origin, i), base_dir, &loaded));
  if (!plan.axes.empty()) {
    std::vector<size_t> index(plan.axes.size(), 0);
    while (true) {
      json over = json::object();
      std::string where = plan.origin;
      for (size_t a = 0; a < plan.axes.size(); ++a) {
        over[plan.axes[a].first] = plan.axes[a].second[index[a]];
        where += fmt::format("{}{} = {}", a ? ", " : " at ", plan.axes[a].first, plan.axes[a].second[index[a]].dump());
      }
      out.push_back(cell_config(with_base(over), where, base_dir, &loaded));
      size_t a = plan.axes.size();
      while (a > 0 && ++index[a - 1] == plan.axes[a - 1].second.size()) index[--a] = 0;
      if (a == 0) break;
    }
  }
  return out;
}

std::string job_id(const std::string& kind, const json& config) {
  const json whole = {{"format", kJobFormat}, {"spinsc", spinsc_version()}, {"seeding", kSeedingVersion}, {"kind", kind}, {"config", config}};
  return sha256_hex(whole.dump());
}

JobGraph jobs_of(const std::vector<CellConfig>& cells) {
  JobGraph g;
  std::map<std::string, size_t> known;
  auto add = [&](std::string kind, json config, std::vector<std::string> inputs) {
    Job job{std::move(kind), std::move(config), std::move(inputs), ""};
    job.id = job_id(job.kind, job.config);
    if (!known.contains(job.id)) {
      known[job.id] = g.jobs.size();
      g.jobs.push_back(job);
    }
    return job.id;
  };
  for (const CellConfig& c : cells) {
    const bool float_net = c.training == "float";
    // The base: float, or qat of K levels. Its settings are all the trainer reads.
    json base = {{"arch", c.arch},   {"states", float_net ? 0 : c.states}, {"mode", float_net ? "float" : "qat"},
                 {"epochs", c.epochs}, {"seed", c.seed}, {"dataset", c.dataset}};
    // Only when set: training on every image keeps the ids the trainings had before the setting.
    if (c.train_limit > 0) base["train_limit"] = c.train_limit;
    std::string model = add("train", base, {});
    json source = {{"source", c.source}};
    if (!c.device.is_null()) source["device"] = c.device;
    // The library by its content: a changed trace file is a different source of bits.
    if (!c.library_sha256.empty()) source["library_sha256"] = c.library_sha256;
    if (!float_net && c.sc_epochs > 0) {
      json more = {{"init", model}, {"epochs", c.sc_epochs}, {"seed", c.seed}, {"dataset", c.dataset}};
      if (c.train_limit > 0) more["train_limit"] = c.train_limit;
      if (c.training == "with_sc") more["noise"] = {{"bits", source}, {"length", c.length}};
      more["mode"] = c.training == "with_sc" ? "sc" : "qat";
      model = add("train", more, {model});
    }
    json eval = {{"model", model},       {"bits", source},           {"length", c.length},
                 {"sharing", c.sharing}, {"multiply", c.multiply},   {"accumulate", c.accumulate},
                 {"analog", float_net},  {"exact_bits", c.exact_bits}, {"repeats", c.repeats},
                 {"seed", c.seed},       {"dataset", c.dataset},     {"limit", c.limit}};
    const std::string evaluation = add("evaluate", eval, {model});
    json cost = {{"arch", c.arch},         {"states", c.states},     {"length", c.length},
                 {"sharing", c.sharing},   {"multiply", c.multiply}, {"accumulate", c.accumulate}};
    if (!c.device.is_null()) cost["device"] = c.device;
    const std::string costing = add("cost", cost, {});
    g.cells.emplace_back(evaluation, costing);
  }
  return g;
}

}  // namespace spinsc
