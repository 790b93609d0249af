// The SC noise of training mode `sc` from its settings: what `spinsc train` and the Python
// package both build, so that the two front-ends train with the same noise.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "spinsc/bit_source.hpp"
#include "spinsc/sc_engine.hpp"
#include "spinsc/train.hpp"

namespace spinsc {

struct ScNoiseOptions {
  std::string source = "smtj";   // SourceRegistry::make() spec
  int length = 100;              // L whose SC noise training sees (>= 1)
  bool exact_bits = false;       // BitLevelNoise (the bit-level engine) instead of MomentMatchedNoise
  bool variance_gradient = true; // MomentMatchedNoise: the gradient through the noise's variance
  // The arithmetic whose noise training sees. MomentMatchedNoise models sign-magnitude AND with
  // APC counting only; BitLevelNoise runs the engine, so it supports every combination.
  Multiply multiply = Multiply::SignMagnitude;
  Accumulate accumulate = Accumulate::Apc;
};

// MomentMatchedNoise (or BitLevelNoise with exact_bits) for a network of K = `states` trained
// with the seed `training_seed` (TrainConfig::seed): its draws come from
// derive_seed(training_seed, SeedStream::TrainingNoise), the same for every front-end (`spinsc
// train`, reproduce, sweeps, Python), so that a model is rebuilt by any of them from the settings
// it records. The source is built by `sources` from options.source, or given (options.source is
// then only its name in the record). Throws spinsc::Error on a bad length or source.
std::unique_ptr<PreactivationNoise> make_sc_noise(const ScNoiseOptions& options, int states, uint64_t training_seed,
                                                  const SourceRegistry& sources);
std::unique_ptr<PreactivationNoise> make_sc_noise(const ScNoiseOptions& options, int states, uint64_t training_seed,
                                                  std::shared_ptr<const BitSource> source);

// What a model trained with this noise records under training["sc"]: source, length, noise
// ("moment-matched" or "bit-level"), variance_gradient.
nlohmann::json sc_noise_json(const ScNoiseOptions& options);

}  // namespace spinsc
