#include "spinsc/arithmetic.hpp"

#include <cmath>

#include "core/enum_names.hpp"

namespace spinsc {

namespace {

constexpr detail::EnumNames<Multiply, 2> kMultiplies{{{Multiply::SignMagnitude, "signmag"}, {Multiply::Bipolar, "bipolar"}}};
constexpr detail::EnumNames<Accumulate, 2> kAccumulates{{{Accumulate::Apc, "apc"}, {Accumulate::Mux, "mux"}}};

const MultiplyRule kSignMagnitude{
    Multiply::SignMagnitude,
    "signmag",
    "AND of unipolar streams of x and |w|; the weight's sign routes each product bit to the up or the down count",
    [](double v) { return std::fabs(v); },
    ProductGate::And,
    true,
    true,
    [](int states) { return (states + 1) / 2; },
    [](int q, int) { return std::abs(q); },
    [](int states) { return (states - 1) / 2; }};

const MultiplyRule kBipolar{
    Multiply::Bipolar,
    "bipolar",
    "XNOR of bipolar streams P = (v + 1) / 2 of x and w; each product bit counts +1 when 1, -1 when 0",
    [](double v) { return (v + 1) / 2; },
    ProductGate::Xnor,
    false,
    false,
    [](int states) { return states; },
    [](int q, int states) { return q + (states - 1) / 2; },
    [](int states) { return states; }};

// Bits needed to hold the integers 0..v (at least 1).
int bits_for(int64_t v) {
  int b = 0;
  for (; v > 0; v >>= 1) ++b;
  return b > 1 ? b : 1;
}
int ceil_log2(int64_t v) {
  int b = 0;
  while ((int64_t{1} << b) < v) ++b;
  return b;
}

const AccumulateRule kApc{Accumulate::Apc, "apc", "parallel counter: every product bit of a neuron counted every cycle", true,
                          [](int64_t f, int64_t cycles) {
                            CounterHardware h;
                            h.counter_bits = bits_for(f);
                            h.accumulator_bits = bits_for(f * cycles) + 1;
                            h.parallel_adders = f - h.counter_bits;
                            return h;
                          }};
const AccumulateRule kMux{Accumulate::Mux, "mux",
                          "scaled adder: one synapse per cycle, chosen uniformly among the neuron's n, counter times n", false,
                          [](int64_t f, int64_t cycles) {
                            CounterHardware h;
                            h.counter_bits = 1;
                            h.accumulator_bits = bits_for(cycles) + 1;
                            h.select_flip_flops = ceil_log2(f);
                            h.select_gates = ceil_log2(f);
                            return h;
                          }};

}  // namespace

std::string to_string(Multiply m) { return detail::enum_name(kMultiplies, m); }
std::string to_string(Accumulate a) { return detail::enum_name(kAccumulates, a); }
Multiply parse_multiply(const std::string& text) { return detail::parse_enum(kMultiplies, text, "multiply"); }
Accumulate parse_accumulate(const std::string& text) { return detail::parse_enum(kAccumulates, text, "accumulate"); }

const MultiplyRule& rule_of(Multiply m) { return m == Multiply::Bipolar ? kBipolar : kSignMagnitude; }
const AccumulateRule& rule_of(Accumulate a) { return a == Accumulate::Mux ? kMux : kApc; }

bool moment_matched_noise_models(const MultiplyRule& m, const AccumulateRule& a) {
  // The noise's variance sums independent per-synapse counts of signed magnitudes.
  return m.sign_routing && m.zero_input_silent && a.counts_every_synapse;
}

bool binomial_counts(const MultiplyRule& m, const AccumulateRule& a) {
  // Per level, the up (or down) count is Binomial(ones of the inputs, p_level): AND thinning of
  // the input's ones, counted in full.
  return m.gate == ProductGate::And && m.sign_routing && a.counts_every_synapse;
}

}  // namespace spinsc
