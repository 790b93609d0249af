#include "spinsc/recipes.hpp"

#include <gtest/gtest.h>

#include "spinsc/device_sources.hpp"
#include "spinsc/digital.hpp"
#include "spinsc/error.hpp"
#include "spinsc/results.hpp"
#include "testutil.hpp"

namespace spinsc {
namespace {

struct Data {
  Dataset train, test;
};

const Data& data() {
  static const Data d{load_dataset("mnist", testing::data_dir(), Split::Train).head(600),
                      load_dataset("mnist", testing::data_dir(), Split::Test).head(300)};
  return d;
}

TrainConfig small_config(TrainMode mode) {
  TrainConfig c;
  c.arch = parse_architecture("784,16,10");
  c.mode = mode;
  c.states = 5;
  c.epochs = 2;
  c.batch = 64;
  c.seed = 3;
  c.threads = 1;
  return c;
}

bool same_tensors(const Network& a, const Network& b) {
  if (a.layers.size() != b.layers.size()) return false;
  for (size_t l = 0; l < a.layers.size(); ++l)
    if (a.layers[l].weight != b.layers[l].weight || a.layers[l].bias != b.layers[l].bias ||
        a.layers[l].gain != b.layers[l].gain || a.layers[l].scale != b.layers[l].scale)
      return false;
  return true;
}

// The recipe trains the same network as the Trainer given the noise make_sc_noise builds, and
// records what rebuilds it: the SC settings, the initial model's name and the image limit.
TEST(Recipes, TrainingIsTheTrainersWithWhatRebuildsItRecorded) {
  const Context ctx{standard_sources()};
  TrainRecipe base;
  base.config = small_config(TrainMode::Qat);
  const TrainedModel qat = train_model(base, data().train, data().test, ctx);
  {
    Trainer direct(base.config, data().train);
    while (!direct.done()) direct.run_epoch();
    EXPECT_TRUE(same_tensors(direct.network(), qat.network));
  }
  EXPECT_EQ(qat.digital_accuracy, digital_accuracy(qat.network, data().test, 1));
  EXPECT_EQ(qat.network.training.at("digital_test_accuracy").get<double>(), qat.digital_accuracy);
  EXPECT_EQ(qat.network.training.at("test_images").get<int>(), data().test.count);
  EXPECT_FALSE(qat.network.training.contains("sc"));
  EXPECT_EQ(qat.network.training.at("init"), "w ~ U(-sqrt(3/n), sqrt(3/n)), b = 0, gain = 1");  // the Trainer's
  EXPECT_FALSE(qat.network.training.contains("train_limit"));

  TrainRecipe sc;
  sc.config = small_config(TrainMode::Sc);
  sc.config.epochs = 1;
  sc.sc.source = "ideal";
  sc.sc.length = 16;
  sc.init = &qat.network;
  sc.init_name = "models/qat.safetensors";
  sc.train_limit = 400;
  int epochs = 0;
  long steps = 0;
  TrainCallbacks callbacks;
  callbacks.on_step = [&](long, long, double, double) { ++steps; };
  callbacks.on_epoch = [&](const EpochReport&) { ++epochs; };
  const TrainedModel tuned = train_model(sc, data().train, data().test, ctx, callbacks);
  {
    const auto noise = make_sc_noise(sc.sc, sc.config.states, sc.config.seed, *standard_sources());
    const Dataset first = data().train.head(400);
    Trainer direct(sc.config, first, noise.get(), &qat.network);
    while (!direct.done()) direct.run_epoch();
    EXPECT_TRUE(same_tensors(direct.network(), tuned.network));
    EXPECT_EQ(steps, direct.steps_per_epoch());
  }
  EXPECT_EQ(epochs, 1);
  EXPECT_EQ(tuned.network.training.at("sc"), sc_noise_json(sc.sc));
  EXPECT_EQ(tuned.network.training.at("init").get<std::string>(), "models/qat.safetensors");
  EXPECT_EQ(tuned.network.training.at("train_limit").get<int>(), 400);

  // A given source replaces the registry's: the same spec gives the same network.
  const TrainedModel given = train_model(sc, data().train, data().test, Context{builtin_sources()}, {},
                                         std::shared_ptr<const BitSource>(make_bit_source("ideal")));
  EXPECT_TRUE(same_tensors(given.network, tuned.network));
}

TEST(Recipes, BadTrainingSettingsAreRefusedBeforeTraining) {
  const Context ctx{standard_sources()};
  TrainRecipe r;
  r.config = small_config(TrainMode::Qat);
  r.train_limit = -1;
  EXPECT_THROW(ModelTraining(r, data().train, ctx), Error);
  r.train_limit = 0;
  r.config.mode = TrainMode::Sc;
  r.sc.source = "nonsense";
  EXPECT_THROW(ModelTraining(r, data().train, ctx), Error);
  r.sc.source = "ideal";
  r.sc.length = 0;
  EXPECT_THROW(ModelTraining(r, data().train, ctx), Error);
  // A limit at or above the number of images trains on all of them.
  r.config.mode = TrainMode::Qat;
  r.train_limit = 100000;
  const ModelTraining all(r, data().train, ctx);
  EXPECT_EQ(all.trainer().train_images(), data().train.count);
}

// One SC configuration: the engine's accuracy, the record of results.hpp and the digital
// reference of the computation the engine converges to (the float network when analog).
TEST(Recipes, EvaluationIsTheEnginesWithItsDigitalReference) {
  const Context ctx{standard_sources()};
  TrainRecipe base;
  base.config = small_config(TrainMode::Qat);
  base.config.epochs = 1;
  const Network net = train_model(base, data().train, data().test, ctx).network;
  ScConfig cfg;
  cfg.source = "lfsr";
  cfg.length = 32;
  cfg.seed = 5;
  const Evaluation e = evaluate_sc(net, cfg, data().test, 2, 1, ctx);
  const ScEngine engine(net, cfg, *standard_sources());
  const ScAccuracy direct = engine.accuracy(data().test, 2, 2);
  EXPECT_EQ(e.accuracy.per_repeat, direct.per_repeat);
  EXPECT_EQ(e.source_name, "lfsr:32");
  EXPECT_FALSE(e.binomial_shortcut);  // an LFSR's bits are not i.i.d.
  ASSERT_TRUE(e.digital_accuracy);
  EXPECT_EQ(*e.digital_accuracy, digital_accuracy(net, data().test, 1));
  nlohmann::json expected = evaluation_record(direct, engine.config(), "lfsr:32", false);
  expected["digital_accuracy"] = *e.digital_accuracy;
  nlohmann::json got = e.record();
  got.erase("seconds");
  expected.erase("seconds");
  EXPECT_EQ(got, expected);

  EXPECT_FALSE(evaluate_sc(net, cfg, data().test, 1, 1, ctx, false).digital_accuracy);

  cfg.analog = true;
  Network as_float = net;
  as_float.mode = TrainMode::Float;
  const Evaluation analog = evaluate_sc(net, cfg, data().test, 1, 1, ctx);
  EXPECT_EQ(*analog.digital_accuracy, digital_accuracy(as_float, data().test, 1));

  const DigitalEvaluation d = evaluate_digital(net, data().test, 2);
  EXPECT_EQ(d.accuracy, digital_accuracy(net, data().test, 1));
  EXPECT_EQ(d.inference, "digital");
  EXPECT_EQ(d.record().at("record"), "digital_evaluation");
  const DigitalEvaluation df = evaluate_digital(net, data().test, 2, true);
  EXPECT_EQ(df.accuracy, *analog.digital_accuracy);
  EXPECT_EQ(df.inference, "digital-float");

  ScConfig bad = cfg;
  bad.source = "nonsense";
  EXPECT_THROW(evaluate_sc(net, bad, data().test, 1, 1, ctx), Error);
}

}  // namespace
}  // namespace spinsc
