#include "spinsc/device_stats.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "spinsc/calibrate.hpp"
#include "spinsc/error.hpp"
#include "spinsc/markov_stream.hpp"
#include "spinsc/plot.hpp"
#include "spinsc/rng.hpp"
#include "spinsc/smtj.hpp"
#include "spinsc/smtj_source.hpp"

namespace spinsc {

namespace fs = std::filesystem;

std::vector<double> stream_autocorrelation(const uint64_t* words, int64_t length, int max_lag) {
  std::vector<double> r(static_cast<size_t>(max_lag) + 1, std::numeric_limits<double>::quiet_NaN());
  const int64_t n_words = (length + 63) / 64;
  int64_t ones = 0;
  for (int64_t i = 0; i < n_words; ++i) ones += std::popcount(words[i]);
  const double m = static_cast<double>(ones) / length, var = m * (1 - m);
  if (var <= 0) return r;
  std::vector<uint64_t> shifted(n_words);
  for (int k = 0; k <= max_lag && k < length; ++k) {
    const int64_t n = length - k;
    copy_bits(words, length, k, n, shifted.data());
    int64_t both = 0;
    for (int64_t i = 0; i < (n + 63) / 64; ++i) both += std::popcount(words[i] & shifted[i]);
    // words beyond n in the unshifted stream are masked by the zero tail of `shifted`.
    r[k] = (static_cast<double>(both) / n - m * m) / var;
  }
  return r;
}

RunLengths run_lengths(const uint64_t* words, int64_t length) {
  RunLengths out;
  const int64_t n_words = (length + 63) / 64;
  int64_t last_change = -1;
  bool last_value = false;
  for (int64_t i = 0; i < n_words; ++i) {
    // Bit t of `change` marks b[t] != b[t-1] (t >= 1).
    const uint64_t prev = (words[i] << 1) | (i > 0 ? words[i - 1] >> 63 : (words[0] & 1));
    uint64_t change = words[i] ^ prev;
    if (i == n_words - 1 && length % 64) change &= ~0ULL >> (64 - length % 64);
    while (change) {
      const int64_t t = i * 64 + std::countr_zero(change);
      change &= change - 1;
      if (last_change >= 0) (last_value ? out.ones : out.zeros).push_back(t - last_change);
      last_change = t;
      last_value = (words[t >> 6] >> (t & 63)) & 1;
    }
  }
  return out;
}

namespace {

struct TimeUnit {
  double scale;
  const char* label;
};

TimeUnit time_unit(double seconds) {
  if (seconds < 1e-6) return {1e9, "ns"};
  if (seconds < 1e-3) return {1e6, "us"};
  if (seconds < 1) return {1e3, "ms"};
  return {1, "s"};
}

double nan() { return std::numeric_limits<double>::quiet_NaN(); }

void sort_rows(CsvTable& t) {
  std::sort(t.rows.begin(), t.rows.end(), [](const auto& a, const auto& b) { return a[0] < b[0]; });
}

fs::path image_path(const fs::path& dir, const std::string& name, const StatsOptions& o) {
  if (o.image_extension != ".png" && o.image_extension != ".svg")
    fail("stats: image format '{}' is not .png or .svg", o.image_extension);
  return dir / (name + o.image_extension);
}

// Autocorrelation figure: sample values with Bartlett's standard error for a chain with lag-1
// correlation rho, against rho^k.
void autocorrelation_figure(const uint64_t* words, int64_t length, double rho, double ts, const std::string& title,
                            const fs::path& dir, const StatsOptions& o, std::vector<fs::path>& written) {
  const double lambda_ts = rho > 0 ? -std::log(rho) : std::numeric_limits<double>::infinity();
  const int max_lag = std::clamp(static_cast<int>(std::ceil(5 / lambda_ts)), 10, 200);
  const std::vector<double> r = stream_autocorrelation(words, length, max_lag);
  CsvTable t{{"lag", "lag_s", "autocorrelation", "stderr", "model_exp_minus_k_lambda_Ts"}, {}};
  const double r2 = rho * rho;
  for (int k = 0; k <= max_lag; ++k) {
    const double r2k = std::pow(rho, 2 * k);
    const double se = k == 0 ? 0 : std::sqrt(std::max(0.0, ((1 + r2) * (1 - r2k) / (1 - r2) - 2 * k * r2k) / length));
    t.rows.push_back({static_cast<double>(k), k * ts, r[k], se, std::pow(rho, k)});
  }
  const fs::path csv = dir / "autocorrelation.csv", img = image_path(dir, "autocorrelation", o);
  write_csv(csv, t);
  render_plot(img, csv,
              fmt::format("set title {} noenhanced\nset xlabel \"lag k (samples, Ts = {:.3g} s)\"\n"
                          "set ylabel \"autocorrelation\"\nset grid\nset key top right\n"
                          "plot DATA skip 1 using 1:3:4 with yerrorbars pt 7 ps 0.5 lc rgb '#1f77b4' title "
                          "\"sample (±1 s.e.)\", DATA skip 1 using 1:5 with lines lw 2 lc rgb '#d62728' title "
                          "\"exp(-k {{/Symbol l}} T_s), {{/Symbol r}} = {:.4g}\"",
                          gnuplot_string(title), ts, rho));
  written.push_back(csv), written.push_back(img);
}

// Dwell-time histogram of complete runs against the geometric law with per-sample leave
// probabilities a (AP) and b (P).
// tau_ap/tau_p: the continuous-time dwell times behind the sampled runs (NaN when unresolved).
void dwell_figure(const uint64_t* words, int64_t length, double a, double b, double tau_ap, double tau_p, double ts,
                  const std::string& title, const fs::path& dir, const StatsOptions& o, std::vector<fs::path>& written) {
  const RunLengths runs = run_lengths(words, length);
  const double mean_ap = 1 / a, mean_p = 1 / b;
  // Clamped in floating point before the conversion: a state the chain (almost) never leaves has
  // an infinite or huge mean run, which must not become a garbage bin count.
  const double longest = std::max(static_cast<double>(length), 1.0);
  auto bounded = [](double v, double lo, double hi) { return std::isnan(v) ? hi : std::clamp(v, lo, hi); };
  const int64_t width = static_cast<int64_t>(bounded(std::min(mean_ap, mean_p) / 5, 1.0, longest));
  const int64_t bins = static_cast<int64_t>(bounded(std::ceil(6 * std::max(mean_ap, mean_p) / width), 1.0, 80.0));
  std::vector<double> count_ap(bins, 0), count_p(bins, 0);
  for (auto r : runs.ones)
    if ((r - 1) / width < bins) count_ap[(r - 1) / width] += 1;
  for (auto r : runs.zeros)
    if ((r - 1) / width < bins) count_p[(r - 1) / width] += 1;
  CsvTable t{{"dwell_s", "runs_ap", "expected_ap", "runs_p", "expected_p"}, {}};
  const double n_ap = static_cast<double>(runs.ones.size()), n_p = static_cast<double>(runs.zeros.size());
  for (int64_t k = 0; k < bins; ++k) {
    const double lo = static_cast<double>(k * width + 1), hi = lo + width;  // runs in [lo, hi)
    const double e_ap = n_ap * (std::pow(1 - a, lo - 1) - std::pow(1 - a, hi - 1));
    const double e_p = n_p * (std::pow(1 - b, lo - 1) - std::pow(1 - b, hi - 1));
    t.rows.push_back({(lo + hi - 1) / 2 * ts, count_ap[k], e_ap, count_p[k], e_p});
  }
  const TimeUnit u = time_unit(std::max(mean_ap, mean_p) * ts);
  auto label = [&](const char* state, double mean, double tau) {
    std::string l = fmt::format("geometric, mean run {:.3g} s", mean * ts);
    if (std::isfinite(tau)) l += fmt::format(" (sampled exponential, tau_{{{}}} = {:.3g} s)", state, tau);
    return l;
  };
  const fs::path csv = dir / "dwell_times.csv", img = image_path(dir, "dwell_times", o);
  write_csv(csv, t);
  render_plot(img, csv,
              fmt::format("set title {} noenhanced\nset xlabel \"dwell time ({})\"\nset ylabel \"complete runs per bin\"\n"
                          "set logscale y\nset grid\nset key top right\n"
                          "plot DATA skip 1 using ($1*{}):($2>0?$2:1/0) with points pt 7 ps 0.6 lc rgb '#d62728' title "
                          "\"AP runs ({} complete)\", DATA skip 1 using ($1*{}):($3>0?$3:1/0) with lines lw 2 lc rgb '#d62728' "
                          "title \"{}\", DATA skip 1 using ($1*{}):($4>0?$4:1/0) with points pt 5 "
                          "ps 0.6 lc rgb '#1f77b4' title \"P runs ({} complete)\", DATA skip 1 using ($1*{}):($5>0?$5:1/0) "
                          "with lines lw 2 dt 2 lc rgb '#1f77b4' title \"{}\"",
                          gnuplot_string(title), u.label, u.scale, runs.ones.size(), u.scale, label("AP", mean_ap, tau_ap), u.scale,
                          runs.zeros.size(), u.scale, label("P", mean_p, tau_p)));
  written.push_back(csv), written.push_back(img);
}

std::vector<uint64_t> simulate(const MarkovChain2& c, int64_t n, uint64_t seed) {
  std::vector<uint64_t> w((n + 63) / 64);
  Xoshiro256 rng(seed);
  sample_markov_stream(c, n, rng, w.data());
  return w;
}

}  // namespace

std::vector<fs::path> write_device_stats(const DeviceConfig& config, const fs::path& dir, const StatsOptions& o) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("stats: cannot create '{}': {}", dir.string(), ec.message());
  std::vector<fs::path> written;
  const TelegraphMtj mtj = TelegraphMtj::nominal(config);
  const auto& d = mtj.parameters();
  const double w = d.critical_current_A / (2 * d.delta);
  const std::string title =
      fmt::format("{}: Delta = {:.3g} kT, Ic = {:.3g} uA, tau0 = {:.3g} s, Ts = {:.3g} s", config.name, d.delta,
                  d.critical_current_A * 1e6, d.tau0_s, config.sample_period_s);

  // Transfer curve: simulated points at 21 biases, the closed form on a fine grid.
  const SmtjSource source(config, "smtj");
  const int devices = config.variation.enabled() ? 8 : 0;
  CsvTable t{{"bias_A", "p_ap_simulated", "stderr", "p_ap_model"}, {}};
  for (int k = 0; k < devices; ++k) t.columns.push_back(fmt::format("p_ap_device_{}", k));
  auto add_row = [&](double current, double p, double se) {
    std::vector<double> row{current, p, se, mtj.p_ap(current)};
    for (int k = 0; k < devices; ++k)
      row.push_back(source.device({0, 0, 0, StreamRole::Weight, static_cast<uint64_t>(k)}).p_ap(current));
    t.rows.push_back(row);
  };
  for (int k = 0; k <= 20; ++k) {
    const double current = d.offset_current_A + w * (-5 + 0.5 * k);
    const MarkovChain2 c = mtj.chain(current);
    const auto bits = simulate(c, o.samples, derive_seed(o.seed, SeedStream::StatsSweep, {static_cast<uint64_t>(k)}));
    int64_t ones = 0;
    for (uint64_t x : bits) ones += std::popcount(x);
    const double p = static_cast<double>(ones) / o.samples;
    add_row(current, p, std::sqrt(c.p * (1 - c.p) / o.samples * markov_count_variance_factor(c.rho, o.samples)));
  }
  for (int k = 0; k <= 200; ++k) add_row(d.offset_current_A + w * (-6 + 0.06 * k), nan(), nan());
  sort_rows(t);
  fs::path csv = dir / "p_vs_bias.csv", img = image_path(dir, "p_vs_bias", o);
  write_csv(csv, t);
  std::string body = fmt::format(
      "set title {} noenhanced\nset xlabel \"bias current (uA)\"\nset ylabel \"P(AP)\"\nset grid\n"
      "set key top left\nset yrange [-0.02:1.02]\nplot ",
      gnuplot_string(title));
  for (int k = 0; k < devices; ++k)
    body += fmt::format("DATA skip 1 using ($1*1e6):{} with lines lw 1 lc rgb '#bbbbbb' {}, ", 5 + k,
                        k == 0 ? "title \"sampled devices (variation)\"" : "notitle");
  body += fmt::format(
      "DATA skip 1 using ($1*1e6):4 with lines lw 2 lc rgb '#d62728' title \"1/(1+exp(-2 Delta (I-I_0)/Ic)), "
      "w = {:.3g} uA\", DATA skip 1 using ($1*1e6):2:3 with yerrorbars pt 7 ps 0.6 lc rgb '#1f77b4' title "
      "\"simulated ({} samples per point)\"",
      w * 1e6, o.samples);
  render_plot(img, csv, body);
  written.push_back(csv), written.push_back(img);

  // Autocorrelation and dwell times at p = 1/2.
  const MarkovChain2 c = mtj.chain(d.offset_current_A);
  const auto bits = simulate(c, o.samples, derive_seed(o.seed, SeedStream::StatsTrace));
  autocorrelation_figure(bits.data(), o.samples, c.rho, config.sample_period_s, title + ", p = 1/2", dir, o, written);
  dwell_figure(bits.data(), o.samples, c.leave_one(), c.leave_zero(), mtj.tau_ap(d.offset_current_A),
               mtj.tau_p(d.offset_current_A), config.sample_period_s, title + ", p = 1/2", dir, o, written);
  return written;
}

std::vector<fs::path> write_trace_stats(const std::vector<Trace>& traces, const fs::path& dir, const StatsOptions& o) {
  if (traces.empty()) fail("stats: no traces");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("stats: cannot create '{}': {}", dir.string(), ec.message());
  std::vector<fs::path> written;
  const Calibration cal = calibrate(traces);
  const std::string title = fmt::format("trace library {} ({} traces)",
                                        fs::path(traces.front().origin).parent_path().filename().string(), traces.size());

  const fs::path csv = dir / "p_vs_bias.csv", img = image_path(dir, "p_vs_bias", o);
  if (cal.sigmoid) {
    const auto& g = *cal.sigmoid;
    auto model = [&](double i) { return 1 / (1 + std::exp(-(i - g.center_A.value) / g.width_A.value)); };
    CsvTable t{{"bias_A", "p_ap_measured", "stderr", "p_ap_fit"}, {}};
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& p : cal.points) {
      if (!p.current_A) continue;
      t.rows.push_back({*p.current_A, p.fit.p.value, p.fit.p.se, model(*p.current_A)});
      lo = std::min(lo, *p.current_A), hi = std::max(hi, *p.current_A);
    }
    const double margin = 0.1 * (hi - lo);
    for (int k = 0; k <= 200; ++k) {
      const double i = lo - margin + (hi - lo + 2 * margin) * k / 200;
      t.rows.push_back({i, nan(), nan(), model(i)});
    }
    sort_rows(t);
    write_csv(csv, t);
    render_plot(img, csv,
                fmt::format("set title {} noenhanced\nset xlabel \"bias current (uA)\"\nset ylabel \"P(AP)\"\n"
                            "set grid\nset key top left\nset yrange [-0.02:1.02]\n"
                            "plot DATA skip 1 using ($1*1e6):4 with lines lw 2 lc rgb '#d62728' title \"logistic fit: "
                            "I0 = {:.3g} uA, w = {:.3g} ± {:.2g} uA\", DATA skip 1 using ($1*1e6):2:3 with yerrorbars "
                            "pt 7 ps 0.6 lc rgb '#1f77b4' title \"traces (±1 s.e.)\"",
                            gnuplot_string(title), g.center_A.value * 1e6, g.width_A.value * 1e6, g.width_A.se * 1e6));
  } else {
    // No bias currents: replay accuracy, measured p against the target p of each trace.
    CsvTable t{{"target_p", "p_ap_measured", "stderr"}, {}};
    for (const auto& p : cal.points)
      t.rows.push_back({p.target_p.value_or(p.current_A.value_or(nan())), p.fit.p.value, p.fit.p.se});
    sort_rows(t);
    write_csv(csv, t);
    render_plot(img, csv,
                fmt::format("set title {} noenhanced\nset xlabel \"target p (header)\"\nset ylabel \"measured P(AP)\"\n"
                            "set grid\nset key top left\nplot x with lines lc rgb '#888888' title \"measured = target\", "
                            "DATA skip 1 using 1:2:3 with yerrorbars pt 7 ps 0.6 lc rgb '#1f77b4' title \"traces\"",
                            gnuplot_string(title)));
  }
  written.push_back(csv), written.push_back(img);

  // Autocorrelation and dwell times of the trace nearest p = 1/2.
  size_t best = 0;
  for (size_t i = 1; i < traces.size(); ++i)
    if (std::abs(cal.points[i].fit.p.value - 0.5) < std::abs(cal.points[best].fit.p.value - 0.5)) best = i;
  const Trace& tr = traces[best];
  const MarkovFit& f = cal.points[best].fit;
  const std::string sub = fmt::format("{}: {}, p = {:.3f}", title, fs::path(tr.origin).filename().string(), f.p.value);
  autocorrelation_figure(tr.words.data(), tr.length, std::clamp(f.rho.value, 0.0, 0.999999), tr.sample_period_s, sub, dir,
                         o, written);
  if (f.leave_one.value > 0 && f.leave_zero.value > 0)
    dwell_figure(tr.words.data(), tr.length, f.leave_one.value, f.leave_zero.value, f.tau_ap_s.value, f.tau_p_s.value,
                 tr.sample_period_s, sub, dir, o, written);
  return written;
}

}  // namespace spinsc
