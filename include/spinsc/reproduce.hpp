// The paper's experiment as one library call (SPEC §6): `spinsc reproduce`.
//
// Suites. `mlp` (the default): the paper's MLP grid below. `cnn`: the same grid for one
// LeNet-class network (`cnn_arch`, default the preset `lenet5`, network.hpp) in place of the two
// MLP depths: K x L x training {without SC, with SC}, the same baselines, models, cells and
// report (docs/cnn.md). Both run through one grid description (a list of networks); the mlp
// suite's model and cell names, fingerprints and report are those it had before suites existed,
// so existing result folders resume. Conv stages are evaluated with the SC engine's default
// `independent` weight streams (exact binomial shortcut; what the SC training noise models);
// cost.md gives the conv design's cost for `independent` and for `per-tap` weight SNGs.
//
// Grid: depth {1 hidden, 3 hidden} x K {5, 11} x L {100..500} x training {without SC, with SC},
// each cell evaluated with the configured source (default: the s-MTJ reference device) on the
// full test set with R stochastic repeats (mean +- sample std). Beside it: the float network
// (digital), the quantized networks without SC noise (digital) and the analog SC baseline (the
// float network run as an unquantized SC-ANN at each L).
//
// Training (equal budgets): a `qat` base model per (depth, K) trained for `epochs`; the
// "without SC" model continues it for `sc_epochs` without noise, the "with SC" model of length
// L continues it for `sc_epochs` with the SC noise of that source and L in the forward pass
// (MomentMatchedNoise, sc_noise.hpp). The float network trains for `epochs`.
//
// A built-in plan (SPEC §10): the grid is the plan reproduce_plan() gives, its grid and analog
// cells the plan's explicit cells, run as the jobs of jobs_of() in a sweep store in DIR (DIR/jobs,
// DIR/models, DIR/plan.json; docs/sweeps.md) by the local executor (trainings side by side, one
// thread each, then the evaluations on every thread) or, with `mpi`, the MPI executor; `spinsc
// sweep reproduce` runs the same jobs. A digital cell is the digital accuracy that the evaluation
// of its model's first length also measures (on the same images). Every trained model is also
// under its report name, DIR/models/NAME.safetensors (a hard link to its job's file), as the
// cells name it.
//
// Resumable: a job's record and model are written atomically as soon as it is finished, with
// the checksum of its configuration and result (and of its model). A restart with the same DIR
// reuses every finished job whose record matches and redoes only the rest (an edited, damaged
// or truncated record or model is redone); the report files are rewritten from the records at
// the end. Results depend on the seed only, never on the thread count, the executor or where a
// run was interrupted. A restart removes the temporary files a killed run left.
//
// Every input (options, source and its lengths, hardware parameters, data, output folder) is
// checked before the first job; bad input throws spinsc::Error naming it.
//
// Progress: one message per job to ctx.observer, with the elapsed time and an ETA. The source
// is checked with ctx.sources; the jobs build it from the plan's settings (ideal, lfsr[:n],
// sobol, smtj with the reference device, smtj:FILE or NAME, trace:DIR).
//
// Outputs: DIR/results.json, results.csv, table.md, accuracy_vs_length_d<depth>.png (cnn suite:
// accuracy_vs_length_cnn.png; + .csv and .gp), and the hardware cost table of the
// configurations (cost.md). A cnn-suite cell's `depth` is its network's hidden stages (lenet5: 4).
//
// Thread-safety: reproduce_defaults is a pure function. run_reproduce runs its own OpenMP team
// (`threads`); two runs may proceed concurrently on different output folders, not on one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spinsc/context.hpp"
#include "spinsc/plan.hpp"

namespace spinsc {

struct ReproduceConfig {
  std::filesystem::path out;
  std::string suite = "mlp";        // "mlp" or "cnn" (reproduce_defaults gives each one's defaults)
  std::string cnn_arch = "lenet5";  // the cnn suite's network (parse_architecture: preset, list or JSON file)
  std::vector<int> depths{1, 3};
  std::vector<int> arch1{784, 128, 10};           // the 1-hidden-layer network
  std::vector<int> arch3{784, 256, 128, 64, 10};  // the 3-hidden-layer network
  std::vector<int> states{5, 11};
  // The paper's lengths, and the short streams where latency and energy are saved.
  std::vector<int> lengths{4, 8, 16, 32, 64, 100, 200, 300, 400, 500};
  int repeats = 5;
  // The analog baseline runs bit by bit at arbitrary p (no exact shortcut): one repeat by default.
  int analog_repeats = 1;
  std::string source = "smtj";
  int threads = 0;
  uint64_t seed = 1;
  std::string dataset = "mnist";
  std::filesystem::path data_dir;   // empty: default_data_dir()
  int epochs = 10;                  // float and qat base training
  int sc_epochs = 10;               // continuation with / without SC noise
  int limit = 0;                    // evaluate on the first N test images only (0: all)
  int train_limit = 0;              // train on the first N training images only (0: all; quick checks)
  bool baselines = true;            // float, digital and analog cells
  bool exact_bits = false;          // bit-level evaluation even where the binomial shortcut is exact
  std::filesystem::path hw;         // hardware cost parameters (empty: configs/hw/default.json)
  bool mpi = false;                 // run the jobs with the MPI executor (mpirun -np N; rank 0 reports)
};

struct ReproduceCell {
  std::string kind;      // "grid", "float", "digital", "analog"
  int depth = 0;
  int states = 0;        // 0 for float / analog
  int length = 0;        // 0 for digital cells
  std::string training;  // "without_sc", "with_sc", "float"
  double accuracy_mean = 0, accuracy_std = 0;
  int repeats = 0, images = 0;
  double seconds = 0;    // evaluation wall time
  std::string model;     // model file, relative to DIR
  std::vector<double> accuracy_per_repeat;
  // The record of docs/results.md ("reproduce_cell"): these fields plus schema_version,
  // spinsc_version and accuracy_ci95.
  nlohmann::json to_json() const;
};

// The defaults of a suite: "mlp" is ReproduceConfig{}; "cnn" the same with suite "cnn", epochs
// 15 and sc_epochs 2 (why: docs/cnn.md). Throws spinsc::Error naming an unknown suite.
ReproduceConfig reproduce_defaults(const std::string& suite);

// The grid as a plan (plan.hpp): its base settings and explicit cells, the analog and grid cells
// in the report's order (per network: the analog cells, then per K the grid cells). Independent
// of `out`. Throws spinsc::Error naming a bad option.
Plan reproduce_plan(const ReproduceConfig& config);

// Runs (or resumes) the grid and writes the report. Returns all cells of this configuration (none
// on the MPI ranks other than 0, which only run jobs).
std::vector<ReproduceCell> run_reproduce(const ReproduceConfig& config, const Context& context);

// The report files from a list of cells (also used by tests).
void write_reproduce_report(const ReproduceConfig& config, const std::vector<ReproduceCell>& cells);

}  // namespace spinsc
