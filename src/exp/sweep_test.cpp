// The local executor: results stored per job, resumed, identical on any thread count and over
// shards; damaged or edited records are not trusted.
#include "spinsc/sweep.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "spinsc/data_fetch.hpp"
#include "spinsc/error.hpp"
#include "spinsc/files.hpp"
#include "spinsc/model_io.hpp"
#include "testutil.hpp"

namespace spinsc {
namespace {

using nlohmann::json;

std::vector<CellConfig> tiny_cells() {
  return expand(parse_plan(json::parse(R"({"base": {"arch": "784,8,10", "epochs": 1, "sc_epochs": 1, "repeats": 2, "limit": 200},
      "axes": {"length": [8], "training": ["without_sc", "with_sc"]}})"), "tiny"));
}

SweepOptions options(int threads, int shard = 0, int shards = 1) {
  SweepOptions o;
  o.threads = threads;
  o.data_dir = testing::data_dir().string();
  o.shard = shard;
  o.shards = shards;
  return o;
}

// The results without timings: what must be reproducible.
json results_of(const std::vector<CellConfig>& cells, const JobGraph& g, const SweepStore& store) {
  json rows = sweep_results(cells, g, store);
  for (auto& r : rows) EXPECT_FALSE(r["evaluation"].is_null());
  return rows;
}

TEST(Sweep, RunsResumesAndIsIndependentOfThreadsAndShards) {
  const auto cells = tiny_cells();
  const JobGraph g = jobs_of(cells);
  const auto dir = testing::temp_dir("sweep");
  const SweepStore one(dir / "one");
  EXPECT_EQ(run_local(g, one, options(1)), g.jobs.size());
  const json reference = results_of(cells, g, one);
  EXPECT_EQ(run_local(g, one, options(1)), 0u) << "a finished sweep runs nothing again";

  const SweepStore two(dir / "two");
  run_local(g, two, options(2));
  EXPECT_EQ(results_of(cells, g, two), reference);

  const SweepStore sharded(dir / "sharded");
  const size_t a = run_local(g, sharded, options(2, 0, 2));
  const size_t b = run_local(g, sharded, options(2, 1, 2));
  EXPECT_EQ(a + b, g.jobs.size());
  EXPECT_EQ(results_of(cells, g, sharded), reference);

  // A damaged record, an edited result (checksum intact in form, wrong in value) and a missing
  // model: each job runs again, and the results come out the same.
  const Job& eval = g.jobs[2];  // base, continuation without SC, its evaluation, cost, with SC, ...
  ASSERT_EQ(eval.kind, "evaluate");
  write_file_atomic(one.record_path(eval.id), "{\"job\": ");
  json edited = json::parse(read_file(one.record_path(g.jobs[5].id)));
  edited["result"]["accuracy_mean"] = 0.999;
  write_file_atomic(one.record_path(g.jobs[5].id), edited.dump());
  std::filesystem::remove(one.model_path(g.jobs[0].id));
  EXPECT_EQ(run_local(g, one, options(2)), 3u);
  EXPECT_EQ(results_of(cells, g, one), reference);
}

// A cell's device prices its s-MTJs: the stream phase takes L of the device's clock periods per
// layer, and a faster clock costs less junction energy per bit.
TEST(Sweep, CostJobsUseTheCellsDevice) {
  const auto cells = expand(parse_plan(json::parse(R"({"base": {"arch": "784,8,10", "training": "without_sc"},
      "axes": {"device.sample_period_s": [1e-9, 1e-6], "length": [8]}})"), "t"));
  const JobGraph g = jobs_of(cells);
  const SweepStore store(testing::temp_dir("sweep_cost"));
  std::vector<json> results;
  for (const auto& [evaluation, costing] : g.cells)
    for (const Job& j : g.jobs)
      if (j.id == costing) results.push_back(run_job(j, store, options(1)));
  ASSERT_EQ(results.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    const double ts = i == 0 ? 1e-9 : 1e-6;
    EXPECT_DOUBLE_EQ(results[i]["config"]["bit_period_s"]["smtj"], ts);
    EXPECT_NEAR(results[i]["breakdown"]["quantized_smtj"]["latency_s"]["stream"].get<double>(), 2 * 8 * ts, 1e-9 * 2 * 8 * ts);
    EXPECT_EQ(results[i]["config"]["smtj"]["from"], "device");
  }
  EXPECT_LT(results[0]["config"]["sng_bit_energy_j"]["smtj"].get<double>(), results[1]["config"]["sng_bit_energy_j"]["smtj"].get<double>());
}

// The report's accuracy-vs-L and accuracy-vs-clock views: one line per combination of the other
// settings that vary, the points in order of the x value, the 95% interval beside each mean.
TEST(Sweep, ReportHasAccuracyVsLengthAndClock) {
  json rows = json::array();
  int cell = 0;
  for (double ts : {1e-9, 1e-7})
    for (int L : {64, 16}) {
      json dev = {{"name", "d"}, {"sample_period_s", ts}, {"delta", 10.0}};
      const double acc = 0.5 + L / 1000.0 + (ts > 1e-8 ? 0.2 : 0.0);
      rows.push_back({{"cell", cell++},
                      {"config", {{"arch", "784,8,10"}, {"states", 5}, {"dataset", "mnist"}, {"training", "without_sc"},
                                  {"source", "smtj"}, {"length", L}, {"sharing", "independent"}, {"multiply", "signmag"},
                                  {"accumulate", "apc"}, {"repeats", 3}, {"seed", 1}, {"device", dev}}},
                      {"evaluation", {{"accuracy_mean", acc}, {"accuracy_std", 0.01}, {"accuracy_ci95", {acc - 0.02, acc + 0.02}},
                                      {"digital_accuracy", 0.9}, {"images", 100}}},
                      {"cost", {{"latency_s", {{"quantized_smtj", L * ts}}}, {"energy_j", {{"quantized_smtj", L * 1e-9}}},
                                {"neuron_activation_latency_s", {{"quantized_smtj", 1e-9}}}}}});
    }
  const auto dir = testing::temp_dir("sweep_report");
  const auto files = write_sweep_report(rows, dir);
  auto written = [&](const std::string& name) { return std::find(files.begin(), files.end(), dir / name) != files.end(); };
  for (const char* f : {"accuracy_vs_length.csv", "accuracy_vs_length.png", "accuracy_vs_length_series.csv",
                        "accuracy_vs_sample_period_s.csv", "accuracy_vs_sample_period_s.svg", "accuracy_vs_sample_period_s.pdf"})
    EXPECT_TRUE(written(f)) << f;
  EXPECT_FALSE(written("accuracy_vs_delta.csv")) << "delta does not vary";
  EXPECT_EQ(read_file(dir / "accuracy_vs_length_series.csv"),
            "series,label\n0,device/sample_period_s=1e-09\n1,device/sample_period_s=1e-07\n");
  // Series 0 (Ts = 1 ns), L = 16 then 64; then series 1.
  EXPECT_EQ(read_file(dir / "accuracy_vs_length.csv"),
            "series,length,accuracy_pct,ci_low_pct,ci_high_pct\n"
            "0,16,51.6,49.6,53.6\n0,64,56.4,54.4,58.4\n1,16,71.6,69.6,73.6\n1,64,76.4,74.4,78.4\n");
  EXPECT_EQ(read_file(dir / "accuracy_vs_sample_period_s_series.csv"), "series,label\n0,length=64\n1,length=16\n");
  // The fronts name the device parameters that vary: the cheapest and fastest cell is the fast
  // clock at L = 16.
  const std::string pareto = read_file(dir / "pareto.csv");
  EXPECT_EQ(pareto.substr(0, pareto.find('\n')),
            "front,cell,arch,states,training,length,design,accuracy_mean,energy_j,latency_s,device/sample_period_s");
  EXPECT_NE(pareto.find("latency,1,\"784,8,10\",5,without_sc,16,quantized_smtj,0.516,1.6e-08,1.6e-08,1e-09\n"), std::string::npos)
      << pareto;
}

// Two named devices (the device study): their own barriers and descriptions differ, but only
// the clock is swept. The tables name the device and its parameters (not its free-text
// description); the plots take the clock as an axis and the name as a series, not the barrier.
TEST(Sweep, ReportPlotsTheSweptDeviceParametersNotTheDevicesAttributes) {
  json rows = json::array();
  int cell = 0;
  for (const auto& [name, delta] : {std::pair{"a", 10.0}, std::pair{"b", 20.0}})
    for (double ts : {1e-9, 1e-7}) {
      json dev = {{"name", name}, {"description", std::string("device ") + name}, {"sample_period_s", ts}, {"delta", delta}};
      const double acc = 0.5 + delta / 100.0 + (ts > 1e-8 ? 0.2 : 0.0);
      rows.push_back({{"cell", cell++},
                      {"config", {{"arch", "784,8,10"}, {"states", 5}, {"dataset", "mnist"}, {"training", "without_sc"},
                                  {"source", "smtj"}, {"length", 16}, {"sharing", "independent"}, {"multiply", "signmag"},
                                  {"accumulate", "apc"}, {"repeats", 3}, {"seed", 1}, {"device", dev}}},
                      {"evaluation", {{"accuracy_mean", acc}, {"accuracy_std", 0.01}, {"accuracy_ci95", {acc - 0.02, acc + 0.02}},
                                      {"digital_accuracy", 0.9}, {"images", 100}}},
                      {"cost", {{"latency_s", {{"quantized_smtj", 16 * ts}}}, {"energy_j", {{"quantized_smtj", 16e-9}}},
                                {"neuron_activation_latency_s", {{"quantized_smtj", 1e-9}}}}}});
    }
  const auto dir = testing::temp_dir("sweep_report_named");
  const auto files = write_sweep_report(rows, dir);
  auto written = [&](const std::string& f) { return std::find(files.begin(), files.end(), dir / f) != files.end(); };
  const std::string csv = read_file(dir / "results.csv");
  EXPECT_NE(csv.find(",seed,device/delta,device/name,device/sample_period_s,accuracy_mean"), std::string::npos) << csv;
  EXPECT_EQ(csv.find("description"), std::string::npos);
  EXPECT_TRUE(written("accuracy_vs_sample_period_s.csv"));
  EXPECT_FALSE(written("accuracy_vs_delta.csv"));
  EXPECT_FALSE(written("accuracy_map_delta_sample_period_s.csv"));
  EXPECT_EQ(read_file(dir / "accuracy_vs_sample_period_s_series.csv"), "series,label\n0,device/name=a\n1,device/name=b\n");
}

// Two device axes (clock and barrier) give an accuracy map, one per combination of the other
// settings that vary (here the training), with the values in the CSV beside the images.
TEST(Sweep, ReportHasHeatmapsOverTwoDeviceAxes) {
  json rows = json::array();
  int cell = 0;
  for (const char* training : {"without_sc", "with_sc"})
    for (double ts : {1e-9, 1e-7})
      for (double delta : {10.0, 20.0}) {
        json dev = {{"name", "d"}, {"sample_period_s", ts}, {"delta", delta}};
        const double acc = 0.5 + delta / 100.0 + (ts > 1e-8 ? 0.2 : 0.0) + (std::string(training) == "with_sc" ? 0.01 : 0.0);
        rows.push_back({{"cell", cell++},
                        {"config", {{"arch", "784,8,10"}, {"states", 5}, {"dataset", "mnist"}, {"training", training},
                                    {"source", "smtj"}, {"length", 16}, {"sharing", "independent"}, {"multiply", "signmag"},
                                    {"accumulate", "apc"}, {"repeats", 1}, {"seed", 1}, {"device", dev}}},
                        {"evaluation", {{"accuracy_mean", acc}, {"accuracy_std", 0.0}, {"accuracy_ci95", nullptr},
                                        {"digital_accuracy", 0.9}, {"images", 100}}},
                        {"cost", {{"latency_s", {{"quantized_smtj", 16 * ts}}}, {"energy_j", {{"quantized_smtj", 1e-9}}},
                                  {"neuron_activation_latency_s", {{"quantized_smtj", 1e-9}}}}}});
      }
  const auto dir = testing::temp_dir("sweep_heatmap");
  const auto files = write_sweep_report(rows, dir);
  auto written = [&](const std::string& name) { return std::find(files.begin(), files.end(), dir / name) != files.end(); };
  for (const char* f : {"accuracy_map_delta_sample_period_s.csv", "accuracy_map_delta_sample_period_s_series.csv",
                        "accuracy_map_delta_sample_period_s_0.png", "accuracy_map_delta_sample_period_s_1.svg",
                        "accuracy_map_delta_sample_period_s_1.pdf"})
    EXPECT_TRUE(written(f)) << f;
  for (const auto& f : files) EXPECT_TRUE(std::filesystem::exists(f)) << f;
  EXPECT_EQ(read_file(dir / "accuracy_map_delta_sample_period_s_series.csv"),
            "series,label\n0,training=without_sc\n1,training=with_sc\n");
  EXPECT_EQ(read_file(dir / "accuracy_map_delta_sample_period_s.csv"),
            "series,delta,sample_period_s,accuracy_pct,ci_low_pct,ci_high_pct\n"
            "0,10,1e-09,60,60,60\n0,10,1e-07,80,80,80\n0,20,1e-09,70,70,70\n0,20,1e-07,90,90,90\n"
            "1,10,1e-09,61,61,61\n1,10,1e-07,81,81,81\n1,20,1e-09,71,71,71\n1,20,1e-07,91,91,91\n");
}

TEST(Sweep, RejectsBadShards) {
  const auto cells = tiny_cells();
  const JobGraph g = jobs_of(cells);
  const SweepStore store(testing::temp_dir("sweep_shard"));
  EXPECT_THROW(run_local(g, store, options(1, 2, 2)), Error);
  EXPECT_THROW(run_local(g, store, options(1, 0, 0)), Error);
}

// A trained model is verified, not just found: its record holds the sha256 of the bytes it
// wrote, a truncated or overwritten model makes the job run again, and the rerun (on another
// thread count) writes the same bytes. A record from before model_sha256 trusts an existing model.
TEST(Sweep, TrainRecordsVerifyTheirModel) {
  const auto cells = expand(parse_plan(json::parse(R"({"base": {"arch": "784,8,10", "epochs": 1, "sc_epochs": 0,
      "training": "without_sc", "train_limit": 2000, "repeats": 1, "limit": 50}, "axes": {"length": [8]}})"), "t"));
  const JobGraph g = jobs_of(cells);
  ASSERT_EQ(g.jobs.size(), 3u);  // the base, its evaluation, the cost
  const Job& train = g.jobs[0];
  ASSERT_EQ(train.kind, "train");
  EXPECT_EQ(train.config.at("train_limit"), 2000);
  const SweepStore store(testing::temp_dir("sweep_model"));
  EXPECT_EQ(run_local(g, store, options(1)), 3u);
  const std::filesystem::path model = store.model_path(train.id);
  const std::string bytes = read_file(model);
  const auto record = store.record(train);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ((*record)["result"]["model_sha256"], sha256_hex(bytes));
  const json training = load_model(model).training;
  EXPECT_EQ(training.at("job"), train.id);
  EXPECT_EQ(training.at("train_images"), 2000);
  EXPECT_FALSE(training.contains("seconds_per_epoch")) << "wall times would make every rerun's bytes differ";
  EXPECT_FALSE(training.at("history").at(0).contains("seconds"));
  // ... they are in the record, outside its checksum.
  const json& timing = record->at("timing");
  ASSERT_EQ(timing.at("epochs").size(), 1u) << timing.dump();
  EXPECT_EQ(timing["epochs"][0].at("epoch"), 1);
  EXPECT_GT(timing["epochs"][0].at("seconds").get<double>(), 0.0);
  EXPECT_GE(timing["epochs"][0].at("threads").get<int>(), 1);
  EXPECT_TRUE(timing.contains("seconds_per_epoch"));

  // Truncated: not trusted; run_job restores the same bytes.
  write_file_atomic(model, bytes.substr(0, bytes.size() / 2));
  EXPECT_FALSE(store.record(train).has_value());
  EXPECT_TRUE(store.record(g.jobs[1]).has_value()) << "the evaluation's record stands on its own";
  run_job(train, store, options(2));
  EXPECT_EQ(read_file(model), bytes);
  EXPECT_TRUE(store.record(train).has_value());

  // Overwritten with random bytes of the same size: run_local reruns the training alone.
  std::mt19937_64 rng(7);
  std::string noise(bytes.size(), '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  write_file_atomic(model, noise);
  EXPECT_FALSE(store.record(train).has_value());
  EXPECT_EQ(run_local(g, store, options(2)), 1u);
  EXPECT_EQ(read_file(model), bytes);

  // A record written before model_sha256 existed: the model's existence is what it checks.
  json old = (*store.record(train))["result"];
  old.erase("model_sha256");
  store.write_record(train, old, 1.0);
  write_file_atomic(model, noise);
  EXPECT_TRUE(store.record(train).has_value());
  std::filesystem::remove(model);
  EXPECT_FALSE(store.record(train).has_value());
  EXPECT_EQ(run_local(g, store, options(1)), 1u);
  EXPECT_EQ(read_file(model), bytes);
  EXPECT_TRUE(store.record(train)->at("result").contains("model_sha256"));
}

// A sweep over a trace library: the continuation trains with the SC noise of its traces, the
// evaluation replays them; a library changed since the plan was expanded is refused by name.
TEST(Sweep, TraceLibrarySource) {
  const auto dir = testing::temp_dir("sweep_trace");
  std::mt19937_64 rng(3);
  for (int i = 0; i < 5; ++i) {  // fractions of ones 0.1 .. 0.9, i.i.d. bits
    const double p = 0.1 + 0.2 * i;
    std::string text = fmt::format("# target_p: {}\n# sample_period_s: 1e-9\n# format: bits\n", p);
    for (int t = 0; t < 4096; ++t) {
      text += std::uniform_real_distribution<double>(0, 1)(rng) < p ? '1' : '0';
      if (t % 64 == 63) text += '\n';
    }
    write_file_atomic(dir / "traces" / fmt::format("p{}.trace", i), text);
  }
  const auto cells = expand(parse_plan(json::parse(R"({"base": {"arch": "784,16,10", "epochs": 1, "sc_epochs": 1,
      "train_limit": 2000, "training": "with_sc", "source": "trace:traces", "length": 8, "repeats": 1, "limit": 50},
      "axes": {"states": [5]}})"), "t"), dir);
  const JobGraph g = jobs_of(cells);
  const SweepStore store(dir / "out");
  EXPECT_EQ(run_local(g, store, options(2)), g.jobs.size());
  const json rows = sweep_results(cells, g, store);
  ASSERT_EQ(rows.size(), 1u);
  const json& e = rows[0]["evaluation"];
  ASSERT_FALSE(e.is_null());
  EXPECT_EQ(e["images"], 50);
  EXPECT_EQ(e["source"], "trace:" + (dir / "traces").string()) << e.dump();
  EXPECT_GT(e["accuracy_mean"].get<double>(), 0.2) << "chance is 0.1";
  EXPECT_EQ(rows[0]["config"]["library_sha256"], trace_library_sha256(dir / "traces"));

  // One sample changed after the expansion: the jobs of the old plan refuse to read it.
  std::string text = read_file(dir / "traces" / "p2.trace");
  const size_t bit = text.find_last_of("01");
  text[bit] = text[bit] == '0' ? '1' : '0';
  write_file_atomic(dir / "traces" / "p2.trace", text);
  const Job& evaluate = g.jobs[g.jobs.size() - 2];
  ASSERT_EQ(evaluate.kind, "evaluate");
  try {
    run_job(evaluate, store, options(1));
    ADD_FAILURE() << "ran with a changed library";
  } catch (const Error& err) {
    const std::string m = err.what();
    EXPECT_NE(m.find("the trace library '" + (dir / "traces").string() + "' has changed"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace spinsc
