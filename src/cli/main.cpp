// spinsc: quantized stochastic-computing neural networks driven by s-MTJs.
#include <fmt/format.h>

#include <filesystem>
#include <new>

#include "cli/command.hpp"
#include "spinsc/error.hpp"

int main(int argc, char** argv) {
  using namespace spinsc::cli;
  Program program = make_program();
  CLI::App& app = *program.app;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; a bad option or value exits 2 like any other bad input
    // (CLI11's own codes are 100 and up).
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const spinsc::Error& e) {
    fmt::print(stderr, "spinsc: error: {}\n", e.what());
    return 2;
  }
  for (auto& [sub, run] : program.runs) {
    if (!sub->parsed()) continue;
    try {
      return run();
    } catch (const spinsc::Error& e) {
      fmt::print(stderr, "spinsc {}: error: {}\n", sub->get_name(), e.what());
      return 2;
    } catch (const std::filesystem::filesystem_error& e) {
      // The library turns path problems into spinsc::Error; this is the backstop for any it
      // missed. The message names the path(s).
      fmt::print(stderr, "spinsc {}: error: {}\n", sub->get_name(), e.what());
      return 2;
    } catch (const std::bad_alloc&) {
      fmt::print(stderr, "spinsc {}: error: out of memory\n", sub->get_name());
      return 3;
    } catch (const std::exception& e) {
      // Not an abort: the message is what a bug report needs.
      fmt::print(stderr, "spinsc {}: internal error (a bug in spinsc): {}\n", sub->get_name(), e.what());
      return 70;
    }
  }
  return 0;
}
