// Progress: one status line with ETA on a terminal; silent otherwise.
//
// Shows "label  done/total  extra  ETA" on stderr, rewritten in place, only when stderr is a
// terminal and quiet is false. Not thread-safe: update from one thread.
#pragma once

#include <chrono>
#include <string>

namespace spinsc {

class Progress {
 public:
  Progress(std::string label, long total, bool quiet);
  ~Progress();
  void update(long done, const std::string& extra = "");
  void finish();  // clears the line
  bool enabled() const { return enabled_; }

 private:
  std::string label_;
  long total_;
  bool enabled_;
  bool dirty_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace spinsc
