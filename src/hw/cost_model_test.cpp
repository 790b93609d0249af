// The cost model against figures computed by hand for a 4-3-2 network, plus its monotonic
// behaviour. The hand figures restate each formula of docs/cost-model.md with the numbers of
// tiny_hw(); they are written out rather than computed through the library's helpers.
#include <gtest/gtest.h>

#include <cmath>

#include "spinsc/cost_model.hpp"
#include "spinsc/error.hpp"
#include "spinsc/quantize.hpp"

namespace spinsc {
namespace {

constexpr double fJ = 1e-15, ns = 1e-9, ps = 1e-12;
constexpr double kLn2 = 0.69314718055994530942;

// Round numbers (they happen to be the shipped defaults' values, but the test owns them).
HwParams tiny_hw() {
  HwParams h;
  h.name = "tiny";
  h.smtj = {10e-6, 0.1, 20 * ns, 5 * fJ, 1.5e-12};
  h.lfsr = {32, 3, 1 * ns, 24, 8, 12};
  h.logic = {0.5 * fJ, 1.0 * fJ, 3.5 * fJ, 2 * fJ, 2 * fJ, 20 * ps, 0.15e-12};
  h.bias = {9e-6, 1 * fJ, 0.1 * ns, 5 * fJ, 1.5 * ns, 30 * fJ, 0.3 * ns};
  h.precision = {8, 8, 8};
  h.memory = {160 * fJ, 1 * ns, true};
  return h;
}

CostOptions opts(int L, CostSharing s = CostSharing::Independent, Multiply m = Multiply::SignMagnitude) {
  CostOptions o;
  o.length = L;
  o.sharing = s;
  o.multiply = m;
  return o;
}

double E(const LayerCost& l, EnergyPart p) { return l.energy_j[static_cast<int>(p)]; }
double T(const LayerCost& l, LatencyPart p) { return l.latency_s[static_cast<int>(p)]; }

// Relative tolerance of double arithmetic on a handful of terms.
#define EXPECT_CLOSE(a, b) EXPECT_NEAR((a), (b), 1e-12 * std::fabs(b) + 1e-30)

// Hand figures shared by the tests: 4-3-2, K = 5, L = 10.
//   layer 0: n 4, m 3, hidden; counter bits floor(log2 4)+1 = 3; accumulator ceil(log2 41)+1 = 7
//   layer 1: n 3, m 2, output; counter bits 2; accumulator ceil(log2 31)+1 = 6
const double smtj_bit = 10e-6 * 0.1 * 20 * ns + 5 * fJ;       // I V Ts + sense amp = 25 fJ
const double lfsr_bit = 32 * (2 * fJ + 2 * fJ) + 3 * 1 * fJ;  // n (FF + comparator bit) + 3 XOR = 131 fJ
const double dac8_time = 1.5 * ns * 9 * kLn2;                  // (8 + 1) ln2 time constants
const double switch5_time = 0.1 * ns * 4 * kLn2;               // ceil(log2 5) = 3 bits: 4 ln2
const double dac8_energy = 5 * fJ * 256;

// The scaled adder (mux) by hand, 4-3-2, L = 10: per unit a select of ceil(log2 f) bits (LFSR
// flip-flops and multiplexer cells on the selected path) and an up/down counter of
// ceil(log2(L + 1)) + 1 = 5 bits; the parallel counter is gone.
TEST(CostModel, MuxAccumulationByHand) {
  const auto a = cost_architecture({4, 3, 2}, 5);
  CostOptions o = opts(10);
  o.accumulate = Accumulate::Mux;
  const DesignCost mux = design_cost(a, o, tiny_hw(), CostDesign::Quantized, CostSource::Smtj);
  const DesignCost apc = design_cost(a, opts(10), tiny_hw(), CostDesign::Quantized, CostSource::Smtj);
  const LayerCost& l0 = mux.layers[0];
  const LayerCost& l1 = mux.layers[1];
  EXPECT_EQ(l0.counter_bits, 1);
  EXPECT_EQ(l0.accumulator_bits, 5);
  EXPECT_EQ(l1.accumulator_bits, 5);
  // 3 units x 10 cycles x (5 (full adder + flip-flop) + 2 select flip-flops + 2 mux cells)
  EXPECT_CLOSE(E(l0, EnergyPart::Counters), 3 * 10 * (5 * (3.5 + 2) + 2 * 2 + 2 * 0.5) * fJ);
  EXPECT_CLOSE(E(l1, EnergyPart::Counters), 2 * 10 * (5 * (3.5 + 2) + 2 * 2 + 2 * 0.5) * fJ);
  EXPECT_CLOSE(E(apc.layers[0], EnergyPart::Counters), 3 * 10 * ((4 - 3) * 3.5 + 7 * (3.5 + 2)) * fJ);
  // The rest of the design is the same hardware.
  for (EnergyPart p : {EnergyPart::InputSng, EnergyPart::WeightSng, EnergyPart::Gates})
    EXPECT_EQ(E(l0, p), E(apc.layers[0], p));
  EXPECT_EQ(T(l0, LatencyPart::Stream), T(apc.layers[0], LatencyPart::Stream));
}

TEST(CostModel, QuantizedSmtjByHand) {
  const auto a = cost_architecture({4, 3, 2}, 5);
  const DesignCost d = design_cost(a, opts(10), tiny_hw(), CostDesign::Quantized, CostSource::Smtj);
  ASSERT_EQ(d.layers.size(), 2u);
  const LayerCost& l0 = d.layers[0];
  const LayerCost& l1 = d.layers[1];
  EXPECT_EQ(l0.counter_bits, 3);
  EXPECT_EQ(l0.accumulator_bits, 7);
  EXPECT_EQ(l1.counter_bits, 2);
  EXPECT_EQ(l1.accumulator_bits, 6);
  EXPECT_EQ(l0.input_sngs, 4);
  EXPECT_EQ(l0.weight_sngs, 12);
  EXPECT_EQ(l1.input_sngs, 3);
  EXPECT_EQ(l1.weight_sngs, 6);
  EXPECT_EQ(l0.comparators, 3 * 4);  // K-1 per hidden neuron
  EXPECT_EQ(l1.comparators, 1);      // argmax of 2
  EXPECT_EQ(l0.dacs, 4);             // pixel DACs only
  EXPECT_EQ(l1.dacs, 0);
  EXPECT_EQ(d.sng_devices(), 4 + 12 + 3 + 6);
  EXPECT_CLOSE(d.sng_area_m2, 25 * 1.5e-12);

  // Latency, layer 0: setup = max(pixel LUT + 8-bit DAC, memory + level switch).
  EXPECT_CLOSE(T(l0, LatencyPart::Setup), 0.3 * ns + dac8_time);
  EXPECT_CLOSE(T(l0, LatencyPart::Stream), 10 * 20 * ns);
  // 7-bit comparator: (2 ceil(log2 7) + 2) = 8 gate delays, then a 2-gate select.
  EXPECT_CLOSE(T(l0, LatencyPart::Activation), 8 * 20 * ps + 2 * 20 * ps);
  // Layer 1: its inputs switch to preset levels; argmax of 2 = one 6-bit comparator (8 gates).
  EXPECT_CLOSE(T(l1, LatencyPart::Setup), switch5_time);
  EXPECT_CLOSE(T(l1, LatencyPart::Activation), 8 * 20 * ps);
  EXPECT_CLOSE(l0.neuron_activation_s, 10 * 20 * ps + switch5_time);
  EXPECT_EQ(l1.neuron_activation_s, 0.0);
  EXPECT_CLOSE(d.latency(), 0.3 * ns + dac8_time + 200 * ns + 200 * ps + switch5_time + 200 * ns + 160 * ps);

  // Energy, layer 0.
  EXPECT_CLOSE(E(l0, EnergyPart::InputSng), 4 * 10 * smtj_bit);
  EXPECT_CLOSE(E(l0, EnergyPart::WeightSng), 12 * 10 * smtj_bit);
  EXPECT_CLOSE(E(l0, EnergyPart::Gates), 12 * 10 * 0.5 * fJ);
  // Per neuron per cycle: (4 - 3) full adders of counter + 7 bits of adder and register.
  EXPECT_CLOSE(E(l0, EnergyPart::Counters), 3 * 10 * (1 * 3.5 * fJ + 7 * (3.5 * fJ + 2 * fJ)));
  EXPECT_CLOSE(E(l0, EnergyPart::Activation), 3 * 4 * 7 * 2 * fJ);
  const double l0_time = 0.3 * ns + dac8_time + 200 * ns + 200 * ps;
  // Pixels: 4 LUT reads of 8 bits, 4 DACs; weights: 12 level switches, 12 sign switches;
  // reference branches: 1 (pixel DAC) + 2 weight magnitude levels, for the layer's duration.
  EXPECT_CLOSE(E(l0, EnergyPart::BiasGeneration),
               4 * 8 * 30 * fJ + 4 * dac8_energy + 12 * 1 * fJ + 12 * 1 * fJ + 3 * 9e-6 * l0_time);
  // 12 weights of 3 bits + 3 neurons x 4 thresholds x 7 bits.
  EXPECT_CLOSE(E(l0, EnergyPart::Memory), (12 * 3 + 3 * 4 * 7) * 160 * fJ);

  // Energy, layer 1 (output).
  EXPECT_CLOSE(E(l1, EnergyPart::InputSng), 3 * 10 * smtj_bit);
  EXPECT_CLOSE(E(l1, EnergyPart::WeightSng), 6 * 10 * smtj_bit);
  EXPECT_CLOSE(E(l1, EnergyPart::Gates), 6 * 10 * 0.5 * fJ);
  EXPECT_CLOSE(E(l1, EnergyPart::Counters), 2 * 10 * (1 * 3.5 * fJ + 6 * 5.5 * fJ));
  EXPECT_CLOSE(E(l1, EnergyPart::Activation), 1 * 6 * 2 * fJ);
  const double l1_time = switch5_time + 200 * ns + 160 * ps;
  // 3 input switches to preset levels, 6 weight switches, 6 sign switches; K = 5 activation
  // levels + 2 weight levels of reference branches.
  EXPECT_CLOSE(E(l1, EnergyPart::BiasGeneration), 3 * fJ + 6 * fJ + 6 * fJ + 7 * 9e-6 * l1_time);
  // 6 weights of 3 bits + 2 output biases of 6 bits.
  EXPECT_CLOSE(E(l1, EnergyPart::Memory), (6 * 3 + 2 * 6) * 160 * fJ);
  EXPECT_CLOSE(d.energy(), l0.energy() + l1.energy());
  EXPECT_CLOSE(d.energy_of(EnergyPart::Gates), 180 * 0.5 * fJ);
}

TEST(CostModel, AnalogSmtjByHand) {
  const auto a = cost_architecture({4, 3, 2}, 5);
  // per-level is meaningless for continuous weights: the baseline keeps one SNG per synapse.
  const DesignCost d = design_cost(a, opts(10, CostSharing::PerLevel), tiny_hw(), CostDesign::Analog, CostSource::Smtj);
  EXPECT_EQ(d.sharing, CostSharing::Independent);
  const LayerCost& l0 = d.layers[0];
  const LayerCost& l1 = d.layers[1];
  EXPECT_EQ(l0.weight_sngs, 12);
  EXPECT_EQ(l0.comparators, 2 * 3);  // clip
  EXPECT_EQ(l0.dacs, 4 + 12);
  EXPECT_EQ(l1.dacs, 3 + 6);
  // Setup: max(pixel LUT + DAC, memory + 8-bit weight DAC).
  EXPECT_CLOSE(T(l0, LatencyPart::Setup), 1 * ns + dac8_time);
  // Scaling multiplier 8 x 7 bits: 2 (8 + 7) gate delays, then the select.
  EXPECT_CLOSE(T(l0, LatencyPart::Activation), 30 * 20 * ps + 2 * 20 * ps);
  EXPECT_CLOSE(T(l1, LatencyPart::Setup), 0.3 * ns + dac8_time);  // logit LUT + activation DAC
  EXPECT_CLOSE(l0.neuron_activation_s, 32 * 20 * ps + 0.3 * ns + dac8_time);
  EXPECT_CLOSE(E(l0, EnergyPart::Activation), 3 * (2 * 7 * 2 * fJ + 8 * 7 * 3.5 * fJ));
  const double l0_time = 1 * ns + dac8_time + 200 * ns + 640 * ps;
  EXPECT_CLOSE(E(l0, EnergyPart::BiasGeneration),
               4 * 8 * 30 * fJ + 4 * dac8_energy + 12 * dac8_energy + 12 * fJ + 2 * 9e-6 * l0_time);
  EXPECT_CLOSE(E(l0, EnergyPart::Memory), (12 * 8 + 3 * (2 * 7 + 8)) * 160 * fJ);
  const double l1_time = 0.3 * ns + dac8_time + 200 * ns + 160 * ps;
  EXPECT_CLOSE(E(l1, EnergyPart::BiasGeneration), 3 * 8 * 30 * fJ + 3 * dac8_energy + 6 * dac8_energy + 6 * fJ + 2 * 9e-6 * l1_time);
  EXPECT_CLOSE(E(l1, EnergyPart::Memory), (6 * 8 + 2 * 6) * 160 * fJ);
  // The SNG, gate and counter work is the same as the quantized design's.
  const DesignCost q = design_cost(a, opts(10), tiny_hw(), CostDesign::Quantized, CostSource::Smtj);
  for (auto p : {EnergyPart::InputSng, EnergyPart::WeightSng, EnergyPart::Gates, EnergyPart::Counters})
    EXPECT_CLOSE(d.energy_of(p), q.energy_of(p));
}

TEST(CostModel, LfsrByHand) {
  const auto a = cost_architecture({4, 3, 2}, 5);
  const DesignCost q = design_cost(a, opts(10), tiny_hw(), CostDesign::Quantized, CostSource::Lfsr);
  const DesignCost an = design_cost(a, opts(10), tiny_hw(), CostDesign::Analog, CostSource::Lfsr);
  const LayerCost& l0 = q.layers[0];
  EXPECT_CLOSE(E(l0, EnergyPart::InputSng), 4 * 10 * lfsr_bit);
  EXPECT_CLOSE(E(l0, EnergyPart::WeightSng), 12 * 10 * lfsr_bit);
  // 32 x (24 + 8) + 3 x 12 = 1060 transistors (the paper: "more than 1000") of 0.15 um2.
  EXPECT_CLOSE(q.sng_area_m2, 25 * 1060 * 0.15e-12);
  EXPECT_EQ(lfsr_sng_transistors(tiny_hw()), 1060);
  EXPECT_CLOSE(sng_bit_energy(tiny_hw(), CostSource::Lfsr), lfsr_bit);
  EXPECT_CLOSE(sng_bit_energy(tiny_hw(), CostSource::Smtj), smtj_bit);
  EXPECT_CLOSE(T(l0, LatencyPart::Stream), 10 * ns);
  EXPECT_CLOSE(T(l0, LatencyPart::Setup), 1 * ns + 40 * ps);  // memory, then a select
  EXPECT_EQ(l0.dacs, 0);
  // Pixel thresholds loaded into 32-bit registers; weight thresholds selected; signs routed.
  EXPECT_CLOSE(E(l0, EnergyPart::BiasGeneration), 4 * 32 * 2 * fJ + 12 * fJ + 12 * fJ);
  EXPECT_CLOSE(E(q.layers[1], EnergyPart::BiasGeneration), 3 * fJ + 6 * fJ + 6 * fJ);
  // Analog LFSR: every threshold register loaded, no DAC and no lookup (the comparator is linear in p).
  EXPECT_CLOSE(E(an.layers[1], EnergyPart::BiasGeneration), 3 * 32 * 2 * fJ + 6 * 32 * 2 * fJ + 6 * fJ);
  EXPECT_CLOSE(T(an.layers[1], LatencyPart::Setup), 40 * ps);
}

TEST(CostModel, SharingPolicies) {
  const auto a = cost_architecture({4, 3, 2}, 5);
  const HwParams hw = tiny_hw();
  const DesignCost pl = design_cost(a, opts(10, CostSharing::PerLevel), hw, CostDesign::Quantized, CostSource::Smtj);
  EXPECT_EQ(pl.layers[0].weight_sngs, 2);  // magnitudes 1/2 and 1
  EXPECT_EQ(pl.layers[0].input_sngs, 4);
  const DesignCost bp = design_cost(a, opts(10, CostSharing::PerLevel, Multiply::Bipolar), hw, CostDesign::Quantized,
                                    CostSource::Smtj);
  EXPECT_EQ(bp.layers[0].weight_sngs, 5);  // every signed level q
  EXPECT_CLOSE(E(bp.layers[0], EnergyPart::Gates), 12 * 10 * 1.0 * fJ);  // XNOR
  const DesignCost all = design_cost(a, opts(10, CostSharing::IndependentAll), hw, CostDesign::Quantized, CostSource::Smtj);
  EXPECT_EQ(all.layers[0].input_sngs, 12);
  EXPECT_EQ(all.layers[1].input_sngs, 6);

  // A model file: the levels actually used decide the per-level devices.
  Network net = Network::zeros({4, 3, 2}, 5, TrainMode::Qat);
  for (auto& w : net.layers[0].weight) w = 0.5f;  // all |q| = 1
  net.layers[0].weight[0] = -0.5f;                // q = -1 too
  net.layers[1].weight[0] = 1.0f;                 // |q| = 2, others 0
  const CostArchitecture m = cost_architecture(net, "net.safetensors");
  EXPECT_EQ(m.magnitude_levels, (std::vector<int>{1, 1}));
  EXPECT_EQ(m.signed_levels, (std::vector<int>{2, 2}));
  EXPECT_EQ(m.mode, "qat");
  const DesignCost mq = design_cost(m, opts(10, CostSharing::PerLevel), hw, CostDesign::Quantized, CostSource::Smtj);
  EXPECT_EQ(mq.layers[0].weight_sngs, 1);
  EXPECT_EQ(mq.layers[1].weight_sngs, 1);
}

TEST(CostModel, MonotonicInStreamLength) {
  const auto a = cost_architecture({16, 8, 4}, 5);
  const HwParams hw = tiny_hw();
  for (CostDesign d : {CostDesign::Quantized, CostDesign::Analog})
    for (CostSource s : {CostSource::Smtj, CostSource::Lfsr}) {
      double e = 0, t = 0;
      for (int L : {1, 2, 10, 100, 500, 1000}) {
        const DesignCost c = design_cost(a, opts(L), hw, d, s);
        EXPECT_GT(c.energy(), e) << to_string(d) << " " << to_string(s) << " L " << L;
        EXPECT_GT(c.latency(), t) << to_string(d) << " " << to_string(s) << " L " << L;
        e = c.energy();
        t = c.latency();
      }
    }
}

TEST(CostModel, MonotonicInBitsAndLevels) {
  const auto a5 = cost_architecture({16, 8, 4}, 5);
  HwParams hw = tiny_hw();
  double e = 0, t = 0;
  for (int b : {2, 4, 8, 10, 12}) {  // more bits in the analog design: more energy and latency
    hw.precision.analog_activation_bits = b;
    hw.precision.analog_weight_bits = b;
    const DesignCost c = design_cost(a5, opts(100), hw, CostDesign::Analog, CostSource::Smtj);
    EXPECT_GT(c.energy(), e) << b;
    EXPECT_GT(c.neuron_activation_latency(), t) << b;
    e = c.energy();
    t = c.neuron_activation_latency();
  }
  hw = tiny_hw();
  int64_t comparators = 0, sngs = 0;
  double act = 0, mem = 0;
  for (int K : {3, 5, 11, 31}) {  // more levels: more comparators, thresholds, level devices
    const auto a = cost_architecture({16, 8, 4}, K);
    const DesignCost c = design_cost(a, opts(100, CostSharing::PerLevel), hw, CostDesign::Quantized, CostSource::Smtj);
    EXPECT_GT(c.layers[0].comparators, comparators) << K;
    EXPECT_GT(c.sng_devices(), sngs) << K;
    EXPECT_GT(c.energy_of(EnergyPart::Activation), act) << K;
    EXPECT_GT(c.energy_of(EnergyPart::Memory), mem) << K;
    comparators = c.layers[0].comparators;
    sngs = c.sng_devices();
    act = c.energy_of(EnergyPart::Activation);
    mem = c.energy_of(EnergyPart::Memory);
  }
  // More bits of LFSR register: more energy per bit, more transistors.
  const DesignCost l32 = design_cost(a5, opts(100), hw, CostDesign::Quantized, CostSource::Lfsr);
  hw.lfsr.register_bits = 16;
  const DesignCost l16 = design_cost(a5, opts(100), hw, CostDesign::Quantized, CostSource::Lfsr);
  EXPECT_GT(l32.energy(), l16.energy());
  EXPECT_GT(l32.sng_area_m2, l16.sng_area_m2);
}

TEST(CostModel, ReloadSwitchRemovesWeightSetting) {
  const auto a = cost_architecture({16, 8, 4}, 5);
  HwParams hw = tiny_hw();
  const CostReport with = cost_report(a, opts(100), hw);
  hw.memory.reload_weights_per_inference = false;
  const CostReport without = cost_report(a, opts(100), hw);
  for (size_t i = 0; i < with.designs.size(); ++i) {
    EXPECT_EQ(without.designs[i].energy_of(EnergyPart::Memory), 0.0);
    EXPECT_LT(without.designs[i].energy_of(EnergyPart::BiasGeneration), with.designs[i].energy_of(EnergyPart::BiasGeneration));
    EXPECT_LE(without.designs[i].latency(), with.designs[i].latency());
  }
}

TEST(CostModel, ReportRatiosAndJson) {
  const auto a = cost_architecture({4, 3, 2}, 5);
  const CostReport r = cost_report(a, opts(10), tiny_hw());
  ASSERT_EQ(r.designs.size(), 4u);
  const auto& q = r.get(CostDesign::Quantized, CostSource::Smtj);
  const auto& an = r.get(CostDesign::Analog, CostSource::Smtj);
  const CostRatios qa = quantized_over_analog(r, CostSource::Smtj);
  EXPECT_CLOSE(qa.energy, q.energy() / an.energy());
  EXPECT_CLOSE(qa.neuron_activation_latency, q.neuron_activation_latency() / an.neuron_activation_latency());
  EXPECT_LT(qa.neuron_activation_latency, 1.0);  // comparators + switch beat multiplier + LUT + DAC
  const CostRatios sl = smtj_over_lfsr(r, CostDesign::Quantized);
  EXPECT_CLOSE(sl.latency, q.latency() / r.get(CostDesign::Quantized, CostSource::Lfsr).latency());

  const nlohmann::json j = cost_json(r);
  for (const char* k : {"latency_s", "energy_j", "breakdown", "ratios", "config", "parameters"}) EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_DOUBLE_EQ(j["energy_j"]["quantized_smtj"].get<double>(), q.energy());
  EXPECT_DOUBLE_EQ(j["latency_s"]["analog_smtj"].get<double>(), an.latency());
  EXPECT_DOUBLE_EQ(j["breakdown"]["quantized_smtj"]["energy_j"]["gates"].get<double>(), q.energy_of(EnergyPart::Gates));
  EXPECT_EQ(j["breakdown"]["analog_lfsr"]["layers"].size(), 2u);
  EXPECT_DOUBLE_EQ(j["ratios"]["quantized_over_analog"]["smtj"]["energy"].get<double>(), qa.energy);
  EXPECT_DOUBLE_EQ(j["ratios"]["analog_over_quantized"]["smtj"]["energy"].get<double>(), 1 / qa.energy);

  const std::string md = cost_markdown(r);
  EXPECT_NE(md.find("| quantized | s-MTJ |"), std::string::npos) << md;
  EXPECT_NE(md.find("neuron activation latency, quantized / analog"), std::string::npos);
  const std::string summary = cost_summary_markdown({r, r});
  EXPECT_EQ(std::count(summary.begin(), summary.end(), '\n'), 4);
  const std::string csv = cost_csv(r);
  EXPECT_NE(csv.find("quantized,smtj,total,energy_j,total,"), std::string::npos);

  // No hidden layer: no neuron activations, the ratio is undefined, not a division by zero.
  const CostReport flat = cost_report(cost_architecture({4, 2}, 5), opts(10), tiny_hw());
  EXPECT_TRUE(std::isnan(quantized_over_analog(flat, CostSource::Smtj).neuron_activation_latency));
  EXPECT_TRUE(cost_json(flat)["ratios"]["quantized_over_analog"]["smtj"]["neuron_activation_latency"].is_null());
}

TEST(CostModel, RejectsBadArchitecture) {
  EXPECT_THROW(cost_architecture({784}, 5), Error);
  EXPECT_THROW(cost_architecture({784, 0, 10}, 5), Error);
  EXPECT_THROW(cost_architecture({784, 10}, 4), Error);
  EXPECT_THROW(cost_architecture({784, 10}, 1), Error);
  EXPECT_THROW(design_cost(cost_architecture({4, 2}, 5), opts(0), tiny_hw(), CostDesign::Quantized, CostSource::Smtj), Error);
  EXPECT_THROW(parse_cost_sharing("shared"), Error);
  EXPECT_EQ(parse_cost_sharing("per-level"), CostSharing::PerLevel);
  EXPECT_EQ(parse_multiply("bipolar"), Multiply::Bipolar);
}

// A tiny convolutional network by hand: input 1x4x4, conv 2@3x3 padding 1 (-> 2x4x4), a 2x2
// pool (-> 2x2x2), dense 3. Per axis the 3 taps of the 4 output coordinates fall inside the input
// 2 + 3 + 3 + 2 = 10 times, so the conv stage has S = 2 * 1 * 10 * 10 = 200 synapses (not
// 32 * 9 = 288: the padding has none), W = 18 weights, 32 counters of fan-in 9.
TEST(CostModel, ConvStagesByHand) {
  const auto avg = cost_architecture(parse_architecture("conv:2x3x3:p1,avgpool:2,dense:3", {1, 4, 4}), 5);
  ASSERT_EQ(avg.stages.size(), 2u);
  const CostStage& c = avg.stages[0];
  EXPECT_EQ(c.inputs, 16);
  EXPECT_EQ(c.units, 32);
  EXPECT_EQ(c.fan_in, 9);
  EXPECT_EQ(c.synapses, 200);
  EXPECT_EQ(c.weights, 18);
  EXPECT_EQ(c.channels, 2);
  EXPECT_EQ(c.activations, 8);
  EXPECT_EQ(c.activated(), 8);  // an average is taken in the counter domain, before the comparators
  EXPECT_EQ(avg.stages[1].synapses, 24);
  EXPECT_EQ(avg.arch, (std::vector<int>{16, 8, 3}));

  const int L = 10;
  const DesignCost q = design_cost(avg, opts(L), tiny_hw(), CostDesign::Quantized, CostSource::Smtj);
  const LayerCost& l0 = q.layers[0];
  EXPECT_EQ(l0.input_sngs, 16);
  EXPECT_EQ(l0.weight_sngs, 200);
  EXPECT_EQ(l0.counter_bits, 4);             // floor(log2 9) + 1
  EXPECT_EQ(l0.accumulator_bits, 8);         // ceil(log2(9 * 10 + 1)) + 1
  EXPECT_EQ(l0.comparators, 8 * 4);          // 8 pooled activations, K - 1 = 4 each
  const int pooled_bits = 10;                // ceil(log2(9 * 10 * 4 + 1)) + 1: four counts added
  EXPECT_CLOSE(E(l0, EnergyPart::Gates), 200.0 * L * 0.5 * fJ);
  EXPECT_CLOSE(E(l0, EnergyPart::Counters), 32.0 * L * ((9 - 4) * 3.5 * fJ + 8 * (3.5 * fJ + 2 * fJ)));
  EXPECT_CLOSE(E(l0, EnergyPart::Activation), 8.0 * 4 * pooled_bits * 2 * fJ + 8.0 * 3 * pooled_bits * 3.5 * fJ);
  // The window's adder tree (2 levels of 10-bit ripple adders) lengthens the activation.
  EXPECT_CLOSE(T(l0, LatencyPart::Activation), 20 * ps * (2 * 4 + 2) + 2 * 20 * ps + 2 * 2 * pooled_bits * 20 * ps);
  // Memory: 18 weight codes of 3 bits (shared by the positions) and per-filter thresholds.
  EXPECT_CLOSE(E(l0, EnergyPart::Memory), (18.0 * 3 + 2 * 4 * pooled_bits) * 160 * fJ);

  // per-tap: one weight SNG per kernel weight.
  EXPECT_EQ(design_cost(avg, opts(L, CostSharing::PerTap), tiny_hw(), CostDesign::Quantized, CostSource::Smtj).layers[0].weight_sngs, 18);
  EXPECT_EQ(design_cost(avg, opts(L, CostSharing::PerTap), tiny_hw(), CostDesign::Analog, CostSource::Smtj).layers[0].dacs, 16 + 18);
  EXPECT_EQ(design_cost(avg, opts(L, CostSharing::IndependentAll), tiny_hw(), CostDesign::Quantized, CostSource::Smtj).layers[0].input_sngs,
            200);

  // Max pooling: comparators on all 32 activations, then 3 comparisons of 3-bit codes per window.
  const auto mx = cost_architecture(parse_architecture("conv:2x3x3:p1,maxpool:2,dense:3", {1, 4, 4}), 5);
  const DesignCost mq = design_cost(mx, opts(L), tiny_hw(), CostDesign::Quantized, CostSource::Smtj);
  const LayerCost& m0 = mq.layers[0];
  EXPECT_EQ(m0.comparators, 32 * 4 + 8 * 3);
  EXPECT_CLOSE(E(m0, EnergyPart::Activation), 32.0 * 4 * 8 * 2 * fJ + 8.0 * 3 * 3 * 2 * fJ);
  EXPECT_CLOSE(T(m0, LatencyPart::Activation), 20 * ps * (2 * 3 + 2) + 2 * 20 * ps + 2 * 20 * ps * (2 * 2 + 2));
}

// A dense-only layer list is costed exactly like the same widths.
TEST(CostModel, LayerListMlpEqualsWidths) {
  const auto a = cost_json(cost_report(cost_architecture({784, 64, 10}, 5), opts(100), tiny_hw()));
  const auto b = cost_json(cost_report(cost_architecture(parse_architecture("dense:64,dense:10"), 5), opts(100), tiny_hw()));
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace spinsc
