// Recipes: one library call per method, which every front-end (the CLI, `spinsc reproduce`,
// sweeps, the Python package) calls instead of assembling the steps itself, so that the steps
// cannot drift apart between front-ends:
//   train a model        TrainRecipe -> ModelTraining (epoch by epoch) or train_model (to the end)
//   evaluate one SC      evaluate_sc (bit-level or binomial shortcut, with the digital reference)
//   configuration        and evaluate_digital
// Costing a design is cost_report (cost_model.hpp); importing and calibrating traces are
// import_traces and calibrate (trace.hpp, calibrate.hpp).
//
// Thread-safety: a ModelTraining is used from one thread at a time (it runs its own OpenMP
// team); the free functions may run concurrently on distinct arguments.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "spinsc/context.hpp"
#include "spinsc/dataset.hpp"
#include "spinsc/network.hpp"
#include "spinsc/sc_engine.hpp"
#include "spinsc/sc_noise_setup.hpp"
#include "spinsc/train.hpp"

namespace spinsc {

// Every setting that decides a trained model's tensors.
struct TrainRecipe {
  TrainConfig config;             // validate()d by the recipe
  ScNoiseOptions sc;              // mode sc: the SC noise in the forward pass, seeded from config.seed
  const Network* init = nullptr;  // the network to start from (fine-tuning); not owned, outlives the training
  std::string init_name;          // how the model records `init` (its path); empty: not recorded
  int train_limit = 0;            // train on the first N training images (0: all)
};

// A training in progress, epoch by epoch (the CLI's progress line, Python's Trainer). It owns the
// SC noise (mode sc: make_sc_noise from recipe.sc with `source` when given, else with
// ctx.sources) and, with a train_limit smaller than the data, its copy of the first images.
// `train` must outlive it. Throws spinsc::Error on a bad configuration, length or source.
class ModelTraining {
 public:
  ModelTraining(const TrainRecipe& recipe, const Dataset& train, const Context& ctx,
                std::shared_ptr<const BitSource> source = nullptr);
  ~ModelTraining();
  ModelTraining(const ModelTraining&) = delete;
  ModelTraining& operator=(const ModelTraining&) = delete;

  EpochReport run_epoch(const Trainer::StepCallback& on_step = {});
  bool done() const;
  const Trainer& trainer() const;  // config (with the optimizer's defaults filled in), sizes

  // The network so far, ready for inference. Its `training` records, beside the configuration
  // and history the Trainer writes, what rebuilds it with `spinsc train` (docs/training.md):
  // "sc" (mode sc: sc_noise_json), "init" (init_name, when set) and "train_limit" (when > 0).
  Network network() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A model trained to its last epoch and tested digitally.
struct TrainedModel {
  Network network;          // training["digital_test_accuracy"] and ["test_images"] recorded
  double digital_accuracy;  // on `test`
  double test_seconds;      // the digital test's wall time
};

struct TrainCallbacks {
  Trainer::StepCallback on_step;                     // after each minibatch (Trainer::run_epoch)
  std::function<void(const EpochReport&)> on_epoch;  // after each epoch
};

// Runs every epoch of ModelTraining(recipe, train, ctx, source), then the digital accuracy of the
// result on `test` (recipe.config.threads threads).
TrainedModel train_model(const TrainRecipe& recipe, const Dataset& train, const Dataset& test, const Context& ctx,
                         const TrainCallbacks& callbacks = {}, std::shared_ptr<const BitSource> source = nullptr);
// The same for a training already under way (e.g. one whose configuration a front-end printed
// first): its remaining epochs, then the test.
TrainedModel train_model(ModelTraining& training, const Dataset& test, const TrainCallbacks& callbacks = {});

// One evaluation: the engine's accuracy and, when asked for, the digital accuracy of the
// computation it converges to (the quantized network, or the float one when analog).
struct Evaluation {
  ScAccuracy accuracy;
  ScConfig config;                         // as used (source: its spec)
  std::string source_name;                 // the source's own name (BitSource::name)
  bool binomial_shortcut = false;
  std::optional<double> digital_accuracy;  // on the same images
  // The evaluation record of results.hpp (evaluation_record), with digital_accuracy when known.
  nlohmann::json record() const;
};

// `engine` on `test`: `repeats` independent draws on `threads` threads, progress to ctx's
// observer; when `with_digital`, also the digital accuracy of engine.reference().
Evaluation evaluate_sc(const ScEngine& engine, const Dataset& test, int repeats, int threads, const Context& ctx,
                       bool with_digital = true);
// The same with the engine built here, its source from `source` when given, else made by
// ctx.sources from config.source.
Evaluation evaluate_sc(const Network& net, const ScConfig& config, const Dataset& test, int repeats, int threads,
                       const Context& ctx, bool with_digital = true, std::shared_ptr<const BitSource> source = nullptr);

// Digital accuracy of `net` on `test`, or of its unquantized (float) version when `analog` or
// when the network is not quantized; `inference` says which ("digital" or "digital-float").
struct DigitalEvaluation {
  double accuracy;
  double seconds;
  std::string inference;
  nlohmann::json record() const;  // header "digital_evaluation", digital_accuracy, seconds, inference
};
DigitalEvaluation evaluate_digital(const Network& net, const Dataset& test, int threads, bool analog = false);

}  // namespace spinsc
