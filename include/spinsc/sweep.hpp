// Running a plan's jobs (plan.hpp): the recipes that compute one job, a store of their results,
// and the local executor. Executors only run jobs; a job's result depends on its configuration
// alone, never on which executor, thread count or shard ran it.
//
// Recipes (one per job kind; their configurations are what jobs_of() builds):
//   train     Trainer on the training set (its first `train_limit` images when given): the
//             base (float or qat, `epochs` epochs from the seed) or its continuation (`init`: the
//             base model) without SC noise or with the moment-matched SC noise of the configured
//             bits and L. Seeds as `spinsc reproduce`
//             derives them (continuation without SC: derive_seed(seed,
//             SeedStream::ContinuationTraining); with SC: derive_seed(seed,
//             SeedStream::ScTraining, {L}), its noise from that seed as make_sc_noise() derives
//             it), so equal settings give the models reproduce gives. The model's metadata
//             keeps no wall times or thread counts, so its bytes depend on the job alone: they
//             are in the record's timing ("threads", "seconds_per_epoch", "epochs": [{"epoch",
//             "seconds", "threads"}]).
//   evaluate  ScEngine accuracy over `repeats` repeats on the test set (its first `limit`
//             images when limit > 0), the analog baseline for float models; also the digital
//             accuracy.
//   cost      cost_report() of the architecture, K, L, sharing and multiply with the built-in
//             hardware file.
// Store: DIR/jobs/<id>.json holds a finished job's record {"schema_version", "spinsc", "job",
// "kind", "config", "result", "checksum"} (checksum: sha256 of config and result; timings
// beside it under "timing", outside the checksum); DIR/models/<id>.safetensors a trained model,
// whose sha256 the train job's result holds ("model_sha256"). Both are written atomically, the
// model before its record. A record whose checksum, id or configuration does not match is not
// trusted, nor a train record whose model is missing or (model_sha256) not the bytes it wrote:
// its job runs again. The bits "trace:DIR" are the library there only while its checksum is the
// job's "library_sha256" (trace_library_sha256); otherwise the job fails, naming the directory.
//
// Thread-safety: a SweepStore may be shared by processes working on different jobs (MPI ranks,
// shards): every file is written atomically under a name that only its own job writes.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "spinsc/plan.hpp"

namespace spinsc {

class SweepStore {
 public:
  explicit SweepStore(std::filesystem::path dir);  // creates DIR/jobs and DIR/models
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path record_path(const std::string& id) const;
  std::filesystem::path model_path(const std::string& id) const;
  // The finished job's record, or nothing (absent, damaged, or not this job's; for a train job
  // also when its model is missing, or its bytes' sha256 is not the record's model_sha256 — a
  // record without one, written before the field existed, needs the model to exist only).
  std::optional<nlohmann::json> record(const Job& job) const;
  // The record of `job` with its result; "timing" is {"seconds": seconds} plus the fields of
  // `timing` (an object: run facts outside the checksum, e.g. a training's epoch times).
  void write_record(const Job& job, const nlohmann::json& result, double seconds,
                    const nlohmann::json& timing = nlohmann::json::object()) const;

 private:
  std::filesystem::path dir_;
};

// What an executor tells its caller (the library prints nothing). An executor never calls one
// observer from two threads at once (the local executor's side-by-side trainings take turns).
struct SweepObserver {
  virtual ~SweepObserver() = default;
  // A job is about to run (`reused` false) or was found finished (`reused` true).
  virtual void job(const Job& job, size_t index, size_t total, bool reused) {}
  // A job has finished after `seconds` of wall time (0 when run by another MPI rank).
  virtual void finished(const Job& job, size_t index, double seconds) {}
};

struct SweepOptions {
  int threads = 0;             // per job (0: all cores)
  std::string data_dir;        // empty: default_data_dir()
  int shard = 0, shards = 1;   // run only the jobs of this shard (see shard_of)
  SweepObserver* observer = nullptr;
};

// The shard (0..shards-1) of a job: the jobs that read one another stay in one shard (a
// base training, its continuations and their evaluations follow the base's id; a cost job its
// own), so a shard never waits for another.
int shard_of(const JobGraph& graph, size_t job, int shards);

// Runs one job whose inputs are finished; returns its result (also stored).
nlohmann::json run_job(const Job& job, const SweepStore& store, const SweepOptions& options);

// Runs every job of the graph (of the shard) that is not finished yet. Returns how many ran.
// The training jobs first, side by side: as many single-threaded trainings at once as
// `options.threads` (0: all cores; fewer trainings than threads share them), each as soon as the
// models it starts from are trained, the costliest first (a training step is ~1 ms of work between OpenMP barriers, so one team per
// training scales poorly on a few cores, while independent trainings never wait for each
// other). Then the other jobs in graph order, each on all the threads. A job's result does not
// depend on its thread count, so the order changes nothing but the time. The first job that
// fails stops the run (the trainings already under way finish) and its error is rethrown.
size_t run_local(const JobGraph& graph, const SweepStore& store, const SweepOptions& options);

// MPI executor (SPEC §10): rank 0 hands out the jobs whose inputs are finished, one at a time,
// to the other ranks as they become free (it runs none itself, and waits without spinning);
// the workers run them and write their results into the shared store. Every rank must call it
// with the same graph and store; it returns (on every rank) the number of jobs run in all, and
// sets `*rank` (when given) to this process's rank: only rank 0 should report.
// Finished jobs are skipped, so a restarted run resumes. A job that fails stops the run with
// its error on every rank. `options.shard` must be 0/1. Throws spinsc::Error when the program
// was built without MPI, or with one rank (use run_local).
size_t run_mpi(const JobGraph& graph, const SweepStore& store, const SweepOptions& options, int* rank = nullptr);
// Whether the process was started by an MPI launcher with more than one rank (mpirun -np N).
bool launched_by_mpi();
// This process's rank as the MPI launcher gave it (0 when not launched by one): known before
// run_mpi() starts MPI, so that one process prepares a run's folder.
int launched_rank();

// One row per cell: its settings, its evaluation and cost results (null where not finished).
nlohmann::json sweep_results(const std::vector<CellConfig>& cells, const JobGraph& graph, const SweepStore& store);

// The sweep's report in `dir`, from sweep_results() rows (finished cells only): results.csv (one
// row per cell: its settings, the device parameters that vary between cells, accuracy mean, std
// and 95% interval, digital accuracy, latency and energy of the cell's design — the quantized
// design, or the analog one for float training — with the cell's SNG source), pareto.csv (the
// cells on the accuracy-energy and accuracy-latency fronts: no other cell is at least as
// accurate and cheaper), and the plots accuracy_vs_energy and accuracy_vs_latency (every cell
// with its 95% interval, the front as a step line) as PNG, SVG and PDF, each with its CSV (and
// the front's, *_front.csv) and gnuplot script beside it; and for L and for every numeric device
// parameter that varies (the clock period of a clock sweep), accuracy_vs_<name> (accuracy with
// its 95% interval against that setting, one line per combination of the other settings that
// vary; its CSV in long form, its series' labels in accuracy_vs_<name>_series.csv). Returns the
// files written.
std::vector<std::filesystem::path> write_sweep_report(const nlohmann::json& rows, const std::filesystem::path& dir);

}  // namespace spinsc
