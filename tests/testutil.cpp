#include "testutil.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <vector>

namespace spinsc::testing {
namespace {

// Temporary directories made by temp_dir(), removed when the test program exits.
struct TempDirs {
  std::mutex mutex;
  std::vector<std::filesystem::path> dirs;
  ~TempDirs() {
    for (const auto& d : dirs) {
      std::error_code ec;
      std::filesystem::remove_all(d, ec);
    }
  }
};

TempDirs& temp_dirs() {
  static TempDirs registry;
  return registry;
}

}  // namespace

std::filesystem::path data_dir() {
  const char* env = std::getenv("SPINSC_DATA");
  std::filesystem::path dir = env ? env : "data";
  if (!std::filesystem::exists(dir / "t10k-labels-idx1-ubyte"))
    ADD_FAILURE() << "MNIST is not in " << dir << ": run `spinsc data fetch` (scripts/setup.sh does)";
  return dir;
}

std::filesystem::path temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("spinsc-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  TempDirs& reg = temp_dirs();
  std::lock_guard lock(reg.mutex);
  reg.dirs.push_back(dir);
  return dir;
}

std::filesystem::path source_dir() {
  const char* env = std::getenv("SPINSC_SOURCE_DIR");
  return env && *env ? env : SPINSC_SOURCE_ROOT;
}

std::pair<double, double> mean_and_variance(const std::vector<double>& x) {
  const double n = static_cast<double>(x.size());
  double m = 0, v = 0;
  for (double t : x) m += t;
  m /= n;
  for (double t : x) v += (t - m) * (t - m);
  return {m, v / (n - 1)};
}

}  // namespace spinsc::testing
