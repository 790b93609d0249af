// Fuzz target: sweep plans (parse_plan, expand, jobs_of; src/exp/plan.cpp). A plan that parses
// expands into validated cells whose jobs have distinct ids, each after its inputs.
#include <nlohmann/json.hpp>

#include <set>

#include "fuzz_common.hpp"
#include "spinsc/plan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json j = nlohmann::json::parse(std::string_view(reinterpret_cast<const char*>(data), size), nullptr, false);
  if (j.is_discarded()) return 0;
  spinsc::fuzz::expect_errors([&] {
    const spinsc::Plan plan = spinsc::parse_plan(j, "fuzz plan");
    // Device files named by a plan would be read from the working directory: not fuzzed.
    for (const auto& [name, values] : plan.axes)
      for (const auto& v : values)
        if (name == "device" && v.is_string()) return;
    if (plan.base.contains("device") && plan.base["device"].is_string()) return;
    for (const auto& c : plan.cells)
      if (c.is_object() && c.contains("device") && c["device"].is_string()) return;
    size_t cells = 1;
    for (const auto& [name, values] : plan.axes) cells *= values.size();
    if (cells > 64) return;  // the product of many axes only repeats the same validation
    const auto expanded = spinsc::expand(plan);
    const spinsc::JobGraph g = spinsc::jobs_of(expanded);
    std::set<std::string> seen;
    for (const auto& job : g.jobs) {
      for (const auto& in : job.inputs)
        if (!seen.contains(in)) std::abort();
      if (!seen.insert(job.id).second) std::abort();
    }
    if (g.cells.size() != expanded.size()) std::abort();
  });
  return 0;
}
