// spinsc sweep: run a plan's jobs (docs/sweeps.md); the library plans and runs, this file parses
// options and prints.
#include <fmt/format.h>

#include <sched.h>

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <thread>

#include "cli/command.hpp"
#include "spinsc/error.hpp"
#include "spinsc/files.hpp"
#include "spinsc/plan.hpp"
#include "spinsc/sweep.hpp"

namespace spinsc::cli {
namespace {

struct SweepCommandOptions {
  std::string plan, out, shard, export_to;
  DataOptions data;
  int threads = 0;
  bool dry_run = false, quiet = false;
};

// "i/N" with 0 <= i < N.
std::pair<int, int> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  int i = -1, n = 0;
  if (slash != std::string::npos) {
    const auto a = std::from_chars(text.data(), text.data() + slash, i);
    const auto b = std::from_chars(text.data() + slash + 1, text.data() + text.size(), n);
    if (a.ec != std::errc() || a.ptr != text.data() + slash || b.ec != std::errc() || b.ptr != text.data() + text.size()) i = -1;
  }
  if (i < 0 || n < 1 || i >= n) fail("--shard '{}' must be i/N with 0 <= i < N (e.g. 0/4)", text);
  return {i, n};
}

struct PrintingObserver : SweepObserver {
  bool quiet;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  explicit PrintingObserver(bool q) : quiet(q) {}
  void job(const Job& job, size_t index, size_t total, bool reused) override {
    if (quiet) return;
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print(stderr, "[{:>6.0f} s] job {}/{} {} {}{}\n", t, index + 1, total, job.kind, job.id.substr(0, 12),
               reused ? " (finished before)" : "");
  }
};

// A worker rank whose CPU affinity allows fewer cores than its jobs' threads runs them on those
// cores only: OpenMPI binds each rank to one core by default when there are at most two ranks,
// which halves a 2-thread worker's speed without a word. Say so, once per such rank.
void warn_if_bound(const SweepCommandOptions& opt) {
  const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
  if (!rank) rank = std::getenv("PMI_RANK");
  if (!rank || std::string(rank) == "0") return;  // rank 0 hands out jobs and computes none
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return;
  const int allowed = CPU_COUNT(&set);
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  const int wanted = opt.threads > 0 ? opt.threads : cores;
  if (allowed < wanted)
    fmt::print(stderr,
               "note: MPI rank {} may run on {} of this machine's {} cores (its CPU affinity, e.g. mpirun's default "
               "binding) but its jobs want {} threads; give mpirun --bind-to none (docs/sweeps.md)\n",
               rank, allowed, cores, wanted);
}

int run_sweep(const SweepCommandOptions& opt) {
  // A plan file, or the name of a built-in plan where no such file exists.
  const std::filesystem::path plan_path(opt.plan);
  const bool builtin = names_builtin(opt.plan);
  const Plan plan = builtin ? builtin_plan(opt.plan) : load_plan(plan_path);
  const auto cells = expand(plan, builtin ? std::filesystem::path() : plan_path.parent_path());
  const std::string plan_text = builtin ? plan_json(plan).dump(2) + "\n" : read_file(plan_path);
  if (!opt.export_to.empty()) {
    write_file_atomic(opt.export_to, plan_text);
    if (!opt.quiet) fmt::print("plan '{}' ({} cells) written to {}\n", opt.plan, cells.size(), opt.export_to);
    return 0;
  }
  if (opt.out.empty() && !opt.dry_run) fail("--out DIR is required (where the jobs' results go)");
  const JobGraph graph = jobs_of(cells);
  std::map<std::string, int> kinds;
  for (const Job& j : graph.jobs) ++kinds[j.kind];
  if (opt.dry_run) {
    fmt::print("plan '{}': {} cells, {} jobs ({} train, {} evaluate, {} cost)\n", opt.plan, cells.size(), graph.jobs.size(),
               kinds["train"], kinds["evaluate"], kinds["cost"]);
    return 0;
  }
  SweepOptions o;
  o.threads = opt.threads;
  o.data_dir = opt.data.data_dir;
  if (!opt.shard.empty()) std::tie(o.shard, o.shards) = parse_shard(opt.shard);
  PrintingObserver observer(opt.quiet);
  o.observer = &observer;
  const SweepStore store(opt.out);
  const bool mpi = launched_by_mpi();
  if (mpi) warn_if_bound(opt);
  int rank = 0;
  if (mpi && !opt.shard.empty()) fail("--shard and mpirun do not mix: MPI hands out every job itself");
  size_t ran = 0;
  try {
    ran = mpi ? run_mpi(graph, store, o, &rank) : run_local(graph, store, o);
  } catch (const Error&) {
    if (rank != 0) return 2;  // every rank has the error; rank 0 prints it
    throw;
  }
  if (rank != 0) return 0;  // rank 0 reports
  write_file_atomic(store.dir() / "plan.json", plan_text);
  const nlohmann::json rows = sweep_results(cells, graph, store);
  write_file_atomic(store.dir() / "results.json", rows.dump(1) + "\n");
  write_sweep_report(rows, store.dir());
  size_t finished = 0;
  for (const auto& r : rows) finished += !r["evaluation"].is_null();
  if (!opt.quiet)
    fmt::print("{} jobs run now{}; {} of {} cells finished; results in {}/ (results.json, results.csv, pareto.csv, accuracy_vs_* plots)\n", ran,
               mpi ? " (MPI)" : "", finished, cells.size(), opt.out);
  return 0;
}

const bool registered = register_command(
    "sweep", "Run a plan of cells (device, L, K, training, ...) as jobs: train, evaluate, cost (docs/sweeps.md)",
    [](CLI::App& app) {
      auto opt = std::make_shared<SweepCommandOptions>();
      app.add_option("plan", opt->plan, "Plan file (JSON), or a built-in plan: device-study (docs/sweeps.md)")->required();
      app.add_option("--export", opt->export_to, "Write the plan (a built-in one: as a plan file) to FILE and stop");
      app.add_option("--out,-o", opt->out, "Output folder (shared by runs and shards; finished jobs are kept)");
      app.add_option("--threads", opt->threads, "OpenMP threads per job (0: all); results do not depend on it")
          ->capture_default_str();
      app.add_option("--shard", opt->shard, "Run only shard i of N (i/N), e.g. one task of a batch job array");
      app.add_flag("--dry-run", opt->dry_run, "Validate the plan and count its cells and jobs");
      app.add_flag("--quiet,-q", opt->quiet, "No progress lines");
      add_data_options(app, opt->data);
      return [opt] { return run_sweep(*opt); };
    });

}  // namespace
}  // namespace spinsc::cli
