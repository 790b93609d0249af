#include "cli/progress_line.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace spinsc::cli {

ProgressLine::ProgressLine(bool quiet) : quiet_(quiet), terminal_(!quiet && ::isatty(STDERR_FILENO)) {}

ProgressLine::~ProgressLine() { clear(); }

void ProgressLine::update(std::string_view task, long done, long total, const std::string& extra) {
  if (!terminal_) return;
  const auto now = std::chrono::steady_clock::now();
  if (task != task_) {  // a new task: its own clock for the ETA
    task_ = std::string(task);
    start_ = now;
    last_ = now - std::chrono::seconds(1);
  }
  if (done < total && now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  std::string eta = "--";
  if (done > 0) {
    const double left = elapsed * static_cast<double>(total - done) / static_cast<double>(done);
    eta = left >= 60 ? fmt::format("{}m{:02}s", static_cast<int>(left) / 60, static_cast<int>(left) % 60)
                     : fmt::format("{:.0f}s", left);
  }
  fmt::print(stderr, "\r\033[K{}  {}/{}  {}  ETA {}", task, done, total, extra, eta);
  std::fflush(stderr);
  dirty_ = true;
}

void ProgressLine::clear() {
  if (dirty_) {
    fmt::print(stderr, "\r\033[K");
    std::fflush(stderr);
  }
  dirty_ = false;
}

void ProgressLine::finished(std::string_view task) {
  clear();
  task_.clear();
}

void ProgressLine::message(std::string_view text) {
  if (quiet_) return;
  clear();
  fmt::print(stderr, "{}\n", text);
  std::fflush(stderr);
}

}  // namespace spinsc::cli
