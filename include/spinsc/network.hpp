// Network: a multilayer perceptron as trained and as run by every engine.
//
// Layer l maps n = arch[l] inputs to m = arch[l+1] outputs. Weights are stored as trained
// (continuous); a quantized network (mode qat or sc) is *used* through its quantized weights
//   w_q = s * Q_K(clip(w / s, -1, 1))                          (SPEC §5)
// so one file keeps both the trained values and, through `scale` and `states`, the levels.
//
// Forward computation, shared by the digital reference and the SC engine:
//   hidden layer:  z_j = gain_j * (W_q x)_j + b_j,   a_j = Q_K(clip(z_j, 0, 1))   (qat, sc)
//                                                     a_j = clip(z_j, 0, 1)         (float)
//   output layer:  y_j = (W_q x)_j + b_j;  class = argmax_j y_j, ties -> lowest index.
// The per-neuron gain (1 unless trained) sits before the K-1 activation comparators, whose
// thresholds absorb it at no hardware cost. The input x is the pixel value byte/255, unquantized.
//
// Thread-safety: a const Network is safe to read from many threads.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace spinsc {

enum class TrainMode { Float, Qat, Sc };
std::string to_string(TrainMode mode);
TrainMode parse_train_mode(const std::string& text);  // throws spinsc::Error on unknown text

struct DenseLayer {
  int in = 0, out = 0;
  std::vector<float> weight;  // out x in, row-major: weight[j * in + i] = w_ji
  std::vector<float> bias;    // out
  std::vector<float> gain;    // out; ones for the output layer
  float scale = 1.0f;         // weight scale s (> 0)

  float w(int j, int i) const { return weight[static_cast<size_t>(j) * in + i]; }
};

struct Network {
  std::vector<int> arch;          // layer widths, input first: {784, 128, 10}
  int states = 5;                 // K: levels of weights and of hidden activations (odd, >= 3)
  TrainMode mode = TrainMode::Float;
  std::vector<DenseLayer> layers;
  nlohmann::json training = nlohmann::json::object();  // settings and history, kept in the file

  bool quantized() const { return mode != TrainMode::Float; }
  int depth() const { return static_cast<int>(layers.size()) - 1; }  // hidden layers
  // Builds layers of the given widths with zero weights, unit gains and unit scales.
  static Network zeros(const std::vector<int>& arch, int states, TrainMode mode);
};

// Checks that arch, states, shapes and scales are consistent; throws spinsc::Error saying which.
void validate(const Network& net);

}  // namespace spinsc
