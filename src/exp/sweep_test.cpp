// The local executor: results stored per job, resumed, identical on any thread count and over
// shards; damaged or edited records are not trusted.
#include "spinsc/sweep.hpp"

#include <gtest/gtest.h>

#include "spinsc/error.hpp"
#include "spinsc/files.hpp"
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

TEST(Sweep, RejectsBadShards) {
  const auto cells = tiny_cells();
  const JobGraph g = jobs_of(cells);
  const SweepStore store(testing::temp_dir("sweep_shard"));
  EXPECT_THROW(run_local(g, store, options(1, 2, 2)), Error);
  EXPECT_THROW(run_local(g, store, options(1, 0, 0)), Error);
}

}  // namespace
}  // namespace spinsc
