#include "spinsc/digital.hpp"

#include <omp.h>

#include <algorithm>

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

double digital_accuracy(const Network& net, const Dataset& data, int threads) {
  if (data.count == 0) return 0.0;
  long correct = 0;
  const int nthreads = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for num_threads(nthreads) reduction(+ : correct) schedule(static)
  for (int i = 0; i < data.count; ++i) {
    std::vector<float> x(data.features());
    for (int f = 0; f < data.features(); ++f) x[f] = data.pixel(i, f);
    const std::vector<float> y = digital_forward(net, x.data());
    correct += argmax_class(y.data(), static_cast<int>(y.size())) == data.labels[i];
  }
  return static_cast<double>(correct) / data.count;
}

}  // namespace spinsc
