// Trainer: minibatch training of a Network for the forward computation of network.hpp.
//
// It optimises exactly the forward rule that the digital reference and the SC engine run, for
// any architecture stages() accepts (dense, conv2d, avgpool2d, maxpool2d, flatten):
//   hidden stage: u = W_q x (conv2d: per output position), average-pooled if the stage
//                 pools so, z = gain * u + b,  a = Q_K(clip(z, 0, 1))  (qat)  or  clip(z, 0, 1)
//                 (float), max-pooled if the stage pools so
//   last stage:   y = W_q x + b,  softmax cross-entropy against the label.
// conv2d runs as im2col products (one row per image and output position) on the same tiled
// products as dense layers.
// Straight-through gradients (SPEC §5):
//   activation: da/dz = 1 only inside the clipping range 0 < z < 1, else 0 (the rounding of Q_K
//               passes the gradient unchanged);
//   pooling:    avgpool2d spreads dL/du evenly over its window (u = window sum / area);
//               maxpool2d routes the gradient to the window's first maximum in row-major order
//               (the value the forward took);
//   weights:    dL/dw = dL/dw_q where |w/s| <= 1, else 0;
//   scale s:    learned (LSQ, Esser et al. 2020) through log s: dw_q/ds = q/h - w/s inside the
//               range, sign(w) outside, with h = (K-1)/2 and q the level index.
// In float mode nothing is quantized, the gain stays 1 (W absorbs it exactly) and s is set to
// max|w| of each layer when the network is handed out (the analog SC engine's stream scale).
//
// Determinism: every random draw comes from derive_seed(seed, purpose, {...}) of its work item (layer
// initialisation, epoch shuffle, each image's augmentation shift); every matrix product is
// split into fixed tiles that do not depend on the thread count, each computed by
// single-threaded Eigen with no reduction across tiles; elementwise kernels (im2col, col2im,
// pooling, activations) work on fixed blocks of images and treat every element alike whatever
// its alignment; sums over the minibatch (bias and gain gradients) run in image order. The same
// seed gives bit-identical weights on any thread count.
// Options, defaults and measured accuracies: docs/training.md.
//
// Thread-safety: a Trainer is used from one thread; it runs its own OpenMP team inside.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "spinsc/dataset.hpp"
#include "spinsc/network.hpp"
#include "spinsc/rng.hpp"  // derive_seed, which noise hooks must use

namespace spinsc {

enum class Optimizer { Adam, Sgd };
std::string to_string(Optimizer optimizer);
Optimizer parse_optimizer(const std::string& text);  // "adam" | "sgd"; throws spinsc::Error

// Learning rate as a function of progress through training (per minibatch step):
//   constant: lr;  cosine: lr * (1 + cos(pi * t / T)) / 2;  step: lr, x0.1 after 50% and 75%
//   of the epochs.
enum class LrSchedule { Constant, Cosine, Step };
std::string to_string(LrSchedule schedule);
LrSchedule parse_schedule(const std::string& text);  // throws spinsc::Error

struct TrainConfig {
  Architecture arch{784, 128, 10};
  int states = 5;                       // K, odd >= 3 (used by qat and sc)
  TrainMode mode = TrainMode::Qat;
  int epochs = 30;
  int batch = 128;
  double lr = 0.0;                      // 0: the optimizer's default (default_lr)
  Optimizer optimizer = Optimizer::Adam;
  double momentum = 0.9;                // SGD only
  LrSchedule schedule = LrSchedule::Cosine;
  double weight_decay = -1.0;           // decoupled (AdamW-style), on weights only; -1: default
  int val = 0;                          // images held out from the end of the training set
  int shift = 1;                        // augmentation: random translation by up to this many pixels
  uint64_t seed = 1;
  int threads = 0;                      // 0: automatic, all cores or only the idle ones (results never depend on it)
  std::string dataset = "mnist";        // recorded in the model's training metadata
};

double default_lr(Optimizer optimizer);
// Per step, weights shrink by lr(t) * weight_decay (decoupled): 0.1 for Adam, 1e-3 for SGD.
double default_weight_decay(Optimizer optimizer);

// Checks every field (and arch.front() against the data's image size when features > 0);
// throws spinsc::Error naming the field and value.
void validate(const TrainConfig& config, int features = 0);

// SC training hook: called in the forward pass on each layer's product u = W_q x (before the
// pooling, gain and bias of network.hpp) so that it may add the noise of the SC estimate. The
// backward pass treats whatever it adds as a constant (straight-through), so the gradients are
// unchanged. A conv2d layer's product is its im2col product: one row per image and output
// position, whose input is the receptive field (fan-in values, zeros on padding), so each row
// is the dot product of one output unit exactly as a dense neuron's.
struct PreactivationBatch {
  int layer = 0;                 // index into Network::layers
  int rows = 0;                  // product rows: images x positions
  int positions = 1;             // rows per image: output positions (conv2d: height x width), 1 for dense
  int in = 0, out = 0;           // fan-in and units (filters)
  const float* input = nullptr;  // rows x in, row-major: the layer's input x (pixels or activations;
                                 // conv2d: the receptive field of each row's position)
  const float* weight = nullptr; // out x in, row-major: the weights as used (W_q, or W in float)
  const float* weight_t = nullptr; // in x out, row-major: the same weights transposed, when the trainer
                                 // has them (dense stages with a mostly-zero input), else null
  float scale = 1.0f;            // the layer's weight scale s
  const int* images = nullptr;   // rows / positions: index of each image in the training set; row r
                                 // is image images[r / positions] at position r % positions
  int epoch = 0;                 // 0-based; with `images`, the position and `layer` it names each draw's work item
  float* product = nullptr;      // rows x out, row-major: u = x W^T, to perturb in place
  int threads = 1;               // the trainer's team size: the hook's parallel regions use as many
};
class PreactivationNoise {
 public:
  virtual ~PreactivationNoise() = default;
  // Called from the training thread; may use OpenMP inside. Must derive its randomness from
  // (seed, epoch, image, layer) and, for conv2d rows, the position, to keep training
  // deterministic.
  virtual void perturb(const PreactivationBatch& batch) = 0;
  // Optional gradient through the noise itself: for noise e = sigma(x, W_q) * eps with eps
  // fixed by perturb(), adds dL/dW_q (out x in) to `dweight` and, when `dinput` is not null,
  // dL/dx (rows x in; conv2d: of the im2col rows, which the trainer sums back onto the
  // image) to `dinput`, given du = dL/du (rows x out). Called after perturb() of the same
  // batch and layer, with the same batch description. Default: the noise is a constant.
  virtual void backward(const PreactivationBatch& batch, const float* du, float* dweight, float* dinput) {}
};

struct EpochReport {
  int epoch = 0;                  // 1-based
  double loss = 0.0;              // mean training cross-entropy over the epoch's minibatches
  double train_accuracy = 0.0;    // running accuracy of the epoch's forward passes
  double val_accuracy = -1.0;     // on the held-out images after the epoch; -1 without --val
  double seconds = 0.0;           // wall time of the epoch's training steps (not validation)
  int threads = 1;                // OpenMP team size used
  double lr = 0.0;                // learning rate at the epoch's last step
};

// Gradients of the mean cross-entropy of one minibatch (`images`: indices into `data`) by the
// trainer's own forward and backward pass, straight-through where the network is quantized and
// without noise or augmentation. For gradient checks and tools; training does not need it.
struct Gradients {
  double loss = 0.0;
  std::vector<std::vector<float>> weight, bias, gain;  // per layer, shaped like DenseLayer's
  std::vector<double> scale;                           // dL/ds per layer (0 in float mode)
};
Gradients loss_gradients(const Network& net, const Dataset& data, const std::vector<int>& images, int threads = 1);

class Trainer {
 public:
  // `train` must outlive the Trainer. Mode sc needs a noise hook (and is otherwise refused).
  // `init` (optional) starts from a trained network of the same arch instead of a random one:
  // its weights, biases and gains are copied, and its scales when it is quantized with the same
  // K; otherwise s starts at LSQ's rule on the copied weights. Fine-tuning, e.g. qat -> sc.
  Trainer(TrainConfig config, const Dataset& train, PreactivationNoise* noise = nullptr, const Network* init = nullptr);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // One pass over the (shuffled) training images. `on_step(step, steps, loss, accuracy)` is
  // called after each minibatch with running means for the epoch.
  using StepCallback = std::function<void(long step, long steps, double loss, double accuracy)>;
  EpochReport run_epoch(const StepCallback& on_step = {});
  bool done() const;                     // all configured epochs run
  int epochs_done() const;
  int train_images() const;              // images trained on (after removing the val split)
  long steps_per_epoch() const;

  // The network as trained so far, ready for inference (float: scale = max|w| per layer).
  // Its `training` field holds the configuration and the epoch history.
  Network network() const;
  const TrainConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  friend Gradients loss_gradients(const Network&, const Dataset&, const std::vector<int>&, int);
};

}  // namespace spinsc
