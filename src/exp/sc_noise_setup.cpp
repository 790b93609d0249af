#include "spinsc/sc_noise_setup.hpp"

#include "spinsc/error.hpp"
#include "spinsc/sc_engine.hpp"
#include "spinsc/sc_noise.hpp"

namespace spinsc {

std::unique_ptr<PreactivationNoise> make_sc_noise(const ScNoiseOptions& options, int states, uint64_t training_seed,
                                                  const SourceRegistry& sources) {
  if (options.length < 1) fail("SC noise length {} must be at least 1", options.length);
  return make_sc_noise(options, states, training_seed, std::shared_ptr<const BitSource>(sources.make(options.source)));
}

std::unique_ptr<PreactivationNoise> make_sc_noise(const ScNoiseOptions& options, int states, uint64_t training_seed,
                                                  std::shared_ptr<const BitSource> source) {
  if (options.length < 1) fail("SC noise length {} must be at least 1", options.length);
  if (!source) fail("SC noise: no bit source");
  const uint64_t seed = derive_seed(training_seed, SeedStream::TrainingNoise);
  if (options.exact_bits) {
    ScConfig sc;
    sc.multiply = options.multiply;
    sc.accumulate = options.accumulate;
    sc.source = options.source;
    sc.length = options.length;
    sc.seed = seed;
    return std::make_unique<BitLevelNoise>(sc, states, std::move(source));
  }
  if (!moment_matched_noise_models(rule_of(options.multiply), rule_of(options.accumulate)))
    fail("the moment-matched SC noise models signmag multiplication with apc accumulation, not {} with {}; train with "
         "the bit-level engine in the loop (--exact-bits, exact_bits=True), which runs every combination",
         to_string(options.multiply), to_string(options.accumulate));
  auto mm = std::make_unique<MomentMatchedNoise>(std::move(source), options.length, states, seed);
  mm->set_variance_gradient(options.variance_gradient);
  return mm;
}

nlohmann::json sc_noise_json(const ScNoiseOptions& options) {
  return {{"source", options.source},
          {"length", options.length},
          {"noise", options.exact_bits ? "bit-level" : "moment-matched"},
          {"variance_gradient", !options.exact_bits && options.variance_gradient},
          {"multiply", to_string(options.multiply)},
          {"accumulate", to_string(options.accumulate)}};
}

}  // namespace spinsc
