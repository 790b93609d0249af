// Helpers shared by the unit tests.
#pragma once

#include <filesystem>
#include <string>

namespace spinsc::testing {

// Data folder for tests ($SPINSC_DATA, set by CTest); fails the test when MNIST is missing there.
std::filesystem::path data_dir();
// A fresh empty temporary directory, removed at exit.
std::filesystem::path temp_dir(const std::string& name);
// The repository root: $SPINSC_SOURCE_DIR if set, else the source tree this was built from.
std::filesystem::path source_dir();

}  // namespace spinsc::testing
