// The program's progress observer (context.hpp): progress as one status line with an ETA on
// stderr, rewritten in place, only when stderr is a terminal; messages as lines on stderr. A
// quiet observer shows nothing. The library reports to it; it is the only place that prints.
//
// Thread-safety: not thread-safe; the library calls an observer from one thread at a time.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "spinsc/context.hpp"

namespace spinsc::cli {

class ProgressLine : public ProgressObserver {
 public:
  explicit ProgressLine(bool quiet);
  ~ProgressLine() override;

  void progress(std::string_view task, long done, long total) override { update(task, done, total, ""); }
  void finished(std::string_view task) override;
  void message(std::string_view text) override;

  // The line "task  done/total  extra  ETA ..." (at most every 200 ms, and at the end).
  void update(std::string_view task, long done, long total, const std::string& extra);
  void clear();  // removes the line; the task's clock keeps running

 private:
  bool quiet_, terminal_;
  bool dirty_ = false;
  std::string task_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace spinsc::cli
