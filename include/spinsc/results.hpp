// One result record for every front-end (docs/results.md): `spinsc eval --json`, `spinsc train
// --json`, `spinsc cost --json`, reproduce cells (cells/*.json, results.json), sweep job records
// and the Python package's dicts all name the same quantity the same way:
//   schema_version, spinsc_version, record   what this is ("evaluation", "training", "cost", ...)
//   accuracy_mean, accuracy_std,             over the repeats (sample std; 0 for one repeat),
//   accuracy_ci95, accuracy_per_repeat       the 95% interval of the mean (Student's t; null
//                                            for one repeat) and every repeat's accuracy
//   length, source, multiply, accumulate,    the SC configuration (sc_engine.hpp)
//   sharing, analog, exact_bits, path, seed
//   arch                                     the canonical spelling (network.hpp to_string)
// kResultSchema is raised whenever a name or meaning changes; readers check it.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace spinsc {

struct CostReport;
struct ScAccuracy;
struct ScConfig;

// 1: sweep job records before the names were unified; 2: one record everywhere.
inline constexpr int kResultSchema = 2;

// {"schema_version": kResultSchema, "spinsc_version": ..., "record": kind}.
nlohmann::json record_header(std::string_view kind);

// The 95% confidence interval [low, high] of the mean of n values with sample
// std `std` (Student's t with n - 1 degrees of freedom); null for n < 2.
nlohmann::json confidence_95(double mean, double std, int n);

// An SC evaluation: the header ("evaluation"), accuracy_mean, accuracy_std, accuracy_ci95,
// accuracy_per_repeat (the engine's own mean and std), repeats, images, seconds,
// weight_streams, synapses and the configuration (length, source = `source_name`, multiply,
// accumulate, sharing, analog, exact_bits, path, seed).
nlohmann::json evaluation_record(const ScAccuracy& accuracy, const ScConfig& config, const std::string& source_name,
                                 bool binomial_shortcut);

// A cost report (cost_model.hpp cost_json) under the header ("cost").
nlohmann::json cost_record(const CostReport& report);

}  // namespace spinsc
