#include "spinsc/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace spinsc {

Progress::Progress(std::string label, long total, bool quiet)
    : label_(std::move(label)), total_(total), enabled_(!quiet && ::isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()), last_(start_ - std::chrono::seconds(1)) {}

Progress::~Progress() { finish(); }

void Progress::update(long done, const std::string& extra) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total_ && now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  std::string eta = "--";
  if (done > 0) {
    const double left = elapsed * static_cast<double>(total_ - done) / static_cast<double>(done);
    eta = left >= 60 ? fmt::format("{}m{:02}s", static_cast<int>(left) / 60, static_cast<int>(left) % 60)
                     : fmt::format("{:.0f}s", left);
  }
  fmt::print(stderr, "\r\033[K{}  {}/{}  {}  ETA {}", label_, done, total_, extra, eta);
  std::fflush(stderr);
  dirty_ = true;
}

void Progress::finish() {
  if (enabled_ && dirty_) {
    fmt::print(stderr, "\r\033[K");
    std::fflush(stderr);
  }
  dirty_ = false;
}

}  // namespace spinsc
