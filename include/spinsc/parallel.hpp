// ParallelErrors: carries an exception out of an OpenMP parallel region.
//
// An exception that leaves an OpenMP structured block (or the body of a parallel loop)
// terminates the program: a bad trace library, an out-of-memory or any spinsc::Error raised by
// a worker would abort with status 134 instead of reaching the command line as an error. Every
// parallel region that can throw runs its body through one ParallelErrors and rethrows after
// the region:
//
//   ParallelErrors errors;
//   #pragma omp parallel for
//   for (int i = 0; i < n; ++i)
//     errors.run([&] { work(i); });
//   errors.rethrow();
//
// The first exception captured is kept (the others are dropped); once one is captured, run()
// skips the bodies that have not started, so a failing loop ends quickly. Which of several
// failures is reported may depend on thread timing; whether the region fails does not.
//
// Thread-safety: run() may be called concurrently from the threads of one region; rethrow()
// after the region, from one thread.
#pragma once

#include <atomic>
#include <exception>
#include <mutex>

namespace spinsc {

class ParallelErrors {
 public:
  // Calls body(); an exception it throws is kept instead of propagating.
  template <class Body>
  void run(Body&& body) noexcept {
    if (failed_.load(std::memory_order_relaxed)) return;
    try {
      body();
    } catch (...) {
      capture(std::current_exception());
    }
  }

  bool failed() const { return failed_.load(std::memory_order_relaxed); }

  // Throws the first exception captured, if any.
  void rethrow() {
    if (first_) std::rethrow_exception(first_);
  }

 private:
  void capture(std::exception_ptr e) noexcept {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!first_) first_ = std::move(e);
    failed_.store(true, std::memory_order_relaxed);
  }

  std::atomic<bool> failed_{false};
  std::mutex mutex_;
  std::exception_ptr first_;
};

}  // namespace spinsc
