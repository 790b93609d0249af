// spinsc reproduce: the paper's grid in one command (see include/spinsc/reproduce.hpp).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>
#include <optional>
#include <vector>

#include "cli/command.hpp"
#include "cli/progress_line.hpp"
#include "spinsc/device_sources.hpp"
#include "spinsc/error.hpp"
#include "spinsc/files.hpp"
#include "spinsc/reproduce.hpp"
#include "spinsc/sweep.hpp"

namespace spinsc::cli {
namespace {

std::string comma_list(const std::vector<int>& v) { return fmt::format("{}", fmt::join(v, ",")); }

// The list options default to the library's ReproduceConfig, written as the user types them.
struct ReproduceOptions {
  DataOptions data;
  std::string out = "results";
  ReproduceConfig cfg;
  bool quiet = false;
  std::string depths = comma_list(cfg.depths), states = comma_list(cfg.states), lengths = comma_list(cfg.lengths);
  std::string arch1 = comma_list(cfg.arch1), arch3 = comma_list(cfg.arch3);
  bool no_baselines = false;
  std::string hw;
  std::string suite = cfg.suite;
  // The suite's default when not given (reproduce_defaults).
  std::optional<int> epochs, sc_epochs;
  // Options of one suite only, refused with the other rather than ignored.
  std::vector<const CLI::Option*> mlp_only, cnn_only;
};

int run_reproduce_command(ReproduceOptions& opt) {
  ReproduceConfig cfg = opt.cfg;
  const ReproduceConfig suite = reproduce_defaults(opt.suite);
  for (const CLI::Option* o : suite.suite == "cnn" ? opt.mlp_only : opt.cnn_only)
    if (o->count() > 0) fail("{} does not apply to --suite {}", o->get_name(), suite.suite);
  cfg.suite = suite.suite;
  cfg.epochs = opt.epochs.value_or(suite.epochs);
  cfg.sc_epochs = opt.sc_epochs.value_or(suite.sc_epochs);
  cfg.out = opt.out;
  cfg.depths = parse_int_list(opt.depths, "--depths");
  cfg.states = parse_int_list(opt.states, "--states");
  cfg.lengths = parse_int_list(opt.lengths, "--lengths");
  cfg.arch1 = parse_int_list(opt.arch1, "--arch1");
  cfg.arch3 = parse_int_list(opt.arch3, "--arch3");
  cfg.dataset = opt.data.dataset;
  cfg.data_dir = opt.data.data_dir;
  cfg.baselines = !opt.no_baselines;
  cfg.hw = opt.hw;
  ProgressLine progress(opt.quiet);
  Context ctx;
  ctx.sources = standard_sources();
  ctx.observer = &progress;
  // Under mpirun the jobs go to the MPI executor (rank 0 hands them out and writes the report).
  cfg.mpi = launched_by_mpi();
  const auto cells = run_reproduce(cfg, ctx);
  if (cfg.mpi && launched_rank() != 0) return 0;
  if (!opt.quiet) {
    fmt::print("{}", read_file(cfg.out / "table.md"));
    fmt::print("\n{} cells; report in {}/ (table.md, results.json, results.csv, plots)\n", cells.size(), cfg.out.string());
  }
  return 0;
}

const bool registered = register_command(
    "reproduce", "Run the paper's grid (network x K x L x training with/without SC) and write the report",
    [](CLI::App& app) {
      auto opt = std::make_shared<ReproduceOptions>();
      app.add_option("--out,-o", opt->out, "Output folder (resumes what it already holds; a sweep store, docs/sweeps.md)")->capture_default_str();
      app.add_option("--suite", opt->suite, "mlp: the MLP depths (--depths, --arch1, --arch3); cnn: the conv network --cnn-arch")
          ->capture_default_str();
      opt->cnn_only.push_back(
          app.add_option("--cnn-arch", opt->cfg.cnn_arch, "The cnn suite's network: a preset, a layer list or a JSON file")
              ->capture_default_str());
      opt->mlp_only.push_back(app.add_option("--depths", opt->depths, "Hidden-layer counts: 1 and/or 3")->capture_default_str());
      opt->mlp_only.push_back(app.add_option("--arch1", opt->arch1, "The 1-hidden-layer architecture")->capture_default_str());
      opt->mlp_only.push_back(app.add_option("--arch3", opt->arch3, "The 3-hidden-layer architecture")->capture_default_str());
      app.add_option("--states,-K", opt->states, "Quantization levels K (odd)")->capture_default_str();
      app.add_option("--lengths,-L", opt->lengths, "Bitstream lengths")->capture_default_str();
      app.add_option("--repeats,-r", opt->cfg.repeats, "Stochastic repeats per cell")->capture_default_str();
      app.add_option("--analog-repeats", opt->cfg.analog_repeats, "Repeats of the analog baseline cells (bit-level, slow)")
          ->capture_default_str();
      app.add_option("--source", opt->cfg.source, "Bit source (smtj = the reference s-MTJ device)")->capture_default_str();
      app.add_option("--threads", opt->cfg.threads, "OpenMP threads (0: all); results do not depend on it")
          ->capture_default_str();
      app.add_option("--seed", opt->cfg.seed, "Seed of training and of the streams")->capture_default_str();
      app.add_option("--epochs", opt->epochs,
                     fmt::format("Epochs of the float and qat base training [default: {} (mlp), {} (cnn)]",
                                 reproduce_defaults("mlp").epochs, reproduce_defaults("cnn").epochs));
      app.add_option("--sc-epochs", opt->sc_epochs,
                     fmt::format("Epochs of the continuation with / without SC noise [default: {} (mlp), {} (cnn)]",
                                 reproduce_defaults("mlp").sc_epochs, reproduce_defaults("cnn").sc_epochs));
      app.add_option("--limit", opt->cfg.limit, "Evaluate on the first N test images only (0: all 10000)")
          ->capture_default_str();
      app.add_option("--train-limit", opt->cfg.train_limit, "Train on the first N training images only (0: all 60000)")
          ->capture_default_str();
      app.add_option("--hw", opt->hw, "Hardware cost parameters (JSON; default: the built-in configs/hw/default.json)");
      app.add_flag("--exact-bits", opt->cfg.exact_bits, "Evaluate bit by bit even where the binomial shortcut is exact (slower)");
      app.add_flag("--no-baselines", opt->no_baselines, "Skip the float, digital and analog baseline cells");
      app.add_flag("--quiet,-q", opt->quiet, "No progress lines");
      add_data_options(app, opt->data);
      return [opt] { return run_reproduce_command(*opt); };
    });

}  // namespace
}  // namespace spinsc::cli
