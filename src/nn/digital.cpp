#include "spinsc/digital.hpp"

#include <omp.h>

#include <algorithm>

#include "spinsc/parallel.hpp"
#include "spinsc/quantize.hpp"

namespace spinsc {

std::vector<float> digital_forward(const Network& net, const float* x) {
  std::vector<float> in(x, x + net.arch.front()), out;
  const int K = net.states;
  for (size_t l = 0; l < net.layers.size(); ++l) {
    const DenseLayer& layer = net.layers[l];
    const bool hidden = l + 1 < net.layers.size();
    out.assign(layer.out, 0.0f);
    for (int j = 0; j < layer.out; ++j) {
      float acc = 0.0f;
      for (int i = 0; i < layer.in; ++i) {
        const float w = net.quantized() ? quantize_weight(layer.w(j, i), layer.scale, K) : layer.w(j, i);
        acc += w * in[i];
      }
      if (hidden) {
        const float z = layer.gain[j] * acc + layer.bias[j];
        out[j] = net.quantized() ? quantize_activation(z, K) : std::clamp(z, 0.0f, 1.0f);
      } else {
        out[j] = acc + layer.bias[j];
      }
    }
    in.swap(out);
  }
  return in;
}

int argmax_class(const float* y, int n) {
  int best = 0;
  for (int j = 1; j < n; ++j)
    if (y[j] > y[best]) best = j;
  return best;
}

// Same arithmetic as digital_forward, image for image: each output is the float sum of
// w_ji * x_i in order i = 0, 1, ..., with the quantized weights computed once and stored
// transposed so that the loop over outputs j vectorises. Zero inputs are skipped: adding
// w * 0 leaves a sum unchanged (up to the sign of a zero, which no comparison sees).
double digital_accuracy(const Network& net, const Dataset& data, int threads) {
  if (data.count == 0) return 0.0;
  const int K = net.states;
  std::vector<std::vector<float>> wt(net.layers.size());
  for (size_t l = 0; l < net.layers.size(); ++l) {
    const DenseLayer& layer = net.layers[l];
    wt[l].resize(layer.weight.size());
    for (int j = 0; j < layer.out; ++j)
      for (int i = 0; i < layer.in; ++i)
        wt[l][static_cast<size_t>(i) * layer.out + j] =
            net.quantized() ? quantize_weight(layer.w(j, i), layer.scale, K) : layer.w(j, i);
  }
  long correct = 0;
  const int nthreads = threads > 0 ? threads : omp_get_max_threads();
  ParallelErrors errors;
#pragma omp parallel num_threads(nthreads) reduction(+ : correct)
  {
    std::vector<float> in, out;
#pragma omp for schedule(static)
    for (int n = 0; n < data.count; ++n) errors.run([&] {
      in.resize(data.features());
      for (int f = 0; f < data.features(); ++f) in[f] = data.pixel(n, f);
      for (size_t l = 0; l < net.layers.size(); ++l) {
        const DenseLayer& layer = net.layers[l];
        const bool hidden = l + 1 < net.layers.size();
        out.assign(layer.out, 0.0f);
        float* acc = out.data();
        for (int i = 0; i < layer.in; ++i) {
          const float x = in[i];
          if (x == 0.0f) continue;
          const float* w = &wt[l][static_cast<size_t>(i) * layer.out];
          for (int j = 0; j < layer.out; ++j) acc[j] += w[j] * x;
        }
        for (int j = 0; j < layer.out; ++j) {
          if (hidden) {
            const float z = layer.gain[j] * acc[j] + layer.bias[j];
            acc[j] = net.quantized() ? quantize_activation(z, K) : std::clamp(z, 0.0f, 1.0f);
          } else {
            acc[j] += layer.bias[j];
          }
        }
        in.swap(out);
      }
      correct += argmax_class(in.data(), static_cast<int>(in.size())) == data.labels[n];
    });
  }
  errors.rethrow();
  return static_cast<double>(correct) / data.count;
}

}  // namespace spinsc
