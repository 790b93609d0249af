// Context: what a long library call is given instead of taking it from the process. The library
// prints nothing and sets no process-wide state; a front-end passes in
//   - the source registry: which kinds of bit source a spec may name (the program and the
//     Python package pass standard_sources(), device_sources.hpp; tests may pass their own);
//   - a progress observer: where progress and status lines go (the CLI's terminal line is one
//     observer, a Python callback another; none: silent).
// Threads stay in each call's own options (`threads`, 0: all cores), because they differ per
// call (a sweep job, a side-by-side training).
//
// Thread-safety: a Context is read concurrently by the call it is given to. The library calls
// an observer from one thread at a time (it serialises its reports), so an observer needs no
// lock of its own; it must not throw.
#pragma once

#include <memory>
#include <string_view>

#include "spinsc/bit_source.hpp"

namespace spinsc {

class ProgressObserver {
 public:
  virtual ~ProgressObserver() = default;
  // `done` of `total` units of `task` are finished ("sc eval": images x repeats; "simulate":
  // bias points). Called often: an observer throttles what it shows.
  virtual void progress(std::string_view task, long done, long total) {}
  // The task is finished (a terminal line clears itself).
  virtual void finished(std::string_view task) {}
  // One status line ("[  12 s] training d3-k5-base  (ETA 4m10s)", "downloading ...").
  virtual void message(std::string_view text) {}
};

struct Context {
  std::shared_ptr<const SourceRegistry> sources = builtin_sources();  // never null
  ProgressObserver* observer = nullptr;                               // null: silent; not owned

  std::unique_ptr<BitSource> make_source(std::string_view spec) const { return sources->make(spec); }
  void progress(std::string_view task, long done, long total) const {
    if (observer) observer->progress(task, done, total);
  }
  void finished(std::string_view task) const {
    if (observer) observer->finished(task);
  }
  void message(std::string_view text) const {
    if (observer) observer->message(text);
  }
};

}  // namespace spinsc
