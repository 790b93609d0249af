#include "spinsc/network.hpp"

#include <cmath>

#include "core/enum_names.hpp"
#include "spinsc/error.hpp"

namespace spinsc {

namespace {
constexpr detail::EnumNames<TrainMode, 3> kModes{{{TrainMode::Float, "float"}, {TrainMode::Qat, "qat"}, {TrainMode::Sc, "sc"}}};
}  // namespace

std::string to_string(TrainMode mode) { return detail::enum_name(kModes, mode); }
TrainMode parse_train_mode(const std::string& text) { return detail::parse_enum(kModes, text, "training mode"); }

Network Network::zeros(const std::vector<int>& arch, int states, TrainMode mode) {
  Network net;
  net.arch = arch;
  net.states = states;
  net.mode = mode;
  for (size_t l = 0; l + 1 < arch.size(); ++l) {
    DenseLayer layer;
    layer.in = arch[l];
    layer.out = arch[l + 1];
    layer.weight.assign(static_cast<size_t>(layer.in) * layer.out, 0.0f);
    layer.bias.assign(layer.out, 0.0f);
    layer.gain.assign(layer.out, 1.0f);
    net.layers.push_back(std::move(layer));
  }
  validate(net);
  return net;
}

void validate(const Network& net) {
  if (net.arch.size() < 2) fail("architecture needs at least an input and an output width, got {} entries", net.arch.size());
  for (size_t l = 0; l < net.arch.size(); ++l)
    if (net.arch[l] < 1 || net.arch[l] > 1 << 20) fail("architecture width {} at position {} is out of range", net.arch[l], l);
  if (net.states < 3 || net.states % 2 == 0 || net.states > 1025)
    fail("states K = {} must be odd and between 3 and 1025", net.states);
  if (net.layers.size() + 1 != net.arch.size())
    fail("{} layers do not match an architecture of {} widths", net.layers.size(), net.arch.size());
  for (size_t l = 0; l < net.layers.size(); ++l) {
    const DenseLayer& layer = net.layers[l];
    if (layer.in != net.arch[l] || layer.out != net.arch[l + 1])
      fail("layer {} is {}x{} but the architecture says {}x{}", l, layer.out, layer.in, net.arch[l + 1], net.arch[l]);
    if (layer.weight.size() != static_cast<size_t>(layer.in) * layer.out || layer.bias.size() != static_cast<size_t>(layer.out) ||
        layer.gain.size() != static_cast<size_t>(layer.out))
      fail("layer {} tensors have the wrong sizes", l);
    if (!(layer.scale > 0.0f) || !std::isfinite(layer.scale)) fail("layer {} weight scale {} must be positive and finite", l, layer.scale);
    for (float v : layer.weight)
      if (!std::isfinite(v)) fail("layer {} has a non-finite weight", l);
    for (size_t j = 0; j < layer.bias.size(); ++j)
      if (!std::isfinite(layer.bias[j]) || !std::isfinite(layer.gain[j])) fail("layer {} has a non-finite bias or gain", l);
  }
}

}  // namespace spinsc
