#include "spinsc/digital.hpp"

#include <omp.h>

#include <algorithm>

#include "spinsc/error.hpp"
#include "spinsc/parallel.hpp"
#include "spinsc/quantize.hpp"

namespace spinsc {

// Every output is the float sum of w * x over its inputs in order (dense: i = 0, 1, ...;
// conv2d: taps (c, ky, kx) in row-major order, padding left out), with the weights as used
// (quantized once) stored transposed so that the loop over a stage's units vectorises. Zero
// inputs are skipped: adding w * 0 leaves a sum unchanged (up to the sign of a zero, which no
// comparison sees).
DigitalNet::DigitalNet(const Network& net) : net_(&net), stages_(net.stages()) {
  validate(net);
  const int K = net.states;
  wt_.resize(net.layers.size());
  for (size_t l = 0; l < net.layers.size(); ++l) {
    const DenseLayer& layer = net.layers[l];
    wt_[l].resize(layer.weight.size());
    for (int j = 0; j < layer.out; ++j)
      for (int i = 0; i < layer.in; ++i)
        wt_[l][static_cast<size_t>(i) * layer.out + j] = net.quantized() ? quantize_weight(layer.w(j, i), layer.scale, K) : layer.w(j, i);
  }
}

const float* DigitalNet::forward(const float* x, Scratch& scratch, std::vector<std::vector<float>>* stage_outputs) const {
  const Network& net = *net_;
  const int K = net.states;
  scratch.in.assign(x, x + net.arch.front());
  for (const Stage& st : stages_) {
    const DenseLayer& layer = net.layers[st.layer];
    const std::vector<float>& wt = wt_[st.layer];
    const float* in = scratch.in.data();
    std::vector<float>& u = scratch.u;
    u.assign(st.conv.size(), 0.0f);
    if (st.kind == LayerKind::Dense) {
      float* acc = u.data();
      for (int i = 0; i < layer.in; ++i) {
        const float xi = in[i];
        if (xi == 0.0f) continue;
        const float* w = &wt[static_cast<size_t>(i) * layer.out];
        for (int j = 0; j < layer.out; ++j) acc[j] += w[j] * xi;
      }
    } else {
      // u[f, oy, ox] = sum over taps t = (c, ky, kx) of w[f, t] x[c, iy, ix]; the loop over
      // filters f is innermost (the transposed weights of one tap are contiguous).
      const int H = st.in.height, W = st.in.width, k = st.kernel, F = st.conv.channels;
      const int OH = st.conv.height, OW = st.conv.width, plane = OH * OW;
      std::vector<float>& acc = scratch.acc;
      acc.assign(F, 0.0f);
      for (int oy = 0; oy < OH; ++oy)
        for (int ox = 0; ox < OW; ++ox) {
          std::fill(acc.begin(), acc.end(), 0.0f);
          for (int c = 0; c < st.in.channels; ++c)
            for (int ky = 0; ky < k; ++ky) {
              const int iy = oy * st.stride + ky - st.padding;
              if (iy < 0 || iy >= H) continue;
              for (int kx = 0; kx < k; ++kx) {
                const int ix = ox * st.stride + kx - st.padding;
                if (ix < 0 || ix >= W) continue;
                const float xi = in[(static_cast<size_t>(c) * H + iy) * W + ix];
                if (xi == 0.0f) continue;
                const float* w = &wt[static_cast<size_t>((c * k + ky) * k + kx) * F];
                for (int f = 0; f < F; ++f) acc[f] += w[f] * xi;
              }
            }
          for (int f = 0; f < F; ++f) u[static_cast<size_t>(f) * plane + oy * OW + ox] = acc[f];
        }
    }
    std::vector<float>& out = scratch.out;
    out.resize(st.out.size());
    const int plane_in = st.conv.height * st.conv.width, OH = st.out.height, OW = st.out.width, win = st.window;
    if (st.pool == LayerKind::AvgPool2d) {  // on u, before gain and bias (the counter domain)
      const float area = static_cast<float>(win * win);
      for (int c = 0; c < st.out.channels; ++c)
        for (int py = 0; py < OH; ++py)
          for (int px = 0; px < OW; ++px) {
            float sum = 0.0f;
            for (int dy = 0; dy < win; ++dy)
              for (int dx = 0; dx < win; ++dx) sum += u[static_cast<size_t>(c) * plane_in + (py * win + dy) * st.conv.width + px * win + dx];
            out[(static_cast<size_t>(c) * OH + py) * OW + px] = sum / area;
          }
      u.swap(out);
      out.resize(st.out.size());
    }
    // z = gain * u + b per unit (conv2d: per filter); the activation; the last stage adds the bias only.
    const Shape& z_shape = st.pool == LayerKind::AvgPool2d ? st.out : st.conv;
    const int64_t per_unit = int64_t{z_shape.height} * z_shape.width;
    for (int c = 0; c < st.units(); ++c)
      for (int64_t p = 0; p < per_unit; ++p) {
        float& v = u[c * per_unit + p];
        if (st.hidden) {
          const float z = layer.gain[c] * v + layer.bias[c];
          v = net.quantized() ? quantize_activation(z, K) : std::clamp(z, 0.0f, 1.0f);
        } else {
          v += layer.bias[c];
        }
      }
    if (st.pool == LayerKind::MaxPool2d) {  // on the activations, after the comparators
      for (int c = 0; c < st.out.channels; ++c)
        for (int py = 0; py < OH; ++py)
          for (int px = 0; px < OW; ++px) {
            float m = u[static_cast<size_t>(c) * plane_in + (py * win) * st.conv.width + px * win];
            for (int dy = 0; dy < win; ++dy)
              for (int dx = 0; dx < win; ++dx)
                m = std::max(m, u[static_cast<size_t>(c) * plane_in + (py * win + dy) * st.conv.width + px * win + dx]);
            out[(static_cast<size_t>(c) * OH + py) * OW + px] = m;
          }
      u.swap(out);
    }
    u.resize(st.out.size());
    if (stage_outputs) stage_outputs->push_back(u);
    scratch.in.swap(u);
  }
  return scratch.in.data();
}

std::vector<float> digital_forward(const Network& net, const float* x) {
  const DigitalNet d(net);
  DigitalNet::Scratch s;
  const float* y = d.forward(x, s);
  return std::vector<float>(y, y + net.arch.back());
}

int argmax_class(const float* y, int n) {
  int best = 0;
  for (int j = 1; j < n; ++j)
    if (y[j] > y[best]) best = j;
  return best;
}

double digital_accuracy(const Network& net, const Dataset& data, int threads) {
  if (data.count == 0) return 0.0;
  if (data.features() != net.arch.front())
    fail("the network takes {} inputs but the {} images have {} pixels", net.arch.front(), data.name, data.features());
  const DigitalNet d(net);
  long correct = 0;
  const int nthreads = threads > 0 ? threads : omp_get_max_threads();
  ParallelErrors errors;
#pragma omp parallel num_threads(nthreads) reduction(+ : correct)
  {
    DigitalNet::Scratch s;
    std::vector<float> x(data.features());
#pragma omp for schedule(static)
    for (int n = 0; n < data.count; ++n) errors.run([&] {
      for (int f = 0; f < data.features(); ++f) x[f] = data.pixel(n, f);
      correct += argmax_class(d.forward(x.data(), s), net.arch.back()) == data.labels[n];
    });
  }
  errors.rethrow();
  return static_cast<double>(correct) / data.count;
}

}  // namespace spinsc
