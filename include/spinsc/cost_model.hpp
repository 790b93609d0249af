// Hardware latency and energy per inference of an SC-ANN (SPEC §7): the quantized design and
// its unquantized ("analog") baseline, each with s-MTJ or LFSR stochastic number generators.
//
// A transparent, data-independent model: every figure is a count of operations (from the
// architecture, K, L and the stream sharing of SPEC §4) times a per-operation energy or delay
// from HwParams. docs/cost-model.md states every formula; in short, per stage (a weight layer
// with its pooling, network.hpp) of n inputs, m units (dense: neurons; conv2d: filters x
// output positions), fan-in f, S synapses (dense: m n; conv2d: padding excluded), W stored
// weights (conv2d: F C k k), per inference:
//   input SNGs   broadcast n (independent-all: S), each L bits
//   weight SNGs  independent S; per-tap W (one per kernel weight, shared by the positions);
//                per-level one per distinct weight level (quantized only; the analog baseline
//                has one per synapse, or per kernel weight with per-tap, each with its own DAC)
//   gates        S L (AND signmag, XNOR bipolar)
//   counters     per unit per cycle (AccumulateRule::hardware): apc an f-input parallel counter
//                (f - floor(log2 f) - 1 full adders) and an accumulator of ceil(log2(f L + 1)) + 1
//                bits (adder + register); mux a select LFSR and multiplexer path of ceil(log2 f)
//                flip-flops and cells and an up/down counter of ceil(log2(L + 1)) + 1 bits
//   pooling      avgpool: the window's accumulators added (w^2 - 1 adders per pooled output)
//                before the comparators; maxpool: w^2 - 1 comparators of the activation codes
//   activation   hidden, quantized: K-1 comparators per activation; hidden, analog: a clip
//                (2 comparators) and a scaling multiplier to the DAC's bits; output: argmax
//   bias         how the SNGs' bias is set: preset levels + switches (quantized) vs DACs
//                (+ logit lookup for activations) (analog); LFSRs take a digital threshold
//   memory       weight codes log2 K bits (quantized) vs b bits (analog) + per-channel constants
// For an MLP every stage is a dense layer (m = neurons, f = n, S = W = m n).
// Latency: layers run one after another; each is setup (biases settle) + L bit periods +
// activation. The "neuron activation latency" of a hidden layer is its activation time plus the
// settling of the next layer's input biases: from final counts to the next layer ready.
//
// Thread-safety: pure functions of their arguments.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "spinsc/arithmetic.hpp"
#include "spinsc/hw_params.hpp"
#include "spinsc/network.hpp"

namespace spinsc {

// Names match the SC engine's options (sc_engine.hpp), whose module this one does not depend on.
enum class CostSharing { Independent, PerLevel, IndependentAll, PerTap };
enum class CostDesign { Quantized, Analog };
enum class CostSource { Smtj, Lfsr };

std::string to_string(CostSharing s);   // "independent", "per-level", "independent-all", "per-tap"
std::string to_string(CostDesign d);    // "quantized", "analog"
std::string to_string(CostSource s);    // "smtj", "lfsr"
CostSharing parse_cost_sharing(const std::string& text);  // each throws spinsc::Error on unknown text
CostDesign parse_cost_design(const std::string& text);
CostSource parse_cost_source(const std::string& text);

// The counts one stage's cost depends on (see the header comment).
struct CostStage {
  int64_t inputs = 0;       // n: input values, one broadcast input SNG each
  int64_t units = 0;        // m: parallel counters (dense: neurons; conv2d: filters x positions)
  int64_t fan_in = 0;       // f: inputs of each unit's parallel counter
  int64_t synapses = 0;     // S: product gates (dense m n; conv2d: receptive fields without padding)
  int64_t weights = 0;      // W: stored weights (dense m n; conv2d F C k k)
  int64_t channels = 0;     // units with their own constants (dense: m; conv2d: F)
  int64_t activations = 0;  // outputs after pooling
  LayerKind pool = LayerKind::Flatten;  // Flatten: none; AvgPool2d or MaxPool2d
  int window = 1;
  // Values passing through the activation comparators: after an avgpool, before a maxpool.
  int64_t activated() const { return pool == LayerKind::MaxPool2d ? units : activations; }
};
// The stages of an MLP of these widths, or of any architecture.
std::vector<CostStage> cost_stages(const std::vector<int>& widths);
std::vector<CostStage> cost_stages(const Architecture& arch);

// What the cost depends on in a network: its stages, K and, for per-level sharing, how many
// distinct weight levels each layer really uses.
struct CostArchitecture {
  std::vector<int> arch;  // sizes between stages, input first (an MLP's widths)
  std::vector<CostStage> stages;
  std::string spelling;   // the architecture's canonical spelling
  int states = 5;         // K
  // Per layer: distinct nonzero |q| (signmag) and distinct q (bipolar) among the quantized
  // weights. Empty: every level is assumed used ((K-1)/2 and K).
  std::vector<int> magnitude_levels, signed_levels;
  std::string origin = "--arch";  // the model file, or "--arch"
  std::string mode;               // the model's training mode ("" without a model)
  int layers() const { return static_cast<int>(stages.size()); }
};
// Checks the architecture (MLP widths, {784, 128, 10}, convert implicitly: >= 2 of them, each
// >= 1) and K (odd, >= 3); throws spinsc::Error.
CostArchitecture cost_architecture(const Architecture& arch, int states);
CostArchitecture cost_architecture(const Network& net, const std::string& origin);

struct CostOptions {
  int length = 100;  // L, bits per stream (>= 1)
  CostSharing sharing = CostSharing::Independent;
  Multiply multiply = Multiply::SignMagnitude;  // its rule (arithmetic.hpp): gate, sign routing, preset levels
  Accumulate accumulate = Accumulate::Apc;      // its rule: the counting hardware per unit
};

enum class EnergyPart { InputSng, WeightSng, Gates, Counters, Activation, BiasGeneration, Memory };
inline constexpr int kEnergyParts = 7;
enum class LatencyPart { Setup, Stream, Activation };
inline constexpr int kLatencyParts = 3;
std::string to_string(EnergyPart p);   // "input_sng", "weight_sng", "gates", "counters", ...
std::string to_string(LatencyPart p);  // "setup", "stream", "activation"

struct LayerCost {
  int index = 0, in = 0, out = 0;  // inputs n and activations (outputs after pooling)
  bool hidden = false;
  int64_t input_sngs = 0, weight_sngs = 0;
  int weight_levels = 0;     // quantized: preset weight levels (signmag |q| > 0, bipolar q); analog: 0
  int counter_bits = 0;      // apc: parallel counter output, floor(log2 n) + 1; mux: 1
  int accumulator_bits = 0;  // apc: ceil(log2(n L + 1)) + 1; mux: ceil(log2(L + 1)) + 1
  int64_t comparators = 0;   // activation comparators (argmax comparators for the output layer)
  int64_t dacs = 0;          // bias DACs of this layer's SNGs
  std::array<double, kEnergyParts> energy_j{};
  std::array<double, kLatencyParts> latency_s{};
  double neuron_activation_s = 0;  // hidden: activation + next layer's input bias settling
  double energy() const;
  double latency() const;
};

struct DesignCost {
  CostDesign design = CostDesign::Quantized;
  CostSource source = CostSource::Smtj;
  CostSharing sharing = CostSharing::Independent;  // as used (analog: never per-level)
  std::vector<LayerCost> layers;
  std::string key() const;  // "quantized_smtj", ...
  double energy() const;
  double latency() const;
  double neuron_activation_latency() const;  // summed over hidden layers
  double energy_of(EnergyPart p) const;
  double latency_of(LatencyPart p) const;
  int64_t sng_devices() const;
  double sng_area_m2 = 0;
};

struct CostReport {
  CostArchitecture architecture;
  CostOptions options;
  HwParams hw;
  std::vector<DesignCost> designs;  // quantized/smtj, analog/smtj, quantized/lfsr, analog/lfsr
  const DesignCost& get(CostDesign d, CostSource s) const;
};

// Per-SNG figures: energy per generated bit (s-MTJ: I V Ts + sense amplifier; LFSR: n flip-flops
// and comparator bits + feedback XORs), and the LFSR SNG's transistor count.
double sng_bit_energy(const HwParams& hw, CostSource source);
int lfsr_sng_transistors(const HwParams& hw);

// One design with one source.
DesignCost design_cost(const CostArchitecture& arch, const CostOptions& options, const HwParams& hw,
                       CostDesign design, CostSource source);
// All four designs.
CostReport cost_report(const CostArchitecture& arch, const CostOptions& options, const HwParams& hw);

// Ratios of two totals (NaN when the denominator is 0, e.g. no hidden layer).
struct CostRatios {
  double neuron_activation_latency = 0, latency = 0, energy = 0;
};
CostRatios quantized_over_analog(const CostReport& r, CostSource s);
CostRatios smtj_over_lfsr(const CostReport& r, CostDesign d);

// Keys: config, latency_s, energy_j, neuron_activation_latency_s, sng_devices, sng_area_m2 (each
// an object keyed by design key), breakdown (per design: energy_j and latency_s by component,
// layers), ratios (quantized_over_analog per source, analog_over_quantized, smtj_over_lfsr per
// design), parameters.
nlohmann::json cost_json(const CostReport& r);
// The full report: totals, ratios, energy by component, per layer; parameters when asked.
std::string cost_markdown(const CostReport& r, bool with_parameters = false);
// One row per report (a configuration): what `spinsc reproduce` puts beside its accuracy table.
std::string cost_summary_markdown(const std::vector<CostReport>& reports);
// Long-format CSV: design,source,layer,kind,part,value (layer "total" for sums).
std::string cost_csv(const CostReport& r);
// Writes cost.md, cost.json, cost.csv and the stacked-bar plot cost.png (+ cost_plot.csv, the
// data behind it, and cost.png.gp) into `dir` (created if needed), each atomically.
void write_cost_outputs(const CostReport& r, const std::filesystem::path& dir);

}  // namespace spinsc
