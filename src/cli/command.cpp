// The subcommand registry, the shared option helpers, and the program's option tree (cli/command.hpp).
#include <fmt/format.h>

#include <map>
#include <memory>

#include "cli/command.hpp"
#include "spinsc/error.hpp"

namespace spinsc::cli {
namespace {

struct Entry {
  std::string description;
  CommandSetup setup;
};

std::map<std::string, Entry>& registry() {
  static std::map<std::string, Entry> commands;
  return commands;
}

}  // namespace

bool register_command(std::string name, std::string description, CommandSetup setup) {
  registry()[std::move(name)] = Entry{std::move(description), std::move(setup)};
  return true;
}

void add_data_options(CLI::App& app, DataOptions& opt) {
  app.add_option("--data-dir", opt.data_dir, "Data folder (default: $SPINSC_DATA or ./data)");
  app.add_option("--dataset", opt.dataset, "Data set")
      ->check(CLI::IsMember({"mnist", "fashion-mnist"}))
      ->capture_default_str();
}

std::vector<int> parse_int_list(const std::string& text, const std::string& flag) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(pos, end - pos);
    try {
      size_t used = 0;
      const long v = std::stol(item, &used);
      if (used != item.size() || v <= 0 || v > 1000000000) throw std::invalid_argument(item);
      out.push_back(static_cast<int>(v));
    } catch (const std::exception&) {
      fail("{}: '{}' is not a comma-separated list of positive integers (bad item '{}')", flag, text, item);
    }
    pos = end + 1;
  }
  return out;
}

Program make_program() {
  Program program;
  program.app = std::make_unique<CLI::App>("spinsc: quantized stochastic-computing neural networks driven by stochastic MTJs");
  CLI::App& app = *program.app;
  app.require_subcommand(1);
  app.set_version_flag("--version", "spinsc 0.1.0");
  for (auto& [name, entry] : registry()) {
    CLI::App* sub = app.add_subcommand(name, entry.description);
    program.runs[sub] = entry.setup(*sub);
  }
  return program;
}

}  // namespace spinsc::cli

