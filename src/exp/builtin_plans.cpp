// The plans built into the program (plan.hpp: builtin_plan). Each is data, what a plan file
// holds (plan_json writes it as one), so that its cells are validated, expanded and identified by
// the same code as a file's; `spinsc sweep NAME --export FILE` writes it out for editing.
#include <string>

#include <fmt/format.h>

#include "spinsc/device_config.hpp"
#include "spinsc/error.hpp"
#include "spinsc/plan.hpp"
#include "spinsc/reproduce.hpp"
#include "spinsc/smtj.hpp"

namespace spinsc {
namespace {

using json = nlohmann::json;

// Two significant digits, as the shortest decimal reads them (1.4e-09, not 1.3999999999999998e-09).
double two_digits(double v) { return std::stod(fmt::format("{:.2g}", v)); }

// The device-study plan: the literature s-MTJs at four clocks from far below to far above their
// relaxation time, the 3-hidden network at K = 5 and 11, L = 8..500, trained without and with SC.
Plan device_study() {
  const std::vector<std::string> devices = {"perpendicular_ns", "inplane_ns"};
  const std::vector<double> clock_factors = {0.1, 1.0, 10.0, 100.0};  // x the relaxation time at p = 1/2
  const std::vector<int> states = {5, 11}, lengths = {8, 32, 128, 500};
  Plan p;
  p.name = "device-study";
  p.origin = "built-in plan 'device-study'";
  std::string clocks;
  for (const std::string& name : devices) {
    const DeviceConfig device = builtin_device(name);
    const TelegraphMtj mtj = TelegraphMtj::nominal(device);
    const double relaxation = 1.0 / mtj.relaxation_rate(mtj.current_for_p_ap(0.5));
    clocks += fmt::format("{}{}: relaxation time {:.3g} ns, clocks", clocks.empty() ? "" : "; ", name, relaxation * 1e9);
    for (double f : clock_factors) {
      DeviceConfig clocked = device;
      clocked.sample_period_s = two_digits(f * relaxation);
      clocks += fmt::format(" {:.3g}", clocked.sample_period_s * 1e9);
      const json dev = json::parse(to_json_text(clocked));
      for (int k : states)
        for (int length : lengths)
          for (const char* training : {"without_sc", "with_sc"})
            p.cells.push_back({{"device", dev}, {"states", k}, {"length", length}, {"training", training}});
    }
    clocks += " ns";
  }
  p.description = fmt::format(
      "Which device, clock and stream length: the literature s-MTJs (configs/device/perpendicular_ns.json, inplane_ns.json) "
      "clocked at 0.1, 1, 10 and 100 times their relaxation time 1/lambda at p = 1/2 ({}), the 784-256-128-64-10 network at "
      "K = 5 and 11, L = 8, 32, 128, 500: a qat base (10 epochs) per K, continued 3 epochs without or with the SC noise of "
      "the cell's device, clock and L; evaluated on the first 1000 test images, 3 repeats, bit by bit where the bits are "
      "correlated. Accuracy, latency and energy per inference of every cell, and their Pareto fronts (docs/sweeps.md, "
      "'The device study').",
      clocks);
  p.base = {{"arch", "784,256,128,64,10"}, {"source", "smtj"}, {"epochs", 10}, {"sc_epochs", 3}, {"repeats", 3}, {"limit", 1000}};
  return p;
}

}  // namespace

std::vector<std::string> builtin_plan_names() { return {"device-study", "reproduce"}; }

Plan builtin_plan(const std::string& name) {
  if (name == "device-study") return device_study();
  // The default `spinsc reproduce` (its mlp suite): the same cells and jobs.
  if (name == "reproduce") {
    Plan p = reproduce_plan(reproduce_defaults("mlp"));
    p.origin = "built-in plan 'reproduce'";
    return p;
  }
  fail("no built-in plan '{}' (built in: device-study, reproduce)", name);
}

}  // namespace spinsc
