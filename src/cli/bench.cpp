// `spinsc bench`: speed of the SC engine on its fixed reference workload against the
// machine's AND+popcount peak (see include/spinsc/sc_bench.hpp for the workload).
#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "spinsc/sc_bench.hpp"

namespace spinsc::cli {
namespace {

struct BenchCommandOptions {
  ScBenchOptions bench;
  std::string data_dir;
  bool json = false;
};

int run_bench(BenchCommandOptions& opt) {
  opt.bench.data_dir = opt.data_dir;
  opt.bench.quiet = opt.json;
  const ScBenchResult r = run_sc_bench(opt.bench);
  if (opt.json) {
    const nlohmann::json j = {{"synapse_bit_ops_per_s", r.synapse_bit_ops_per_s},
                              {"roofline_bit_ops_per_s", r.roofline_bit_ops_per_s},
                              {"ratio", r.ratio},
                              {"images_per_s", r.images_per_s},
                              {"seconds", r.seconds},
                              {"threads", r.threads},
                              {"images", r.images},
                              {"data", r.data},
                              {"sc_length", r.length},
                              {"synapses_per_image", r.synapses},
                              {"network", "784-256-128-64-10"},
                              {"states", 11},
                              {"source", "ideal"},
                              {"sharing", "broadcast+independent"},
                              {"path", "bit-level"},
                              {"generated_weight_stream_fraction", r.generated_fraction},
                              {"ns_per_weight_stream", r.ns_per_weight_stream},
                              {"ns_per_weight_stream_at_quarter_peak", r.ns_per_weight_stream_at_quarter_peak},
                              {"accuracy_random_network", r.accuracy},
                              {"per_level_synapse_bit_ops_per_s", r.per_level_synapse_bit_ops_per_s},
                              {"per_level_ratio", r.per_level_ratio},
                              {"shortcut_images_per_s", r.shortcut_images_per_s},
                              {"shortcut_equivalent_bit_ops_per_s", r.shortcut_equivalent_bit_ops_per_s},
                              {"conv_network", "lenet5"},
                              {"conv_synapses_per_image", r.conv_synapses},
                              {"conv_images_per_s", r.conv_images_per_s},
                              {"conv_synapse_bit_ops_per_s", r.conv_synapse_bit_ops_per_s},
                              {"conv_ratio", r.conv_ratio},
                              {"conv_per_tap_images_per_s", r.conv_per_tap_images_per_s},
                              {"conv_per_tap_synapse_bit_ops_per_s", r.conv_per_tap_synapse_bit_ops_per_s}};
    fmt::print("{}\n", j.dump(2));
    return 0;
  }
  fmt::print("SC engine reference workload: 784-256-128-64-10, K = 11, L = {}, source ideal, broadcast inputs +\n"
             "independent weight streams, signmag + apc, bit-level path, {} {} images, {} threads\n",
             r.length, r.images, r.data == "synthetic" ? "synthetic" : "MNIST test", r.threads);
  fmt::print("  time                 {:.3f} s\n", r.seconds);
  fmt::print("  images/s             {:.1f}\n", r.images_per_s);
  fmt::print("  synapse bit-ops/s    {:.3e}   (images x {} synapses x L / seconds)\n", r.synapse_bit_ops_per_s, r.synapses);
  fmt::print("  AND+popcount peak    {:.3e}   bit-ops/s, tight L1 kernel on {} threads\n", r.roofline_bit_ops_per_s, r.threads);
  fmt::print("  ratio                {:.3f}\n", r.ratio);
  fmt::print("  weight streams generated: {:.1f}% of synapses (the others have an all-zero input stream or a\n"
             "  weight at p = 0 or 1, whose products follow exactly from the input stream)\n",
             100.0 * r.generated_fraction);
  fmt::print("  core time per generated weight stream: {:.1f} ns (a ratio of 0.25 would need {:.1f} ns)\n", r.ns_per_weight_stream,
             r.ns_per_weight_stream_at_quarter_peak);
  fmt::print("  same workload, per-level weight streams (K SNGs per layer, still bit level): {:.3e} bit-ops/s, ratio {:.3f}\n",
             r.per_level_synapse_bit_ops_per_s, r.per_level_ratio);
  fmt::print("  binomial shortcut (exact in distribution, not bit level): {:.1f} images/s, equivalent to {:.3e} bit-ops/s\n",
             r.shortcut_images_per_s, r.shortcut_equivalent_bit_ops_per_s);
  fmt::print("conv workload: LeNet-5, K = 11, same images, L, source and bit-level path ({} synapses per image)\n", r.conv_synapses);
  fmt::print("  independent weight streams: {:.1f} images/s, {:.3e} synapse bit-ops/s, ratio {:.3f}\n", r.conv_images_per_s,
             r.conv_synapse_bit_ops_per_s, r.conv_ratio);
  fmt::print("  per-tap weight streams:     {:.1f} images/s, {:.3e} synapse bit-ops/s\n", r.conv_per_tap_images_per_s,
             r.conv_per_tap_synapse_bit_ops_per_s);
  return 0;
}

const bool registered = register_command("bench", "Speed of the SC engine on a fixed workload vs the AND+popcount peak", [](CLI::App& app) {
  auto opt = std::make_shared<BenchCommandOptions>();
  app.add_flag("--json", opt->json, "Print one JSON object");
  app.add_option("--threads", opt->bench.threads, "Threads (default: all)")->check(CLI::Range(0, 1024));
  app.add_flag("--synthetic", opt->bench.synthetic, "Synthetic images instead of MNIST (no data needed)");
  app.add_option("--images", opt->bench.images, "Images (default 2000)")->check(CLI::Range(1, 10000));
  app.add_option("--data-dir", opt->data_dir, "Data folder (default: $SPINSC_DATA or ./data)");
  return CommandRun([opt]() { return run_bench(*opt); });
});

}  // namespace
}  // namespace spinsc::cli
