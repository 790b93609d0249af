// Presentation of cost reports: JSON, Markdown, CSV and the stacked-bar plot.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "spinsc/cost_model.hpp"
#include "spinsc/error.hpp"
#include "spinsc/files.hpp"
#include "spinsc/plot.hpp"

namespace spinsc {
namespace {

using nlohmann::json;

constexpr CostDesign kDesigns[] = {CostDesign::Quantized, CostDesign::Analog};
constexpr CostSource kSources[] = {CostSource::Smtj, CostSource::Lfsr};

std::string source_label(CostSource s) { return s == CostSource::Smtj ? "s-MTJ" : "LFSR"; }

// 3 significant digits with an SI prefix: "12.3 nJ".
std::string si(double v, const char* unit) {
  if (std::isnan(v)) return "n/a";
  if (v == 0) return fmt::format("0 {}", unit);
  static const char* prefixes[] = {"a", "f", "p", "n", "µ", "m", "", "k", "M", "G"};
  int e = static_cast<int>(std::floor(std::log10(std::fabs(v)) / 3.0));
  e = std::clamp(e, -6, 3);
  const double m = v / std::pow(10.0, 3 * e);
  return fmt::format("{:.3g} {}{}", m, prefixes[e + 6], unit);
}

// A factor as people say it: "1.06×", "19.3×", "250×".
std::string times(double f) {
  if (std::isnan(f) || std::isinf(f)) return "n/a";
  return f < 10 ? fmt::format("{:.2f}×", f) : fmt::format("{:.3g}×", f);
}

std::string ratio_text(double r) {
  if (std::isnan(r)) return "n/a";
  if (r <= 1) return fmt::format("{:.3g} ({} lower)", r, times(1 / r));
  return fmt::format("{:.3g} ({} higher)", r, times(r));
}

std::string area_text(double m2) {
  return m2 >= 1e-9 ? fmt::format("{:.3g} mm²", m2 * 1e6) : fmt::format("{:.3g} µm²", m2 * 1e12);
}

json nan_null(double v) { return std::isnan(v) ? json(nullptr) : json(v); }

json ratios_json(const CostRatios& r) {
  return {{"neuron_activation_latency", nan_null(r.neuron_activation_latency)},
          {"latency", nan_null(r.latency)},
          {"energy", nan_null(r.energy)}};
}

// An MLP by its widths (784-128-10); other networks by their layer list.
std::string arch_text(const CostArchitecture& a) {
  return a.spelling.starts_with("input:") ? a.spelling : fmt::format("{}", fmt::join(a.arch, "-"));
}

std::string origin_text(const CostReport& r) {
  const auto& a = r.architecture;
  std::string s = a.mode.empty() ? "architecture from --arch" : fmt::format("model {} (mode {})", a.origin, a.mode);
  if (a.mode == "float") s += ": a float model, so its quantized design is what K-level quantization of it would cost";
  return s;
}

}  // namespace

json cost_json(const CostReport& r) {
  json j;
  const auto& a = r.architecture;
  j["config"] = {{"arch", a.arch},
                 {"architecture", a.spelling},
                 {"states", a.states},
                 {"origin", a.origin},
                 {"mode", a.mode},
                 {"length", r.options.length},
                 {"sharing", to_string(r.options.sharing)},
                 {"multiply", to_string(r.options.multiply)},
                 {"accumulate", to_string(r.options.accumulate)},
                 {"inputs", r.options.sharing == CostSharing::IndependentAll ? "per synapse" : "broadcast"},
                 {"hw", {{"name", r.hw.name}, {"origin", r.hw.origin}, {"description", r.hw.description}}},
                 {"device", r.hw.device_origin.empty() ? json(nullptr)
                                                       : json{{"name", r.hw.device_name}, {"origin", r.hw.device_origin}}},
                 {"smtj", {{"bias_current_a", r.hw.smtj.bias_current_A},
                           {"read_voltage_v", r.hw.smtj.read_voltage_V},
                           {"sense_energy_j", r.hw.smtj.sense_amp_energy_J},
                           {"from", r.hw.device_origin.empty() ? "hw" : "device"}}},
                 {"sng_bit_energy_j", {{"smtj", sng_bit_energy(r.hw, CostSource::Smtj)}, {"lfsr", sng_bit_energy(r.hw, CostSource::Lfsr)}}},
                 {"bit_period_s", {{"smtj", r.hw.smtj.bit_period_s}, {"lfsr", r.hw.lfsr.clock_period_s}}},
                 {"lfsr_sng_transistors", lfsr_sng_transistors(r.hw)},
                 {"weights_reloaded_per_inference", r.hw.memory.reload_weights_per_inference}};
  for (const char* k : {"latency_s", "energy_j", "neuron_activation_latency_s", "sng_devices", "sng_area_m2"})
    j[k] = json::object();
  for (const auto& d : r.designs) {
    const std::string key = d.key();
    j["latency_s"][key] = d.latency();
    j["energy_j"][key] = d.energy();
    j["neuron_activation_latency_s"][key] = d.neuron_activation_latency();
    j["sng_devices"][key] = d.sng_devices();
    j["sng_area_m2"][key] = d.sng_area_m2;
    json b;
    b["design"] = to_string(d.design);
    b["source"] = to_string(d.source);
    b["sharing"] = to_string(d.sharing);
    for (int p = 0; p < kEnergyParts; ++p) b["energy_j"][to_string(static_cast<EnergyPart>(p))] = d.energy_of(static_cast<EnergyPart>(p));
    for (int p = 0; p < kLatencyParts; ++p)
      b["latency_s"][to_string(static_cast<LatencyPart>(p))] = d.latency_of(static_cast<LatencyPart>(p));
    b["layers"] = json::array();
    for (const auto& l : d.layers) {
      json lj = {{"layer", l.index},
                 {"in", l.in},
                 {"out", l.out},
                 {"hidden", l.hidden},
                 {"input_sngs", l.input_sngs},
                 {"weight_sngs", l.weight_sngs},
                 {"weight_levels", l.weight_levels},
                 {"counter_bits", l.counter_bits},
                 {"accumulator_bits", l.accumulator_bits},
                 {"comparators", l.comparators},
                 {"dacs", l.dacs},
                 {"latency_s", l.latency()},
                 {"energy_j", l.energy()},
                 {"neuron_activation_latency_s", l.neuron_activation_s}};
      for (int p = 0; p < kEnergyParts; ++p) lj["energy_j_by_component"][to_string(static_cast<EnergyPart>(p))] = l.energy_j[p];
      for (int p = 0; p < kLatencyParts; ++p) lj["latency_s_by_phase"][to_string(static_cast<LatencyPart>(p))] = l.latency_s[p];
      b["layers"].push_back(lj);
    }
    j["breakdown"][key] = b;
  }
  json ratios;
  for (CostSource s : kSources) {
    const CostRatios q = quantized_over_analog(r, s);
    ratios["quantized_over_analog"][to_string(s)] = ratios_json(q);
    ratios["analog_over_quantized"][to_string(s)] =
        ratios_json({1 / q.neuron_activation_latency, 1 / q.latency, 1 / q.energy});
  }
  for (CostDesign d : kDesigns) ratios["smtj_over_lfsr"][to_string(d)] = ratios_json(smtj_over_lfsr(r, d));
  ratios["paper_analog_over_quantized"] = {{"neuron_activation_latency", 9.0}, {"energy", 2.6}};
  j["ratios"] = ratios;
  json params = json::array();
  for (const auto& p : r.hw.parameters)
    params.push_back({{"parameter", p.path}, {"value", json::parse(p.value)}, {"unit", p.unit}, {"si", p.si}, {"si_unit", p.si_unit}, {"note", p.note}});
  j["parameters"] = params;
  return j;
}

std::string cost_markdown(const CostReport& r, bool with_parameters) {
  const auto& a = r.architecture;
  std::string s;
  s += fmt::format("## Hardware cost per inference: {}, K = {}, L = {}\n\n", arch_text(a), a.states, r.options.length);
  s += fmt::format(
      "{}; weights {} (the analog baseline: one SNG per synapse), inputs {}; multiply {}, accumulate {}; "
      "hardware parameters '{}' ({}){}. Model and formulas: docs/cost-model.md.\n\n",
      origin_text(r), to_string(r.options.sharing),
      r.options.sharing == CostSharing::IndependentAll ? "one SNG per synapse" : "broadcast (one SNG per input)",
      to_string(r.options.multiply), to_string(r.options.accumulate), r.hw.name, r.hw.origin,
      r.hw.memory.reload_weights_per_inference ? ", weights reloaded every inference" : ", weights set once (not per inference)");
  if (r.hw.device_origin.empty())
    s += "s-MTJ figures (bit period, bias current, read voltage, sense energy): the hardware file's smtj section (no device given).\n\n";
  else
    s += fmt::format("s-MTJ figures (bit period, bias current, read voltage, sense energy): device '{}' ({}): rms bias {}, "
                     "junction {} (mean power {}), sense {} per bit.\n\n",
                     r.hw.device_name, r.hw.device_origin, si(r.hw.smtj.bias_current_A, "A"), si(r.hw.smtj.read_voltage_V, "V"),
                     si(r.hw.smtj.bias_current_A * r.hw.smtj.read_voltage_V, "W"), si(r.hw.smtj.sense_amp_energy_J, "J"));
  s += fmt::format(
      "SNGs: s-MTJ {} per bit every {}; LFSR ({}-bit, {} transistors) {} per bit every {}.\n\n",
      si(sng_bit_energy(r.hw, CostSource::Smtj), "J"), si(r.hw.smtj.bit_period_s, "s"), r.hw.lfsr.register_bits,
      lfsr_sng_transistors(r.hw), si(sng_bit_energy(r.hw, CostSource::Lfsr), "J"), si(r.hw.lfsr.clock_period_s, "s"));

  s += "| design | SNG source | SNG devices | SNG area | latency | neuron activations | energy |\n";
  s += "|---|---|---:|---:|---:|---:|---:|\n";
  for (const auto& d : r.designs)
    s += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", to_string(d.design), source_label(d.source), d.sng_devices(),
                     area_text(d.sng_area_m2),
                     si(d.latency(), "s"), si(d.neuron_activation_latency(), "s"), si(d.energy(), "J"));

  s += "\n### Ratios\n\n| ratio | s-MTJ | LFSR | paper |\n|---|---:|---:|---:|\n";
  const CostRatios qs = quantized_over_analog(r, CostSource::Smtj), ql = quantized_over_analog(r, CostSource::Lfsr);
  s += fmt::format("| neuron activation latency, quantized / analog | {} | {} | 9× lower |\n", ratio_text(qs.neuron_activation_latency),
                   ratio_text(ql.neuron_activation_latency));
  s += fmt::format("| energy per inference, quantized / analog | {} | {} | 2.6× lower |\n", ratio_text(qs.energy), ratio_text(ql.energy));
  s += fmt::format("| latency per inference, quantized / analog | {} | {} | |\n", ratio_text(qs.latency), ratio_text(ql.latency));
  s += "\n| ratio | quantized | analog |\n|---|---:|---:|\n";
  const CostRatios sq = smtj_over_lfsr(r, CostDesign::Quantized), sa = smtj_over_lfsr(r, CostDesign::Analog);
  s += fmt::format("| energy per inference, s-MTJ / LFSR | {} | {} |\n", ratio_text(sq.energy), ratio_text(sa.energy));
  s += fmt::format("| latency per inference, s-MTJ / LFSR | {} | {} |\n", ratio_text(sq.latency), ratio_text(sa.latency));

  // One table of parts (rows) by design (columns) with a total row.
  auto parts_table = [&](const char* heading, const char* first, int parts, auto name, auto value, auto total, const char* unit) {
    s += fmt::format("\n### {}\n\n| {} |", heading, first);
    for (const auto& d : r.designs) s += fmt::format(" {} {} |", to_string(d.design), source_label(d.source));
    s += "\n|---|";
    for (size_t i = 0; i < r.designs.size(); ++i) s += "---:|";
    s += "\n";
    for (int p = 0; p < parts; ++p) {
      s += fmt::format("| {} |", name(p));
      for (const auto& d : r.designs) s += fmt::format(" {} |", si(value(d, p), unit));
      s += "\n";
    }
    s += "| **total** |";
    for (const auto& d : r.designs) s += fmt::format(" **{}** |", si(total(d), unit));
    s += "\n";
  };
  parts_table(
      "Energy per inference by component", "component", kEnergyParts,
      [](int p) { return to_string(static_cast<EnergyPart>(p)); },
      [](const DesignCost& d, int p) { return d.energy_of(static_cast<EnergyPart>(p)); },
      [](const DesignCost& d) { return d.energy(); }, "J");
  parts_table(
      "Latency per inference by phase", "phase", kLatencyParts,
      [](int p) { return to_string(static_cast<LatencyPart>(p)); },
      [](const DesignCost& d, int p) { return d.latency_of(static_cast<LatencyPart>(p)); },
      [](const DesignCost& d) { return d.latency(); }, "s");

  s += "\n### Per layer\n\n| layer | n → m | design | source | input SNGs | weight SNGs | accumulator bits | comparators | DACs | "
       "latency | neuron activation | energy |\n|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& d : r.designs)
    for (const auto& l : d.layers)
      s += fmt::format("| {}{} | {} → {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", l.index, l.hidden ? "" : " (output)",
                       l.in, l.out, to_string(d.design), source_label(d.source), l.input_sngs, l.weight_sngs, l.accumulator_bits,
                       l.comparators, l.dacs, si(l.latency(), "s"), l.hidden ? si(l.neuron_activation_s, "s") : "—",
                       si(l.energy(), "J"));
  if (with_parameters) {
    s += "\n### Hardware parameters\n\n| parameter | value | unit | source / reasoning |\n|---|---:|---|---|\n";
    for (const auto& p : r.hw.parameters) {
      std::string note = p.note;
      for (auto& ch : note)
        if (ch == '|') ch = '/';
      s += fmt::format("| {} | {} | {} | {} |\n", p.path, p.value, p.unit, note);
    }
  }
  return s;
}

std::string cost_summary_markdown(const std::vector<CostReport>& reports) {
  std::string s =
      "| architecture | K | L | sharing | latency quantized (s-MTJ) | latency analog (s-MTJ) | neuron activation latency "
      "analog / quantized (paper 9×) | energy quantized (s-MTJ) | energy analog (s-MTJ) | energy analog / quantized (paper "
      "2.6×) | energy quantized s-MTJ / LFSR |\n|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& r : reports) {
    const auto& q = r.get(CostDesign::Quantized, CostSource::Smtj);
    const auto& a = r.get(CostDesign::Analog, CostSource::Smtj);
    const CostRatios qa = quantized_over_analog(r, CostSource::Smtj);
    const CostRatios sl = smtj_over_lfsr(r, CostDesign::Quantized);
    s += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", arch_text(r.architecture), r.architecture.states,
                     r.options.length, to_string(r.options.sharing), si(q.latency(), "s"), si(a.latency(), "s"),
                     times(1 / qa.neuron_activation_latency), si(q.energy(), "J"), si(a.energy(), "J"), times(1 / qa.energy),
                     times(sl.energy));
  }
  return s;
}

std::string cost_csv(const CostReport& r) {
  std::string s = "design,source,layer,kind,part,value\n";
  auto row = [&](const DesignCost& d, const std::string& layer, const char* kind, const std::string& part, double v) {
    s += fmt::format("{},{},{},{},{},{:.6g}\n", to_string(d.design), to_string(d.source), layer, kind, part, v);
  };
  for (const auto& d : r.designs) {
    for (const auto& l : d.layers) {
      const std::string li = std::to_string(l.index);
      row(d, li, "count", "input_sngs", static_cast<double>(l.input_sngs));
      row(d, li, "count", "weight_sngs", static_cast<double>(l.weight_sngs));
      for (int p = 0; p < kEnergyParts; ++p) row(d, li, "energy_j", to_string(static_cast<EnergyPart>(p)), l.energy_j[p]);
      for (int p = 0; p < kLatencyParts; ++p) row(d, li, "latency_s", to_string(static_cast<LatencyPart>(p)), l.latency_s[p]);
      row(d, li, "latency_s", "neuron_activation", l.neuron_activation_s);
    }
    row(d, "total", "count", "sng_devices", static_cast<double>(d.sng_devices()));
    for (int p = 0; p < kEnergyParts; ++p) row(d, "total", "energy_j", to_string(static_cast<EnergyPart>(p)), d.energy_of(static_cast<EnergyPart>(p)));
    for (int p = 0; p < kLatencyParts; ++p) row(d, "total", "latency_s", to_string(static_cast<LatencyPart>(p)), d.latency_of(static_cast<LatencyPart>(p)));
    row(d, "total", "latency_s", "neuron_activation", d.neuron_activation_latency());
    row(d, "total", "energy_j", "total", d.energy());
    row(d, "total", "latency_s", "total", d.latency());
  }
  return s;
}

void write_cost_outputs(const CostReport& r, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail("--out '{}': cannot create the directory: {}", dir.string(), ec.message());
  write_file_atomic(dir / "cost.md", cost_markdown(r, true));
  write_file_atomic(dir / "cost.json", cost_json(r).dump(2) + "\n");
  write_file_atomic(dir / "cost.csv", cost_csv(r));

  // The plot's data: one row per design: energy components in nJ, latency phases in µs, then
  // the neuron activation latency in ns split into its logic and the next layer's bias settling.
  CsvTable t;
  t.columns.push_back("design");
  for (int p = 0; p < kEnergyParts; ++p) t.columns.push_back(to_string(static_cast<EnergyPart>(p)) + "_nJ");
  for (int p = 0; p < kLatencyParts; ++p) t.columns.push_back(to_string(static_cast<LatencyPart>(p)) + "_us");
  t.columns.push_back("activation_logic_ns");
  t.columns.push_back("bias_settling_ns");
  std::string xtics;
  for (size_t i = 0; i < r.designs.size(); ++i) {
    const auto& d = r.designs[i];
    std::vector<double> row{static_cast<double>(i)};
    for (int p = 0; p < kEnergyParts; ++p) row.push_back(d.energy_of(static_cast<EnergyPart>(p)) * 1e9);
    for (int p = 0; p < kLatencyParts; ++p) row.push_back(d.latency_of(static_cast<LatencyPart>(p)) * 1e6);
    double logic = 0, settle = 0;
    for (const auto& l : d.layers)
      if (l.hidden) {
        logic += l.latency_s[static_cast<int>(LatencyPart::Activation)];
        settle += l.neuron_activation_s - l.latency_s[static_cast<int>(LatencyPart::Activation)];
      }
    row.push_back(logic * 1e9);
    row.push_back(settle * 1e9);
    t.rows.push_back(row);
    xtics += fmt::format("{}\"{}\\n{}\" {}", i ? ", " : "", to_string(d.design), source_label(d.source), i);
  }
  const auto csv = dir / "cost_plot.csv";
  write_csv(csv, t);
  const auto& a = r.architecture;
  auto title = [](std::string s) {
    std::replace(s.begin(), s.end(), '_', ' ');
    return s;
  };
  std::string body = fmt::format(
      "set multiplot layout 1,3 title {} noenhanced\n"
      "set style data histograms\nset style histogram rowstacked\nset style fill solid 0.85 border -1\n"
      "set boxwidth 0.6\nset key inside top left vertical maxrows 4 font ',9' noenhanced\nset offsets 0, 0, graph 0.4, 0\nset bmargin 4\nset grid ytics\n"
      "set xtics ({}) font ',9'\nset xrange [-0.6:{}]\nset yrange [0:*]\nset datafile columnheaders\n",
      gnuplot_string(fmt::format("{} K={} L={}, weights {}, hw '{}'", arch_text(a), a.states, r.options.length,
                                 to_string(r.options.sharing), r.hw.name)),
      xtics, r.designs.size() - 0.4);
  body += "set title 'energy per inference'\nset ylabel 'nJ'\nplot ";
  for (int p = 0; p < kEnergyParts; ++p)
    body += fmt::format("{}DATA using {} title {}", p ? ", " : "", p + 2,
                        gnuplot_string(title(to_string(static_cast<EnergyPart>(p)))));
  body += "\nset title 'latency per inference'\nset ylabel 'µs'\nplot ";
  for (int p = 0; p < kLatencyParts; ++p)
    body += fmt::format("{}DATA using {} title {}", p ? ", " : "", p + 2 + kEnergyParts,
                        gnuplot_string(title(to_string(static_cast<LatencyPart>(p)))));
  body += fmt::format(
      "\nset title 'neuron activation latency (hidden layers)'\nset ylabel 'ns'\n"
      "plot DATA using {} title 'activation logic', DATA using {} title 'next layer bias settling'\n",
      2 + kEnergyParts + kLatencyParts, 3 + kEnergyParts + kLatencyParts);
  body += "unset multiplot\n";
  render_plot(dir / "cost.png", csv, body, 1500, 600);
}

}  // namespace spinsc
