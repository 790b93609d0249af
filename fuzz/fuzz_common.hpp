// Shared by the fuzz targets (docs/reliability.md).
//
// The contract under test: bad input throws spinsc::Error, whose message names the fault.
// A target therefore swallows spinsc::Error and nothing else; any other exception, a crash,
// a leak, undefined behaviour or a timeout is a finding.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "spinsc/error.hpp"

namespace spinsc::fuzz {

// Runs body(); spinsc::Error is the expected outcome of bad input. Returns true when body()
// finished without one.
template <class F>
bool expect_errors(F&& body) {
  try {
    body();
    return true;
  } catch (const spinsc::Error&) {
    return false;
  }
}

// Consumes the fuzz input front to back.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : p_(reinterpret_cast<const char*>(data)), left_(size) {}
  uint8_t byte() {
    if (!left_) return 0;
    --left_;
    return static_cast<uint8_t>(*p_++);
  }
  uint32_t u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t{byte()} << (8 * i);
    return v;
  }
  std::string_view bytes(size_t n) {
    n = std::min(n, left_);
    std::string_view out(p_, n);
    p_ += n;
    left_ -= n;
    return out;
  }
  std::string_view rest() { return bytes(left_); }
  // The text up to the next NUL (dropped) or the end.
  std::string_view until_nul() {
    const void* nul = std::memchr(p_, 0, left_);
    const size_t n = nul ? static_cast<size_t>(static_cast<const char*>(nul) - p_) : left_;
    std::string_view out = bytes(n);
    if (nul) bytes(1);
    return out;
  }
  bool empty() const { return left_ == 0; }

 private:
  const char* p_;
  size_t left_;
};

// A private directory for targets whose parser reads files; removed when the process exits.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/spinsc-fuzz.XXXXXX";
    if (!::mkdtemp(tmpl.data())) std::abort();
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline const std::filesystem::path& scratch_dir() {
  static ScratchDir dir;
  return dir.path();
}

}  // namespace spinsc::fuzz
