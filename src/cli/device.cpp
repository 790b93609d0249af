// `spinsc device import|calibrate|simulate|stats`: s-MTJ traces and device models (docs/device.md).
#include <fmt/format.h>

#include <charconv>
#include <memory>
#include <optional>

#include "cli/command.hpp"
#include "cli/progress_line.hpp"
#include "spinsc/calibrate.hpp"
#include "spinsc/device_config.hpp"
#include "spinsc/device_simulate.hpp"
#include "spinsc/device_stats.hpp"
#include "spinsc/error.hpp"
#include "spinsc/files.hpp"
#include "spinsc/trace.hpp"

namespace spinsc::cli {
namespace {

std::vector<double> parse_double_list(const std::string& text, const std::string& flag) {
  std::vector<double> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(pos, end - pos);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    double v = 0;
    const char* begin = item.data() + (!item.empty() && item.front() == '+');
    const auto [p, ec] = std::from_chars(begin, item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || p != item.data() + item.size() || !std::isfinite(v))
      fail("{}: '{}' is not a comma-separated list of numbers (bad item '{}')", flag, text, item);
    out.push_back(v);
    pos = end + 1;
  }
  return out;
}

DeviceConfig device_or_reference(const std::string& path) {
  return path.empty() ? reference_device() : load_device_config(path);
}

struct ImportOptions {
  std::string in, out;
};

int run_import(const ImportOptions& o) {
  const auto written = import_traces(o.in, o.out);
  for (const auto& f : written) {
    const Trace t = read_trace(f);
    fmt::print("{}: {} samples, P(AP) = {:.4f}, {}\n", f.string(), t.length, t.fraction_ones(),
               t.bias_current_A ? fmt::format("bias {:.4g} A", *t.bias_current_A) : fmt::format("target p {:.4g}", *t.target_p));
  }
  fmt::print("imported {} trace(s) into {}\n", written.size(), o.out);
  return 0;
}

struct CalibrateOptions {
  std::string traces, write_device, base_device;
  bool json = false;
  double tau0 = 1e-9;
};

int run_calibrate(const CalibrateOptions& o) {
  const Calibration c = calibrate(load_trace_library(o.traces), o.tau0);
  fmt::print("{}", o.json ? calibration_json(c) : calibration_text(c));
  if (!o.write_device.empty()) {
    write_file_atomic(o.write_device, to_json_text(fitted_device(c, device_or_reference(o.base_device))));
    if (!o.json) fmt::print("fitted device description: {}\n", o.write_device);
  }
  return 0;
}

struct SimulateOptions {
  std::string model = "telegraph", device, out, bias, format;
  int64_t samples = 0;
  std::optional<double> period, delta, temperature, alpha, time_step;
  std::optional<uint64_t> instance;
  uint64_t seed = 1;
  bool quiet = false;
};

int run_simulate(const SimulateOptions& o) {
  SimulationRequest r;
  r.model = o.model == "llg" ? SimulationRequest::Model::Llg : SimulationRequest::Model::Telegraph;
  r.device = device_or_reference(o.device);
  if (!o.bias.empty()) r.bias_A = parse_double_list(o.bias, "--bias");
  r.samples = o.samples > 0 ? o.samples : (r.model == SimulationRequest::Model::Llg ? 4000 : 20000);
  r.sample_period_s = o.period;
  r.delta = o.delta;
  r.temperature_K = o.temperature;
  r.alpha = o.alpha;
  r.time_step = o.time_step;
  r.instance = o.instance;
  r.seed = o.seed;
  r.resistance = o.format.empty() ? r.model == SimulationRequest::Model::Llg : o.format == "resistance";
  ProgressLine progress(o.quiet);
  fmt::print("{}", simulate_traces(r, o.out, &progress).text());
  return 0;
}

struct StatsOptionsCli {
  std::string device, traces, out, format = "png";
  int64_t samples = 1 << 20;
  uint64_t seed = 1;
};

int run_stats(const StatsOptionsCli& o) {
  if (!o.device.empty() && !o.traces.empty()) fail("stats: give --device or --traces, not both");
  StatsOptions s;
  s.image_extension = "." + o.format;
  s.samples = o.samples;
  s.seed = o.seed;
  const auto written = o.traces.empty() ? write_device_stats(device_or_reference(o.device), o.out, s)
                                        : write_trace_stats(load_trace_library(o.traces), o.out, s);
  for (const auto& f : written) fmt::print("{}\n", f.string());
  return 0;
}

const bool registered = register_command("device", "s-MTJ devices: import/calibrate traces, simulate, plot statistics", [](CLI::App& app) {
  app.require_subcommand(1);

  auto imp = std::make_shared<ImportOptions>();
  CLI::App* import_cmd = app.add_subcommand("import", "Validate trace files and convert them to canonical bit traces");
  import_cmd->add_option("--in", imp->in, "A trace file or a directory of them")->required();
  import_cmd->add_option("--out", imp->out, "Directory for the canonical <stem>.trace files")->required();

  auto cal = std::make_shared<CalibrateOptions>();
  CLI::App* calibrate_cmd = app.add_subcommand("calibrate", "Fit p(I) and the dwell times of a trace library (maximum likelihood)");
  calibrate_cmd->add_option("--traces", cal->traces, "Trace library: a directory of *.trace files")->required();
  calibrate_cmd->add_flag("--json", cal->json, "Print JSON instead of the table");
  calibrate_cmd->add_option("--tau0", cal->tau0, "Attempt time assumed to turn ln(tau0)+Delta into Delta when the traces have one temperature (s)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  calibrate_cmd->add_option("--write-device", cal->write_device, "Also write the fitted device description (JSON) here");
  calibrate_cmd->add_option("--base-device", cal->base_device, "Description whose other fields the fitted one keeps (default: reference)");

  auto sim = std::make_shared<SimulateOptions>();
  CLI::App* simulate_cmd = app.add_subcommand("simulate", "Write traces from the telegraph model or the macrospin LLG");
  simulate_cmd->add_option("--model", sim->model, "telegraph or llg")->check(CLI::IsMember({"telegraph", "llg"}))->capture_default_str();
  simulate_cmd->add_option("--device", sim->device, "Device description (default: the built-in reference device)");
  simulate_cmd->add_option("--out", sim->out, "Output directory")->required();
  simulate_cmd->add_option("--bias", sim->bias, "Comma-separated bias currents in A (default: P(AP) = 0.1..0.9 of the model)");
  simulate_cmd->add_option("--samples", sim->samples, "Samples per bias point (default 20000 telegraph, 4000 llg)")->check(CLI::Range(int64_t{1}, kMaxSimulatedSamples));
  simulate_cmd->add_option("--period", sim->period, "Sample period Ts in s (default: the device's; llg: half the zero-bias dwell time)")->check(CLI::PositiveNumber);
  simulate_cmd->add_option("--seed", sim->seed, "Random seed")->capture_default_str();
  simulate_cmd->add_option("--delta", sim->delta, "Barrier in kT at the reference temperature (default: the device's; llg: 5)")->check(CLI::PositiveNumber);
  simulate_cmd->add_option("--temperature", sim->temperature, "Temperature in K (Delta scales as 1/T)")->check(CLI::PositiveNumber);
  simulate_cmd->add_option("--alpha", sim->alpha, "llg: Gilbert damping (default: the device's macrospin.alpha)")->check(CLI::PositiveNumber);
  simulate_cmd->add_option("--time-step", sim->time_step, "llg: Heun step in reduced time units")->check(CLI::Range(1e-6, 0.5));
  simulate_cmd->add_option("--instance", sim->instance, "telegraph: simulate this device index of the description's variation");
  simulate_cmd->add_option("--format", sim->format, "bits or resistance (default: bits for telegraph, resistance for llg)")
      ->check(CLI::IsMember({"bits", "resistance"}));
  simulate_cmd->add_flag("--quiet", sim->quiet, "No progress line");

  auto st = std::make_shared<StatsOptionsCli>();
  CLI::App* stats_cmd = app.add_subcommand("stats", "Plots: p vs bias, autocorrelation vs lag, dwell-time histogram (CSV + image)");
  stats_cmd->add_option("--device", st->device, "Device description (default: the built-in reference device)");
  stats_cmd->add_option("--traces", st->traces, "Trace library instead of a device");
  stats_cmd->add_option("--out", st->out, "Output directory")->required();
  stats_cmd->add_option("--format", st->format, "Image format")->check(CLI::IsMember({"png", "svg"}))->capture_default_str();
  stats_cmd->add_option("--samples", st->samples, "Simulated samples per bias point (device)")->check(CLI::Range(int64_t{1000}, int64_t{1} << 30))->capture_default_str();
  stats_cmd->add_option("--seed", st->seed, "Random seed (device)")->capture_default_str();

  return CommandRun([=]() {
    if (import_cmd->parsed()) return run_import(*imp);
    if (calibrate_cmd->parsed()) return run_calibrate(*cal);
    if (simulate_cmd->parsed()) return run_simulate(*sim);
    return run_stats(*st);
  });
});

}  // namespace
}  // namespace spinsc::cli
