// spinsc::Error — the one exception type for bad input.
//
// Thrown for anything the user can fix: a missing or damaged file, a bad field in a JSON
// description, a value out of range. Its message names the file, field or value and says
// what is wrong. The command line prints it and exits with status 2. Any other exception
// reaching the top is a bug in spinsc.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace spinsc {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace spinsc
