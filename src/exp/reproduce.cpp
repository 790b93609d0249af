#include "spinsc/reproduce.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <tuple>

#include "spinsc/cost_model.hpp"
#include "spinsc/data_fetch.hpp"
#include "spinsc/dataset.hpp"
#include "spinsc/hw_params.hpp"
#include "spinsc/error.hpp"
#include "spinsc/files.hpp"
#include "spinsc/json_text.hpp"
#include "spinsc/plot.hpp"
#include "spinsc/results.hpp"
#include "spinsc/device_config.hpp"
#include "spinsc/plan.hpp"
#include "spinsc/sweep.hpp"

namespace spinsc {

namespace fs = std::filesystem;
using json = nlohmann::json;

json ReproduceCell::to_json() const {
  json j = record_header("reproduce_cell");
  j.update({{"kind", kind},
            {"depth", depth},
            {"states", states},
            {"length", length},
            {"training", training},
            {"accuracy_mean", accuracy_mean},
            {"accuracy_std", accuracy_std},
            {"accuracy_ci95", confidence_95(accuracy_mean, accuracy_std, repeats)},
            {"accuracy_per_repeat", accuracy_per_repeat},
            {"repeats", repeats},
            {"images", images},
            {"seconds", seconds},
            {"model", model}});
  return j;
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// One network of the grid. The mlp suite has one per depth ("d1", "d3"), the cnn suite one
// ("cnn"); the tag prefixes its model and cell names (the mlp suite's are those it always had).
struct GridNet {
  std::string tag;
  int depth = 0;      // hidden stages: a cell's `depth`
  Architecture arch;
  std::string spelling;  // the plan's `arch` setting: an MLP's widths, any other network's canonical form
  std::string title;  // the report's section heading
  std::string plot;   // the accuracy-vs-L plot's file stem
};

void check_suite(const std::string& suite) {
  if (suite != "mlp" && suite != "cnn") fail("--suite: '{}' is not a suite (mlp or cnn)", suite);
}

Architecture cnn_architecture(const ReproduceConfig& c) {
  try {
    return parse_architecture(c.cnn_arch);
  } catch (const Error& e) {
    fail("--cnn-arch '{}': {}", c.cnn_arch, e.what());
  }
}

// The grid's networks, in the order the run trains and the report lists them.
std::vector<GridNet> grid_nets(const ReproduceConfig& c) {
  std::vector<GridNet> nets;
  if (c.suite == "cnn") {
    const Architecture a = cnn_architecture(c);
    const int depth = static_cast<int>(stages(a).size()) - 1;
    // A preset or a file by its name and spelling, a layer list by its spelling.
    const std::string spelling = to_string(a);
    const std::string title = c.cnn_arch.find(':') == std::string::npos ? fmt::format("{}: {}", c.cnn_arch, spelling) : spelling;
    nets.push_back({"cnn", depth, a, spelling, fmt::format("{} ({} hidden stage{})", title, depth, depth > 1 ? "s" : ""),
                    "accuracy_vs_length_cnn"});
    return nets;
  }
  for (int depth : c.depths) {
    const std::vector<int>& widths = depth == 1 ? c.arch1 : c.arch3;
    nets.push_back({fmt::format("d{}", depth), depth, Architecture::mlp(widths), fmt::format("{}", fmt::join(widths, ",")),
                    fmt::format("{} hidden layer{} ({})", depth, depth > 1 ? "s" : "", fmt::join(widths, "-")),
                    fmt::format("accuracy_vs_length_d{}", depth)});
  }
  return nets;
}

// Rough relative costs of the run's jobs, for the ETA only (the run rescales them by the time
// its finished jobs took): seconds on the 2-core development machine, from a default run.
double synapses(const Architecture& arch) {
  double n = 0;
  for (const CostStage& st : cost_stages(arch)) n += static_cast<double>(st.synapses);
  return n;
}
double training_work(const Architecture& arch, int epochs, bool noise) {
  return epochs * synapses(arch) * (noise ? 5e-6 : 1.5e-6);
}
double cell_work(const Architecture& arch, int L, int repeats, int images, bool bit_level) {
  const double per_image = bit_level ? 4e-9 + 3e-12 * L : 4e-10;  // per synapse and repeat
  return 0.05 + synapses(arch) * repeats * images * per_image;
}

// The grid as data: every cell of the report in its order, with the model it reads by name.
// The grid and analog cells are the cells of the built-in plan (reproduce_plan); a digital cell
// is the digital accuracy that the evaluation of its model's first length also measures.
struct CellJob {
  std::string kind;      // digital, float (the float network's digital cell), analog, grid
  std::string training;  // float, without_sc, with_sc
  size_t net = 0;        // index into grid_nets()
  int K = 0, L = 0;      // K 0: the float network; L 0: a digital cell
  std::string model;     // the name of the model it evaluates (DIR/models/NAME.safetensors)
  std::string base;      // the name of the model that one continues (empty: none)
};

std::vector<CellJob> grid_cells(const ReproduceConfig& cfg, const std::vector<GridNet>& nets) {
  std::vector<CellJob> cells;
  for (size_t n = 0; n < nets.size(); ++n) {
    const GridNet& gn = nets[n];
    if (cfg.baselines) {
      const std::string fname = fmt::format("{}-float", gn.tag);
      cells.push_back({"float", "float", n, 0, 0, fname, ""});
      for (int L : cfg.lengths) cells.push_back({"analog", "float", n, 0, L, fname, ""});
    }
    for (int K : cfg.states) {
      // The qat base; its continuations have the same budget and schedule with and without SC
      // noise. Without continuation epochs, the base is the "without SC" model.
      const std::string bname = fmt::format("{}-k{}-base", gn.tag, K);
      const bool continued = cfg.sc_epochs > 0;
      const std::string wname = continued ? fmt::format("{}-k{}-without_sc", gn.tag, K) : bname;
      const std::string wbase = continued ? bname : "";
      if (cfg.baselines) cells.push_back({"digital", "without_sc", n, K, 0, wname, wbase});
      for (int L : cfg.lengths) {
        cells.push_back({"grid", "without_sc", n, K, L, wname, wbase});
        if (continued) cells.push_back({"grid", "with_sc", n, K, L, fmt::format("{}-k{}-with_sc-L{}", gn.tag, K, L), bname});
      }
    }
  }
  return cells;
}

// The plan settings of the configured source: "smtj[:FILE or NAME]" is the smtj source with
// that device (the reference device by default), any other spec the plan's source setting.
json source_settings(const std::string& spec) {
  if (spec == "smtj") return {{"source", "smtj"}};
  if (spec.starts_with("smtj:")) return {{"source", "smtj"}, {"device", json::parse(to_json_text(resolve_device(spec.substr(5))))}};
  return {{"source", spec}};
}

void check(const ReproduceConfig& c) {
  if (c.out.empty()) fail("--out DIR is required");
  check_suite(c.suite);
  if (c.suite == "cnn") cnn_architecture(c);
  for (int d : c.depths)
    if (d != 1 && d != 3) fail("--depths: {} is not 1 or 3 (the architectures are set by --arch1 and --arch3)", d);
  for (const auto* a : {&c.arch1, &c.arch3})
    if (a->size() < 2) fail("an architecture needs at least an input and an output width");
  if (c.arch1.size() != 3) fail("--arch1 must have exactly one hidden layer, got {}", fmt::join(c.arch1, ","));
  if (c.arch3.size() != 5) fail("--arch3 must have exactly three hidden layers, got {}", fmt::join(c.arch3, ","));
  for (int k : c.states)
    if (k < 3 || k % 2 == 0) fail("--states: K = {} must be odd and at least 3", k);
  if (c.lengths.empty()) fail("--lengths: give at least one length");
  for (int l : c.lengths)
    if (l < 1) fail("--lengths: {} must be at least 1", l);
  if (c.repeats < 1) fail("--repeats {} must be at least 1", c.repeats);
  if (c.analog_repeats < 1) fail("--analog-repeats {} must be at least 1", c.analog_repeats);
  if (c.epochs < 1 || c.sc_epochs < 0) fail("--epochs must be >= 1 and --sc-epochs >= 0");
  if (c.limit < 0) fail("--limit {} must not be negative (0: all test images)", c.limit);
  if (c.train_limit < 0) fail("--train-limit {} must not be negative (0: all training images)", c.train_limit);
  if (c.threads < 0) fail("--threads {} must not be negative (0: all)", c.threads);
}

HwParams hw_params_of(const ReproduceConfig& c) { return c.hw.empty() ? default_hw_params() : load_hw_params(c.hw); }

// The plan of a checked configuration, and for each report cell the plan cell it reads (-1: none).
struct GridPlan {
  Plan plan;
  std::vector<CellJob> cells;
  std::vector<int> plan_cell;
};

GridPlan grid_plan(const ReproduceConfig& cfg, const std::vector<GridNet>& nets) {
  GridPlan g;
  g.plan.name = "reproduce";
  g.plan.origin = "spinsc reproduce";
  g.plan.description = fmt::format(
      "The grid of spinsc reproduce (suite {}): each network x K x L trained without and with SC, and the float "
      "network's analog SC baseline at each L.",
      cfg.suite);
  json base = source_settings(cfg.source);
  base.update({{"dataset", cfg.dataset}, {"epochs", cfg.epochs}, {"sc_epochs", cfg.sc_epochs}, {"seed", cfg.seed},
               {"limit", cfg.limit}, {"exact_bits", cfg.exact_bits}});
  if (cfg.train_limit > 0) base["train_limit"] = cfg.train_limit;
  g.plan.base = base;
  g.cells = grid_cells(cfg, nets);
  std::map<std::tuple<size_t, int, std::string>, int> first_length;  // (net, K, training) -> its first plan cell
  for (const CellJob& c : g.cells) {
    if (c.kind != "grid" && c.kind != "analog") continue;
    json s = {{"arch", nets[c.net].spelling}, {"training", c.training}, {"length", c.L},
              {"repeats", c.kind == "analog" ? cfg.analog_repeats : cfg.repeats}};
    if (c.K > 0) s["states"] = c.K;
    first_length.try_emplace({c.net, c.K, c.training}, static_cast<int>(g.plan.cells.size()));
    g.plan.cells.push_back(s);
  }
  // The grid and analog cells are the plan cells in order; a digital cell reads its model's first.
  int next = 0;
  for (const CellJob& c : g.cells)
    g.plan_cell.push_back(c.kind == "grid" || c.kind == "analog" ? next++ : first_length.at({c.net, c.K, c.training}));
  return g;
}

// Progress of a run: one message per job, named as the report names it, with an ETA.
class Progress : public SweepObserver {
 public:
  Progress(const Context& ctx, const JobGraph& graph, std::map<std::string, std::pair<std::string, double>> jobs)
      : ctx_(ctx), jobs_(std::move(jobs)) {
    for (const Job& j : graph.jobs) total_ += work(j.id);
  }
  void job(const Job& job, size_t, size_t, bool reused) override {
    if (reused) {
      done_ += work(job.id);
      return;
    }
    const auto it = jobs_.find(job.id);
    if (it != jobs_.end()) status(fmt::format("{} {}", job.kind == "train" ? "training" : "evaluating", it->second.first));
  }
  void finished(const Job& job, size_t, double) override {
    done_ += work(job.id);
    computed_ += work(job.id);
  }
  void status(const std::string& what) const {
    if (!ctx_.observer) return;
    const double elapsed = seconds_since(start_);
    std::string eta;
    if (computed_ > 0 && total_ - done_ > 1e-6 * total_) {
      const double left = (total_ - done_) * elapsed / computed_;
      eta = left >= 60 ? fmt::format("  (ETA {}m{:02}s)", static_cast<int>(left) / 60, static_cast<int>(left) % 60)
                       : fmt::format("  (ETA {:.0f}s)", left);
    }
    ctx_.message(fmt::format("[{:>6.0f} s] {}{}", elapsed, what, eta));
  }

 private:
  double work(const std::string& id) const {
    const auto it = jobs_.find(id);
    return it == jobs_.end() ? 0.0 : it->second.second;
  }
  const Context& ctx_;
  std::map<std::string, std::pair<std::string, double>> jobs_;  // id -> (name, estimated work)
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  double total_ = 0, done_ = 0, computed_ = 0;
};

// DIR/models/NAME.safetensors: the job's model under the report's name, a hard link (a copy
// where the file system has none) made under a temporary name and renamed into place.
void link_model(const fs::path& job_model, const fs::path& named) {
  std::error_code ec;
  if (fs::exists(named, ec) && fs::equivalent(job_model, named, ec)) return;
  const fs::path tmp = named.parent_path() / ("." + named.filename().string() + ".link.tmp");
  fs::remove(tmp, ec);
  fs::create_hard_link(job_model, tmp, ec);
  if (ec) {
    write_file_atomic(named, read_file(job_model));
    return;
  }
  fs::rename(tmp, named, ec);
  if (ec) {
    fs::remove(tmp, ec);
    fail("--out: cannot name the model '{}': {}", named.string(), ec.message());
  }
}

}  // namespace

ReproduceConfig reproduce_defaults(const std::string& suite) {
  ReproduceConfig c;
  check_suite(suite);
  if (suite == "mlp") return c;
  c.suite = "cnn";
  c.epochs = 15;
  c.sc_epochs = 2;
  return c;
}

Plan reproduce_plan(const ReproduceConfig& config) {
  ReproduceConfig c = config;
  if (c.out.empty()) c.out = ".";  // the plan does not depend on the output folder
  check(c);
  return grid_plan(c, grid_nets(c)).plan;
}

std::vector<ReproduceCell> run_reproduce(const ReproduceConfig& cfg, const Context& ctx) {
  check(cfg);
  // Every input is checked before the first job, not after an hour of training: the source (and
  // whether it gives streams of every length), the hardware parameters, the plan's cells (the
  // device, the trace library), the data.
  const auto source = std::shared_ptr<const BitSource>(ctx.make_source(cfg.source));
  for (int L : cfg.lengths) source->check_length(L);
  hw_params_of(cfg);
  const std::vector<GridNet> nets = grid_nets(cfg);
  const GridPlan gp = grid_plan(cfg, nets);
  const std::vector<CellConfig> plan_cells = expand(gp.plan);
  const JobGraph graph = jobs_of(plan_cells);
  const fs::path data = cfg.data_dir.empty() ? default_data_dir() : cfg.data_dir;
  load_dataset(cfg.dataset, data, Split::Train);
  Dataset test = load_dataset(cfg.dataset, data, Split::Test);
  if (cfg.limit > 0) test = test.head(cfg.limit);
  // Temporary files of an interrupted run (write_file_atomic's ".NAME.XXXXXX.tmp", the plots'
  // and model names' ".NAME.*tmp*"): never read, removed so that a killed run leaves nothing
  // half-written. Only one process does it (rank 0 under MPI), before any job runs.
  const SweepStore store(cfg.out);  // creates DIR, DIR/jobs and DIR/models
  const bool leader = !cfg.mpi || launched_rank() == 0;
  if (leader)
    for (const fs::path& dir : {cfg.out, cfg.out / "models", cfg.out / "jobs"})
      for (const fs::path& f : regular_files_in(dir)) {
        const std::string name = f.filename().string();
        if (name.starts_with(".") && name.find("tmp") != std::string::npos) {
          std::error_code ec;
          fs::remove(f, ec);
        }
      }
  std::map<std::string, const Job*> by_id;
  for (const Job& j : graph.jobs) by_id[j.id] = &j;
  // Names and estimated work of the jobs, for the progress messages.
  std::map<std::string, std::pair<std::string, double>> named;
  std::map<std::string, std::string> model_names;  // report name -> train job id
  for (size_t i = 0; i < gp.cells.size(); ++i) {
    const CellJob& c = gp.cells[i];
    const GridNet& gn = nets[c.net];
    const std::string& evaluation = graph.cells.at(static_cast<size_t>(gp.plan_cell[i])).first;
    const std::string& model = by_id.at(evaluation)->inputs.front();
    model_names[c.model] = model;
    const bool sc = c.training == "with_sc";
    named[model] = {c.model, training_work(gn.arch, c.base.empty() ? cfg.epochs : cfg.sc_epochs, sc)};
    if (!c.base.empty()) {
      const std::string& base = by_id.at(model)->inputs.front();
      model_names[c.base] = base;
      named[base] = {c.base, training_work(gn.arch, cfg.epochs, false)};
    }
    if (c.kind == "grid" || c.kind == "analog") {
      const bool bit_level = c.kind == "analog" || cfg.exact_bits;
      named[evaluation] = {fmt::format("{}-{}-k{}-L{}-{}", c.kind, gn.tag, c.K, c.L, c.training),
                           cell_work(gn.arch, c.L, c.kind == "analog" ? cfg.analog_repeats : cfg.repeats, test.count, bit_level)};
    }
  }
  json config = {{"depths", cfg.depths}, {"arch1", cfg.arch1}, {"arch3", cfg.arch3}, {"states", cfg.states},
                 {"lengths", cfg.lengths}, {"repeats", cfg.repeats}, {"analog_repeats", cfg.analog_repeats}, {"source", cfg.source},
                 {"seed", cfg.seed}, {"dataset", cfg.dataset}, {"epochs", cfg.epochs},
                 {"sc_epochs", cfg.sc_epochs}, {"test_images", test.count}};
  if (cfg.suite != "mlp") {
    for (const char* key : {"depths", "arch1", "arch3"}) config.erase(key);
    config["suite"] = cfg.suite;
    config["arch"] = to_string(nets.front().arch);
  }
  if (cfg.train_limit > 0) config["train_limit"] = cfg.train_limit;
  if (leader) {
    write_file_atomic(cfg.out / "config.json", config.dump(2) + "\n");
    write_file_atomic(cfg.out / "plan.json", plan_json(gp.plan).dump(2) + "\n");
  }
  Progress progress(ctx, graph, named);
  SweepOptions options;
  options.threads = cfg.threads;
  options.data_dir = data.string();
  options.observer = &progress;
  const auto t0 = std::chrono::steady_clock::now();
  if (cfg.mpi) {
    int rank = 0;
    run_mpi(graph, store, options, &rank);
    if (rank != 0) return {};
  } else {
    run_local(graph, store, options);
  }
  for (const auto& [name, id] : model_names) link_model(store.model_path(id), cfg.out / "models" / (name + ".safetensors"));
  std::vector<ReproduceCell> cells;
  for (size_t i = 0; i < gp.cells.size(); ++i) {
    const CellJob& c = gp.cells[i];
    const Job& eval = *by_id.at(graph.cells.at(static_cast<size_t>(gp.plan_cell[i])).first);
    const std::optional<json> record = store.record(eval);
    if (!record) fail("reproduce: the evaluation of {} did not finish", c.model);
    const json& r = record->at("result");
    ReproduceCell cell;
    cell.kind = c.kind;
    cell.depth = nets[c.net].depth;
    cell.states = c.K;
    cell.length = c.L;
    cell.training = c.training;
    cell.model = fmt::format("models/{}.safetensors", c.model);
    cell.images = r.at("images").get<int>();
    if (c.kind == "grid" || c.kind == "analog") {
      cell.accuracy_mean = r.at("accuracy_mean").get<double>();
      cell.accuracy_std = r.at("accuracy_std").get<double>();
      cell.repeats = r.at("repeats").get<int>();
      cell.accuracy_per_repeat = r.at("accuracy_per_repeat").get<std::vector<double>>();
      cell.seconds = record->at("timing").at("seconds").get<double>();
    } else {
      cell.accuracy_mean = r.at("digital_accuracy").get<double>();
      cell.repeats = 1;
      cell.accuracy_per_repeat = {cell.accuracy_mean};
    }
    cells.push_back(cell);
  }
  progress.status(fmt::format("all {} cells done in {:.0f} s (this run)", cells.size(), seconds_since(t0)));
  write_reproduce_report(cfg, cells);
  return cells;
}
namespace {

// The paper's reported figures (abstract of the study, SPEC §6), for the comparison column.
std::string paper_note(int depth, int length) {
  if (length == 100) return depth == 1 ? "best 92%" : "best > 96%";
  if (length == 400 && depth == 3) return "peak 96.82%";
  return "";
}

const ReproduceCell* find(const std::vector<ReproduceCell>& cells, const std::string& kind, int depth, int K, int L,
                          const std::string& training) {
  for (const auto& c : cells)
    if (c.kind == kind && c.depth == depth && c.states == K && c.length == L && c.training == training) return &c;
  return nullptr;
}

std::string pct(const ReproduceCell* c, bool with_std = true) {
  if (!c) return "—";
  if (!with_std || c->repeats < 2) return fmt::format("{:.2f}", 100 * c->accuracy_mean);
  return fmt::format("{:.2f} ± {:.2f}", 100 * c->accuracy_mean, 100 * c->accuracy_std);
}

}  // namespace

void write_reproduce_report(const ReproduceConfig& cfg, const std::vector<ReproduceCell>& cells) {
  json list = json::array();
  for (const auto& c : cells) list.push_back(c.to_json());
  write_file_atomic(cfg.out / "results.json", list.dump(2) + "\n");

  std::string csv = "kind,depth,states,length,training,accuracy_mean,accuracy_std,repeats,images,seconds,model\n";
  for (const auto& c : cells)
    csv += fmt::format("{},{},{},{},{},{:.6f},{:.6f},{},{},{:.3f},{}\n", c.kind, c.depth, c.states, c.length, c.training,
                       c.accuracy_mean, c.accuracy_std, c.repeats, c.images, c.seconds, c.model);
  write_file_atomic(cfg.out / "results.csv", csv);

  const int images = cells.empty() ? 0 : cells.front().images;
  const bool paper = cfg.dataset == "mnist" && cfg.suite == "mlp";
  const std::vector<GridNet> nets = grid_nets(cfg);
  std::string md = fmt::format("# spinsc reproduce: {} test accuracy (%) vs bitstream length L\n\n", cfg.dataset);
  md += fmt::format("Source `{}`, {} repeats per cell (mean ± sample std; analog baseline: {}), {} test images{}; seed {}.\n",
                    cfg.source, cfg.repeats, cfg.analog_repeats, images, cfg.limit > 0 ? " (a --limit subset, not the full test set)" : "", cfg.seed);
  if (cfg.train_limit > 0)
    md += fmt::format("Trained on the first {} training images only (--train-limit).\n", cfg.train_limit);
  md += fmt::format("Training: qat base {} epochs; then {} more epochs without SC noise (\"without SC\") or with the SC "
                    "noise of that L (\"with SC\").\n\n", cfg.epochs, cfg.sc_epochs);
  if (cfg.suite == "cnn")
    md += "SC evaluation: broadcast input streams, one weight SNG per synapse (`independent`, also at every position "
          "of a conv stage); the cost table also gives the conv design with `per-tap` weight SNGs.\n\n";
  for (const GridNet& gn : nets) {
    const int depth = gn.depth;
    md += fmt::format("## {}\n\n| K | training |", gn.title);
    for (int L : cfg.lengths) md += fmt::format(" L = {} |", L);
    md += " digital (no SC) |\n|---|---|";
    for (size_t i = 0; i <= cfg.lengths.size(); ++i) md += "---|";
    md += "\n";
    for (int K : cfg.states)
      for (const std::string training : {"without_sc", "with_sc"}) {
        md += fmt::format("| {} | {} |", K, training == "with_sc" ? "with SC" : "without SC");
        for (int L : cfg.lengths) md += fmt::format(" {} |", pct(find(cells, "grid", depth, K, L, training)));
        md += fmt::format(" {} |\n", training == "without_sc" ? pct(find(cells, "digital", depth, K, 0, training), false) : "");
      }
    if (cfg.baselines) {
      md += "| — | analog SC (float net) |";
      for (int L : cfg.lengths) md += fmt::format(" {} |", pct(find(cells, "analog", depth, 0, L, "float")));
      md += fmt::format(" {} (float) |\n", pct(find(cells, "float", depth, 0, 0, "float"), false));
    }
    if (paper) {
      md += "| paper | with SC (reported) |";
      for (int L : cfg.lengths) md += fmt::format(" {} |", paper_note(depth, L));
      md += " |\n";
    }
    md += "\n";
    // Accuracy vs L plot: one line per (K, training), the analog baseline, digital references.
    CsvTable table;
    table.columns = {"length"};
    for (int K : cfg.states)
      for (const std::string t : {"without_sc", "with_sc"}) table.columns.push_back(fmt::format("k{}_{}", K, t));
    if (cfg.baselines) table.columns.push_back("analog");
    for (int L : cfg.lengths) {
      std::vector<double> row{static_cast<double>(L)};
      for (int K : cfg.states)
        for (const std::string t : {"without_sc", "with_sc"}) {
          const auto* c = find(cells, "grid", depth, K, L, t);
          row.push_back(c ? 100 * c->accuracy_mean : NAN);
        }
      if (cfg.baselines) {
        const auto* c = find(cells, "analog", depth, 0, L, "float");
        row.push_back(c ? 100 * c->accuracy_mean : NAN);
      }
      table.rows.push_back(row);
    }
    const fs::path csvp = cfg.out / (gn.plot + ".csv");
    write_csv(csvp, table);
    std::string body = fmt::format(
        "set title {} noenhanced\nset xlabel 'bitstream length L'\n"
        "set ylabel 'test accuracy (%)'\nset key bottom right noenhanced\nset grid\n",
        gnuplot_string(fmt::format("{}, source {}, {} repeats", gn.title, cfg.source, cfg.repeats)));
    if (cfg.lengths.size() > 1 && *std::max_element(cfg.lengths.begin(), cfg.lengths.end()) >=
                                      8 * *std::min_element(cfg.lengths.begin(), cfg.lengths.end()))
      body += "set logscale x 2\n";
    body += "plot ";
    for (size_t c = 1; c < table.columns.size(); ++c)
      body += fmt::format("{}DATA using 1:{} with linespoints lw 2 title {} noenhanced", c > 1 ? ", " : "", c + 1,
                          gnuplot_string(table.columns[c]));
    if (paper && depth == 3) body += ", '-' using 1:2 with points pt 7 ps 1.5 lc rgb 'black' title 'paper peak'\n400,96.82\ne";
    try {
      render_plot(cfg.out / (gn.plot + ".png"), csvp, body);
      md += fmt::format("![accuracy vs L]({}.png)\n\n", gn.plot);
    } catch (const Error& e) {
      md += fmt::format("(plot not rendered: {})\n\n", e.what());
    }
  }
  // Hardware cost of the grid's configurations (SPEC §7): quantized vs analog, s-MTJ vs LFSR.
  {
    const HwParams hw = hw_params_of(cfg);
    // A conv design also with per-tap weight SNGs (one per kernel weight, shared by the
    // positions: the natural conv array); the accuracies are those of independent streams.
    std::vector<CostReport> reports;
    for (const GridNet& gn : nets)
      for (int K : cfg.states)
        for (int L : cfg.lengths)
          for (CostSharing sharing : {CostSharing::Independent, CostSharing::PerTap}) {
            if (sharing == CostSharing::PerTap && gn.arch.is_mlp()) continue;
            CostOptions co;
            co.length = L;
            co.sharing = sharing;
            reports.push_back(cost_report(cost_architecture(gn.arch, K), co, hw));
          }
    const std::string cost_md = cost_summary_markdown(reports);
    write_file_atomic(cfg.out / "cost.md", cost_md);
    md += fmt::format("## Hardware cost per inference (parameters: {})\n\n{}\n",
                      cfg.hw.empty() ? "configs/hw/default.json" : cfg.hw.string(), cost_md);
  }
  if (paper)
    md += "Paper (Sabyasachi et al.): with SC, best at L = 100: 92% (1 hidden), above 96% (3 hidden); "
          "peak 96.82% (3 hidden, L = 400).\n";
  write_file_atomic(cfg.out / "table.md", md);
}

}  // namespace spinsc
