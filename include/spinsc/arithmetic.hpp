// The SC arithmetic's variation points, multiply and accumulate, as rules (SPEC §2): each rule
// carries what every consumer of a network needs to know about it, so that the SC engine, the
// SC noise of training, the cost model and the front-ends ask the rule instead of branching on
// the choice:
//   the engine      how values become stream probabilities (encode), how many distinct weight
//                   streams a K-level layer has and which one a level uses (per-level sharing),
//                   whether an all-zero input stream can contribute, whether the binomial
//                   shortcut's law holds; its bit kernels (src/sc/multiply_kernels.hpp) are one
//                   type per multiply rule, chosen once per stage;
//   the SC noise    whether the moment-matched noise models the rule (else it is refused with
//                   a message; the bit-level noise runs every rule);
//   the cost model  the gate per product bit and whether product bits are routed by sign to an
//                   up or a down count (a routing switch per synapse when weights are reloaded).
// A new multiply or accumulate is one more rule here and one more kernel type in the engine.
//
// Thread-safety: the rules are immutable constants.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace spinsc {

enum class Multiply { SignMagnitude, Bipolar };
enum class Accumulate { Apc, Mux };

std::string to_string(Multiply m);    // "signmag", "bipolar"
std::string to_string(Accumulate a);  // "apc", "mux"
Multiply parse_multiply(const std::string& text);  // each throws spinsc::Error on unknown text
Accumulate parse_accumulate(const std::string& text);

enum class ProductGate { And, Xnor };

struct MultiplyRule {
  Multiply id;
  std::string_view name;         // "signmag", "bipolar"
  std::string_view description;  // one line, for help texts and docs
  // Stream encoding of a value v: an input x in [0, 1] or a normalised weight w/s in [-1, 1]
  // (signmag: |v|, its sign routed; bipolar: (v + 1) / 2).
  double (*encode)(double v);
  // Bits of one synapse (input and weight streams) give one product bit per cycle:
  ProductGate gate;
  // signmag: the weight's sign routes the product bit to the up or the down count (a neuron's
  // counter is up - down); bipolar: every product bit counts +1 when 1 and -1 when 0.
  bool sign_routing;
  // signmag: an all-zero input stream gives all-zero products, so its synapses are skipped
  // exactly; bipolar: every input contributes (0 encodes -1).
  bool zero_input_silent;
  // The weight streams of a K-level layer under per-level sharing, one per encoded level, and
  // the one of level q (q in -(K-1)/2 .. (K-1)/2): signmag one per magnitude |q|, (K+1)/2 of
  // them; bipolar one per q, K.
  int (*stream_levels)(int states);
  int (*level_index)(int q, int states);
  // The SNGs a per-level design presets (the cost model): signmag one per nonzero magnitude,
  // (K-1)/2 (level 0 is a constant all-zero stream); bipolar one per level, K.
  int (*preset_levels)(int states);
};

// The counting hardware of one unit (a neuron or conv output) per bit period (the cost model).
struct CounterHardware {
  int counter_bits = 0;           // bits the counting stage delivers per cycle to the accumulator
  int accumulator_bits = 0;       // the accumulator register (signed)
  int64_t parallel_adders = 0;    // full adders of the counting stage (apc: the parallel counter)
  int64_t select_flip_flops = 0;  // flip-flops of a select generator (mux: an LFSR of the select bits)
  int64_t select_gates = 0;       // gates on the selected path (mux: one 2:1 cell per select bit)
};

struct AccumulateRule {
  Accumulate id;
  std::string_view name;         // "apc", "mux"
  std::string_view description;
  // apc: every product bit of a neuron is counted every cycle; mux: one synapse per cycle,
  // chosen uniformly among the neuron's n synapses, counter scaled by n.
  bool counts_every_synapse;
  // The counting hardware of a unit of fan-in f whose accumulator sums `cycles` bit periods
  // (L, or L w^2 for the sum of an avgpool window): apc an f-input parallel counter (f - bits(f)
  // full adders, bits(f) = floor(log2 f) + 1 output bits) into an accumulator of
  // ceil(log2(f cycles + 1)) + 1 bits; mux a select of ceil(log2 f) random bits (an LFSR) and
  // an f:1 multiplexer (ceil(log2 f) cells on the selected path) into an up/down counter of
  // ceil(log2(cycles + 1)) + 1 bits (the factor f folds into the comparators' thresholds).
  CounterHardware (*hardware)(int64_t fan_in, int64_t cycles);
};

const MultiplyRule& rule_of(Multiply m);
const AccumulateRule& rule_of(Accumulate a);

// Whether the moment-matched SC noise of training (sc_noise.hpp) models this arithmetic: its
// variance is that of independent product counts summed by a parallel counter, with signed
// magnitudes. Others need the bit-level noise.
bool moment_matched_noise_models(const MultiplyRule& m, const AccumulateRule& a);
// Whether, for i.i.d. sources and independent weight streams, a neuron's counter is a sum of
// independent binomials per level (the engine's binomial shortcut, sc_engine.hpp).
bool binomial_counts(const MultiplyRule& m, const AccumulateRule& a);

}  // namespace spinsc
