// Fuzz target: the command line's option parsing and validation (src/cli). The input is an
// argument vector, arguments separated by NUL bytes (at most 64); it is parsed by a fresh
// option tree of the program (make_program(), the one main() uses) and the parse outcome is
// rendered as main() would render it (help, version or error text, into a buffer). No
// command's action runs: the target covers what happens before a command touches any file.
// Every argument also goes through parse_int_list, the validator of the list options.
#include <sstream>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  spinsc::fuzz::Input in(data, size);
  std::vector<std::string> args{"spinsc"};
  while (!in.empty() && args.size() < 65) args.emplace_back(in.until_nul());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  spinsc::cli::Program program = spinsc::cli::make_program();
  spinsc::fuzz::expect_errors([&] {
    try {
      program.app->parse(static_cast<int>(args.size()), argv.data());
      int parsed = 0;
      for (auto& [sub, run] : program.runs) parsed += sub->parsed() ? 1 : 0;
      if (parsed != 1) std::abort();  // require_subcommand(1): exactly one action would run
    } catch (const CLI::ParseError& e) {
      std::ostringstream out, err;
      program.app->exit(e, out, err);
    }
  });
  for (size_t i = 1; i < args.size(); ++i)
    spinsc::fuzz::expect_errors([&] { (void)spinsc::cli::parse_int_list(args[i], "--fuzz"); });
  return 0;
}
