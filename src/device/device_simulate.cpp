#include "spinsc/device_simulate.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <exception>

#include "spinsc/error.hpp"
#include "spinsc/files.hpp"
#include "spinsc/llg.hpp"
#include "spinsc/markov_stream.hpp"
#include "spinsc/parallel.hpp"
#include "spinsc/context.hpp"
#include "spinsc/rng.hpp"
#include "spinsc/smtj.hpp"
#include "spinsc/smtj_source.hpp"
#include "spinsc/trace.hpp"

namespace spinsc {

namespace fs = std::filesystem;

namespace {

const double kDefaultLevels[] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};

double logit(double p) { return std::log(p / (1 - p)); }

void write_point(const fs::path& file, Trace& trace, const std::vector<float>* mz, const DeviceConfig& c,
                 bool resistance) {
  if (!resistance) {
    write_trace(file, trace);
    return;
  }
  const double rp = c.resistance_p_ohm, rap = c.resistance_ap_ohm();
  std::vector<double> ohms(static_cast<size_t>(trace.length));
  for (int64_t t = 0; t < trace.length; ++t)
    ohms[t] = mz ? rp + (rap - rp) * (1.0 + (*mz)[t]) / 2 : (trace.bit(t) ? rap : rp);
  write_file_atomic(file, format_resistance_trace(trace, ohms, (rp + rap) / 2));
}

}  // namespace

SimulationSummary simulate_traces(const SimulationRequest& r, const fs::path& out_dir, ProgressObserver* observer) {
  DeviceConfig c = r.device;
  if (r.temperature_K) {
    if (!(*r.temperature_K >= 0.1 && *r.temperature_K <= 2000)) fail("simulate: --temperature must be in [0.1, 2000] K, got {}", *r.temperature_K);
    c.temperature_K = *r.temperature_K;
  }
  if (r.delta) {
    if (!(*r.delta > 0 && *r.delta <= 200)) fail("simulate: --delta must be in (0, 200], got {}", *r.delta);
    c.delta = *r.delta;
  }
  if (r.samples < 1 || r.samples > kMaxSimulatedSamples)
    fail("simulate: --samples must be in [1, {}] (a trace file spinsc can read back), got {}", kMaxSimulatedSamples, r.samples);
  if (r.sample_period_s && !(*r.sample_period_s > 0)) fail("simulate: --period must be > 0 s, got {}", *r.sample_period_s);
  const bool llg = r.model == SimulationRequest::Model::Llg;
  SimulationSummary s;
  s.model = llg ? "llg" : "telegraph";
  s.temperature_K = c.temperature_K;

  std::vector<double> bias = r.bias_A;
  MacrospinParameters mp;
  std::optional<TelegraphMtj> mtj;
  if (llg) {
    if (r.instance) fail("simulate: --instance selects a device of the telegraph model's variation, not of the macrospin");
    if (!r.delta) c.delta = 5.0;
    if (r.alpha) c.macrospin.alpha = *r.alpha;
    if (r.time_step) c.macrospin.time_step = *r.time_step;
    mp = macrospin_parameters(c, c.delta, c.temperature_K);
    s.delta = mp.delta;
    s.llg_critical_current_A = mp.critical_current_A();
    s.telegraph_critical_current_A = mp.telegraph_critical_current_A();
    s.llg_time_unit_s = mp.time_unit_s();
    // Default Ts: half the zero-bias dwell time 2/lambda_1, so rho = exp(-1) and the dwell times are resolved.
    s.sample_period_s = r.sample_period_s.value_or(s.llg_time_unit_s / macrospin_relaxation_rate(mp.delta, mp.alpha, 0));
    if (bias.empty())
      for (double p : kDefaultLevels) bias.push_back(s.llg_critical_current_A / (4 * mp.delta) * logit(p));
  } else {
    if (r.sample_period_s) c.sample_period_s = *r.sample_period_s;
    if (r.alpha || r.time_step) fail("simulate: --alpha and --time-step apply to --model llg only");
    validate_device_config(c, fmt::format("simulate: device '{}' with the options given", c.name));
    const TelegraphMtj nominal = TelegraphMtj::nominal(c);
    mtj = r.instance ? SmtjSource(c, "smtj").device({0, 0, 0, StreamRole::Weight, *r.instance}) : nominal;
    s.delta = mtj->parameters().delta;
    s.telegraph_critical_current_A = mtj->parameters().critical_current_A;
    s.sample_period_s = c.sample_period_s;
    if (bias.empty())
      for (double p : kDefaultLevels) bias.push_back(nominal.current_for_p_ap(p));
  }
  for (double b : bias)
    if (!std::isfinite(b) || std::abs(b) > 1) fail("simulate: bias current {} A is not a finite current below 1 A", b);

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) fail("simulate: cannot create '{}': {}", out_dir.string(), ec.message());
  s.points.resize(bias.size());
  const std::string task = fmt::format("simulate {}", s.model);
  std::atomic<long> done{0};
  ParallelErrors errors;
  const std::string note = llg ? fmt::format("spinsc device simulate --model llg: Delta {:.4g}, alpha {:.3g}, mu0Hk {:.3g} T, "
                                             "eta {:.3g}, T {:.4g} K, Ic0 {:.4g} A, step {:.3g}",
                                             mp.delta, mp.alpha, mp.mu0_hk_T, mp.polarization, mp.temperature_K,
                                             s.llg_critical_current_A, mp.time_step)
                               : fmt::format("spinsc device simulate --model telegraph: device '{}'{}, Delta {:.4g}, Ic {:.4g} A, "
                                             "offset {:.4g} A, tau0 {:.3g} s",
                                             c.name, r.instance ? fmt::format(" instance {}", *r.instance) : "", s.delta,
                                             s.telegraph_critical_current_A, mtj->parameters().offset_current_A,
                                             mtj->parameters().tau0_s);
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t k = 0; k < static_cast<int64_t>(bias.size()); ++k) {
    errors.run([&] {
      SimulatedPoint& pt = s.points[k];
      pt.bias_A = bias[k];
      pt.file = out_dir / fmt::format("T{:g}_b{:02d}.trace", c.temperature_K, k);
      const uint64_t seed = derive_seed(r.seed, SeedStream::DeviceSimulate, {static_cast<uint64_t>(k), static_cast<uint64_t>(c.temperature_K * 1000)});
      Trace trace;
      std::vector<float> mz;
      if (llg) {
        MacrospinTrace m = simulate_macrospin_trace(mp, bias[k], r.samples, s.sample_period_s, seed);
        trace = std::move(m.trace);
        mz = std::move(m.mz);
        const double i = bias[k] / s.llg_critical_current_A;
        pt.p_ap_model = macrospin_p_up(mp.delta, i);
        const double lambda = macrospin_relaxation_rate(mp.delta, mp.alpha, i) / s.llg_time_unit_s;
        pt.tau_ap_model_s = 1 / (lambda * (1 - pt.p_ap_model));
        pt.tau_p_model_s = 1 / (lambda * pt.p_ap_model);
        pt.tau_ap_fpt_s = macrospin_mean_dwell(mp.delta, mp.alpha, i, 0.5, true) * s.llg_time_unit_s;
        pt.tau_p_fpt_s = macrospin_mean_dwell(mp.delta, mp.alpha, i, 0.5, false) * s.llg_time_unit_s;
      } else {
        const MarkovChain2 chain = mtj->chain(bias[k]);
        trace.bias_current_A = bias[k];
        trace.sample_period_s = s.sample_period_s;
        trace.temperature_K = c.temperature_K;
        trace.length = r.samples;
        trace.words.assign((r.samples + 63) / 64, 0);
        Xoshiro256 rng(seed);
        sample_markov_stream(chain, r.samples, rng, trace.words.data());
        pt.p_ap_model = chain.p;
        pt.tau_ap_model_s = mtj->tau_ap(bias[k]);
        pt.tau_p_model_s = mtj->tau_p(bias[k]);
      }
      trace.note = note;
      pt.p_ap_sampled = trace.fraction_ones();
      write_point(pt.file, trace, llg ? &mz : nullptr, c, r.resistance);
      const long n = ++done;
      if (observer) {
#pragma omp critical(spinsc_simulate_progress)
        observer->progress(task, n, static_cast<long>(bias.size()));
      }
    });
  }
  if (observer) observer->finished(task);
  errors.rethrow();

  nlohmann::json j;
  j["model"] = s.model;
  j["delta"] = s.delta;
  j["temperature_K"] = s.temperature_K;
  j["sample_period_s"] = s.sample_period_s;
  j["samples"] = r.samples;
  j["seed"] = r.seed;
  j["telegraph_critical_current_A"] = s.telegraph_critical_current_A;
  if (llg) {
    j["llg_critical_current_A"] = s.llg_critical_current_A;
    j["llg_time_unit_s"] = s.llg_time_unit_s;
    j["alpha"] = mp.alpha;
    j["mu0_hk_T"] = mp.mu0_hk_T;
    j["polarization"] = mp.polarization;
    j["time_step"] = mp.time_step;
  }
  j["points"] = nlohmann::json::array();
  for (const auto& p : s.points)
    j["points"].push_back({{"bias_current_A", p.bias_A},
                           {"p_ap_model", p.p_ap_model},
                           {"p_ap_sampled", p.p_ap_sampled},
                           {"tau_ap_model_s", p.tau_ap_model_s},
                           {"tau_p_model_s", p.tau_p_model_s},
                           {"tau_ap_first_passage_s", p.tau_ap_fpt_s},
                           {"tau_p_first_passage_s", p.tau_p_fpt_s},
                           {"file", p.file.filename().string()}});
  s.summary_file = out_dir / fmt::format("simulation_T{:g}.json", c.temperature_K);
  write_file_atomic(s.summary_file, j.dump(2) + "\n");
  return s;
}

std::string SimulationSummary::text() const {
  std::string t = fmt::format("{} model, Delta = {:.4g} kT at {:.4g} K, Ts = {:.4g} s", model, delta, temperature_K,
                              sample_period_s);
  if (model == "llg")
    t += fmt::format(", Ic0 = {:.4g} A (telegraph Ic = Ic0/2 = {:.4g} A), time unit {:.4g} s", llg_critical_current_A,
                     telegraph_critical_current_A, llg_time_unit_s);
  else
    t += fmt::format(", Ic = {:.4g} A", telegraph_critical_current_A);
  t += "\n";
  t += fmt::format("{:<18} {:>12} {:>10} {:>10} {:>14} {:>14}\n", "file", "bias_A", "p_model", "p_sampled",
                   "tau_AP_s", "tau_P_s");
  for (const auto& p : points)
    t += fmt::format("{:<18} {:>12.4g} {:>10.4f} {:>10.4f} {:>14.4g} {:>14.4g}\n", p.file.filename().string(), p.bias_A,
                     p.p_ap_model, p.p_ap_sampled, p.tau_ap_model_s, p.tau_p_model_s);
  t += fmt::format("summary: {}\n", summary_file.string());
  return t;
}

}  // namespace spinsc
