#include "spinsc/reproduce.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include <omp.h>

#include "spinsc/cost_model.hpp"
#include "spinsc/data_fetch.hpp"
#include "spinsc/dataset.hpp"
#include "spinsc/hw_params.hpp"
#include "spinsc/digital.hpp"
#include "spinsc/error.hpp"
#include "spinsc/files.hpp"
#include "spinsc/json_text.hpp"
#include "spinsc/model_io.hpp"
#include "spinsc/parallel.hpp"
#include "spinsc/plot.hpp"
#include "spinsc/recipes.hpp"
#include "spinsc/results.hpp"
#include "spinsc/sc_engine.hpp"
#include "spinsc/sc_noise.hpp"
#include "spinsc/sc_noise_setup.hpp"
#include "spinsc/train.hpp"

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

ReproduceCell cell_from_json(const json& j) {
  ReproduceCell c;
  c.kind = j.at("kind");
  c.depth = j.at("depth");
  c.states = j.at("states");
  c.length = j.at("length");
  c.training = j.at("training");
  c.accuracy_mean = j.at("accuracy_mean");
  c.accuracy_std = j.at("accuracy_std");
  c.repeats = j.at("repeats");
  c.images = j.at("images");
  c.seconds = j.at("seconds");
  c.model = j.at("model");
  c.accuracy_per_repeat = j.at("accuracy_per_repeat").get<std::vector<double>>();  // absent: an older cell, recomputed
  return c;
}

// Checksum of a cell file's content: the fingerprint and the cell as compact JSON (object keys
// sorted, numbers in their shortest round-trip form, so parsing and dumping again gives the same
// text).
std::string cell_checksum(const std::string& fingerprint, const json& cell) {
  return sha256_hex(fingerprint + "\n" + cell.dump());
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// One network of the grid. The mlp suite has one per depth ("d1", "d3"), the cnn suite one
// ("cnn"); the tag prefixes its model and cell names (the mlp suite's are those it always had).
struct GridNet {
  std::string tag;
  int depth = 0;      // hidden stages: a cell's `depth`
  Architecture arch;
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
    nets.push_back({"cnn", depth, a, fmt::format("{} ({} hidden stage{})", title, depth, depth > 1 ? "s" : ""),
                    "accuracy_vs_length_cnn"});
    return nets;
  }
  for (int depth : c.depths) {
    const std::vector<int>& widths = depth == 1 ? c.arch1 : c.arch3;
    nets.push_back({fmt::format("d{}", depth), depth, Architecture::mlp(widths),
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

// Everything the grid computes, with the bookkeeping of resumption.
class Grid {
 public:
  Grid(const ReproduceConfig& cfg, const Context& ctx, std::shared_ptr<const BitSource> source)
      : cfg_(cfg), ctx_(ctx), source_(std::move(source)) {
    const fs::path dir = cfg.data_dir.empty() ? default_data_dir() : cfg.data_dir;
    train_ = load_dataset(cfg.dataset, dir, Split::Train);
    test_ = load_dataset(cfg.dataset, dir, Split::Test);
    if (cfg.limit > 0) test_ = test_.head(cfg.limit);
    if (cfg.train_limit > 0) train_ = train_.head(cfg.train_limit);
    for (const char* sub : {"models", "cells"}) {
      std::error_code ec;
      fs::create_directories(cfg.out / sub, ec);
      if (ec) fail("--out: cannot create the folder '{}': {}", (cfg.out / sub).string(), ec.message());
    }
    // Temporary files of an interrupted run (write_file_atomic's ".NAME.XXXXXX.tmp", the plots'
    // ".NAME.tmp.png"): never read, removed so that a killed run leaves nothing half-written.
    for (const fs::path& dir : {cfg.out, cfg.out / "models", cfg.out / "cells"})
      for (const fs::path& f : regular_files_in(dir)) {
        const std::string name = f.filename().string();
        if (name.starts_with(".") && name.find(".tmp") != std::string::npos) {
          std::error_code ec;
          fs::remove(f, ec);
        }
      }
  }

  // A trained model, loaded when DIR/models/<name> holds one with the same fingerprint. May run
  // concurrently for different names (train_side_by_side).
  // `init_name`: the model `init` is (its fingerprint is part of this one's).
  Network model(const std::string& name, const TrainConfig& tc, const Network* init, const std::string& init_name,
                int noise_length) {
    const std::string init_print = init ? print_of(init_name) : std::string();
    const double work = training_work(tc.arch, tc.epochs, noise_length > 0);
    auto remember = [&](const std::string& fingerprint, bool computed) {
      const std::lock_guard<std::mutex> lock(mutex_);
      prints_[name] = fingerprint;
      if (counted_.insert(name).second) finished(work, computed);  // once, if trained side by side first
    };
    const fs::path path = cfg_.out / "models" / (name + ".safetensors");
    // An MLP by its widths (as before suites existed, so its fingerprints are unchanged), any
    // other network by its canonical spelling.
    const json arch_print = tc.arch.is_mlp() ? json(tc.arch.widths()) : json(to_string(tc.arch));
    json print = {{"arch", arch_print}, {"states", tc.states}, {"mode", to_string(tc.mode)}, {"epochs", tc.epochs},
                  {"lr", tc.lr},       {"seed", tc.seed},     {"dataset", cfg_.dataset},    {"init", init_print},
                  {"batch", tc.batch}, {"seeding", kSeedingVersion}};
    if (noise_length > 0) print["noise"] = {{"source", cfg_.source}, {"length", noise_length}};
    if (cfg_.train_limit > 0) print["train_images"] = train_.count;
    const std::string fingerprint = print.dump();
    if (std::error_code ec; fs::exists(path, ec)) {
      try {
        Network net = load_model(path);
        if (net.training.value("fingerprint", std::string()) == fingerprint) {
          remember(fingerprint, false);
          return net;
        }
      } catch (const Error&) {
        // A damaged or foreign file is retrained and replaced.
      }
    }
    status(fmt::format("training {}", name));
    // The recipe records what `spinsc train` needs to rebuild this model bit for bit
    // (docs/training.md).
    TrainRecipe recipe;
    recipe.config = tc;
    if (recipe.config.threads == 0) recipe.config.threads = cfg_.threads;
    recipe.sc.source = cfg_.source;
    recipe.sc.length = noise_length;
    recipe.init = init;
    if (init) recipe.init_name = fmt::format("models/{}.safetensors", init_name);
    recipe.train_limit = cfg_.train_limit;
    Network net = train_model(recipe, train_, test_, ctx_, {}, source_).network;
    net.training["fingerprint"] = fingerprint;
    save_model(path, net);
    remember(fingerprint, true);
    return net;
  }
  const std::string& print_of(const std::string& name) {
    const std::lock_guard<std::mutex> lock(mutex_);
    return prints_.at(name);
  }

  // A model to train: model()'s arguments, the initial network by its name (empty: none).
  struct ModelJob {
    std::string name;
    TrainConfig tc;
    std::string init;
    int noise_length = 0;
  };
  // Trains (or finds) `jobs` side by side, each training on one thread, as many at once as the
  // run has threads: a training step is ~1 ms between barriers, so one team per training scales
  // poorly on few cores (train.cpp), while independent trainings do not wait for each other.
  // Training results do not depend on the thread count: each model is the one model() would
  // give. Their init models must already be known (model()).
  void train_side_by_side(std::vector<ModelJob> jobs, const std::map<std::string, Network>& inits) {
    const int nthreads = cfg_.threads > 0 ? cfg_.threads : omp_get_max_threads();
    std::stable_sort(jobs.begin(), jobs.end(), [](const ModelJob& a, const ModelJob& b) {  // the longest first
      return training_work(a.tc.arch, a.tc.epochs, a.noise_length > 0) >
             training_work(b.tc.arch, b.tc.epochs, b.noise_length > 0);
    });
    ParallelErrors errors;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads) if (nthreads > 1 && jobs.size() > 1)
    for (size_t j = 0; j < jobs.size(); ++j) errors.run([&] {
      ModelJob& job = jobs[j];
      job.tc.threads = 1;
      const Network* init = job.init.empty() ? nullptr : &inits.at(job.init);
      model(job.name, job.tc, init, job.init, job.noise_length);
    });
    errors.rethrow();
  }

  // A cell, loaded when DIR/cells/<id>.json holds one with the same fingerprint.
  template <class Compute>
  ReproduceCell cell(const std::string& id, const json& print, double work, Compute compute) {
    const fs::path path = cfg_.out / "cells" / (id + ".json");
    const std::string fingerprint = print.dump();
    if (std::error_code ec; fs::exists(path, ec)) {
      try {
        const json j = read_json_file(path);
        // The checksum catches a cell edited by hand or damaged on disk with its fingerprint intact.
        if (j.value("fingerprint", std::string()) == fingerprint &&
            j.value("sha256", std::string()) == cell_checksum(fingerprint, j.at("cell"))) {
          finished(work, false);
          return cell_from_json(j.at("cell"));
        }
      } catch (const std::exception&) {
        // Recomputed below.
      }
    }
    status(fmt::format("evaluating {}", id));
    ReproduceCell c = compute();
    const json cj = c.to_json();
    write_file_atomic(path, json{{"fingerprint", fingerprint}, {"cell", cj}, {"sha256", cell_checksum(fingerprint, cj)}}.dump(2) + "\n");
    finished(work, true);
    return c;
  }

  ReproduceCell sc_cell(const std::string& kind, const std::string& training, const GridNet& gn, int K, int L,
                        const std::string& model_name, const Network& net) {
    const int repeats = kind == "analog" ? cfg_.analog_repeats : cfg_.repeats;
    const json print = {{"model", print_of(model_name)}, {"source", cfg_.source}, {"length", L}, {"exact_bits", cfg_.exact_bits},
                        {"repeats", repeats},        {"seed", cfg_.seed},     {"images", test_.count}};
    const std::string id = fmt::format("{}-{}-k{}-L{}-{}", kind, gn.tag, K, L, training);
    const double work = cell_work(gn.arch, L, repeats, test_.count, kind == "analog" || cfg_.exact_bits);
    return cell(id, print, work, [&] {
      ScConfig sc;
      sc.source = cfg_.source;
      sc.length = L;
      sc.seed = cfg_.seed;
      sc.analog = kind == "analog";
      sc.exact_bits = cfg_.exact_bits;
      const ScAccuracy acc = evaluate_sc(net, sc, test_, repeats, cfg_.threads, Context{ctx_.sources}, false, source_).accuracy;
      ReproduceCell c{kind,      gn.depth,    K,           L,
                      training,  acc.mean,    acc.std,     acc.repeats,
                      acc.images, acc.seconds, "models/" + model_name + ".safetensors", acc.per_repeat};
      return c;
    });
  }

  ReproduceCell digital_cell(const std::string& training, const GridNet& gn, int K, const std::string& model_name,
                             const Network& net) {
    const json print = {{"model", print_of(model_name)}, {"images", test_.count}};
    const std::string id = fmt::format("digital-{}-k{}-{}", gn.tag, K, training);
    return cell(id, print, cell_work(gn.arch, 0, 1, test_.count, false), [&] {
      const auto t0 = std::chrono::steady_clock::now();
      const double acc = digital_accuracy(net, test_, cfg_.threads);
      return ReproduceCell{K ? "digital" : "float", gn.depth, K, 0, training, acc, 0.0, 1, test_.count,
                           seconds_since(t0), "models/" + model_name + ".safetensors", {acc}};
    });
  }

  // The whole run's estimated work (see training_work / cell_work); set before the first job.
  void set_total_work(double work) { total_work_ = work; }

  void status(const std::string& what) {
    if (!ctx_.observer) return;
    const std::lock_guard<std::mutex> lock(mutex_);
    const double elapsed = seconds_since(start_);
    std::string eta;
    if (computed_work_ > 0 && total_work_ - done_work_ > 1e-6 * total_work_) {
      const double left = (total_work_ - done_work_) * elapsed / computed_work_;
      eta = left >= 60 ? fmt::format("  (ETA {}m{:02}s)", static_cast<int>(left) / 60, static_cast<int>(left) % 60)
                       : fmt::format("  (ETA {:.0f}s)", left);
    }
    ctx_.message(fmt::format("[{:>6.0f} s] {}{}", elapsed, what, eta));
  }

  const Dataset& test() const { return test_; }

 private:
  const ReproduceConfig& cfg_;
  const Context& ctx_;
  std::shared_ptr<const BitSource> source_;  // cfg_.source, built once: generate() is const
  Dataset train_, test_;
  std::map<std::string, std::string> prints_;
  std::set<std::string> counted_;         // models whose work is counted as done
  std::mutex mutex_;                      // prints_, counted_, the work and the progress lines
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  // Estimated work: of the whole run, of the jobs finished (computed or reused), of the jobs
  // computed in this run (whose elapsed time calibrates the estimate).
  double total_work_ = 0, done_work_ = 0, computed_work_ = 0;
  void finished(double work, bool computed) {
    done_work_ += work;
    if (computed) computed_work_ += work;
  }
};

// The grid as data: every model to train and every cell to evaluate, cells in the order the
// report lists them. run_reproduce estimates its work from these lists, trains the models and
// evaluates the cells; nothing else walks the grid.
struct CellJob {
  std::string kind;      // digital, float (the float network's digital cell), analog, grid
  std::string training;  // float, without_sc, with_sc
  size_t net = 0;        // index into grid_nets()
  int K = 0, L = 0;      // K 0: the float network; L 0: a digital cell
  std::string model;     // the name of the model it evaluates
};
struct GridJobs {
  std::vector<Grid::ModelJob> bases;          // trained from scratch
  std::vector<Grid::ModelJob> continuations;  // each from its base (ModelJob::init)
  std::vector<CellJob> cells;
};

GridJobs grid_jobs(const ReproduceConfig& cfg, const std::vector<GridNet>& nets) {
  // The float network and the qat base models: trained for `epochs` from scratch.
  auto base_training = [&](const Architecture& arch, TrainMode mode, int K) {
    TrainConfig t;
    t.arch = arch;
    t.states = K;
    t.mode = mode;
    t.epochs = cfg.epochs;
    t.seed = cfg.seed;
    t.threads = cfg.threads;
    t.dataset = cfg.dataset;
    return t;
  };
  GridJobs g;
  for (size_t n = 0; n < nets.size(); ++n) {
    const GridNet& gn = nets[n];
    if (cfg.baselines) {
      const std::string fname = fmt::format("{}-float", gn.tag);
      g.bases.push_back({fname, base_training(gn.arch, TrainMode::Float, TrainConfig{}.states), "", 0});
      g.cells.push_back({"float", "float", n, 0, 0, fname});
      for (int L : cfg.lengths) g.cells.push_back({"analog", "float", n, 0, L, fname});
    }
    for (int K : cfg.states) {
      const std::string bname = fmt::format("{}-k{}-base", gn.tag, K);
      g.bases.push_back({bname, base_training(gn.arch, TrainMode::Qat, K), "", 0});
      // Continuations: the same budget and schedule with and without SC noise; without
      // continuation epochs, the base is the "without SC" model.
      std::string wname = bname;
      TrainConfig cont = g.bases.back().tc;
      cont.epochs = cfg.sc_epochs;
      if (cfg.sc_epochs > 0) {
        wname = fmt::format("{}-k{}-without_sc", gn.tag, K);
        cont.seed = derive_seed(cfg.seed, SeedStream::ContinuationTraining);
        g.continuations.push_back({wname, cont, bname, 0});
      }
      if (cfg.baselines) g.cells.push_back({"digital", "without_sc", n, K, 0, wname});
      for (int L : cfg.lengths) {
        g.cells.push_back({"grid", "without_sc", n, K, L, wname});
        if (cfg.sc_epochs == 0) continue;
        TrainConfig sct = cont;
        sct.mode = TrainMode::Sc;
        sct.seed = derive_seed(cfg.seed, SeedStream::ScTraining, {static_cast<uint64_t>(L)});
        const std::string sname = fmt::format("{}-k{}-with_sc-L{}", gn.tag, K, L);
        g.continuations.push_back({sname, sct, bname, L});
        g.cells.push_back({"grid", "with_sc", n, K, L, sname});
      }
    }
  }
  return g;
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

std::vector<ReproduceCell> run_reproduce(const ReproduceConfig& cfg, const Context& ctx) {
  check(cfg);
  // Every input is checked before the first job, not after an hour of training: the source (and
  // whether it gives streams of every length), the hardware parameters, the data (Grid).
  const auto source = std::shared_ptr<const BitSource>(ctx.make_source(cfg.source));
  for (int L : cfg.lengths) source->check_length(L);
  hw_params_of(cfg);
  const std::vector<GridNet> nets = grid_nets(cfg);
  Grid grid(cfg, ctx, source);
  json config = {{"depths", cfg.depths}, {"arch1", cfg.arch1}, {"arch3", cfg.arch3}, {"states", cfg.states},
                 {"lengths", cfg.lengths}, {"repeats", cfg.repeats}, {"analog_repeats", cfg.analog_repeats}, {"source", cfg.source},
                 {"seed", cfg.seed}, {"dataset", cfg.dataset}, {"epochs", cfg.epochs},
                 {"sc_epochs", cfg.sc_epochs}, {"test_images", grid.test().count}};
  if (cfg.suite != "mlp") {
    for (const char* key : {"depths", "arch1", "arch3"}) config.erase(key);
    config["suite"] = cfg.suite;
    config["arch"] = to_string(nets.front().arch);
  }
  if (cfg.train_limit > 0) config["train_limit"] = cfg.train_limit;
  write_file_atomic(cfg.out / "config.json", config.dump(2) + "\n");
  const GridJobs jobs = grid_jobs(cfg, nets);
  // The run's estimated work (for the ETA), from the same lists the run computes.
  double work = 0;
  const int images = grid.test().count;
  for (const auto* list : {&jobs.bases, &jobs.continuations})
    for (const Grid::ModelJob& m : *list) work += training_work(m.tc.arch, m.tc.epochs, m.noise_length > 0);
  for (const CellJob& c : jobs.cells) {
    const Architecture& arch = nets[c.net].arch;
    if (c.L == 0)
      work += cell_work(arch, 0, 1, images, false);
    else if (c.kind == "analog")
      work += cell_work(arch, c.L, cfg.analog_repeats, images, true);
    else
      work += cell_work(arch, c.L, cfg.repeats, images, cfg.exact_bits);
  }
  grid.set_total_work(work);
  std::vector<ReproduceCell> cells;
  const auto t0 = std::chrono::steady_clock::now();
  // Every model first, side by side (Grid::train_side_by_side): the bases, then their
  // continuations; then the cells, each reading its model.
  std::map<std::string, Network> models;
  grid.train_side_by_side(jobs.bases, {});
  for (const Grid::ModelJob& m : jobs.bases) models[m.name] = grid.model(m.name, m.tc, nullptr, "", 0);
  grid.train_side_by_side(jobs.continuations, models);
  for (const Grid::ModelJob& m : jobs.continuations)
    models[m.name] = grid.model(m.name, m.tc, &models.at(m.init), m.init, m.noise_length);
  for (const CellJob& c : jobs.cells) {
    const Network& net = models.at(c.model);
    cells.push_back(c.L == 0 ? grid.digital_cell(c.training, nets[c.net], c.K, c.model, net)
                             : grid.sc_cell(c.kind, c.training, nets[c.net], c.K, c.L, c.model, net));
  }
  grid.status(fmt::format("all {} cells done in {:.0f} s (this run)", cells.size(), seconds_since(t0)));
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
