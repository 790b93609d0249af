// The local executor of sweep.hpp: trainings side by side, then the other jobs on all cores.
#include <omp.h>

#include <chrono>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "spinsc/cost_model.hpp"
#include "spinsc/error.hpp"
#include "spinsc/network.hpp"
#include "spinsc/sweep.hpp"

namespace spinsc {
namespace {

using json = nlohmann::json;

// A training's relative cost, to start the longest first: epochs x synapses, an SC-noise epoch
// ~3.5 plain ones (docs/performance.md). A continuation's network is its base's.
double training_cost(const JobGraph& graph, const std::map<std::string, size_t>& index, size_t job) {
  const json& c = graph.jobs[job].config;
  size_t root = job;
  while (!graph.jobs[root].inputs.empty()) root = index.at(graph.jobs[root].inputs.front());
  double synapses = 1;
  try {
    synapses = 0;
    for (const CostStage& st : cost_stages(parse_architecture(graph.jobs[root].config.at("arch").get<std::string>())))
      synapses += static_cast<double>(st.synapses);
  } catch (const std::exception&) {
    synapses = 1;  // only the order of the trainings depends on it
  }
  return c.value("epochs", 1) * synapses * (c.contains("noise") ? 3.5 : 1.0);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The scheduler of the side-by-side trainings: a job starts once every input of it that this run
// trains has finished. Observer calls happen under the lock, never two at once.
class SideBySide {
 public:
  SideBySide(const JobGraph& graph, const SweepStore& store, const SweepOptions& options, std::vector<size_t> jobs)
      : graph_(graph), store_(store), options_(options), jobs_(std::move(jobs)) {
    for (size_t i = 0; i < graph.jobs.size(); ++i) index_[graph.jobs[i].id] = i;
    for (size_t j : jobs_) {
      pending_.insert(graph.jobs[j].id);
      cost_[j] = training_cost(graph, index_, j);
    }
  }

  // `workers` trainings at once, each on `threads_each` threads.
  size_t run(int workers, int threads_each) {
    threads_each_ = threads_each;
    std::vector<std::thread> team;
    for (int w = 1; w < workers; ++w) team.emplace_back([this] { work(); });
    work();
    for (std::thread& t : team) t.join();
    if (error_) std::rethrow_exception(error_);
    return ran_;
  }

  // The trainings that could not start (an input neither finished nor in this run), in order.
  std::vector<size_t> left() const {
    std::vector<size_t> out;
    for (size_t j : jobs_)
      if (pending_.contains(graph_.jobs[j].id)) out.push_back(j);
    return out;
  }

 private:
  // The costliest pending job whose inputs are not pending, or none.
  std::optional<size_t> next() const {
    std::optional<size_t> best;
    for (size_t j : jobs_) {
      const Job& job = graph_.jobs[j];
      if (!pending_.contains(job.id) || running_.contains(job.id)) continue;
      bool ready = true;
      for (const std::string& in : job.inputs) ready &= !pending_.contains(in);
      if (ready && (!best || cost_.at(j) > cost_.at(*best))) best = j;
    }
    return best;
  }

  void work() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      std::optional<size_t> j;
      cv_.wait(lock, [&] {
        if (error_) return true;
        j = next();
        return j.has_value() || running_.empty();
      });
      if (error_ || !j) return;  // failed, or nothing more can start (inputs of other shards: run_job says so)
      const Job& job = graph_.jobs[*j];
      running_.insert(job.id);
      if (options_.observer) options_.observer->job(job, *j, graph_.jobs.size(), false);
      lock.unlock();
      SweepOptions one = options_;
      one.threads = threads_each_;
      const auto t0 = std::chrono::steady_clock::now();
      std::exception_ptr failed;
      try {
        run_job(job, store_, one);
      } catch (...) {
        failed = std::current_exception();
      }
      lock.lock();
      running_.erase(job.id);
      if (failed) {
        if (!error_) error_ = failed;
      } else {
        pending_.erase(job.id);
        ++ran_;
        if (options_.observer) options_.observer->finished(job, *j, seconds_since(t0));
      }
      cv_.notify_all();
    }
  }

  const JobGraph& graph_;
  const SweepStore& store_;
  const SweepOptions& options_;
  const std::vector<size_t> jobs_;
  std::map<std::string, size_t> index_;
  std::map<size_t, double> cost_;
  std::set<std::string> pending_, running_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::exception_ptr error_;
  size_t ran_ = 0;
  int threads_each_ = 1;
};

}  // namespace

size_t run_local(const JobGraph& graph, const SweepStore& store, const SweepOptions& options) {
  if (options.shards < 1 || options.shard < 0 || options.shard >= options.shards)
    fail("sweep: shard {}/{} does not exist (shards are 0..N-1 of N)", options.shard, options.shards);
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
  // This shard's unfinished jobs, the finished ones reported as reused.
  std::vector<size_t> trainings, others;
  for (size_t i = 0; i < graph.jobs.size(); ++i) {
    const Job& job = graph.jobs[i];
    if (options.shards > 1 && shard_of(graph, i, options.shards) != options.shard) continue;
    if (store.record(job)) {
      if (options.observer) options.observer->job(job, i, graph.jobs.size(), true);
      continue;
    }
    (job.kind == "train" ? trainings : others).push_back(i);
  }
  size_t ran = 0;
  if (!trainings.empty()) {
    SideBySide side(graph, store, options, trainings);
    // One worker per training up to the thread count; fewer trainings than threads share them.
    const int workers = std::min<int>(threads, static_cast<int>(trainings.size()));
    ran += side.run(workers, threads / workers);
    // Trainings that could not start fail here, with run_job's error naming the missing job.
    const std::vector<size_t> left = side.left();
    others.insert(others.begin(), left.begin(), left.end());
  }
  SweepOptions all = options;
  all.threads = threads;
  for (size_t i : others) {
    const Job& job = graph.jobs[i];
    if (options.observer) options.observer->job(job, i, graph.jobs.size(), false);
    const auto t0 = std::chrono::steady_clock::now();
    run_job(job, store, all);
    ++ran;
    if (options.observer) options.observer->finished(job, i, seconds_since(t0));
  }
  return ran;
}

}  // namespace spinsc
