// Sweep plans and job identity (SPEC §10): an experiment as data.
//
// A plan names a base configuration and axes with their values; its cells are the product of
// the axes (or an explicit list of cells). Each cell is one complete, validated configuration
// (CellConfig); jobs_of() turns cells into jobs — train, evaluate, cost — each identified by
// the hash of its complete serialized configuration plus kJobFormat and the spinsc version, so
// that equal configurations are one job (shared between cells) and any change, including a
// change of the code's version, makes a new one. Executors (local, MPI, shards) only run jobs;
// nothing here runs anything.
//
// Plan file (JSON; docs/sweeps.md):
//   {"name": "clock-study",
//    "base":  {"arch": "784,256,128,64,10", "states": 5, "length": 100, ...},
//    "axes":  {"device.sample_period_s": [1e-9, 1e-8, 1e-7], "length": [8, 16, 100],
//              "training": ["without_sc", "with_sc"]},
//    "cells": [{...}, ...]}            (optional: explicit cells, each over the base)
// Settings (every one has a default, see CellConfig): arch, states, dataset, training
// (float | without_sc | with_sc), epochs, sc_epochs, train_limit (train on the first N training
// images; 0: all), seed, source (ideal | lfsr[:n] | sobol | smtj | trace:DIR, DIR a trace
// library, trace.hpp, relative to base_dir), device (a device JSON file, a built-in device name
// or an object, SPEC §3.1), device.<field> (a device parameter:
// delta, tau0_s, sample_period_s, critical_current_A, temperature_K, offset_current_A, bias,
// variation.delta.sigma, ...), length, sharing, multiply, accumulate, exact_bits, repeats,
// limit. Errors name the plan, the setting and the value.
//
// Thread-safety: plain values and pure functions (cell_config() remembers, under a lock, the
// trace libraries that loaded, by checksum).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace spinsc {

// Bumped whenever a job's meaning changes without its configuration changing (a new default,
// a changed recipe): every job identity changes with it, so nothing stale is ever reused.
inline constexpr int kJobFormat = 1;

struct CellConfig {
  std::string arch = "784,128,10";   // any architecture of network.hpp
  int states = 5;                    // K
  std::string dataset = "mnist";
  std::string training = "with_sc";  // float | without_sc | with_sc
  int epochs = 10;                   // the qat (or float) base
  int sc_epochs = 10;                // continuation without or with SC noise
  int train_limit = 0;               // training images: the first N (0: all)
  uint64_t seed = 1;
  std::string source = "smtj";       // the bits of SC noise and evaluation; trace:<absolute dir>
  nlohmann::json device;             // the complete device description (source smtj), canonical
  std::string library_sha256;        // source trace: trace_library_sha256() of its directory
  int length = 100;                  // L
  std::string sharing = "independent";
  std::string multiply = "signmag";
  std::string accumulate = "apc";
  bool exact_bits = false;
  int repeats = 5;
  int limit = 0;                     // test images (0: the full test set)

  // Every setting above; train_limit only when > 0 and library_sha256 only for a trace source,
  // so the rows of cells without them read as they did before these settings existed.
  nlohmann::json to_json() const;
};

struct Plan {
  std::string name;
  std::string description;
  std::string origin;          // the file, for messages
  nlohmann::json base;         // settings shared by every cell
  std::vector<std::pair<std::string, std::vector<nlohmann::json>>> axes;  // by name
  std::vector<nlohmann::json> cells;  // explicit cells (settings over the base)
};

// Parses and validates a plan (every cell is built once to check it). Throws spinsc::Error.
Plan parse_plan(const nlohmann::json& plan, const std::string& origin);
Plan load_plan(const std::filesystem::path& path);
// The plan as the JSON of a plan file: parse_plan(plan_json(p)) gives p's cells.
nlohmann::json plan_json(const Plan& plan);

// Plans built into the program, by name (`spinsc sweep NAME`; docs/sweeps.md):
//   device-study  the literature s-MTJs (configs/device/perpendicular_ns, inplane_ns) at 0.1, 1,
//                 10 and 100 times their relaxation time at p = 1/2, the 3-hidden network at
//                 K = 5 and 11, L = 8, 32, 128, 500, trained without and with SC (128 cells).
//   reproduce     the default `spinsc reproduce` (reproduce.hpp: reproduce_plan): the paper's MLP
//                 grid and its analog baseline, the same jobs.
// builtin_plan() throws spinsc::Error for an unknown name, listing the known ones.
std::vector<std::string> builtin_plan_names();
Plan builtin_plan(const std::string& name);

// The plan's cells in order: the explicit cells, then the product of the axes (taken in the
// order of their names, the last varying fastest). `base_dir` resolves relative device file paths
// and trace:DIR libraries.
std::vector<CellConfig> expand(const Plan& plan, const std::filesystem::path& base_dir = {});

// One cell's configuration from settings (a JSON object of the names above). A trace:DIR
// source must load as a trace library (load_trace_library); the cell names it by its absolute
// directory and carries its checksum. Throws spinsc::Error naming `where`, the setting and the
// value (and for a trace source, the directory).
CellConfig cell_config(const nlohmann::json& settings, const std::string& where, const std::filesystem::path& base_dir = {});

// The checksum of the trace library in `dir`: sha256 of the JSON list of [file name, sha256 of
// its bytes] over its *.trace files (the files load_trace_library reads) in file-name order. A
// changed, added, removed or renamed trace changes it, so it changes the id of every job that
// reads the library's bits. Throws spinsc::Error naming the directory when it cannot be read or
// has no *.trace file.
std::string trace_library_sha256(const std::filesystem::path& dir);

struct Job {
  std::string kind;         // "train", "evaluate", "cost"
  nlohmann::json config;    // complete: what the job computes depends on nothing else
  std::vector<std::string> inputs;  // ids of the jobs whose results it reads
  std::string id;           // job_id(kind, config)
};
// sha256 of {"format": kJobFormat, "spinsc": version, "seeding": kSeedingVersion, "kind": kind,
// "config": config} in
// nlohmann's canonical dump (sorted keys, shortest round-trip numbers).
std::string job_id(const std::string& kind, const nlohmann::json& config);

struct JobGraph {
  std::vector<Job> jobs;  // each after the jobs it reads; every id once
  // Per cell: the ids of its evaluate and cost jobs.
  std::vector<std::pair<std::string, std::string>> cells;
};
// The jobs of these cells: a float or qat base training per (arch, K, dataset, epochs, seed,
// train_limit); its continuation without SC or with the SC noise of the cell's source, device
// and L; an evaluation of that model under the cell's SC settings; a cost of the design. Equal
// jobs are shared by the cells that need them. A job's "bits" are {"source"} plus the cell's
// "device" (smtj) or "library_sha256" (trace:DIR). The trainings carry "train_limit" only when
// it is > 0, so the ids of cells that train on every image are those of before the setting.
JobGraph jobs_of(const std::vector<CellConfig>& cells);

// The spinsc version that job identities carry ("0.1.0").
std::string spinsc_version();

}  // namespace spinsc
