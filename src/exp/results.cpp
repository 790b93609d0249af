#include "spinsc/results.hpp"

#include <cmath>

#include "spinsc/cost_model.hpp"
#include "spinsc/plan.hpp"
#include "spinsc/sc_engine.hpp"

namespace spinsc {

using json = nlohmann::json;

json record_header(std::string_view kind) {
  return {{"schema_version", kResultSchema}, {"spinsc_version", spinsc_version()}, {"record", std::string(kind)}};
}

json confidence_95(double mean, double std, int n) {
  if (n < 2) return nullptr;
  // Student's t quantiles t_{0.975, n-1} for n = 2..21.
  static const double t[] = {0, 0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262,
                             2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093};
  const double q = n <= 20 ? t[n] : 1.960 + 2.4 / (n - 1);  // the large-n form is within 0.002 from n = 21 on
  const double half = q * std / std::sqrt(static_cast<double>(n));
  return json::array({mean - half, mean + half});
}

json evaluation_record(const ScAccuracy& a, const ScConfig& c, const std::string& source_name, bool binomial_shortcut) {
  json j = record_header("evaluation");
  // The engine's own mean and std (summed in its order), not recomputed: the same numbers as before.
  j.update({{"accuracy_mean", a.mean},
            {"accuracy_std", a.std},
            {"accuracy_ci95", confidence_95(a.mean, a.std, a.repeats)},
            {"accuracy_per_repeat", a.per_repeat},
            {"repeats", a.repeats},
            {"images", a.images},
            {"seconds", a.seconds},
            {"weight_streams", a.weight_streams},
            {"synapses", a.synapses},
            {"length", c.length},
            {"source", source_name},
            {"multiply", to_string(c.multiply)},
            {"accumulate", to_string(c.accumulate)},
            {"sharing", to_string(c.sharing)},
            {"analog", c.analog},
            {"exact_bits", c.exact_bits},
            {"path", binomial_shortcut ? "binomial" : "bit-level"},
            {"seed", c.seed}});
  return j;
}

json cost_record(const CostReport& report) {
  json j = record_header("cost");
  j.update(cost_json(report));
  return j;
}

}  // namespace spinsc
