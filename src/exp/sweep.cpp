#include "spinsc/sweep.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <set>

#include "spinsc/cost_model.hpp"
#include "spinsc/data_fetch.hpp"
#include "spinsc/dataset.hpp"
#include "spinsc/device_config.hpp"
#include "spinsc/digital.hpp"
#include "spinsc/error.hpp"
#include "spinsc/files.hpp"
#include "spinsc/hw_params.hpp"
#include "spinsc/model_io.hpp"
#include "spinsc/plot.hpp"
#include "spinsc/recipes.hpp"
#include "spinsc/rng.hpp"
#include "spinsc/sc_engine.hpp"
#include "spinsc/sc_noise.hpp"
#include "spinsc/results.hpp"
#include "spinsc/sc_noise_setup.hpp"
#include "spinsc/smtj_source.hpp"
#include "spinsc/trace_source.hpp"
#include "spinsc/train.hpp"

namespace spinsc {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string checksum(const json& config, const json& result) { return sha256_hex(json{{"config", config}, {"result", result}}.dump()); }

// The bits a job's configuration names: {"source": "ideal" | "lfsr[:n]" | "sobol" | "smtj", "device": {...}}
// or {"source": "trace:<absolute dir>", "library_sha256": "..."}.
std::shared_ptr<const BitSource> bits_of(const json& bits) {
  const std::string source = bits.at("source").get<std::string>();
  if (source == "smtj") {
    const DeviceConfig device = parse_device_config(bits.at("device").dump(), "the job's device");
    return std::make_shared<SmtjSource>(device, "smtj");
  }
  if (source.starts_with("trace:")) {
    // The job's id stands for the traces it was made from: other traces would give results
    // stored under the wrong identity.
    const std::filesystem::path dir = source.substr(6);
    const std::string expected = bits.at("library_sha256").get<std::string>();
    const std::string now = trace_library_sha256(dir);
    if (now != expected)
      fail("sweep: the trace library '{}' has changed since the plan was expanded (its checksum is {}, the job's {}); "
           "expand the plan again to make the jobs of the traces it holds now",
           dir.string(), now.substr(0, 12), expected.substr(0, 12));
    return std::shared_ptr<const BitSource>(TraceSource::open(dir));
  }
  return std::shared_ptr<const BitSource>(make_bit_source(source));
}

// Moves what depends on the run rather than on the job's configuration (wall times, thread
// counts) out of a model's training metadata, and returns it: the model's bytes are then the
// same on every executor and every rerun, which the record's model_sha256 relies on, and the
// times go to the record's timing (outside its checksum) as {"threads", "seconds_per_epoch",
// "epochs": [{"epoch", "seconds", "threads"}, ...]}.
json take_run_metadata(json& training) {
  json timing = json::object();
  for (const char* key : {"threads", "seconds_per_epoch"})
    if (training.contains(key)) timing[key] = training[key], training.erase(key);
  if (training.contains("history")) {
    json& epochs = timing["epochs"] = json::array();
    for (json& h : training["history"]) {
      json e = {{"epoch", h.value("epoch", json())}};
      for (const char* key : {"seconds", "threads"})
        if (h.contains(key)) e[key] = h[key], h.erase(key);
      epochs.push_back(e);
    }
  }
  return timing;
}

// What a job's recipe gives: its result, and run facts for the record's timing.
struct Outcome {
  json result;
  json timing = json::object();
};

fs::path data_dir(const SweepOptions& o) { return o.data_dir.empty() ? default_data_dir() : fs::path(o.data_dir); }

Outcome train_job(const Job& job, const SweepStore& store, const SweepOptions& o) {
  const json& c = job.config;
  TrainRecipe recipe;
  TrainConfig& t = recipe.config;
  t.dataset = c.at("dataset").get<std::string>();
  t.threads = o.threads;
  recipe.train_limit = c.value("train_limit", 0);  // absent: every image (jobs_of adds it when > 0)
  std::optional<Network> init;
  std::shared_ptr<const BitSource> noise_source;
  const uint64_t seed = c.at("seed").get<uint64_t>();
  if (c.contains("init")) {
    init = load_model(store.model_path(c.at("init").get<std::string>()));
    recipe.init = &*init;
    recipe.init_name = (fs::path("models") / store.model_path(c.at("init").get<std::string>()).filename()).string();
    t.arch = init->architecture;
    t.states = init->states;
    t.mode = parse_train_mode(c.at("mode").get<std::string>());
    t.epochs = c.at("epochs").get<int>();
    if (c.contains("noise")) {
      const int L = c.at("noise").at("length").get<int>();
      t.seed = derive_seed(seed, SeedStream::ScTraining, {static_cast<uint64_t>(L)});
      noise_source = bits_of(c.at("noise").at("bits"));
      recipe.sc.source = noise_source->name();
      recipe.sc.length = L;
    } else {
      t.seed = derive_seed(seed, SeedStream::ContinuationTraining);
    }
  } else {
    t.arch = parse_architecture(c.at("arch").get<std::string>());
    t.mode = parse_train_mode(c.at("mode").get<std::string>());
    t.states = t.mode == TrainMode::Float ? TrainConfig{}.states : c.at("states").get<int>();
    t.epochs = c.at("epochs").get<int>();
    t.seed = seed;
  }
  const Dataset train = load_dataset(t.dataset, data_dir(o), Split::Train);
  const Dataset test = load_dataset(t.dataset, data_dir(o), Split::Test);
  TrainedModel trained = train_model(recipe, train, test, Context{}, {}, noise_source);
  Network& net = trained.network;
  json timing = take_run_metadata(net.training);
  net.training["job"] = job.id;
  // The model before its record (SweepStore): a record always finds its model written; its
  // sha256 lets record() tell a damaged or replaced model from the one this job wrote.
  save_model(store.model_path(job.id), net);
  json result = {{"model", fs::path("models") / store.model_path(job.id).filename()},
                 {"digital_accuracy", trained.digital_accuracy},
                 {"test_images", test.count},
                 {"model_sha256", sha256_hex(read_file(store.model_path(job.id)))}};
  return {std::move(result), std::move(timing)};
}

json evaluate_job(const Job& job, const SweepStore& store, const SweepOptions& o) {
  const json& c = job.config;
  const Network net = load_model(store.model_path(c.at("model").get<std::string>()));
  Dataset test = load_dataset(c.at("dataset").get<std::string>(), data_dir(o), Split::Test);
  const int all = test.count;
  if (c.at("limit").get<int>() > 0) test = test.head(c.at("limit").get<int>());
  ScConfig sc;
  sc.source = c.at("bits").at("source").get<std::string>();
  sc.length = c.at("length").get<int>();
  sc.multiply = parse_multiply(c.at("multiply").get<std::string>());
  sc.accumulate = parse_accumulate(c.at("accumulate").get<std::string>());
  sc.sharing = parse_sharing(c.at("sharing").get<std::string>());
  sc.analog = c.at("analog").get<bool>();
  sc.exact_bits = c.at("exact_bits").get<bool>();
  sc.seed = c.at("seed").get<uint64_t>();
  const Evaluation e = evaluate_sc(net, sc, test, c.at("repeats").get<int>(), o.threads, Context{}, true, bits_of(c.at("bits")));
  json r = e.record();
  r.erase("seconds");  // wall time goes to the record's timing, outside the checksum: results are reproducible
  r["test_images"] = all;
  return r;
}

json cost_job(const Job& job) {
  const json& c = job.config;
  CostOptions options;
  options.length = c.at("length").get<int>();
  options.sharing = parse_cost_sharing(c.at("sharing").get<std::string>());
  options.multiply = parse_multiply(c.at("multiply").get<std::string>());
  options.accumulate = parse_accumulate(c.at("accumulate").get<std::string>());
  // One device for accuracy and cost (SPEC §11): an smtj cell's device gives the s-MTJ figures.
  HwParams hw = default_hw_params();
  if (c.contains("device")) hw = with_device(std::move(hw), parse_device_config(c.at("device").dump(), "the job's device"), "the cell's device");
  const CostReport r = cost_report(cost_architecture(parse_architecture(c.at("arch").get<std::string>()), c.at("states").get<int>()),
                                   options, hw);
  json out = cost_json(r);
  out.erase("parameters");  // the built-in hardware file's (its name is in config.hw) and the cell's device
  return out;
}

}  // namespace

SweepStore::SweepStore(fs::path dir) : dir_(std::move(dir)) {
  for (const char* sub : {"jobs", "models"}) {
    std::error_code ec;
    fs::create_directories(dir_ / sub, ec);
    if (ec) fail("sweep: cannot create '{}': {}", (dir_ / sub).string(), ec.message());
  }
}

fs::path SweepStore::record_path(const std::string& id) const { return dir_ / "jobs" / (id + ".json"); }
fs::path SweepStore::model_path(const std::string& id) const { return dir_ / "models" / (id + ".safetensors"); }

std::optional<json> SweepStore::record(const Job& job) const {
  const fs::path p = record_path(job.id);
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return std::nullopt;
  try {
    const json r = json::parse(read_file(p));
    if (r.at("job") != job.id || r.at("config") != job.config || r.at("schema_version") != kResultSchema ||
        r.at("checksum") != checksum(r.at("config"), r.at("result")))
      return std::nullopt;
    if (job.kind == "train") {
      // A record from before model_sha256 existed trusts a model that exists; a newer one only
      // the model it wrote (a truncated or overwritten file fails here, or throws in read_file).
      const json& result = r.at("result");
      if (result.contains("model_sha256") ? sha256_hex(read_file(model_path(job.id))) != result.at("model_sha256")
                                          : !fs::is_regular_file(model_path(job.id), ec))
        return std::nullopt;
    }
    return r;
  } catch (const std::exception&) {
    return std::nullopt;  // damaged: the job runs again and replaces it
  }
}

void SweepStore::write_record(const Job& job, const json& result, double seconds, const json& timing) const {
  json r = record_header("job");
  json times = {{"seconds", seconds}};
  if (timing.is_object()) times.update(timing);
  r.update({{"job", job.id}, {"kind", job.kind}, {"config", job.config}, {"inputs", job.inputs},
                  {"result", result}, {"checksum", checksum(job.config, result)}, {"timing", times}});
  write_file_atomic(record_path(job.id), r.dump(1) + "\n");
}

int shard_of(const JobGraph& graph, size_t job, int shards) {
  if (shards < 1) fail("sweep: {} shards", shards);
  // Follow the first input back to a job without inputs: the chain's root decides.
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < graph.jobs.size(); ++i) index[graph.jobs[i].id] = i;
  size_t j = job;
  while (!graph.jobs[j].inputs.empty()) j = index.at(graph.jobs[j].inputs.front());
  return static_cast<int>(std::stoull(graph.jobs[j].id.substr(0, 12), nullptr, 16) % static_cast<uint64_t>(shards));
}

json run_job(const Job& job, const SweepStore& store, const SweepOptions& options) {
  for (const auto& in : job.inputs)
    if (!fs::exists(store.record_path(in)))
      fail("sweep: job {} needs job {}, which has not finished", job.id.substr(0, 12), in.substr(0, 12));
  const auto t0 = std::chrono::steady_clock::now();
  Outcome out;
  if (job.kind == "train") out = train_job(job, store, options);
  else if (job.kind == "evaluate") out.result = evaluate_job(job, store, options);
  else if (job.kind == "cost") out.result = cost_job(job);
  else fail("sweep: unknown job kind '{}'", job.kind);
  store.write_record(job, out.result, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), out.timing);
  return out.result;
}

json sweep_results(const std::vector<CellConfig>& cells, const JobGraph& graph, const SweepStore& store) {
  std::map<std::string, const Job*> by_id;
  for (const Job& j : graph.jobs) by_id[j.id] = &j;
  json rows = json::array();
  for (size_t i = 0; i < cells.size(); ++i) {
    const auto& [evaluation, costing] = graph.cells.at(i);
    const auto e = store.record(*by_id.at(evaluation));
    const auto c = store.record(*by_id.at(costing));
    json row = {{"cell", i}, {"config", cells[i].to_json()}, {"evaluate_job", evaluation}, {"cost_job", costing}};
    row["evaluation"] = e ? (*e)["result"] : json(nullptr);
    row["cost"] = c ? json{{"latency_s", (*c)["result"]["latency_s"]}, {"energy_j", (*c)["result"]["energy_j"]},
                           {"neuron_activation_latency_s", (*c)["result"]["neuron_activation_latency_s"]}}
                    : json(nullptr);
    rows.push_back(row);
  }
  return rows;
}

namespace {

// The design a cell's accuracy belongs to: its training's (analog for float networks) with its
// source's SNGs (LFSR for lfsr sources, s-MTJ otherwise).
std::string design_key(const json& config) {
  const std::string source = config.at("source").get<std::string>();
  return fmt::format("{}_{}", config.at("training") == "float" ? "analog" : "quantized", source.starts_with("lfsr") ? "lfsr" : "smtj");
}

std::string csv_field(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) {
      if (c == '"') q += '"';
      q += c;
    }
    q += '"';
    return q;
  }
  if (v.is_number_float()) return fmt::format("{:.10g}", v.get<double>());
  return v.dump();
}

// Indices of the rows on the front: sorted by cost, each more accurate than every cheaper one.
std::vector<size_t> front(const std::vector<std::pair<double, double>>& cost_accuracy) {
  std::vector<size_t> order(cost_accuracy.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return cost_accuracy[a].first != cost_accuracy[b].first ? cost_accuracy[a].first < cost_accuracy[b].first
                                                            : cost_accuracy[a].second > cost_accuracy[b].second;
  });
  std::vector<size_t> out;
  double best = -1;
  for (size_t i : order)
    if (cost_accuracy[i].second > best) out.push_back(i), best = cost_accuracy[i].second;
  return out;
}

// Accuracy against one numeric setting that varies between the cells (L, or a device parameter
// such as the clock period), one line per combination of the other settings that vary: files
// accuracy_vs_<name>.{csv,png,svg,pdf} (+ .gp). The CSV is long: series, x, accuracy_pct,
// ci_low_pct, ci_high_pct (the 95% interval; the mean itself for a single repeat), and the
// series' labels are in accuracy_vs_<name>_series.csv.
std::vector<fs::path> write_accuracy_views(const std::vector<json>& done, const std::vector<std::string>& settings,
                                           const std::vector<std::string>& device_columns, const fs::path& dir) {
  // Every column's value per cell (settings by name, device parameters by their JSON pointer).
  std::vector<std::string> columns;
  std::vector<std::vector<json>> values(done.size());
  for (const auto& k : settings) columns.push_back(k);
  for (const auto& k : device_columns) columns.push_back("device" + k);
  for (size_t i = 0; i < done.size(); ++i) {
    const json& c = done[i]["config"];
    const json flat = c.contains("device") ? c["device"].flatten() : json::object();
    for (const auto& k : settings) values[i].push_back(c.value(k, json()));
    for (const auto& k : device_columns) values[i].push_back(flat.value(k, json()));
  }
  std::vector<size_t> varying;
  for (size_t k = 0; k < columns.size(); ++k) {
    std::set<std::string> seen;
    for (const auto& v : values) seen.insert(v[k].dump());
    if (seen.size() > 1) varying.push_back(k);
  }
  std::vector<fs::path> written;
  // The series of a view: each cell labelled by the varying columns the view does not plot, the
  // labels in order of first appearance; returns the labels and each cell's series.
  auto series_of_cells = [&](std::initializer_list<size_t> plotted) {
    std::pair<std::vector<std::string>, std::vector<size_t>> out;
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < done.size(); ++i) {
      std::string label;
      for (size_t k : varying)
        if (std::find(plotted.begin(), plotted.end(), k) == plotted.end())
          label += fmt::format("{}{}={}", label.empty() ? "" : ", ", columns[k], csv_field(values[i][k]));
      if (label.empty()) label = "all cells";
      if (!index.contains(label)) index[label] = out.first.size(), out.first.push_back(label);
      out.second.push_back(index[label]);
    }
    return out;
  };
  auto write_series_labels = [&](const std::string& base, const std::vector<std::string>& labels) {
    std::string csv = "series,label\n";
    for (size_t s = 0; s < labels.size(); ++s) csv += fmt::format("{},{}\n", s, csv_field(json(labels[s])));
    write_file_atomic(dir / (base + "_series.csv"), csv);
    written.push_back(dir / (base + "_series.csv"));
  };
  // Cell i's accuracy and its 95% interval in percent (the mean itself for a single repeat).
  auto accuracy_pct = [&](size_t i) {
    const json& e = done[i]["evaluation"];
    const double a = 100 * e["accuracy_mean"].get<double>();
    const json& ci = e["accuracy_ci95"];
    return std::array<double, 3>{a, ci.is_array() ? 100 * ci[0].get<double>() : a, ci.is_array() ? 100 * ci[1].get<double>() : a};
  };
  auto short_name = [&](size_t k) { return columns[k] == "length" ? columns[k] : columns[k].substr(columns[k].rfind('/') + 1); };
  auto axis_label = [&](size_t k) {
    const std::string n = short_name(k);
    return columns[k] == "length" ? std::string("stream length L (bits)")
           : n.ends_with("_s")    ? fmt::format("device {} (s)", n)
           : n.ends_with("_A")    ? fmt::format("device {} (A)", n)
           : n.ends_with("_K")    ? fmt::format("device {} (K)", n)
                                  : fmt::format("device {}", n);
  };
  for (size_t x : varying) {
    const bool numeric = std::all_of(values.begin(), values.end(), [&](const auto& v) { return v[x].is_number(); });
    if (!numeric || (columns[x] != "length" && !columns[x].starts_with("device"))) continue;
    const auto [labels, series] = series_of_cells({x});
    std::vector<std::tuple<size_t, double, size_t>> points;  // series, x, cell
    for (size_t i = 0; i < done.size(); ++i) points.emplace_back(series[i], values[i][x].get<double>(), i);
    std::sort(points.begin(), points.end());
    const std::string name = short_name(x);
    const std::string base = "accuracy_vs_" + name;
    CsvTable t{{"series", name, "accuracy_pct", "ci_low_pct", "ci_high_pct"}, {}};
    double lo = HUGE_VAL, hi = 0;
    for (const auto& [s, xv, cell] : points) {
      const auto [a, ci_low, ci_high] = accuracy_pct(cell);
      t.rows.push_back({static_cast<double>(s), xv, a, ci_low, ci_high});
      lo = std::min(lo, xv), hi = std::max(hi, xv);
    }
    write_csv(dir / (base + ".csv"), t);
    written.push_back(dir / (base + ".csv"));
    write_series_labels(base, labels);
    const std::string xlabel = axis_label(x);
    std::string plot;
    for (size_t s = 0; s < labels.size(); ++s)
      plot += fmt::format("{}DATA using 2:($1=={} ? $3 : 1/0):4:5 with yerrorlines lw 1.5 pt 7 ps 0.6 title {}", s ? ", " : "", s,
                          gnuplot_string(labels[s]));
    const std::string body = fmt::format(
        "set title {} noenhanced\nset xlabel {} noenhanced\nset ylabel 'test accuracy (%)'\nset grid\n"
        "set key outside right top vertical noenhanced\nset offsets graph 0.03, graph 0.03, 0, 0\n"
        "set datafile columnheaders\n{}plot {}",
        gnuplot_string(fmt::format("accuracy vs {}: mean over repeats with its 95% interval", name)), gnuplot_string(xlabel),
        lo > 0 && hi / lo >= 20 ? "set logscale x\nset format x '%g'\n" : "", plot);
    for (const char* ext : {".png", ".svg", ".pdf"}) {
      render_plot(dir / (base + ext), dir / (base + ".csv"), body, 1100, 600);
      written.push_back(dir / (base + ext));
    }
  }
  // Heatmaps: accuracy over every pair of numeric device parameters that vary (the issue's "two
  // device axes", e.g. clock and barrier), one map per combination of the other varying settings.
  // Files accuracy_map_<x>_<y>.csv (long: series, x, y, accuracy_pct, ci_low_pct, ci_high_pct),
  // _series.csv (labels) and per series an image accuracy_map_<x>_<y>[_<series>].{png,svg,pdf}:
  // each cell a coloured square (the palette is the accuracy) with its value printed on it, so
  // that log-spaced and irregular grids read as well as regular ones.
  std::vector<size_t> device_axes;
  for (size_t k : varying)
    if (columns[k].starts_with("device") &&
        std::all_of(values.begin(), values.end(), [&](const auto& v) { return v[k].is_number(); }))
      device_axes.push_back(k);
  for (size_t a = 0; a < device_axes.size(); ++a)
    for (size_t b = a + 1; b < device_axes.size(); ++b) {
      const size_t x = device_axes[a], y = device_axes[b];
      const auto [labels, series] = series_of_cells({x, y});
      CsvTable t{{"series", short_name(x), short_name(y), "accuracy_pct", "ci_low_pct", "ci_high_pct"}, {}};
      double xlo = HUGE_VAL, xhi = 0, ylo = HUGE_VAL, yhi = 0;
      for (size_t i = 0; i < done.size(); ++i) {
        const double xv = values[i][x].get<double>(), yv = values[i][y].get<double>();
        const auto [acc, ci_low, ci_high] = accuracy_pct(i);
        t.rows.push_back({static_cast<double>(series[i]), xv, yv, acc, ci_low, ci_high});
        xlo = std::min(xlo, xv), xhi = std::max(xhi, xv), ylo = std::min(ylo, yv), yhi = std::max(yhi, yv);
      }
      std::sort(t.rows.begin(), t.rows.end());
      const std::string base = fmt::format("accuracy_map_{}_{}", short_name(x), short_name(y));
      write_csv(dir / (base + ".csv"), t);
      written.push_back(dir / (base + ".csv"));
      write_series_labels(base, labels);
      const bool logx = xlo > 0 && xhi / xlo >= 20, logy = ylo > 0 && yhi / ylo >= 20;
      for (size_t s = 0; s < labels.size(); ++s) {
        const std::string body = fmt::format(
            "set title {} noenhanced\nset xlabel {} noenhanced\nset ylabel {} noenhanced\nset cblabel 'test accuracy (%)'\n"
            "set palette rgbformulae 33,13,10\nset offsets graph 0.08, graph 0.08, graph 0.08, graph 0.08\nset grid\n"
            "set datafile columnheaders\n{}{}"
            "plot DATA using 2:($1=={} ? $3 : 1/0):4 with points pt 5 ps 9 palette notitle, "
            "DATA using 2:($1=={} ? $3 : 1/0):(sprintf('%.2f', $4)) with labels font ',8' notitle",
            gnuplot_string(fmt::format("accuracy (%, mean over repeats): {}", labels[s])), gnuplot_string(axis_label(x)),
            gnuplot_string(axis_label(y)), logx ? "set logscale x\nset format x '%g'\n" : "",
            logy ? "set logscale y\nset format y '%g'\n" : "", s, s);
        const std::string image = labels.size() == 1 ? base : fmt::format("{}_{}", base, s);
        for (const char* ext : {".png", ".svg", ".pdf"}) {
          render_plot(dir / (image + ext), dir / (base + ".csv"), body, 900, 700);
          written.push_back(dir / (image + ext));
        }
      }
    }
  return written;
}

}  // namespace

std::vector<fs::path> write_sweep_report(const json& rows, const fs::path& dir) {
  std::vector<json> done;
  for (const auto& r : rows)
    if (!r.at("evaluation").is_null() && !r.at("cost").is_null()) done.push_back(r);
  std::vector<fs::path> written;
  // Each cell's device parameters by JSON pointer (an empty object for a cell without a device).
  std::vector<json> devices;
  for (const auto& r : done) devices.push_back(r["config"].contains("device") ? r["config"]["device"].flatten() : json::object());
  // Device parameters that vary between cells become columns.
  std::vector<std::string> device_columns;
  {
    std::map<std::string, std::set<std::string>> values;
    for (const json& flat : devices)
      for (const auto& [k, v] : flat.items()) values[k].insert(v.dump());
    for (const auto& [k, v] : values)
      if (v.size() > 1 && k != "/description") device_columns.push_back(k);  // free text: the name stands for it
  }
  // A parameter that differs between cells only because the device does (a literature device's
  // barrier, attempt time, ...) is an attribute that the device's name stands for: it stays in the
  // tables but not in the plots, whose axes and series are what the plan sweeps (the clock).
  std::vector<std::string> plotted_device_columns;
  const bool named = std::find(device_columns.begin(), device_columns.end(), "/name") != device_columns.end();
  for (const auto& k : device_columns) {
    std::map<std::string, std::set<std::string>> per_device;  // name -> values of k
    for (const json& flat : devices)
      if (!flat.empty()) per_device[flat.value("/name", json()).dump()].insert(flat.value(k, json()).dump());
    const bool swept = std::any_of(per_device.begin(), per_device.end(), [](const auto& d) { return d.second.size() > 1; });
    if (!named || k == "/name" || swept) plotted_device_columns.push_back(k);
  }
  const std::vector<std::string> settings = {"arch", "states", "dataset", "training", "source", "length", "sharing",
                                             "multiply", "accumulate", "repeats", "seed"};
  std::string csv = "cell";
  for (const auto& k : settings) csv += fmt::format(",{}", k);
  for (const auto& k : device_columns) csv += fmt::format(",device{}", k);
  csv += ",accuracy_mean,accuracy_std,accuracy_ci95_low,accuracy_ci95_high,digital_accuracy,images,design,latency_s,energy_j,"
         "neuron_activation_latency_s\n";
  std::vector<std::pair<double, double>> by_energy, by_latency;
  for (size_t i = 0; i < done.size(); ++i) {
    const json& r = done[i];
    const json& c = r["config"];
    const json& e = r["evaluation"];
    const std::string design = design_key(c);
    csv += std::to_string(r["cell"].get<int>());
    for (const auto& k : settings) csv += fmt::format(",{}", csv_field(c.value(k, json())));
    for (const auto& k : device_columns) csv += fmt::format(",{}", csv_field(devices[i].value(k, json())));
    const json& ci = e["accuracy_ci95"];
    csv += fmt::format(",{},{},{},{},{},{},{},{},{},{}\n", csv_field(e["accuracy_mean"]), csv_field(e["accuracy_std"]),
                       csv_field(ci.is_array() ? ci[0] : json()), csv_field(ci.is_array() ? ci[1] : json()),
                       csv_field(e["digital_accuracy"]), csv_field(e["images"]), design, csv_field(r["cost"]["latency_s"][design]),
                       csv_field(r["cost"]["energy_j"][design]), csv_field(r["cost"]["neuron_activation_latency_s"][design]));
    by_energy.emplace_back(r["cost"]["energy_j"][design].get<double>(), e["accuracy_mean"].get<double>());
    by_latency.emplace_back(r["cost"]["latency_s"][design].get<double>(), e["accuracy_mean"].get<double>());
  }
  write_file_atomic(dir / "results.csv", csv);
  written.push_back(dir / "results.csv");

  const auto fe = front(by_energy), fl = front(by_latency);
  std::string pareto = "front,cell,arch,states,training,length,design,accuracy_mean,energy_j,latency_s";
  for (const auto& k : device_columns) pareto += fmt::format(",device{}", k);
  pareto += "\n";
  for (const auto& [name, idx] : {std::pair{"energy", fe}, std::pair{"latency", fl}})
    for (size_t i : idx) {
      const json& r = done[i];
      const std::string design = design_key(r["config"]);
      pareto += fmt::format("{},{},{},{},{},{},{},{},{},{}", name, r["cell"].get<int>(), csv_field(r["config"]["arch"]),
                            r["config"]["states"].get<int>(), csv_field(r["config"]["training"]), r["config"]["length"].get<int>(),
                            design, csv_field(r["evaluation"]["accuracy_mean"]), csv_field(r["cost"]["energy_j"][design]),
                            csv_field(r["cost"]["latency_s"][design]));
      for (const auto& k : device_columns) pareto += fmt::format(",{}", csv_field(devices[i].value(k, json())));  // as in results.csv
      pareto += "\n";
    }
  write_file_atomic(dir / "pareto.csv", pareto);
  written.push_back(dir / "pareto.csv");
  if (done.empty()) return written;

  // Plots: every cell with its 95% interval (or its std for one repeat, which has no interval),
  // the front as a step line over the front's own rows.
  for (const auto& [name, points, idx, unit, scale] :
       {std::tuple{"energy", &by_energy, &fe, "energy per inference (nJ)", 1e9},
        std::tuple{"latency", &by_latency, &fl, "latency per inference (µs)", 1e6}}) {
    CsvTable t{{std::string(name) == "energy" ? "energy_nJ" : "latency_us", "accuracy_pct", "ci_low_pct", "ci_high_pct", "on_front"}, {}};
    std::set<size_t> on(idx->begin(), idx->end());
    for (size_t i = 0; i < done.size(); ++i) {
      const json& ci = done[i]["evaluation"]["accuracy_ci95"];
      const double a = 100 * (*points)[i].second;
      t.rows.push_back({(*points)[i].first * scale, a, ci.is_array() ? 100 * ci[0].get<double>() : a,
                        ci.is_array() ? 100 * ci[1].get<double>() : a, on.contains(i) ? 1.0 : 0.0});
    }
    std::sort(t.rows.begin(), t.rows.end());
    const std::string base = fmt::format("accuracy_vs_{}", name);
    write_csv(dir / (base + ".csv"), t);
    written.push_back(dir / (base + ".csv"));
    CsvTable f{{t.columns[0], "accuracy_pct"}, {}};
    for (const auto& row : t.rows)
      if (row[4] > 0) f.rows.push_back({row[0], row[1]});
    write_csv(dir / (base + "_front.csv"), f);
    written.push_back(dir / (base + "_front.csv"));
    const std::string body = fmt::format(
        "set title {} noenhanced\nset xlabel {} noenhanced\nset ylabel 'test accuracy (%)'\nset grid\nset key bottom right noenhanced\n"
        "set logscale x\nset datafile columnheaders\n"
        "plot DATA using 1:2:3:4 with yerrorbars pt 7 ps 0.6 lc rgb '#1f77b4' title 'cells (95% interval)', "
        "{} using 1:2 with steps lw 2 lc rgb '#d62728' title 'Pareto front'",
        gnuplot_string(fmt::format("accuracy vs {}: {} cells, {} on the front", name, done.size(), idx->size())), gnuplot_string(unit),
        gnuplot_string((dir / (base + "_front.csv")).string()));
    for (const char* ext : {".png", ".svg", ".pdf"}) {
      render_plot(dir / (base + ext), dir / (base + ".csv"), body);
      written.push_back(dir / (base + ext));
    }
  }
  for (const auto& f : write_accuracy_views(done, settings, plotted_device_columns, dir)) written.push_back(f);
  return written;
}

}  // namespace spinsc
