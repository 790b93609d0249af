// Digital reference inference: the network computed exactly in floating point by the forward
// rule of network.hpp (its stages), with the quantizers when the network is quantized. The SC
// engine converges to this as L grows; its accuracy is the "without SC noise" baseline.
//
// Thread-safety: pure functions of their arguments; a const DigitalNet may be shared by
// threads, each with its own Scratch.
#pragma once

#include <vector>

#include "spinsc/dataset.hpp"
#include "spinsc/network.hpp"

namespace spinsc {

// A network prepared for repeated digital inference (weights quantized once). `net` must
// outlive it.
class DigitalNet {
 public:
  explicit DigitalNet(const Network& net);
  struct Scratch {
    std::vector<float> in, u, out, acc;
  };
  // Output values y (arch.back() of them, valid until the next call with this scratch) for
  // input x (arch.front() values); when `stage_outputs` is given, each stage's output is
  // appended to it.
  const float* forward(const float* x, Scratch& scratch, std::vector<std::vector<float>>* stage_outputs = nullptr) const;

 private:
  const Network* net_;
  std::vector<Stage> stages_;
  std::vector<std::vector<float>> wt_;  // per layer: the weights as used, transposed (in x out)
};

// Output-layer values y (size arch.back()) for input x (size arch.front()).
std::vector<float> digital_forward(const Network& net, const float* x);
// Class = argmax of y, ties to the lowest index.
int argmax_class(const float* y, int n);
// Fraction of the data set classified correctly, over `threads` OpenMP threads (0: all).
double digital_accuracy(const Network& net, const Dataset& data, int threads = 0);

}  // namespace spinsc
