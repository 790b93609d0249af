// spinsc cost: hardware latency and energy per inference (quantized vs analog, s-MTJ vs LFSR).
#include <fmt/format.h>

#include <memory>
#include <optional>

#include "cli/command.hpp"
#include "spinsc/cost_model.hpp"
#include "spinsc/device_config.hpp"
#include "spinsc/error.hpp"
#include "spinsc/hw_params.hpp"
#include "spinsc/model_io.hpp"
#include "spinsc/results.hpp"

namespace spinsc::cli {
namespace {

struct CostCliOptions {
  std::string model, arch, hw, device, sharing = "independent", multiply = "signmag", accumulate = "apc", out;
  std::optional<int> states;
  int length = 100;
  bool json = false, params = false;
};

int run_cost(const CostCliOptions& opt) {
  CostArchitecture arch;
  if (!opt.model.empty()) {
    if (!opt.arch.empty() || opt.states) fail("--model takes the architecture and K from the file: drop --arch/--states");
    arch = cost_architecture(load_model(opt.model), opt.model);
  } else {
    if (opt.arch.empty()) fail("give --model FILE or --arch WIDTHS (e.g. --arch 784,128,10 --states 5)");
    Architecture a;
    try {
      a = parse_architecture(opt.arch);
    } catch (const Error& e) {
      fail("--arch: {}", e.what());
    }
    arch = cost_architecture(a, opt.states.value_or(5));
  }
  CostOptions options;
  options.length = opt.length;
  options.sharing = parse_cost_sharing(opt.sharing);
  options.multiply = parse_multiply(opt.multiply);
  options.accumulate = parse_accumulate(opt.accumulate);
  HwParams hw = opt.hw.empty() ? default_hw_params() : load_hw_params(opt.hw);
  if (!opt.device.empty()) hw = with_device(std::move(hw), load_device_config(opt.device), opt.device);
  const CostReport report = cost_report(arch, options, hw);
  if (!opt.out.empty()) write_cost_outputs(report, opt.out);
  if (opt.json) {
    fmt::print("{}\n", cost_record(report).dump(2));
  } else {
    fmt::print("{}", cost_markdown(report, opt.params));
    if (!opt.out.empty()) fmt::print("\nwrote cost.md, cost.json, cost.csv, cost.png in {}\n", opt.out);
  }
  return 0;
}

const bool registered = register_command(
    "cost", "Hardware latency and energy per inference: quantized vs analog, s-MTJ vs LFSR", [](CLI::App& app) {
      auto opt = std::make_shared<CostCliOptions>();
      app.add_option("--model", opt->model, "Model file (safetensors): its architecture, K and weight levels");
      app.add_option("--arch", opt->arch,
                     "Architecture instead of --model: widths (784,128,10), a layer list, lenet5 or a JSON file (docs/network.md)");
      app.add_option("--states,-K", opt->states, "K with --arch (default 5)");
      app.add_option("--hw", opt->hw, "Hardware parameter file (default: built-in configs/hw/default.json)");
      app.add_option("--device", opt->device,
                     "s-MTJ device description (configs/device/*.json): its clock, bias currents, resistance and sense "
                     "energy replace the hardware file's smtj figures (default: the hardware file's)");
      app.add_option("--sc-length,-L", opt->length, "L: bits per stream")->capture_default_str();
      app.add_option("--sharing", opt->sharing, "Weight streams of the quantized design")
          ->check(CLI::IsMember({"independent", "per-level", "per-tap", "independent-all"}))
          ->capture_default_str();
      app.add_option("--multiply", opt->multiply, "signmag (AND) or bipolar (XNOR)")
          ->check(CLI::IsMember({"signmag", "bipolar"}))
          ->capture_default_str();
      app.add_option("--accumulate", opt->accumulate, "apc (parallel counter) or mux (scaled adder: select + up/down counter)")
          ->check(CLI::IsMember({"apc", "mux"}))
          ->capture_default_str();
      app.add_flag("--json", opt->json, "Print JSON instead of Markdown");
      app.add_flag("--params", opt->params, "Append the hardware parameters to the Markdown");
      app.add_option("--out", opt->out, "Directory for cost.md, cost.json, cost.csv and the plot cost.png");
      return [opt] { return run_cost(*opt); };
    });

}  // namespace
}  // namespace spinsc::cli
