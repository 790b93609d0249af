// `spinsc bench`: speed of the SC engine on its fixed reference workload against the
// machine's AND+popcount peak (see include/spinsc/sc_bench.hpp for the workload).
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/command.hpp"
#include "core/cpu.hpp"
#include "cli/progress_line.hpp"
#include "spinsc/sc_bench.hpp"

namespace spinsc::cli {
namespace {

struct BenchCommandOptions {
  ScBenchOptions bench;
  std::string data_dir;
  std::string python = "/usr/bin/python3";
  std::string torch_script;  // empty: bench/torch_shortcut.py of the working folder or of the source tree
  bool no_torch = false;
  bool json = false;
};

// bench/torch_shortcut.py: in the working folder, else in the source tree the program runs from
// (build/<preset>/spinsc -> ../../bench).
std::filesystem::path find_torch_script(const std::string& given) {
  if (!given.empty()) return given;
  const std::filesystem::path here = "bench/torch_shortcut.py";
  std::error_code ec;
  if (std::filesystem::exists(here, ec)) return here;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? here : exe.parent_path() / "../../bench/torch_shortcut.py";
}

int run_bench(BenchCommandOptions& opt) {
  opt.bench.data_dir = opt.data_dir;
  ProgressLine progress(opt.json);
  opt.bench.observer = &progress;
  const ScBenchResult r = run_sc_bench(opt.bench);
  std::optional<TorchShortcutPeer> torch;
  std::string torch_note = "not run (--no-torch)";
  if (!opt.no_torch) {
    torch = run_torch_shortcut_peer(opt.python, find_torch_script(opt.torch_script), r.threads, r.images, opt.bench.synthetic,
                                    opt.data_dir.empty() ? default_data_dir() : std::filesystem::path(opt.data_dir), &torch_note);
    if (torch) torch_note = fmt::format("torch {}, {} images", torch->torch_version, torch->data);
  }
  const double torch_ratio = torch && torch->best_images_per_s > 0 ? r.shortcut_images_per_s / torch->best_images_per_s : 0.0;
  if (opt.json) {
    nlohmann::json j = {{"synapse_bit_ops_per_s", r.synapse_bit_ops_per_s},
                              {"roofline_bit_ops_per_s", r.roofline_bit_ops_per_s},
                              {"ratio", r.ratio},
                              {"images_per_s", r.images_per_s},
                              {"seconds", r.seconds},
                              {"threads", r.threads},
                              {"images", r.images},
                              {"data", r.data},
                              {"length", r.length},
                              {"synapses_per_image", r.synapses},
                              {"network", "784-256-128-64-10"},
                              {"states", 11},
                              {"source", "ideal"},
                              {"sharing", "broadcast+independent"},
                              {"path", "bit-level"},
                              {"bit_kernels", detail::bit_kernels_description()},
                              {"generated_weight_stream_fraction", r.generated_fraction},
                              {"ns_per_weight_stream", r.ns_per_weight_stream},
                              {"ns_per_weight_stream_at_quarter_peak", r.ns_per_weight_stream_at_quarter_peak},
                              {"random_bits_per_s", r.random_bits_per_s},
                              {"floor_ns_per_weight_stream", r.floor_ns_per_weight_stream},
                              {"weight_stream_floor_ratio", r.weight_stream_floor_ratio},
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
                              {"conv_per_tap_synapse_bit_ops_per_s", r.conv_per_tap_synapse_bit_ops_per_s},
                              {"torch_shortcut_peer", torch_note}};
    if (torch) {
      j["torch_shortcut_images_per_s"] = torch->images_per_s;
      j["torch_shortcut_folded_images_per_s"] = torch->folded_images_per_s;
      j["shortcut_vs_torch_ratio"] = torch_ratio;
    }
    fmt::print("{}\n", j.dump(2));
    return 0;
  }
  fmt::print("SC engine reference workload: 784-256-128-64-10, K = 11, L = {}, source ideal, broadcast inputs +\n"
             "independent weight streams, signmag + apc, bit-level path, {} {} images, {} threads\n",
             r.length, r.images, r.data == "synthetic" ? "synthetic" : "MNIST test", r.threads);
  fmt::print("  bit kernels          {}\n", detail::bit_kernels_description());
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
  fmt::print("  random-bit floor: generator {:.3e} bits/s on {} threads; 2 random bits per output bit + AND+popcount =\n"
             "  {:.2f} ns per weight stream; the engine's {:.1f} ns is {:.1f}x the floor\n",
             r.random_bits_per_s, r.threads, r.floor_ns_per_weight_stream, r.ns_per_weight_stream, r.weight_stream_floor_ratio);
  fmt::print("  same workload, per-level weight streams (K SNGs per layer, still bit level): {:.3e} bit-ops/s, ratio {:.3f}\n",
             r.per_level_synapse_bit_ops_per_s, r.per_level_ratio);
  fmt::print("  binomial shortcut (exact in distribution, not bit level): {:.1f} images/s, equivalent to {:.3e} bit-ops/s\n",
             r.shortcut_images_per_s, r.shortcut_equivalent_bit_ops_per_s);
  if (torch)
    fmt::print("  the same shortcut in plain PyTorch ({}, same threads): {:.1f} images/s (a draw per level and sign), {:.1f} "
               "(signs folded);\n  spinsc / the faster PyTorch: {:.2f}x\n",
               torch_note, torch->images_per_s, torch->folded_images_per_s, torch_ratio);
  else
    fmt::print("  PyTorch shortcut peer: {}\n", torch_note);
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
  app.add_flag("--no-torch", opt->no_torch, "Do not run the PyTorch shortcut peer (bench/torch_shortcut.py)");
  app.add_option("--torch-script", opt->torch_script, "The PyTorch peer script (default: bench/torch_shortcut.py here or in the source tree)");
  app.add_option("--python", opt->python, "Interpreter with torch for the peer (default /usr/bin/python3)");
  return CommandRun([opt]() { return run_bench(*opt); });
});

}  // namespace
}  // namespace spinsc::cli
