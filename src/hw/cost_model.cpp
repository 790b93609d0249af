// The operation counts and delays of the cost model; docs/cost-model.md states the same
// formulas in prose, and cost_model_test.cpp recomputes them by hand for a 4-3-2 network.
#include "spinsc/cost_model.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <set>

#include "spinsc/error.hpp"
#include "spinsc/quantize.hpp"

namespace spinsc {
namespace {

// Smallest b with 2^b >= v (v >= 1).
int ceil_log2(int64_t v) {
  int b = 0;
  while ((int64_t{1} << b) < v) ++b;
  return b;
}

// What one source costs per bit and per device.
struct SourceFigures {
  double bit_energy = 0;  // J per generated bit
  double bit_period = 0;  // s
  double area = 0;        // m2 per SNG
};

SourceFigures source_figures(const HwParams& hw, CostSource s) {
  SourceFigures f;
  f.bit_energy = sng_bit_energy(hw, s);
  if (s == CostSource::Smtj) {
    f.bit_period = hw.smtj.bit_period_s;
    f.area = hw.smtj.area_m2;
  } else {
    f.bit_period = hw.lfsr.clock_period_s;
    f.area = lfsr_sng_transistors(hw) * hw.logic.transistor_area_m2;
  }
  return f;
}

// Delays, all from the FO4 gate delay or a settling time constant.
struct Delays {
  const HwParams& hw;
  double gate() const { return hw.logic.gate_delay_s; }
  // A log-depth magnitude comparator of w bits.
  double comparator(int w) const { return gate() * (2 * ceil_log2(w) + 2); }
  // An array multiplier's critical path: a + b full adders of 2 gate delays.
  double multiplier(int a, int b) const { return gate() * 2 * (a + b); }
  // A 2-level select, or loading a register.
  double select() const { return 2 * gate(); }
  // Settling to half an LSB of `bits` with time constant tau.
  static double settle(double tau, int bits) { return tau * (bits + 1) * std::numbers::ln2; }
  double dac(int bits) const { return settle(hw.bias.dac_time_constant_s, bits); }
  double level_switch(int K) const { return settle(hw.bias.switch_time_constant_s, ceil_log2(K)); }
};

double dac_energy(const HwParams& hw, int bits) { return hw.bias.dac_energy_per_step_J * std::ldexp(1.0, bits); }

}  // namespace

double sng_bit_energy(const HwParams& hw, CostSource source) {
  if (source == CostSource::Smtj)
    return hw.smtj.bias_current_A * hw.smtj.read_voltage_V * hw.smtj.bit_period_s + hw.smtj.sense_amp_energy_J;
  return hw.lfsr.register_bits * (hw.logic.flip_flop_energy_J + hw.logic.comparator_bit_energy_J) +
         hw.lfsr.xor_gates * hw.logic.xnor_energy_J;
}

int lfsr_sng_transistors(const HwParams& hw) {
  const LfsrSngParams& l = hw.lfsr;
  return l.register_bits * (l.flip_flop_transistors + l.comparator_bit_transistors) + l.xor_gates * l.xor_transistors;
}

std::string to_string(CostSharing s) {
  switch (s) {
    case CostSharing::Independent: return "independent";
    case CostSharing::PerLevel: return "per-level";
    case CostSharing::IndependentAll: return "independent-all";
    case CostSharing::PerTap: return "per-tap";
  }
  return "?";
}
std::string to_string(CostDesign d) { return d == CostDesign::Analog ? "analog" : "quantized"; }
std::string to_string(CostSource s) { return s == CostSource::Lfsr ? "lfsr" : "smtj"; }

CostSharing parse_cost_sharing(const std::string& text) {
  for (auto s : {CostSharing::Independent, CostSharing::PerLevel, CostSharing::IndependentAll, CostSharing::PerTap})
    if (text == to_string(s)) return s;
  fail("sharing '{}' is not one of independent, per-level, independent-all, per-tap", text);
}
CostDesign parse_cost_design(const std::string& text) {
  for (auto d : {CostDesign::Quantized, CostDesign::Analog})
    if (text == to_string(d)) return d;
  fail("design '{}' is not one of quantized, analog", text);
}
CostSource parse_cost_source(const std::string& text) {
  for (auto s : {CostSource::Smtj, CostSource::Lfsr})
    if (text == to_string(s)) return s;
  fail("source '{}' is not one of smtj, lfsr", text);
}

std::string to_string(EnergyPart p) {
  static const char* names[kEnergyParts] = {"input_sng", "weight_sng",      "gates", "counters",
                                            "activation", "bias_generation", "memory"};
  return names[static_cast<int>(p)];
}
std::string to_string(LatencyPart p) {
  static const char* names[kLatencyParts] = {"setup", "stream", "activation"};
  return names[static_cast<int>(p)];
}

std::vector<CostStage> cost_stages(const std::vector<int>& widths) {
  std::vector<CostStage> out;
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    const int64_t n = widths[l], m = widths[l + 1];
    CostStage c;
    c.inputs = n, c.units = m, c.fan_in = n, c.synapses = m * n, c.weights = m * n, c.channels = m, c.activations = m;
    out.push_back(c);
  }
  return out;
}

std::vector<CostStage> cost_stages(const Architecture& arch) {
  std::vector<CostStage> out;
  for (const Stage& st : stages(arch)) {
    CostStage c;
    c.inputs = st.in.size();
    c.units = st.conv.size();
    c.fan_in = st.fan_in();
    c.channels = st.units();
    c.weights = int64_t{st.fan_in()} * st.units();
    c.activations = st.out.size();
    c.pool = st.pool;
    c.window = st.window;
    if (st.kind == LayerKind::Dense) {
      c.synapses = c.weights;
    } else {
      // Taps that fall on the padding have no synapse: count, per axis, the kernel offsets that
      // land inside the input at each output coordinate.
      auto inside = [&](int size, int out_size) {
        int64_t n = 0;
        for (int o = 0; o < out_size; ++o)
          for (int k = 0; k < st.kernel; ++k) {
            const int i = o * st.stride + k - st.padding;
            n += i >= 0 && i < size;
          }
        return n;
      };
      c.synapses = int64_t{st.units()} * st.in.channels * inside(st.in.height, st.conv.height) * inside(st.in.width, st.conv.width);
    }
    out.push_back(c);
  }
  return out;
}

CostArchitecture cost_architecture(const Architecture& arch, int states) {
  if (arch.layers.empty()) fail("architecture needs at least an input and an output width, got {} width(s)", arch.layers.size() + 1);
  if (arch.is_mlp()) {
    if (arch.input.size() < 1) fail("architecture width {} must be positive", arch.input.size());
    for (const LayerSpec& l : arch.layers)
      if (l.units < 1) fail("architecture width {} must be positive", l.units);
  }
  if (states < 3 || states % 2 == 0 || states > 1025) fail("K = {} states: must be odd, >= 3 and <= 1025", states);
  CostArchitecture a;
  a.arch = arch.widths();
  a.stages = arch.is_mlp() ? cost_stages(a.arch) : cost_stages(arch);
  a.spelling = to_string(arch);
  a.states = states;
  return a;
}

CostArchitecture cost_architecture(const Network& net, const std::string& origin) {
  validate(net);
  CostArchitecture a = cost_architecture(net.architecture, net.states);
  a.origin = origin;
  a.mode = to_string(net.mode);
  for (const DenseLayer& layer : net.layers) {
    std::set<int> magnitudes, levels;
    for (float w : layer.weight) {
      const int q = weight_level(w, layer.scale, net.states);
      levels.insert(q);
      if (q != 0) magnitudes.insert(std::abs(q));
    }
    a.magnitude_levels.push_back(static_cast<int>(magnitudes.size()));
    a.signed_levels.push_back(static_cast<int>(levels.size()));
  }
  return a;
}

double LayerCost::energy() const {
  double s = 0;
  for (double e : energy_j) s += e;
  return s;
}
double LayerCost::latency() const {
  double s = 0;
  for (double t : latency_s) s += t;
  return s;
}

std::string DesignCost::key() const { return to_string(design) + "_" + to_string(source); }
double DesignCost::energy() const {
  double s = 0;
  for (const auto& l : layers) s += l.energy();
  return s;
}
double DesignCost::latency() const {
  double s = 0;
  for (const auto& l : layers) s += l.latency();
  return s;
}
double DesignCost::neuron_activation_latency() const {
  double s = 0;
  for (const auto& l : layers) s += l.neuron_activation_s;
  return s;
}
double DesignCost::energy_of(EnergyPart p) const {
  double s = 0;
  for (const auto& l : layers) s += l.energy_j[static_cast<int>(p)];
  return s;
}
double DesignCost::latency_of(LatencyPart p) const {
  double s = 0;
  for (const auto& l : layers) s += l.latency_s[static_cast<int>(p)];
  return s;
}
int64_t DesignCost::sng_devices() const {
  int64_t s = 0;
  for (const auto& l : layers) s += l.input_sngs + l.weight_sngs;
  return s;
}

DesignCost design_cost(const CostArchitecture& arch, const CostOptions& options, const HwParams& hw, CostDesign design,
                       CostSource source) {
  if (arch.states < 3 || arch.states % 2 == 0 || arch.states > 1025) fail("K = {} states: must be odd, >= 3 and <= 1025", arch.states);
  if (arch.stages.empty()) fail("architecture has no layers");
  if (options.length < 1) fail("SC length L = {} must be at least 1", options.length);
  const int D = arch.layers();
  for (const auto* levels : {&arch.magnitude_levels, &arch.signed_levels})
    if (!levels->empty() && static_cast<int>(levels->size()) != D)
      fail("weight levels given for {} layers, the architecture has {}", levels->size(), D);

  const bool analog = design == CostDesign::Analog;
  const bool smtj = source == CostSource::Smtj;
  const MultiplyRule& multiply = rule_of(options.multiply);
  const AccumulateRule& accumulate = rule_of(options.accumulate);
  const int K = arch.states;
  const int64_t L = options.length;
  const SourceFigures src = source_figures(hw, source);
  const Delays delay{hw};
  const LogicParams& lg = hw.logic;
  const BiasParams& bias = hw.bias;
  const PrecisionParams& prec = hw.precision;
  const bool reload = hw.memory.reload_weights_per_inference;
  const int lfsr_bits = hw.lfsr.register_bits;

  DesignCost out;
  out.design = design;
  out.source = source;
  // Continuous weights have no levels to share: the analog baseline has an SNG per synapse.
  out.sharing = (analog && options.sharing == CostSharing::PerLevel) ? CostSharing::Independent : options.sharing;

  // Latency first: the reference branches of the bias generation burn power while a layer runs.
  for (int l = 0; l < D; ++l) {
    const CostStage& st = arch.stages[l];
    LayerCost c;
    c.index = l;
    c.in = static_cast<int>(st.inputs);
    c.out = static_cast<int>(st.activations);
    c.hidden = l + 1 < D;
    const int64_t f = st.fan_in, m = st.activations;
    const CounterHardware counting = accumulate.hardware(f, L);
    c.counter_bits = counting.counter_bits;
    c.accumulator_bits = counting.accumulator_bits;
    c.input_sngs = out.sharing == CostSharing::IndependentAll ? st.synapses : st.inputs;
    // The levels a trained model uses, as the rule encodes them (magnitudes when the sign is
    // routed, else signed values); without a model, every preset level of K.
    const std::vector<int>& used = multiply.sign_routing ? arch.magnitude_levels : arch.signed_levels;
    const int weight_levels = used.empty() ? multiply.preset_levels(K) : used[l];
    c.weight_levels = analog ? 0 : weight_levels;
    c.weight_sngs = (!analog && out.sharing == CostSharing::PerLevel) ? weight_levels
                    : out.sharing == CostSharing::PerTap                ? st.weights
                                                                        : st.synapses;
    // Comparators see the pooled accumulator after an avgpool (its window's counts added).
    const int pooled_bits =
        st.pool == LayerKind::AvgPool2d ? accumulate.hardware(f, L * st.window * st.window).accumulator_bits : c.accumulator_bits;
    const int window_levels = ceil_log2(int64_t{st.window} * st.window);  // depth of the pooling tree

    auto& t = c.latency_s;
    double setup;
    if (l == 0) {
      // Pixels are continuous in both designs: a logit lookup and a DAC (s-MTJ) or a threshold
      // register (LFSR). The weights are set at the same time.
      setup = smtj ? bias.lut_access_time_s + delay.dac(prec.pixel_bits) : delay.select();
      if (reload) {
        double weights = hw.memory.access_time_s;
        if (smtj) weights += analog ? delay.dac(prec.analog_weight_bits) : delay.level_switch(K);
        else weights += delay.select();
        setup = std::max(setup, weights);
      }
    } else {
      // The previous layer's activations re-bias this layer's input SNGs; this layer's weights
      // were set while earlier layers streamed.
      if (smtj) setup = analog ? bias.lut_access_time_s + delay.dac(prec.analog_activation_bits) : delay.level_switch(K);
      else setup = delay.select();
    }
    t[static_cast<int>(LatencyPart::Setup)] = setup;
    t[static_cast<int>(LatencyPart::Stream)] = static_cast<double>(L) * src.bit_period;
    double act;
    if (c.hidden) act = (analog ? delay.multiplier(prec.analog_activation_bits, pooled_bits)
                                : delay.comparator(pooled_bits)) + delay.select();
    else act = ceil_log2(m) * delay.comparator(c.accumulator_bits);
    // Pooling: a tree of ripple adders over the window's accumulators before the comparators, or
    // of comparators over the activation codes after them.
    if (st.pool == LayerKind::AvgPool2d) act += window_levels * 2 * pooled_bits * delay.gate();
    if (st.pool == LayerKind::MaxPool2d)
      act += window_levels * delay.comparator(analog ? prec.analog_activation_bits : ceil_log2(K));
    t[static_cast<int>(LatencyPart::Activation)] = act;
    out.layers.push_back(c);
  }

  for (int l = 0; l < D; ++l) {
    LayerCost& c = out.layers[l];
    const CostStage& st = arch.stages[l];
    const int64_t n = st.inputs, m = st.activations, f = st.fan_in, S = st.synapses;
    const int64_t act = st.activated(), pool_ops = st.pool == LayerKind::Flatten ? 0 : st.activations * (int64_t{st.window} * st.window - 1);
    const int ab = c.accumulator_bits;
    const int pooled_bits =
        st.pool == LayerKind::AvgPool2d ? accumulate.hardware(f, L * st.window * st.window).accumulator_bits : ab;
    const CounterHardware counting = accumulate.hardware(f, L);
    if (c.hidden) c.neuron_activation_s = c.latency_s[2] + out.layers[l + 1].latency_s[0];
    const double layer_time = c.latency();
    auto& e = c.energy_j;
    auto E = [&](EnergyPart p) -> double& { return e[static_cast<int>(p)]; };

    E(EnergyPart::InputSng) = static_cast<double>(c.input_sngs) * L * src.bit_energy;
    E(EnergyPart::WeightSng) = static_cast<double>(c.weight_sngs) * L * src.bit_energy;
    E(EnergyPart::Gates) = static_cast<double>(S) * L * (multiply.gate == ProductGate::Xnor ? lg.xnor_energy_J : lg.and_energy_J);
    E(EnergyPart::Counters) = static_cast<double>(st.units) * L *
                              (counting.parallel_adders * lg.full_adder_energy_J + ab * (lg.full_adder_energy_J + lg.flip_flop_energy_J) +
                               counting.select_flip_flops * lg.flip_flop_energy_J + counting.select_gates * lg.and_energy_J);

    if (!c.hidden) {
      c.comparators = m - 1;  // argmax
      E(EnergyPart::Activation) = static_cast<double>(m - 1) * ab * lg.comparator_bit_energy_J;
    } else if (analog) {
      c.comparators = 2 * act;  // clip to [0, 1], then scale to the DAC's bits
      E(EnergyPart::Activation) = static_cast<double>(act) * (2.0 * pooled_bits * lg.comparator_bit_energy_J +
                                                              prec.analog_activation_bits * pooled_bits * lg.full_adder_energy_J);
    } else {
      c.comparators = act * (K - 1);
      E(EnergyPart::Activation) = static_cast<double>(act) * (K - 1) * pooled_bits * lg.comparator_bit_energy_J;
    }
    if (st.pool == LayerKind::AvgPool2d) E(EnergyPart::Activation) += static_cast<double>(pool_ops) * pooled_bits * lg.full_adder_energy_J;
    if (st.pool == LayerKind::MaxPool2d) {
      const int code_bits = analog ? prec.analog_activation_bits : ceil_log2(K);
      c.comparators += pool_ops;
      E(EnergyPart::Activation) += static_cast<double>(pool_ops) * code_bits * lg.comparator_bit_energy_J;
    }

    // Bias generation: this layer's input SNGs, then its weight SNGs.
    double b = 0;
    int branches = 0;  // reference branches on while the layer runs
    const int in_bits = l == 0 ? prec.pixel_bits : prec.analog_activation_bits;
    if (l == 0 || analog) {  // a continuous input value per input
      if (smtj) {
        b += static_cast<double>(n) * in_bits * bias.lut_read_energy_per_bit_J + c.input_sngs * dac_energy(hw, in_bits);
        c.dacs += c.input_sngs;
        branches += 1;
      } else {
        b += static_cast<double>(c.input_sngs) * lfsr_bits * lg.flip_flop_energy_J;
      }
    } else {  // one of K preset levels per input
      b += static_cast<double>(c.input_sngs) * bias.switch_energy_J;
      if (smtj) branches += K;
    }
    if (analog) {  // a DAC (or a threshold register) per weight SNG
      if (smtj) {
        if (reload) b += static_cast<double>(c.weight_sngs) * dac_energy(hw, prec.analog_weight_bits);
        c.dacs += c.weight_sngs;
        branches += 1;
      } else if (reload) {
        b += static_cast<double>(c.weight_sngs) * lfsr_bits * lg.flip_flop_energy_J;
      }
    } else {
      if (reload) b += static_cast<double>(S) * bias.switch_energy_J;  // each synapse's level select
      if (smtj) branches += c.weight_levels;
    }
    if (reload && multiply.sign_routing) b += static_cast<double>(S) * bias.switch_energy_J;  // to the up/down count
    b += branches * bias.reference_branch_power_W * layer_time;
    E(EnergyPart::BiasGeneration) = b;

    if (reload) {
      const int weight_bits = analog ? prec.analog_weight_bits : ceil_log2(K);
      // Per-channel constants (a conv2d filter's are shared by its positions).
      const int64_t ch = st.channels;
      int64_t neuron_bits;
      if (!c.hidden) neuron_bits = ch * ab;  // bias preloaded into the accumulator
      else if (analog) neuron_bits = ch * (2 * pooled_bits + prec.analog_activation_bits);  // clip thresholds, scale
      else neuron_bits = ch * (K - 1) * pooled_bits;  // comparator thresholds (gain and bias folded in)
      E(EnergyPart::Memory) = (static_cast<double>(st.weights) * weight_bits + neuron_bits) * hw.memory.read_energy_per_bit_J;
    }
    out.sng_area_m2 += static_cast<double>(c.input_sngs + c.weight_sngs) * src.area;
  }
  return out;
}

const DesignCost& CostReport::get(CostDesign d, CostSource s) const {
  for (const auto& c : designs)
    if (c.design == d && c.source == s) return c;
  fail("cost report has no {} design with {} source", to_string(d), to_string(s));
}

CostReport cost_report(const CostArchitecture& arch, const CostOptions& options, const HwParams& hw) {
  CostReport r;
  r.architecture = arch;
  r.options = options;
  r.hw = hw;
  for (CostSource s : {CostSource::Smtj, CostSource::Lfsr})
    for (CostDesign d : {CostDesign::Quantized, CostDesign::Analog}) r.designs.push_back(design_cost(arch, options, hw, d, s));
  return r;
}

namespace {
double ratio(double a, double b) { return b > 0 ? a / b : std::nan(""); }
CostRatios ratios(const DesignCost& a, const DesignCost& b) {
  return {ratio(a.neuron_activation_latency(), b.neuron_activation_latency()), ratio(a.latency(), b.latency()),
          ratio(a.energy(), b.energy())};
}
}  // namespace

CostRatios quantized_over_analog(const CostReport& r, CostSource s) {
  return ratios(r.get(CostDesign::Quantized, s), r.get(CostDesign::Analog, s));
}
CostRatios smtj_over_lfsr(const CostReport& r, CostDesign d) {
  return ratios(r.get(d, CostSource::Smtj), r.get(d, CostSource::Lfsr));
}

}  // namespace spinsc
