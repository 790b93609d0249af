#include "spinsc/recipes.hpp"

#include <chrono>

#include "spinsc/digital.hpp"
#include "spinsc/error.hpp"
#include "spinsc/results.hpp"

namespace spinsc {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

struct ModelTraining::Impl {
  TrainRecipe recipe;
  std::optional<Dataset> limited;  // the first train_limit images, when fewer than the data's
  std::unique_ptr<PreactivationNoise> noise;
  std::unique_ptr<Trainer> trainer;
};

ModelTraining::ModelTraining(const TrainRecipe& recipe, const Dataset& train, const Context& ctx,
                             std::shared_ptr<const BitSource> source)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.recipe = recipe;
  validate(m.recipe.config);
  if (recipe.train_limit < 0) fail("train_limit {} must not be negative (0: all training images)", recipe.train_limit);
  if (recipe.train_limit > 0 && recipe.train_limit < train.count) m.limited = train.head(recipe.train_limit);
  if (m.recipe.config.mode == TrainMode::Sc) {
    m.noise = source ? make_sc_noise(recipe.sc, m.recipe.config.states, m.recipe.config.seed, std::move(source))
                     : make_sc_noise(recipe.sc, m.recipe.config.states, m.recipe.config.seed, *ctx.sources);
  }
  m.trainer = std::make_unique<Trainer>(m.recipe.config, m.limited ? *m.limited : train, m.noise.get(), recipe.init);
}

ModelTraining::~ModelTraining() = default;

EpochReport ModelTraining::run_epoch(const Trainer::StepCallback& on_step) { return impl_->trainer->run_epoch(on_step); }
bool ModelTraining::done() const { return impl_->trainer->done(); }
const Trainer& ModelTraining::trainer() const { return *impl_->trainer; }

Network ModelTraining::network() const {
  const TrainRecipe& r = impl_->recipe;
  Network net = impl_->trainer->network();
  if (r.config.mode == TrainMode::Sc) net.training["sc"] = sc_noise_json(r.sc);
  if (!r.init_name.empty()) net.training["init"] = r.init_name;
  if (r.train_limit > 0) net.training["train_limit"] = r.train_limit;
  return net;
}

TrainedModel train_model(const TrainRecipe& recipe, const Dataset& train, const Dataset& test, const Context& ctx,
                         const TrainCallbacks& callbacks, std::shared_ptr<const BitSource> source) {
  ModelTraining training(recipe, train, ctx, std::move(source));
  return train_model(training, test, callbacks);
}

TrainedModel train_model(ModelTraining& training, const Dataset& test, const TrainCallbacks& callbacks) {
  while (!training.done()) {
    const EpochReport report = training.run_epoch(callbacks.on_step);
    if (callbacks.on_epoch) callbacks.on_epoch(report);
  }
  TrainedModel out{training.network(), 0.0, 0.0};
  const auto t0 = std::chrono::steady_clock::now();
  out.digital_accuracy = digital_accuracy(out.network, test, training.trainer().config().threads);
  out.test_seconds = seconds_since(t0);
  out.network.training["digital_test_accuracy"] = out.digital_accuracy;
  out.network.training["test_images"] = test.count;
  return out;
}

nlohmann::json Evaluation::record() const {
  nlohmann::json j = evaluation_record(accuracy, config, source_name, binomial_shortcut);
  if (digital_accuracy) j["digital_accuracy"] = *digital_accuracy;
  return j;
}

Evaluation evaluate_sc(const ScEngine& engine, const Dataset& test, int repeats, int threads, const Context& ctx,
                       bool with_digital) {
  Evaluation e;
  e.config = engine.config();
  e.source_name = engine.source().name();
  e.binomial_shortcut = engine.binomial_shortcut();
  e.accuracy = engine.accuracy(test, repeats, threads, ctx.observer);
  if (with_digital) e.digital_accuracy = digital_accuracy(engine.reference(), test, threads);
  return e;
}

Evaluation evaluate_sc(const Network& net, const ScConfig& config, const Dataset& test, int repeats, int threads,
                       const Context& ctx, bool with_digital, std::shared_ptr<const BitSource> source) {
  if (!source) source = std::shared_ptr<const BitSource>(ctx.make_source(config.source));
  const ScEngine engine(net, config, std::move(source));
  return evaluate_sc(engine, test, repeats, threads, ctx, with_digital);
}

nlohmann::json DigitalEvaluation::record() const {
  nlohmann::json j = record_header("digital_evaluation");
  j.update({{"digital_accuracy", accuracy}, {"seconds", seconds}, {"inference", inference}});
  return j;
}

DigitalEvaluation evaluate_digital(const Network& net, const Dataset& test, int threads, bool analog) {
  const bool unquantized = analog || !net.quantized();
  Network reference = net;
  if (unquantized) reference.mode = TrainMode::Float;
  const auto t0 = std::chrono::steady_clock::now();
  const double accuracy = digital_accuracy(reference, test, threads);
  return {accuracy, seconds_since(t0), analog && net.quantized() ? "digital-float" : "digital"};
}

}  // namespace spinsc
