#include "spinsc/sweep.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <map>
#include <memory>

#include "spinsc/cost_model.hpp"
#include "spinsc/data_fetch.hpp"
#include "spinsc/dataset.hpp"
#include "spinsc/device_config.hpp"
#include "spinsc/digital.hpp"
#include "spinsc/error.hpp"
#include "spinsc/files.hpp"
#include "spinsc/hw_params.hpp"
#include "spinsc/model_io.hpp"
#include "spinsc/rng.hpp"
#include "spinsc/sc_engine.hpp"
#include "spinsc/sc_noise.hpp"
#include "spinsc/smtj_source.hpp"
#include "spinsc/train.hpp"

namespace spinsc {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string checksum(const json& config, const json& result) { return sha256_hex(json{{"config", config}, {"result", result}}.dump()); }

// The bits a job's configuration names: {"source": "ideal" | "lfsr[:n]" | "sobol" | "smtj", "device": {...}}.
std::shared_ptr<const BitSource> bits_of(const json& bits) {
  const std::string source = bits.at("source").get<std::string>();
  if (source == "smtj") {
    const DeviceConfig device = parse_device_config(bits.at("device").dump(), "the job's device");
    return std::make_shared<SmtjSource>(device, "smtj");
  }
  return std::shared_ptr<const BitSource>(make_bit_source(source));
}

fs::path data_dir(const SweepOptions& o) { return o.data_dir.empty() ? default_data_dir() : fs::path(o.data_dir); }

// 95% confidence interval of a mean over n repeats (Student's t; a single repeat has none).
json confidence_95(double mean, double std, int n) {
  if (n < 2) return nullptr;
  static const double t[] = {0, 0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262,
                             2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093};
  const double q = n <= 20 ? t[n] : 1.960 + 2.4 / (n - 1);  // the large-n form is within 0.002 from n = 21 on
  const double half = q * std / std::sqrt(static_cast<double>(n));
  return json::array({mean - half, mean + half});
}

json train_job(const Job& job, const SweepStore& store, const SweepOptions& o) {
  const json& c = job.config;
  TrainConfig t;
  t.dataset = c.at("dataset").get<std::string>();
  t.threads = o.threads;
  std::optional<Network> init;
  std::unique_ptr<PreactivationNoise> noise;
  const uint64_t seed = c.at("seed").get<uint64_t>();
  if (c.contains("init")) {
    init = load_model(store.model_path(c.at("init").get<std::string>()));
    t.arch = init->architecture;
    t.states = init->states;
    t.mode = parse_train_mode(c.at("mode").get<std::string>());
    t.epochs = c.at("epochs").get<int>();
    if (c.contains("noise")) {
      const int L = c.at("noise").at("length").get<int>();
      t.seed = derive_seed(seed, {2, static_cast<uint64_t>(L)});
      noise = std::make_unique<MomentMatchedNoise>(bits_of(c.at("noise").at("bits")), L, t.states,
                                                   derive_seed(t.seed, {0x5c, static_cast<uint64_t>(L)}));
    } else {
      t.seed = derive_seed(seed, {1});
    }
  } else {
    t.arch = parse_architecture(c.at("arch").get<std::string>());
    t.mode = parse_train_mode(c.at("mode").get<std::string>());
    t.states = t.mode == TrainMode::Float ? TrainConfig{}.states : c.at("states").get<int>();
    t.epochs = c.at("epochs").get<int>();
    t.seed = seed;
  }
  const Dataset train = load_dataset(t.dataset, data_dir(o), Split::Train);
  Trainer trainer(t, train, noise.get(), init ? &*init : nullptr);
  while (!trainer.done()) trainer.run_epoch();
  Network net = trainer.network();
  net.training["job"] = job.id;
  const Dataset test = load_dataset(t.dataset, data_dir(o), Split::Test);
  const double digital = digital_accuracy(net, test, o.threads);
  net.training["digital_test_accuracy"] = digital;
  save_model(store.model_path(job.id), net);
  return {{"model", fs::path("models") / store.model_path(job.id).filename()}, {"digital_accuracy", digital},
          {"test_images", test.count}};
}

json evaluate_job(const Job& job, const SweepStore& store, const SweepOptions& o) {
  const json& c = job.config;
  const Network net = load_model(store.model_path(c.at("model").get<std::string>()));
  Dataset test = load_dataset(c.at("dataset").get<std::string>(), data_dir(o), Split::Test);
  const int all = test.count;
  if (c.at("limit").get<int>() > 0) test = test.head(c.at("limit").get<int>());
  ScConfig sc;
  sc.source = c.at("bits").at("source").get<std::string>();
  sc.length = c.at("length").get<int>();
  sc.multiply = parse_multiply(c.at("multiply").get<std::string>());
  sc.accumulate = parse_accumulate(c.at("accumulate").get<std::string>());
  sc.sharing = parse_sharing(c.at("sharing").get<std::string>());
  sc.analog = c.at("analog").get<bool>();
  sc.exact_bits = c.at("exact_bits").get<bool>();
  sc.seed = c.at("seed").get<uint64_t>();
  const ScEngine engine(net, sc, bits_of(c.at("bits")));
  const ScAccuracy acc = engine.accuracy(test, c.at("repeats").get<int>(), o.threads, true);
  return {{"accuracy_per_repeat", acc.per_repeat},
          {"accuracy_mean", acc.mean},
          {"accuracy_std", acc.std},
          {"accuracy_ci95", confidence_95(acc.mean, acc.std, acc.repeats)},
          {"repeats", acc.repeats},
          {"images", acc.images},
          {"test_images", all},
          {"digital_accuracy", digital_accuracy(net, test, o.threads)},
          {"path", engine.binomial_shortcut() ? "binomial" : "bit-level"}};
}

json cost_job(const Job& job) {
  const json& c = job.config;
  CostOptions options;
  options.length = c.at("length").get<int>();
  options.sharing = parse_cost_sharing(c.at("sharing").get<std::string>());
  options.multiply = parse_cost_multiply(c.at("multiply").get<std::string>());
  const CostReport r = cost_report(cost_architecture(parse_architecture(c.at("arch").get<std::string>()), c.at("states").get<int>()),
                                   options, default_hw_params());
  json out = cost_json(r);
  out.erase("parameters");  // the built-in hardware file's; its name is in config.hw
  return out;
}

}  // namespace

SweepStore::SweepStore(fs::path dir) : dir_(std::move(dir)) {
  for (const char* sub : {"jobs", "models"}) {
    std::error_code ec;
    fs::create_directories(dir_ / sub, ec);
    if (ec) fail("sweep: cannot create '{}': {}", (dir_ / sub).string(), ec.message());
  }
}

fs::path SweepStore::record_path(const std::string& id) const { return dir_ / "jobs" / (id + ".json"); }
fs::path SweepStore::model_path(const std::string& id) const { return dir_ / "models" / (id + ".safetensors"); }

std::optional<json> SweepStore::record(const Job& job) const {
  const fs::path p = record_path(job.id);
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return std::nullopt;
  try {
    const json r = json::parse(read_file(p));
    if (r.at("job") != job.id || r.at("config") != job.config || r.at("schema_version") != kRecordSchema ||
        r.at("checksum") != checksum(r.at("config"), r.at("result")))
      return std::nullopt;
    if (job.kind == "train" && !fs::is_regular_file(model_path(job.id), ec)) return std::nullopt;
    return r;
  } catch (const std::exception&) {
    return std::nullopt;  // damaged: the job runs again and replaces it
  }
}

void SweepStore::write_record(const Job& job, const json& result, double seconds) const {
  const json r = {{"schema_version", kRecordSchema}, {"spinsc", spinsc_version()}, {"job", job.id},
                  {"kind", job.kind}, {"config", job.config}, {"inputs", job.inputs},
                  {"result", result}, {"checksum", checksum(job.config, result)}, {"timing", {{"seconds", seconds}}}};
  write_file_atomic(record_path(job.id), r.dump(1) + "\n");
}

int shard_of(const JobGraph& graph, size_t job, int shards) {
  if (shards < 1) fail("sweep: {} shards", shards);
  // Follow the first input back to a job without inputs: the chain's root decides.
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < graph.jobs.size(); ++i) index[graph.jobs[i].id] = i;
  size_t j = job;
  while (!graph.jobs[j].inputs.empty()) j = index.at(graph.jobs[j].inputs.front());
  return static_cast<int>(std::stoull(graph.jobs[j].id.substr(0, 12), nullptr, 16) % static_cast<uint64_t>(shards));
}

json run_job(const Job& job, const SweepStore& store, const SweepOptions& options) {
  for (const auto& in : job.inputs)
    if (!fs::exists(store.record_path(in)))
      fail("sweep: job {} needs job {}, which has not finished", job.id.substr(0, 12), in.substr(0, 12));
  const auto t0 = std::chrono::steady_clock::now();
  json result;
  if (job.kind == "train") result = train_job(job, store, options);
  else if (job.kind == "evaluate") result = evaluate_job(job, store, options);
  else if (job.kind == "cost") result = cost_job(job);
  else fail("sweep: unknown job kind '{}'", job.kind);
  store.write_record(job, result, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return result;
}

size_t run_local(const JobGraph& graph, const SweepStore& store, const SweepOptions& options) {
  if (options.shards < 1 || options.shard < 0 || options.shard >= options.shards)
    fail("sweep: shard {}/{} does not exist (shards are 0..N-1 of N)", options.shard, options.shards);
  size_t ran = 0;
  for (size_t i = 0; i < graph.jobs.size(); ++i) {
    const Job& job = graph.jobs[i];
    if (options.shards > 1 && shard_of(graph, i, options.shards) != options.shard) continue;
    const bool done = store.record(job).has_value();
    if (options.observer) options.observer->job(job, i, graph.jobs.size(), done);
    if (done) continue;
    run_job(job, store, options);
    ++ran;
  }
  return ran;
}

json sweep_results(const std::vector<CellConfig>& cells, const JobGraph& graph, const SweepStore& store) {
  std::map<std::string, const Job*> by_id;
  for (const Job& j : graph.jobs) by_id[j.id] = &j;
  json rows = json::array();
  for (size_t i = 0; i < cells.size(); ++i) {
    const auto& [evaluation, costing] = graph.cells.at(i);
    const auto e = store.record(*by_id.at(evaluation));
    const auto c = store.record(*by_id.at(costing));
    json row = {{"cell", i}, {"config", cells[i].to_json()}, {"evaluate_job", evaluation}, {"cost_job", costing}};
    row["evaluation"] = e ? (*e)["result"] : json(nullptr);
    row["cost"] = c ? json{{"latency_s", (*c)["result"]["latency_s"]}, {"energy_j", (*c)["result"]["energy_j"]},
                           {"neuron_activation_latency_s", (*c)["result"]["neuron_activation_latency_s"]}}
                    : json(nullptr);
    rows.push_back(row);
  }
  return rows;
}

}  // namespace spinsc
