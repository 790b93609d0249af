// spinsc train: trains a network (MLP or conv, modes float, qat, sc) on MNIST / Fashion-MNIST and saves it.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>
#include <optional>

#include "cli/command.hpp"
#include "cli/progress_line.hpp"
#include "spinsc/dataset.hpp"
#include "spinsc/device_sources.hpp"
#include "spinsc/error.hpp"
#include "spinsc/model_io.hpp"
#include "spinsc/results.hpp"
#include "spinsc/recipes.hpp"

namespace spinsc::cli {
namespace {

struct TrainOptions {
  DataOptions data;
  std::string arch = "784,128,10";
  int states = 5;
  std::string mode = "qat";
  int epochs = TrainConfig{}.epochs;
  int batch = 128;
  std::optional<double> lr;
  std::string optimizer = "adam";
  double momentum = 0.9;
  std::string schedule = "cosine";
  std::optional<double> weight_decay;
  int shift = TrainConfig{}.shift;
  int val = 0;
  uint64_t seed = 1;
  int threads = 0;
  int train_limit = 0;
  int legacy_limit = -1;  // --limit: refused with a pointer to --train-limit
  std::string out;
  bool quiet = false;
  bool json = false;
  // Mode sc: the SC noise of this source and length in the forward pass.
  int sc_length = 100;
  std::string source = "smtj";
  bool exact_bits = false;
  std::string multiply = "signmag", accumulate = "apc";
  bool no_variance_gradient = false;
  std::string init;  // start from this model (fine-tuning)
};

int run_train(const TrainOptions& opt) {
  const TrainMode mode = parse_train_mode(opt.mode);
  TrainConfig cfg;
  try {
    cfg.arch = parse_architecture(opt.arch);
  } catch (const Error& e) {
    fail("--arch: {}", e.what());
  }
  cfg.states = opt.states;
  cfg.mode = mode;
  cfg.epochs = opt.epochs;
  cfg.batch = opt.batch;
  if (opt.lr && !(*opt.lr > 0.0)) fail("--lr {} must be positive", *opt.lr);
  cfg.optimizer = parse_optimizer(opt.optimizer);
  cfg.lr = opt.lr.value_or(0.0);  // 0: the optimizer's default
  cfg.momentum = opt.momentum;
  cfg.schedule = parse_schedule(opt.schedule);
  if (opt.weight_decay && !(*opt.weight_decay >= 0.0)) fail("--weight-decay {} must not be negative", *opt.weight_decay);
  cfg.weight_decay = opt.weight_decay.value_or(-1.0);  // -1: the optimizer's default
  cfg.shift = opt.shift;
  cfg.val = opt.val;
  cfg.seed = opt.seed;
  cfg.threads = opt.threads;
  cfg.dataset = opt.data.dataset;
  validate(cfg);  // everything but the data's image size, before the data is read
  if (opt.legacy_limit >= 0)
    fail("`spinsc train` counts training images with --train-limit N (--limit counts test images, in eval and reproduce)");
  if (opt.train_limit < 0) fail("--train-limit {} must be positive (0: all training images)", opt.train_limit);
  if (opt.out.empty()) fail("--out FILE is required (where to save the model)");

  if (mode == TrainMode::Sc && opt.sc_length < 1) fail("--sc-length {} must be at least 1", opt.sc_length);

  const auto dir = opt.data.data_dir.empty() ? default_data_dir() : std::filesystem::path(opt.data.data_dir);
  const Dataset train = load_dataset(opt.data.dataset, dir, Split::Train);
  const Dataset test = load_dataset(opt.data.dataset, dir, Split::Test);

  std::optional<Network> init;
  if (!opt.init.empty()) {
    init = load_model(opt.init);
    if (init->architecture != cfg.arch)
      fail("--init '{}' has architecture {} but --arch is {}", opt.init, to_string(init->architecture), to_string(cfg.arch));
    if (init->states != cfg.states && mode != TrainMode::Float)
      fail("--init '{}' has K = {} but --states is {}", opt.init, init->states, cfg.states);
  }
  TrainRecipe recipe;
  recipe.config = cfg;
  recipe.sc.source = opt.source;
  recipe.sc.length = opt.sc_length;
  recipe.sc.exact_bits = opt.exact_bits;
  recipe.sc.variance_gradient = !opt.no_variance_gradient;
  recipe.sc.multiply = parse_multiply(opt.multiply);
  recipe.sc.accumulate = parse_accumulate(opt.accumulate);
  recipe.init = init ? &*init : nullptr;
  recipe.init_name = opt.init;
  recipe.train_limit = opt.train_limit;
  const Context ctx{standard_sources()};
  // Epoch by epoch, so that the progress line can show the epoch's loss and accuracy.
  ModelTraining training(recipe, train, ctx);
  const Trainer& trainer = training.trainer();
  const bool lines = !opt.quiet && !opt.json;
  if (lines) {
    const TrainConfig& c = trainer.config();
    fmt::print("training {} {}{} on {} {} images{}: {} epochs, batch {}, {} lr {} ({}), weight decay {}, shift {}, seed {}\n",
               opt.arch, opt.mode, c.mode == TrainMode::Float ? "" : fmt::format(" K={}", c.states), trainer.train_images(),
               opt.data.dataset, c.val > 0 ? fmt::format(" ({} held out)", c.val) : "", c.epochs, c.batch, opt.optimizer, c.lr,
               opt.schedule, c.weight_decay, c.shift, c.seed);
    std::fflush(stdout);
  }
  ProgressLine progress(opt.quiet || opt.json);
  const long total_steps = trainer.steps_per_epoch() * cfg.epochs;
  TrainCallbacks callbacks;
  int epoch = 1;
  callbacks.on_step = [&](long step, long steps, double loss, double acc) {
    progress.update("train", (epoch - 1) * trainer.steps_per_epoch() + step, total_steps,
                    fmt::format("epoch {}/{}  loss {:.4f}  acc {:.4f}", epoch, cfg.epochs, loss, acc));
  };
  callbacks.on_epoch = [&](const EpochReport& rep) {
    ++epoch;
    progress.clear();
    if (lines) {
      std::string val = rep.val_accuracy >= 0 ? fmt::format("  val {:.4f}", rep.val_accuracy) : "";
      fmt::print("epoch {:>3}/{}  loss {:.4f}  train {:.4f}{}  {:.2f} s  ({} thread{})\n", rep.epoch, cfg.epochs, rep.loss,
                 rep.train_accuracy, val, rep.seconds, rep.threads, rep.threads == 1 ? "" : "s");
      std::fflush(stdout);
    }
  };
  const TrainedModel trained = train_model(training, test, callbacks);
  const Network& net = trained.network;
  const double acc = trained.digital_accuracy;
  save_model(opt.out, net);
  const double spe = net.training.value("seconds_per_epoch", 0.0);
  if (opt.json) {
    nlohmann::json j = record_header("training");
    j.update({{"digital_accuracy", acc},
              {"images", test.count},
              {"seconds", trained.test_seconds},
              {"seconds_per_epoch", spe},
              {"out", opt.out},
              {"training", net.training}});
    fmt::print("{}\n", j.dump());
  } else if (!opt.quiet) {
    fmt::print("test accuracy {:.4f} ({} {} test images, digital)  {:.2f} s/epoch\nsaved {}\n", acc, test.count,
               opt.data.dataset, spe, opt.out);
  }
  return 0;
}

const bool registered = register_command("train", "Train a network (MLP or conv; modes float, qat, sc) and save it", [](CLI::App& app) {
  auto opt = std::make_shared<TrainOptions>();
  app.add_option("--arch", opt->arch,
                 "Layer widths, input first (784,128,10), a layer list (conv:6x5x5:p2,maxpool:2,dense:10), the preset lenet5, "
                 "or a JSON file (docs/network.md)")
      ->capture_default_str();
  app.add_option("--states,-K", opt->states, "K: levels of weights and hidden activations (odd, >= 3)")->capture_default_str();
  app.add_option("--mode", opt->mode, "float (no quantization), qat (quantization-aware) or sc (quantized, with SC noise in the loop)")
      ->check(CLI::IsMember({"float", "qat", "sc"}))
      ->capture_default_str();
  app.add_option("--epochs", opt->epochs, "Passes over the training images")->capture_default_str();
  app.add_option("--batch", opt->batch, "Minibatch size")->capture_default_str();
  app.add_option("--lr", opt->lr, fmt::format("Peak learning rate (default: {} adam, {} sgd)", default_lr(Optimizer::Adam),
                                             default_lr(Optimizer::Sgd)));
  app.add_option("--optimizer", opt->optimizer, "adam or sgd (with momentum)")
      ->check(CLI::IsMember({"adam", "sgd"}))
      ->capture_default_str();
  app.add_option("--momentum", opt->momentum, "SGD momentum")->capture_default_str();
  app.add_option("--schedule", opt->schedule, "Learning-rate schedule: cosine, step (x0.1 at 50% and 75%) or constant")
      ->check(CLI::IsMember({"cosine", "step", "constant"}))
      ->capture_default_str();
  app.add_option("--weight-decay", opt->weight_decay,
                 fmt::format("Decoupled weight decay: weights shrink by lr*wd per step (default: {} adam, {} sgd)",
                             default_weight_decay(Optimizer::Adam), default_weight_decay(Optimizer::Sgd)));
  app.add_option("--shift", opt->shift, "Augmentation: shift each training image by up to N pixels (0: off)")
      ->capture_default_str();
  app.add_option("--val", opt->val, "Hold out the last N training images for validation")->capture_default_str();
  app.add_option("--seed", opt->seed, "Seed of initialisation and shuffling")->capture_default_str();
  app.add_option("--threads", opt->threads, "OpenMP threads (0: all cores, or only the idle ones on a busy machine); results do not depend on it")
      ->capture_default_str();
  app.add_option("--train-limit", opt->train_limit, "Train on the first N training images only (0: all; as in reproduce)")
      ->capture_default_str();
  app.add_option("--limit", opt->legacy_limit, "")->group("");  // hidden: refused with a pointer to --train-limit
  app.add_option("--out,-o", opt->out, "Model file to write (safetensors)")->required();
  app.add_option("--sc-length,-L", opt->sc_length, "Mode sc: bitstream length L whose SC noise training sees")->capture_default_str();
  app.add_option("--source", opt->source, "Mode sc: bit source of that noise (smtj, smtj:FILE, ideal, lfsr, sobol, trace:DIR)")
      ->capture_default_str();
  app.add_flag("--exact-bits", opt->exact_bits, "Mode sc: run the bit-level SC engine in the forward pass (slow) instead of moment-matched noise");
  app.add_option("--multiply", opt->multiply, "Mode sc: signmag or bipolar (bipolar needs --exact-bits)")->capture_default_str();
  app.add_option("--accumulate", opt->accumulate, "Mode sc: apc or mux (mux needs --exact-bits)")->capture_default_str();
  app.add_flag("--no-variance-gradient", opt->no_variance_gradient, "Mode sc: treat the noise as a constant in the backward pass");
  app.add_option("--init", opt->init, "Start from this model's weights (fine-tuning) instead of a random initialisation");
  app.add_flag("--quiet,-q", opt->quiet, "No progress and no per-epoch lines");
  app.add_flag("--json", opt->json, "Print one JSON object (accuracy, images, seconds, training) at the end");
  add_data_options(app, opt->data);
  return [opt] { return run_train(*opt); };
});

}  // namespace
}  // namespace spinsc::cli
