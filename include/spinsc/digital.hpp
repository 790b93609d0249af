// Digital reference inference: the network computed exactly in floating point, with the
// quantizers of network.hpp when the network is quantized. The SC engine converges to this
// as L grows; its accuracy is the "without SC noise" baseline.
//
// Thread-safety: pure functions of their arguments.
#pragma once

#include <vector>

#include "spinsc/dataset.hpp"
#include "spinsc/network.hpp"

namespace spinsc {

// Output-layer values y (size arch.back()) for input x (size arch.front()).
std::vector<float> digital_forward(const Network& net, const float* x);
// Class = argmax of y, ties to the lowest index.
int argmax_class(const float* y, int n);
// Fraction of the data set classified correctly, over `threads` OpenMP threads (0: all).
double digital_accuracy(const Network& net, const Dataset& data, int threads = 0);

}  // namespace spinsc
