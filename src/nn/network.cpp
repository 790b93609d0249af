#include "spinsc/network.hpp"

#include <charconv>
#include <cmath>
#include <optional>

#include "core/enum_names.hpp"
#include "spinsc/error.hpp"
#include "spinsc/files.hpp"

namespace spinsc {

namespace {
constexpr detail::EnumNames<TrainMode, 3> kModes{{{TrainMode::Float, "float"}, {TrainMode::Qat, "qat"}, {TrainMode::Sc, "sc"}}};
constexpr detail::EnumNames<LayerKind, 5> kKinds{{{LayerKind::Dense, "dense"},
                                                  {LayerKind::Conv2d, "conv2d"},
                                                  {LayerKind::AvgPool2d, "avgpool2d"},
                                                  {LayerKind::MaxPool2d, "maxpool2d"},
                                                  {LayerKind::Flatten, "flatten"}}};

// Limits that keep every size, product and index of a network within int range.
constexpr int kMaxUnits = 1 << 20;
constexpr int kMaxSide = 4096;
constexpr int kMaxKernel = 64;
constexpr int64_t kMaxValues = int64_t{1} << 24;   // values in one layer's input or output
constexpr int64_t kMaxWeights = int64_t{1} << 28;  // weights of one layer

bool is_pool(LayerKind k) { return k == LayerKind::AvgPool2d || k == LayerKind::MaxPool2d; }

// The whole of `text` as a decimal integer in [lo, hi], or nothing.
std::optional<int> parse_int(std::string_view text, int lo, int hi) {
  int v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (true) {
    const size_t end = text.find(sep, pos);
    out.push_back(text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
    if (end == std::string_view::npos) return out;
    pos = end + 1;
  }
}

// Drops `flatten` from a dense-only list on a flat input: the canonical MLP.
Architecture normalised(Architecture a) {
  bool dense_only = true;
  for (const auto& l : a.layers) dense_only = dense_only && (l.kind == LayerKind::Dense || l.kind == LayerKind::Flatten);
  if (!dense_only) return a;
  std::erase_if(a.layers, [](const LayerSpec& l) { return l.kind == LayerKind::Flatten; });
  a.input = Shape{static_cast<int>(std::min<int64_t>(a.input.size(), INT32_MAX)), 1, 1};
  return a;
}

Shape parse_shape(std::string_view item, std::string_view text) {
  const auto parts = split(text, 'x');
  std::optional<int> c, h, w;
  if (parts.size() == 3) c = parse_int(parts[0], 1, kMaxUnits), h = parse_int(parts[1], 1, kMaxSide), w = parse_int(parts[2], 1, kMaxSide);
  if (!c || !h || !w) fail("architecture item '{}': the input shape must be CxHxW (e.g. input:1x28x28)", item);
  return Shape{*c, *h, *w};
}

LayerSpec parse_item(std::string_view item) {
  const auto fields = split(item, ':');
  const std::string_view head = fields[0];
  auto need = [&](size_t lo, size_t hi, const char* form) {
    if (fields.size() < lo || fields.size() > hi) fail("architecture item '{}': expected {}", item, form);
  };
  LayerSpec s;
  if (head == "dense") {
    need(2, 2, "dense:N");
    const auto n = parse_int(fields[1], 1, kMaxUnits);
    if (!n) fail("architecture item '{}': units must be an integer in 1..{}", item, kMaxUnits);
    s.kind = LayerKind::Dense, s.units = *n;
  } else if (head == "conv") {
    need(2, 4, "conv:FxKxK with optional :pP (padding) and :sS (stride), e.g. conv:6x5x5:p2");
    const auto dims = split(fields[1], 'x');
    std::optional<int> f, k, k2;
    if (dims.size() == 2 || dims.size() == 3) f = parse_int(dims[0], 1, kMaxUnits), k = parse_int(dims[1], 1, kMaxKernel);
    if (dims.size() == 3) k2 = parse_int(dims[2], 1, kMaxKernel);
    if (!f || !k || (dims.size() == 3 && k2 != k))
      fail("architecture item '{}': expected conv:FxKxK (F filters, a square K x K kernel, K in 1..{})", item, kMaxKernel);
    s.kind = LayerKind::Conv2d, s.units = *f, s.kernel = *k;
    for (size_t i = 2; i < fields.size(); ++i) {
      const std::string_view opt = fields[i];
      const auto v = opt.size() > 1 ? parse_int(opt.substr(1), opt[0] == 'p' ? 0 : 1, kMaxKernel) : std::nullopt;
      if (opt[0] == 'p' && v)
        s.padding = *v;
      else if (opt[0] == 's' && v)
        s.stride = *v;
      else
        fail("architecture item '{}': option '{}' is not pP (padding 0..{}) or sS (stride 1..{})", item, opt, kMaxKernel, kMaxKernel);
    }
  } else if (head == "maxpool" || head == "avgpool") {
    need(2, 2, "maxpool:W or avgpool:W");
    const auto w = parse_int(fields[1], 1, kMaxKernel);
    if (!w) fail("architecture item '{}': the window must be an integer in 1..{}", item, kMaxKernel);
    s.kind = head == "maxpool" ? LayerKind::MaxPool2d : LayerKind::AvgPool2d, s.kernel = *w;
  } else if (head == "flatten") {
    need(1, 1, "flatten");
    s.kind = LayerKind::Flatten;
  } else {
    fail("architecture item '{}' is not dense:N, conv:FxKxK, maxpool:W, avgpool:W, flatten or input:CxHxW", item);
  }
  return s;
}

}  // namespace

std::string to_string(TrainMode mode) { return detail::enum_name(kModes, mode); }
TrainMode parse_train_mode(const std::string& text) { return detail::parse_enum(kModes, text, "training mode"); }
std::string to_string(LayerKind kind) { return detail::enum_name(kKinds, kind); }
LayerKind parse_layer_kind(const std::string& text) { return detail::parse_enum(kKinds, text, "layer kind"); }
std::string to_string(const Shape& s) { return fmt::format("{}x{}x{}", s.channels, s.height, s.width); }

Architecture::Architecture(std::initializer_list<int> widths) : Architecture(mlp(std::vector<int>(widths))) {}
Architecture::Architecture(const std::vector<int>& widths) : Architecture(mlp(widths)) {}

Architecture Architecture::mlp(const std::vector<int>& widths) {
  Architecture a;
  if (!widths.empty()) a.input = Shape{widths.front(), 1, 1};
  for (size_t l = 1; l < widths.size(); ++l) a.layers.push_back(LayerSpec{LayerKind::Dense, widths[l]});
  return a;
}

bool Architecture::is_mlp() const {
  if (!input.flat()) return false;
  for (const auto& l : layers)
    if (l.kind != LayerKind::Dense) return false;
  return true;
}

int Architecture::weight_layers() const {
  int n = 0;
  for (const auto& l : layers) n += l.kind == LayerKind::Dense || l.kind == LayerKind::Conv2d;
  return n;
}

std::vector<int> Architecture::widths() const {
  std::vector<int> w{static_cast<int>(input.size())};
  for (const Stage& s : stages(*this)) w.push_back(static_cast<int>(s.out.size()));
  return w;
}

int Stage::fan_in() const {
  return kind == LayerKind::Conv2d ? in.channels * kernel * kernel : static_cast<int>(in.size());
}

std::vector<Stage> stages(const Architecture& arch) {
  const Shape& input = arch.input;
  if (input.channels < 1 || input.height < 1 || input.width < 1 || input.height > kMaxSide || input.width > kMaxSide ||
      input.size() > kMaxValues)
    fail("architecture: input shape {} is out of range", to_string(input));
  std::vector<Stage> out;
  Shape cur = input;
  bool flattened_by_dense = false;  // a dense layer (or flatten) came before: no conv2d after it
  for (size_t i = 0; i < arch.layers.size(); ++i) {
    const LayerSpec& s = arch.layers[i];
    const std::string at = fmt::format("architecture layer {} ({})", i, to_string(s.kind));
    if (s.kind == LayerKind::Dense || s.kind == LayerKind::Conv2d) {
      if (s.units < 1 || s.units > kMaxUnits) fail("{}: {} units is out of range 1..{}", at, s.units, kMaxUnits);
      Stage st;
      st.layer = static_cast<int>(out.size());
      st.kind = s.kind;
      st.in = cur;
      if (s.kind == LayerKind::Dense) {
        st.conv = Shape{s.units, 1, 1};
        flattened_by_dense = true;
      } else {
        if (flattened_by_dense) fail("{}: a conv2d cannot follow a dense or flatten layer", at);
        if (s.kernel < 1 || s.kernel > kMaxKernel || s.stride < 1 || s.stride > kMaxKernel || s.padding < 0 ||
            s.padding > kMaxKernel)
          fail("{}: kernel {}, stride {}, padding {} out of range", at, s.kernel, s.stride, s.padding);
        const int h = cur.height + 2 * s.padding - s.kernel, w = cur.width + 2 * s.padding - s.kernel;
        if (h < 0 || w < 0)
          fail("{}: a {}x{} kernel does not fit the {} input with padding {}", at, s.kernel, s.kernel, to_string(cur),
               s.padding);
        if (s.padding >= s.kernel) fail("{}: padding {} must be smaller than the kernel {}", at, s.padding, s.kernel);
        st.kernel = s.kernel, st.stride = s.stride, st.padding = s.padding;
        st.conv = Shape{s.units, h / s.stride + 1, w / s.stride + 1};
      }
      if (st.conv.size() > kMaxValues || int64_t{st.fan_in()} * st.units() > kMaxWeights)
        fail("{}: {} outputs with fan-in {} is too large", at, st.conv.size(), st.fan_in());
      st.out = st.conv;
      cur = st.out;
      out.push_back(st);
    } else if (is_pool(s.kind)) {
      if (out.empty() || out.back().kind != LayerKind::Conv2d || out.back().pool != LayerKind::Flatten ||
          (i > 0 && arch.layers[i - 1].kind != LayerKind::Conv2d))
        fail("{}: a pool must directly follow a conv2d layer", at);
      Stage& st = out.back();
      if (s.kernel < 1 || s.kernel > kMaxKernel) fail("{}: window {} out of range 1..{}", at, s.kernel, kMaxKernel);
      if (st.conv.height % s.kernel != 0 || st.conv.width % s.kernel != 0)
        fail("{}: a {}x{} window does not tile the {} feature map (its rest would be dropped)", at, s.kernel, s.kernel,
             to_string(st.conv));
      st.pool = s.kind;
      st.window = s.kernel;
      st.out = Shape{st.conv.channels, st.conv.height / s.kernel, st.conv.width / s.kernel};
      cur = st.out;
    } else {  // flatten
      cur = Shape{static_cast<int>(cur.size()), 1, 1};
      flattened_by_dense = true;
    }
  }
  if (out.empty()) fail("architecture has no dense or conv2d layer");
  for (size_t i = arch.layers.size(); i-- > 0;) {
    const LayerKind k = arch.layers[i].kind;
    if (k == LayerKind::Dense || k == LayerKind::Conv2d) break;
    if (is_pool(k)) fail("architecture layer {} ({}): the last weight layer's outputs are the class scores; pool before it", i, to_string(k));
  }
  out.back().hidden = false;
  return out;
}

Architecture parse_architecture(const std::string& text, Shape input) {
  if (text == "lenet5") return parse_architecture("conv:6x5x5:p2,maxpool:2,conv:16x5x5,maxpool:2,dense:120,dense:84,dense:10", input);
  if (text.size() > 5 && text.ends_with(".json")) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_file(text));
    } catch (const nlohmann::json::exception& e) {
      fail("architecture file '{}' is not valid JSON: {}", text, e.what());
    }
    try {
      return architecture_from_json(j);
    } catch (const Error& e) {
      fail("architecture file '{}': {}", text, e.what());
    }
  }
  Architecture a;
  a.input = input;
  const auto items = split(text, ',');
  const bool widths = parse_int(items.front(), 1, kMaxUnits).has_value();
  if (widths) {
    std::vector<int> w;
    for (const auto item : items) {
      const auto v = parse_int(item, 1, kMaxUnits);
      if (!v) fail("architecture '{}': '{}' is not a layer width in 1..{} (an MLP is widths, input first: 784,128,10)", text, item, kMaxUnits);
      w.push_back(*v);
    }
    if (w.size() < 2) fail("architecture '{}' needs at least an input and an output width", text);
    a = Architecture::mlp(w);
  } else {
    for (size_t i = 0; i < items.size(); ++i) {
      if (items[i].starts_with("input:")) {
        if (i != 0) fail("architecture '{}': input:CxHxW must be the first item", text);
        a.input = parse_shape(items[i], items[i].substr(6));
        continue;
      }
      a.layers.push_back(parse_item(items[i]));
    }
  }
  a = normalised(a);
  stages(a);
  return a;
}

std::string to_string(const Architecture& a) {
  std::string s;
  if (a.is_mlp()) {
    s = std::to_string(a.input.size());
    for (const auto& l : a.layers) s += fmt::format(",{}", l.units);
    return s;
  }
  s = "input:" + to_string(a.input);
  for (const auto& l : a.layers) {
    switch (l.kind) {
      case LayerKind::Dense: s += fmt::format(",dense:{}", l.units); break;
      case LayerKind::Conv2d:
        s += fmt::format(",conv:{}x{}x{}", l.units, l.kernel, l.kernel);
        if (l.padding) s += fmt::format(":p{}", l.padding);
        if (l.stride != 1) s += fmt::format(":s{}", l.stride);
        break;
      case LayerKind::AvgPool2d: s += fmt::format(",avgpool:{}", l.kernel); break;
      case LayerKind::MaxPool2d: s += fmt::format(",maxpool:{}", l.kernel); break;
      case LayerKind::Flatten: s += ",flatten"; break;
    }
  }
  return s;
}

nlohmann::json to_json(const Architecture& a) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : a.layers) {
    nlohmann::json j{{"kind", to_string(l.kind)}};
    if (l.kind == LayerKind::Dense || l.kind == LayerKind::Conv2d) j["units"] = l.units;
    if (l.kind == LayerKind::Conv2d) j["stride"] = l.stride, j["padding"] = l.padding;
    if (l.kind != LayerKind::Dense && l.kind != LayerKind::Flatten) j["kernel"] = l.kernel;
    layers.push_back(j);
  }
  return {{"input", {a.input.channels, a.input.height, a.input.width}}, {"layers", layers}};
}

Architecture architecture_from_json(const nlohmann::json& j) {
  auto int_field = [](const nlohmann::json& obj, const char* key, int lo, int hi, std::optional<int> dflt, const std::string& where) {
    const auto it = obj.find(key);
    if (it == obj.end()) {
      if (dflt) return *dflt;
      fail("{}: field '{}' is missing", where, key);
    }
    if (!it->is_number_integer() || it->get<int64_t>() < lo || it->get<int64_t>() > hi)
      fail("{}: field '{}' = {} is not an integer in {}..{}", where, key, it->dump(), lo, hi);
    return static_cast<int>(it->get<int64_t>());
  };
  if (!j.is_object()) fail("architecture: expected a JSON object with \"input\" and \"layers\"");
  Architecture a;
  const auto in = j.find("input");
  if (in == j.end() || !in->is_array() || in->size() != 3 || !(*in)[0].is_number_integer() || !(*in)[1].is_number_integer() ||
      !(*in)[2].is_number_integer())
    fail("architecture: field 'input' must be [C, H, W]");
  for (int d = 0; d < 3; ++d)
    if ((*in)[d].get<int64_t>() < 1 || (*in)[d].get<int64_t>() > (d == 0 ? kMaxUnits : kMaxSide))
      fail("architecture: input {} is out of range", in->dump());
  a.input = Shape{(*in)[0].get<int>(), (*in)[1].get<int>(), (*in)[2].get<int>()};
  const auto layers = j.find("layers");
  if (layers == j.end() || !layers->is_array()) fail("architecture: field 'layers' must be a list");
  for (size_t i = 0; i < layers->size(); ++i) {
    const auto& l = (*layers)[i];
    const std::string where = fmt::format("architecture layer {}", i);
    if (!l.is_object() || !l.contains("kind") || !l["kind"].is_string()) fail("{}: expected an object with a \"kind\"", where);
    LayerSpec s;
    try {
      s.kind = parse_layer_kind(l["kind"].get<std::string>());
    } catch (const Error& e) {
      fail("{}: {}", where, e.what());
    }
    if (s.kind == LayerKind::Dense || s.kind == LayerKind::Conv2d) s.units = int_field(l, "units", 1, kMaxUnits, {}, where);
    if (s.kind == LayerKind::Conv2d) {
      s.stride = int_field(l, "stride", 1, kMaxKernel, 1, where);
      s.padding = int_field(l, "padding", 0, kMaxKernel, 0, where);
    }
    if (s.kind != LayerKind::Dense && s.kind != LayerKind::Flatten) s.kernel = int_field(l, "kernel", 1, kMaxKernel, {}, where);
    a.layers.push_back(s);
  }
  a = normalised(a);
  stages(a);
  return a;
}

Network Network::zeros(const Architecture& architecture, int states, TrainMode mode) {
  Network net;
  net.architecture = architecture;
  net.states = states;
  net.mode = mode;
  net.arch = architecture.widths();
  for (const Stage& s : spinsc::stages(architecture)) {
    DenseLayer layer;
    layer.in = s.fan_in();
    layer.out = s.units();
    layer.weight.assign(static_cast<size_t>(layer.in) * layer.out, 0.0f);
    layer.bias.assign(layer.out, 0.0f);
    layer.gain.assign(layer.out, 1.0f);
    net.layers.push_back(std::move(layer));
  }
  validate(net);
  return net;
}

void validate(const Network& net) {
  if (net.states < 3 || net.states % 2 == 0 || net.states > 1025)
    fail("states K = {} must be odd and between 3 and 1025", net.states);
  const std::vector<Stage> st = stages(net.architecture);
  if (net.arch.size() != st.size() + 1 || net.arch[0] != net.architecture.input.size())
    fail("arch has {} sizes, the architecture {} stages", net.arch.size(), st.size());
  if (net.layers.size() != st.size())
    fail("{} layers do not match an architecture of {} weight layers", net.layers.size(), st.size());
  for (size_t l = 0; l < net.layers.size(); ++l) {
    const DenseLayer& layer = net.layers[l];
    if (net.arch[l + 1] != st[l].out.size()) fail("arch size {} at position {} does not match the architecture", net.arch[l + 1], l + 1);
    if (layer.in != st[l].fan_in() || layer.out != st[l].units())
      fail("layer {} is {}x{} but the architecture says {}x{}", l, layer.out, layer.in, st[l].units(), st[l].fan_in());
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
