// `spinsc eval`: test accuracy of a model, digital or as a stochastic computer (ScEngine).
#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/command.hpp"
#include "cli/progress_line.hpp"
#include "spinsc/dataset.hpp"
#include "spinsc/device_sources.hpp"
#include "spinsc/error.hpp"
#include "spinsc/model_io.hpp"
#include "spinsc/recipes.hpp"

namespace spinsc::cli {
namespace {

struct EvalOptions {
  DataOptions data;
  std::string model;
  std::string lengths;  // empty: digital inference
  std::string source = "smtj";  // the default of every front-end (docs/sc-engine.md)
  int repeats = 1;
  int threads = 0;
  uint64_t seed = 1;
  std::string multiply = "signmag";
  std::string accumulate = "apc";
  std::string sharing = "independent";
  bool analog = false;
  bool exact_bits = false;
  int limit = 0;
  bool json = false;
  bool quiet = false;
};

std::string arch_text(const Network& net) {
  if (!net.is_mlp()) return to_string(net.architecture);
  std::string s;
  for (int w : net.arch) s += (s.empty() ? "" : "-") + std::to_string(w);
  return s;
}

// "the 10000 test images" or "first N of 10000 test images": accuracy is on the full test set
// unless --limit says otherwise, and the output says which.
std::string images_text(int used, int total) {
  return used == total ? fmt::format("all {} test images", total) : fmt::format("first {} of {} test images", used, total);
}

int run_eval(const EvalOptions& opt) {
  if (opt.repeats < 1) fail("--repeats {} must be at least 1", opt.repeats);
  if (opt.limit < 0) fail("--limit {} must not be negative", opt.limit);
  const Network net = load_model(opt.model);
  const auto dir = opt.data.data_dir.empty() ? default_data_dir() : std::filesystem::path(opt.data.data_dir);
  const Dataset full = load_dataset(opt.data.dataset, dir, Split::Test);
  const Dataset data = opt.limit > 0 ? full.head(opt.limit) : full;
  if (data.features() != net.arch.front())
    fail("model '{}' expects {} inputs but {} images have {}", opt.model, net.arch.front(), opt.data.dataset, data.features());
  const std::string images = images_text(data.count, full.count);
  const bool analog = opt.analog || !net.quantized();
  const DigitalEvaluation digital = evaluate_digital(net, data, opt.threads, analog);
  // The record of docs/results.md: the same names as reproduce, sweeps and the Python package.
  nlohmann::json common = {{"model", opt.model},
                           {"arch", to_string(net.architecture)},
                           {"states", net.states},
                           {"mode", to_string(net.mode)},
                           {"dataset", opt.data.dataset},
                           {"images", data.count},
                           {"test_images", full.count}};
  if (opt.lengths.empty()) {
    if (opt.json) {
      nlohmann::json j = digital.record();
      j.update(common);
      fmt::print("{}\n", j.dump(2));
    } else {
      fmt::print("model     {} ({}, K = {}, {})\n", opt.model, arch_text(net), net.states, to_string(net.mode));
      fmt::print("digital accuracy {:.2f}% on {} ({}), {:.2f} s\n", 100 * digital.accuracy, images, opt.data.dataset,
                 digital.seconds);
    }
    return 0;
  }

  const std::vector<int> lengths = parse_int_list(opt.lengths, "--sc-length");
  ScConfig cfg;
  cfg.source = opt.source;
  cfg.multiply = parse_multiply(opt.multiply);
  cfg.accumulate = parse_accumulate(opt.accumulate);
  cfg.sharing = parse_sharing(opt.sharing);
  cfg.analog = analog;
  cfg.exact_bits = opt.exact_bits;  // else the binomial shortcut where it is exact in distribution
  cfg.seed = opt.seed;
  cfg.length = lengths.front();
  const Context ctx{standard_sources()};
  const auto source = std::shared_ptr<const BitSource>(ctx.make_source(opt.source));
  if (!opt.json) {
    fmt::print("model     {} ({}, K = {}, {}){}\n", opt.model, arch_text(net), net.states, to_string(net.mode),
               analog ? ", run as the analog (unquantized) baseline" : "");
    fmt::print("data      {}, {}\n", opt.data.dataset, images);
    fmt::print("SC        source {}, {} + {}, broadcast inputs, {} weight streams, {} path, seed {}, {} repeat{}\n",
               source->name(), to_string(cfg.multiply), to_string(cfg.accumulate), to_string(cfg.sharing),
               ScEngine(net, cfg, source).binomial_shortcut() ? "binomial-shortcut (exact in distribution)" : "bit-level",
               opt.seed, opt.repeats,
               opt.repeats == 1 ? "" : "s");
    fmt::print("digital   {:.2f}%\n", 100 * digital.accuracy);
    if (lengths.size() > 1) fmt::print("{:>7}  {:>9}  {:>8}  {:>8}\n", "L", "accuracy", "std", "seconds");
  }
  nlohmann::json results = nlohmann::json::array();
  for (int L : lengths) {
    cfg.length = L;
    ProgressLine progress(opt.quiet || opt.json);
    const Context observed{ctx.sources, &progress};
    // The digital reference was computed once above, for every length.
    Evaluation e = evaluate_sc(net, cfg, data, opt.repeats, opt.threads, observed, false, source);
    e.digital_accuracy = digital.accuracy;
    nlohmann::json j = e.record();
    j.update(common);
    results.push_back(j);
    const ScAccuracy& acc = e.accuracy;
    if (!opt.json) {
      if (lengths.size() > 1)
        fmt::print("{:>7}  {:>8.2f}%  {:>7.2f}%  {:>8.2f}\n", L, 100 * acc.mean, 100 * acc.std, acc.seconds);
      else
        fmt::print("L = {}    accuracy {:.2f}% +- {:.2f}% (std over {} repeat{})   {:.2f} s\n", L, 100 * acc.mean, 100 * acc.std,
                   acc.repeats, acc.repeats == 1 ? "" : "s", acc.seconds);
    }
  }
  if (opt.json) fmt::print("{}\n", (lengths.size() == 1 ? results[0] : results).dump(2));
  return 0;
}

const bool registered = register_command("eval", "Test accuracy of a model: digital, or bit by bit as a stochastic computer", [](CLI::App& app) {
  auto opt = std::make_shared<EvalOptions>();
  app.add_option("--model", opt->model, "Model file (.safetensors)")->required();
  app.add_option("--sc-length", opt->lengths,
                 "Stream length(s) L, comma-separated (e.g. 100,200,300); without it: digital inference");
  app.add_option("--source", opt->source, "Bit source: smtj[:device.json] (smtj = the reference s-MTJ device, as in train and reproduce), ideal, lfsr[:n], sobol, trace:DIR")->capture_default_str();
  app.add_option("--repeats", opt->repeats, "Independent stochastic repeats (seeds) per length")->capture_default_str();
  app.add_option("--threads", opt->threads, "Threads (default: all)")->check(CLI::Range(0, 1024));
  app.add_option("--seed", opt->seed, "Run seed")->capture_default_str();
  app.add_option("--multiply", opt->multiply, "signmag (AND + sign routing) or bipolar (XNOR)")
      ->check(CLI::IsMember({"signmag", "bipolar"}))
      ->capture_default_str();
  app.add_option("--accumulate", opt->accumulate, "apc (parallel counter) or mux (scaled adder)")
      ->check(CLI::IsMember({"apc", "mux"}))
      ->capture_default_str();
  app.add_option("--sharing", opt->sharing,
                 "Weight SNGs: independent (one per synapse), per-tap (one per kernel weight, reused at every position of a "
                 "conv layer; dense: independent), per-level (one per level), independent-all (also one input SNG per synapse)")
      ->check(CLI::IsMember({"independent", "per-tap", "per-level", "independent-all"}))
      ->capture_default_str();
  app.add_flag("--analog", opt->analog, "Run the unquantized (analog) baseline: continuous weights and activations");
  app.add_flag("--exact-bits", opt->exact_bits, "Compute every product bit; without it, i.i.d. sources with independent weight streams (signmag, apc) draw each neuron's counts from their exact binomial law");
  app.add_option("--limit", opt->limit, "Only the first N test images (the output says so)")->check(CLI::NonNegativeNumber);
  add_data_options(app, opt->data);
  app.add_flag("--json", opt->json, "Print JSON (one object; a list of objects for several lengths)");
  app.add_flag("--quiet,-q", opt->quiet, "No progress line");
  return CommandRun([opt]() { return run_eval(*opt); });
});

}  // namespace
}  // namespace spinsc::cli
