// Subcommand registry of the `spinsc` program.
//
// Each src/cli/<name>.cpp registers one subcommand at static-initialisation time:
//
//   static const bool registered = spinsc::cli::register_command(
//       "train", "Train an MLP", [](CLI::App& app) {
//         auto opt = std::make_shared<TrainOptions>();
//         app.add_option("--arch", opt->arch, "...");
//         return [opt] { return run_train(*opt); };   // exit status
//       });
//
// The command files stay thin: they parse options and call library functions. spinsc::Error
// thrown by a command is printed as "spinsc <command>: error: <message>" with exit status 2.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace spinsc::cli {

using CommandRun = std::function<int()>;
using CommandSetup = std::function<CommandRun(CLI::App&)>;

bool register_command(std::string name, std::string description, CommandSetup setup);

// The program's option tree: every registered subcommand with its options, and the action each
// returns. main() parses argv with `app` and runs the action of the parsed subcommand; the CLI
// fuzz target (fuzz/fuzz_cli.cpp) parses argument vectors with a fresh tree and runs nothing.
struct Program {
  std::unique_ptr<CLI::App> app;
  std::map<CLI::App*, CommandRun> runs;
};
Program make_program();

// Options that many commands share, each added by one helper so they read the same everywhere.
struct DataOptions {
  std::string data_dir;          // empty: default_data_dir()
  std::string dataset = "mnist";
};
void add_data_options(CLI::App& app, DataOptions& opt);

// Validator for comma-separated lists of positive integers, e.g. "--arch 784,128,10".
std::vector<int> parse_int_list(const std::string& text, const std::string& flag);

}  // namespace spinsc::cli
