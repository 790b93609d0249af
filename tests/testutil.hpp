// Helpers shared by the unit tests.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace spinsc::testing {

// Data folder for tests ($SPINSC_DATA, set by CTest); fails the test when MNIST is missing there.
std::filesystem::path data_dir();
// A fresh empty temporary directory, removed at exit.
std::filesystem::path temp_dir(const std::string& name);
// The repository root: $SPINSC_SOURCE_DIR if set, else the source tree this was built from.
std::filesystem::path source_dir();
// Sample mean and unbiased sample variance of x (at least two values), for the statistical tests
// that compare two samplers' moments.
std::pair<double, double> mean_and_variance(const std::vector<double>& x);

}  // namespace spinsc::testing
