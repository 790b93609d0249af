// The MPI executor of sweep.hpp. Built with MPI when CMake finds it (SPINSC_WITH_MPI);
// otherwise run_mpi() says so.
#include <cstdlib>
#include <string>

#include "spinsc/error.hpp"
#include "spinsc/sweep.hpp"

#if SPINSC_WITH_MPI
#include <mpi.h>

#include <chrono>
#include <deque>
#include <map>
#include <thread>
#endif

namespace spinsc {

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"})
    if (const char* s = std::getenv(v); s && std::atoi(s) > 1) return true;
  return false;
}

int launched_rank() {
  for (const char* v : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"})
    if (const char* s = std::getenv(v)) return std::atoi(s);
  return 0;
}

#if !SPINSC_WITH_MPI

size_t run_mpi(const JobGraph&, const SweepStore&, const SweepOptions&, int*) {
  fail("this spinsc was built without MPI (install libopenmpi-dev and rebuild); use the local executor or --shard");
}

#else

namespace {

enum Tag : int { kJob = 1, kDone = 2, kStop = 3 };

// Waits for a message without burning the core (OpenMPI's blocking receive polls): probe,
// then sleep a millisecond. The jobs take seconds to minutes; the latency is negligible.
MPI_Status wait_for(int source, int tag) {
  MPI_Status status;
  int flag = 0;
  while (true) {
    MPI_Iprobe(source, tag, MPI_COMM_WORLD, &flag, &status);
    if (flag) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

std::string receive_text(const MPI_Status& probed) {
  int n = 0;
  MPI_Get_count(&probed, MPI_CHAR, &n);
  std::string text(static_cast<size_t>(n), '\0');
  MPI_Recv(text.data(), n, MPI_CHAR, probed.MPI_SOURCE, probed.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  return text;
}

void send_text(const std::string& text, int dest, int tag) {
  MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, dest, tag, MPI_COMM_WORLD);
}

// Rank 0: hands out ready jobs; returns how many ran, or throws the first failure's message
// after stopping every worker.
size_t coordinate(const JobGraph& graph, const SweepStore& store, const SweepOptions& options, int ranks) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < graph.jobs.size(); ++i) index[graph.jobs[i].id] = i;
  std::vector<int> waiting(graph.jobs.size(), 0);  // unfinished inputs
  std::vector<std::vector<size_t>> readers(graph.jobs.size());
  std::vector<bool> done(graph.jobs.size(), false);
  for (size_t i = 0; i < graph.jobs.size(); ++i) {
    done[i] = store.record(graph.jobs[i]).has_value();
    if (done[i] && options.observer) options.observer->job(graph.jobs[i], i, graph.jobs.size(), true);
  }
  std::deque<size_t> ready;
  for (size_t i = 0; i < graph.jobs.size(); ++i) {
    if (done[i]) continue;
    for (const auto& in : graph.jobs[i].inputs) {
      const size_t j = index.at(in);
      if (!done[j]) ++waiting[i], readers[j].push_back(i);
    }
    if (waiting[i] == 0) ready.push_back(i);
  }
  std::deque<int> idle;
  for (int r = 1; r < ranks; ++r) idle.push_back(r);
  size_t running = 0, ran = 0;
  std::string failure;
  while ((!ready.empty() && failure.empty()) || running > 0) {
    while (!ready.empty() && !idle.empty() && failure.empty()) {
      const size_t i = ready.front();
      ready.pop_front();
      const int r = idle.front();
      idle.pop_front();
      if (options.observer) options.observer->job(graph.jobs[i], i, graph.jobs.size(), false);
      send_text(std::to_string(i), r, kJob);
      ++running;
    }
    if (running == 0) break;
    const MPI_Status st = wait_for(MPI_ANY_SOURCE, kDone);
    const std::string reply = receive_text(st);  // "<index> ok" or "<index> error <message>"
    --running;
    idle.push_back(st.MPI_SOURCE);
    const size_t i = std::stoull(reply);
    const auto space = reply.find(' ');
    if (reply.compare(space + 1, 2, "ok") != 0) {
      if (failure.empty()) failure = reply.substr(space + 7);
      continue;
    }
    ++ran;
    done[i] = true;
    if (options.observer) options.observer->finished(graph.jobs[i], i, 0.0);
    for (size_t k : readers[i])
      if (--waiting[k] == 0) ready.push_back(k);
  }
  for (int r = 1; r < ranks; ++r) send_text("", r, kStop);
  if (!failure.empty()) fail("{}", failure);
  return ran;
}

void work(const JobGraph& graph, const SweepStore& store, const SweepOptions& options) {
  SweepOptions mine = options;
  mine.observer = nullptr;  // rank 0 reports
  while (true) {
    const MPI_Status st = wait_for(0, MPI_ANY_TAG);
    const std::string text = receive_text(st);
    if (st.MPI_TAG == kStop) return;
    const size_t i = std::stoull(text);
    std::string reply = std::to_string(i) + " ok";
    try {
      run_job(graph.jobs.at(i), store, mine);
    } catch (const std::exception& e) {
      reply = std::to_string(i) + " error " + e.what();
    }
    send_text(reply, 0, kDone);
  }
}

}  // namespace

size_t run_mpi(const JobGraph& graph, const SweepStore& store, const SweepOptions& options, int* rank_out) {
  if (options.shards != 1) fail("sweep: --shard and MPI do not mix (MPI hands out every job itself)");
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) MPI_Init(nullptr, nullptr);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  if (rank_out) *rank_out = rank;
  if (ranks < 2) fail("sweep: MPI with one rank has no worker: run without mpirun (the local executor)");
  unsigned long long ran = 0;
  std::string error;
  if (rank == 0) {
    try {
      ran = coordinate(graph, store, options, ranks);
    } catch (const Error& e) {
      error = e.what();
    }
  } else {
    work(graph, store, options);
  }
  // Every rank learns the count and the failure.
  MPI_Bcast(&ran, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
  unsigned long long n = error.size();
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
  error.resize(n);
  MPI_Bcast(error.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD);
  MPI_Finalize();
  if (!error.empty()) fail("{}", error);
  return ran;
}

#endif

}  // namespace spinsc
