// Network: the one description of a network that every engine reads (digital inference,
// training, the SC engine, the SC noise and the cost model).
//
// Architecture. A network is an input shape and a sequence of layers: `dense`, `conv2d`
// (filters, square kernel, stride, zero padding), `avgpool2d`, `maxpool2d` (square window,
// stride = window) and `flatten`. Shapes are channels x height x width, stored row-major
// (index (c * H + y) * W + x); a flat vector of n values is n x 1 x 1, so `flatten` only
// renames the shape and `dense` flattens its input implicitly. An MLP "784,128,10" is the input
// 784 x 1 x 1 and dense layers of 128 and 10 (Architecture::mlp).
//
// Weight layers (dense, conv2d) hold the parameters (`Network::layers`, in order). A weight
// layer's `in` is its fan-in (dense: input size; conv2d: C_in * k * k) and `out` its outputs
// (dense: units; conv2d: filters); the weight matrix is out x in, row-major, for conv2d the
// filter (f, c, ky, kx) at f * in + (c * k + ky) * k + kx (PyTorch's [F, C, k, k] layout).
// Bias and gain are per output unit (dense) or per filter (conv2d). Stored weights are the
// trained continuous values; a quantized network (mode qat or sc) is *used* through
//   w_q = s * Q_K(clip(w / s, -1, 1))                          (SPEC §5)
// so one file keeps both the trained values and, through `scale` and `states`, the levels.
//
// Forward rule (compiled into Stages, see stages()): each weight layer with the pooling that
// follows it is one stage:
//   u = W_q x               dense: (W_q x)_j; conv2d: the dot product over each output
//                           position's receptive field (padding contributes nothing)
//   avgpool2d (optional):   u averaged over each window (in SC: counters summed before the
//                           comparators, exact in the counter domain)
//   z = gain * u + b
//   hidden stage:  a = Q_K(clip(z, 0, 1))  (qat, sc)  or  clip(z, 0, 1)  (float);
//                  maxpool2d (optional): the maximum of the activations a over each window
//                  (in SC: after the comparators)
//   last stage:    y = z (no pooling allowed); class = argmax_j y_j, ties -> lowest index.
// The per-unit gain (1 unless trained) sits before the K-1 activation comparators, whose
// thresholds absorb it at no hardware cost. The input x is the pixel value byte/255, unquantized.
//
// Thread-safety: a const Network (and its Stages) is safe to read from many threads.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace spinsc {

enum class TrainMode { Float, Qat, Sc };
std::string to_string(TrainMode mode);
TrainMode parse_train_mode(const std::string& text);  // throws spinsc::Error on unknown text

enum class LayerKind { Dense, Conv2d, AvgPool2d, MaxPool2d, Flatten };
std::string to_string(LayerKind kind);  // "dense", "conv2d", "avgpool2d", "maxpool2d", "flatten"
LayerKind parse_layer_kind(const std::string& text);

struct Shape {
  int channels = 1, height = 1, width = 1;
  int64_t size() const { return int64_t{channels} * height * width; }
  bool flat() const { return height == 1 && width == 1; }
  bool operator==(const Shape&) const = default;
};
std::string to_string(const Shape& shape);  // "1x28x28"

struct LayerSpec {
  LayerKind kind = LayerKind::Dense;
  int units = 0;    // dense: outputs; conv2d: filters (output channels)
  int kernel = 0;   // conv2d: kernel side; pools: window side (stride = window)
  int stride = 1;   // conv2d
  int padding = 0;  // conv2d: zeros on each side
  bool operator==(const LayerSpec&) const = default;
};

struct Architecture {
  Shape input;
  std::vector<LayerSpec> layers;

  Architecture() = default;
  // An MLP from its widths, input first: {784, 128, 10}.
  Architecture(std::initializer_list<int> widths);
  Architecture(const std::vector<int>& widths);  // NOLINT(google-explicit-constructor): same
  static Architecture mlp(const std::vector<int>& widths);
  // Only dense layers (and flatten) on a flat input.
  bool is_mlp() const;
  int weight_layers() const;
  // Sizes between stages, input first: the input's size, then each stage's output size (an
  // MLP's widths). Validates (throws spinsc::Error).
  std::vector<int> widths() const;
  int classes() const { return widths().back(); }
  bool operator==(const Architecture&) const = default;
};

// Parses an architecture:
//   "784,128,10"                                    an MLP by its widths
//   "conv:6x5x5:p2,maxpool:2,conv:16x5x5,maxpool:2,dense:120,dense:84,dense:10"
//       items conv:FxKxK (or conv:FxK) with optional :pP (padding) and :sS (stride),
//       maxpool:W, avgpool:W, flatten, dense:N; an optional first item input:CxHxW, else
//       `input` (the data set's image shape)
//   "lenet5"                                        the preset above (SPEC §9)
//   "FILE.json"                                     {"input": [C, H, W], "layers": [{"kind":
//                                                   "conv2d", "units": 6, "kernel": 5, ...}]}
// The result is validated (see stages()); throws spinsc::Error naming the item at fault.
Architecture parse_architecture(const std::string& text, Shape input = {1, 28, 28});
// The canonical spelling: widths for an MLP ("784,128,10"), else the item list with its input
// ("input:1x28x28,conv:6x5x5:p2,..."). parse_architecture() of it gives the same architecture.
std::string to_string(const Architecture& arch);
nlohmann::json to_json(const Architecture& arch);
Architecture architecture_from_json(const nlohmann::json& j);  // throws spinsc::Error

// One weight layer with the pooling after it, as every engine walks it (the forward rule above).
struct Stage {
  int layer = 0;                      // index into Network::layers
  LayerKind kind = LayerKind::Dense;  // Dense or Conv2d
  Shape in;                           // the stage's input
  Shape conv;                         // u before pooling (dense: out x 1 x 1)
  int kernel = 1, stride = 1, padding = 0;
  LayerKind pool = LayerKind::Flatten;  // Flatten: none; AvgPool2d (on u) or MaxPool2d (on a)
  int window = 1;
  Shape out;                          // after pooling
  bool hidden = true;                 // false for the last stage
  int fan_in() const;                 // weights per output unit: in.size() (dense) or C k k
  int units() const { return conv.channels; }  // gain and bias entries
};
// The stages of an architecture. Throws spinsc::Error when the layer list is not a network
// this forward rule defines: no weight layer, a pool that does not follow a weight layer or
// follows another pool, a pool after the last weight layer, a window or kernel larger than its
// input, a shape that is not a whole number of windows for a pool (its rest would be dropped),
// a conv2d after dense, layers after the last weight layer, sizes out of range.
std::vector<Stage> stages(const Architecture& arch);

struct DenseLayer {  // a weight layer (dense or conv2d; see above)
  int in = 0, out = 0;
  std::vector<float> weight;  // out x in, row-major: weight[j * in + i] = w_ji
  std::vector<float> bias;    // out
  std::vector<float> gain;    // out; ones for the output layer
  float scale = 1.0f;         // weight scale s (> 0)

  float w(int j, int i) const { return weight[static_cast<size_t>(j) * in + i]; }
};
using WeightLayer = DenseLayer;

struct Network {
  Architecture architecture;
  // Sizes between stages, input first: {input size, stage 0 output size, ...}. For an MLP its
  // widths {784, 128, 10}; in general the flattened size of each stage's input and output.
  std::vector<int> arch;
  int states = 5;                 // K: levels of weights and of hidden activations (odd, >= 3)
  TrainMode mode = TrainMode::Float;
  std::vector<DenseLayer> layers;
  nlohmann::json training = nlohmann::json::object();  // settings and history, kept in the file

  bool quantized() const { return mode != TrainMode::Float; }
  bool is_mlp() const { return architecture.is_mlp(); }
  int depth() const { return static_cast<int>(layers.size()) - 1; }  // hidden stages
  std::vector<Stage> stages() const { return spinsc::stages(architecture); }
  // Builds the layers with zero weights, unit gains and unit scales.
  static Network zeros(const Architecture& arch, int states, TrainMode mode);
};

// Checks architecture, arch, states, shapes and scales; throws spinsc::Error saying which.
void validate(const Network& net);

}  // namespace spinsc
