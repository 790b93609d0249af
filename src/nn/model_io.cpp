#include "spinsc/model_io.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <map>
#include <optional>

#include "spinsc/error.hpp"
#include "spinsc/files.hpp"

namespace spinsc {

namespace fs = std::filesystem;
using nlohmann::json;

// Tensors are written and read by memcpy of native floats.
static_assert(std::endian::native == std::endian::little, "model files are little-endian; add byte swapping for this host");

namespace {

// Version 2 (written): any architecture, its layer list in the metadata. Version 1 (read):
// MLPs, format "spinsc-mlp", the widths in "arch".
constexpr const char* kFormat = "spinsc-net";
constexpr const char* kFormatVersion = "2";
constexpr const char* kFormatV1 = "spinsc-mlp";
constexpr const char* kFormatVersionV1 = "1";
// The reference safetensors implementation refuses headers above 100 MB; so do we, which also
// bounds what a damaged length field can make us parse.
constexpr uint64_t kMaxHeader = 100'000'000;

std::string tensor_name(size_t layer, const char* what) { return fmt::format("layers.{}.{}", layer, what); }

std::string arch_string(const std::vector<int>& arch) {
  std::string out;
  for (int w : arch) {
    if (!out.empty()) out += ',';
    out += std::to_string(w);
  }
  return out;
}

// One tensor of the file: its name, shape and the floats it holds.
struct TensorRef {
  std::string name;
  std::vector<int64_t> shape;
  const std::vector<float>* values;
};

// A weight tensor's shape: [out, in] for dense, [F, C, k, k] for conv2d.
std::vector<int64_t> weight_shape(const Stage& s) {
  if (s.kind == LayerKind::Conv2d) return {s.units(), s.in.channels, s.kernel, s.kernel};
  return {s.units(), s.fan_in()};
}

std::vector<TensorRef> tensors_of(const Network& net) {
  std::vector<TensorRef> out;
  const std::vector<Stage> stages = net.stages();
  for (size_t l = 0; l < net.layers.size(); ++l) {
    const DenseLayer& layer = net.layers[l];
    out.push_back({tensor_name(l, "weight"), weight_shape(stages[l]), &layer.weight});
    out.push_back({tensor_name(l, "bias"), {layer.out}, &layer.bias});
    out.push_back({tensor_name(l, "gain"), {layer.out}, &layer.gain});
  }
  return out;
}

// The whole of `text` as a decimal integer, or nothing.
std::optional<long> parse_integer(const std::string& text) {
  long v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

// Parsing helpers: each throws spinsc::Error naming the file and the field.
class ModelReader {
 public:
  explicit ModelReader(std::string origin) : origin_(std::move(origin)) {}

  template <class... Args>
  [[noreturn]] void bad(fmt::format_string<Args...> format, Args&&... args) const {
    fail("'{}': {}", origin_, fmt::format(format, std::forward<Args>(args)...));
  }

  const std::string& meta_string(const json& meta, const char* key) const {
    auto it = meta.find(key);
    if (it == meta.end()) bad("metadata field '{}' is missing", key);
    if (!it->is_string()) bad("metadata field '{}' is not a string, as safetensors requires", key);
    return it->get_ref<const std::string&>();
  }

  json meta_json(const json& meta, const char* key) const {
    const std::string& text = meta_string(meta, key);
    try {
      return json::parse(text);
    } catch (const json::exception& e) {
      bad("metadata field '{}' is not valid JSON ({}): '{}'", key, e.what(), text.substr(0, 80));
    }
  }

  int meta_int(const json& meta, const char* key) const {
    const std::string& text = meta_string(meta, key);
    const auto v = parse_integer(text);
    if (!v || *v < INT32_MIN || *v > INT32_MAX) bad("metadata field '{}' = '{}' is not an integer", key, text);
    return static_cast<int>(*v);
  }

  std::vector<int> meta_arch(const json& meta) const {
    const std::string& text = meta_string(meta, "arch");
    std::vector<int> arch;
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t end = text.find(',', pos);
      if (end == std::string::npos) end = text.size();
      const std::string item = text.substr(pos, end - pos);
      const auto v = parse_integer(item);
      if (!v || *v < 1 || *v > (1 << 20)) bad("metadata field 'arch' = '{}' is not a list of layer widths (bad item '{}')", text, item);
      arch.push_back(static_cast<int>(*v));
      pos = end + 1;
    }
    if (arch.size() < 2) bad("metadata field 'arch' = '{}' needs at least an input and an output width", text);
    return arch;
  }

 private:
  std::string origin_;
};

}  // namespace

void save_model(const fs::path& path, const Network& net) {
  validate(net);
  json scales = json::array();
  for (const DenseLayer& layer : net.layers) scales.push_back(static_cast<double>(layer.scale));  // float -> double is exact
  json header = json::object();
  header["__metadata__"] = {
      {"format", kFormat},
      {"format_version", kFormatVersion},
      {"architecture", to_string(net.architecture)},
      {"layers", to_json(net.architecture).dump()},
      {"arch", arch_string(net.arch)},
      {"states", std::to_string(net.states)},
      {"mode", to_string(net.mode)},
      {"scales", scales.dump()},
      {"training", net.training.is_null() ? "{}" : net.training.dump()},
  };
  const auto tensors = tensors_of(net);
  uint64_t offset = 0;
  for (const TensorRef& t : tensors) {
    const uint64_t bytes = t.values->size() * sizeof(float);
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string head = header.dump();
  // Spaces after the JSON keep the tensor data 8-byte aligned (as the safetensors writer does).
  head.append((8 - head.size() % 8) % 8, ' ');
  std::string file;
  file.reserve(8 + head.size() + offset);
  const uint64_t n = head.size();
  for (int i = 0; i < 8; ++i) file.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  file += head;
  for (const TensorRef& t : tensors) file.append(reinterpret_cast<const char*>(t.values->data()), t.values->size() * sizeof(float));
  write_file_atomic(path, file);
}

Network load_model(const fs::path& path) {
  const ModelReader r(path.string());
  std::error_code ec;
  if (fs::is_directory(path, ec)) r.bad("is a directory, expected a model file");
  if (!fs::exists(path, ec)) r.bad("model file not found");
  return parse_model(read_file(path), path.string());
}

Network parse_model(std::string_view bytes, const std::string& origin) {
  const ModelReader r(origin);
  if (bytes.size() < 8) r.bad("{} bytes is too short to be a safetensors model file", bytes.size());
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t{static_cast<uint8_t>(bytes[i])} << (8 * i);
  if (n < 2 || n > kMaxHeader || n > bytes.size() - 8)
    r.bad("header length {} does not fit a file of {} bytes: not a safetensors file, or truncated", n, bytes.size());
  const std::string_view head(bytes.data() + 8, n);
  if (head.front() != '{') r.bad("header does not start with '{{': not a safetensors file");
  json header;
  try {
    header = json::parse(head);
  } catch (const json::exception& e) {
    r.bad("header is not valid JSON: {}", e.what());
  }
  if (!header.is_object()) r.bad("header is not a JSON object");

  // Metadata first: a foreign file should be called foreign, not blamed for missing tensors.
  auto meta_it = header.find("__metadata__");
  if (meta_it == header.end() || !meta_it->is_object() || !meta_it->contains("format"))
    r.bad("a safetensors file without \"format\": \"{}\" in its metadata: not a spinsc model", kFormat);
  const json& meta = *meta_it;
  for (const auto& [key, value] : meta.items())
    if (!value.is_string()) r.bad("metadata field '{}' is not a string, as safetensors requires", key);
  const std::string& format = r.meta_string(meta, "format");
  const bool v1 = format == kFormatV1;
  if (format != kFormat && !v1) r.bad("metadata says format '{}', expected '{}' (or '{}'): not a spinsc model", format, kFormat, kFormatV1);
  if (const std::string& version = r.meta_string(meta, "format_version"); version != (v1 ? kFormatVersionV1 : kFormatVersion))
    r.bad("model format '{}' version '{}' is not supported (this spinsc reads {} version {} and {} version {})", format,
          version, kFormat, kFormatVersion, kFormatV1, kFormatVersionV1);

  Network net;
  if (v1) {
    net.architecture = Architecture::mlp(r.meta_arch(meta));
  } else {
    try {
      net.architecture = architecture_from_json(r.meta_json(meta, "layers"));
    } catch (const Error& e) {
      r.bad("metadata field 'layers': {}", e.what());
    }
  }
  net.arch = net.architecture.widths();
  if (!v1 && meta.contains("arch") && r.meta_string(meta, "arch") != arch_string(net.arch))
    r.bad("metadata field 'arch' = '{}' disagrees with the layer list, whose sizes are {}", r.meta_string(meta, "arch"),
          arch_string(net.arch));
  const std::vector<Stage> stages = net.stages();
  net.states = r.meta_int(meta, "states");
  try {
    net.mode = parse_train_mode(r.meta_string(meta, "mode"));
  } catch (const Error& e) {
    r.bad("metadata field 'mode': {}", e.what());
  }
  const json scales = r.meta_json(meta, "scales");
  if (!scales.is_array() || scales.size() != stages.size())
    r.bad("metadata field 'scales' must be a JSON list of {} numbers, one per layer; it is '{}'", stages.size(),
          scales.dump());
  net.training = r.meta_json(meta, "training");
  if (!net.training.is_object()) r.bad("metadata field 'training' is not a JSON object");

  // Tensors: exactly the expected names, F32, the architecture's shapes, byte ranges that
  // tile the data section with no gap and no overlap.
  const uint64_t data_size = bytes.size() - 8 - n;
  const char* data = bytes.data() + 8 + n;
  std::map<std::string, std::pair<size_t, const char*>> expected;  // name -> (layer, part)
  for (size_t l = 0; l < stages.size(); ++l)
    for (const char* part : {"weight", "bias", "gain"}) expected[tensor_name(l, part)] = {l, part};
  for (const auto& [key, value] : header.items())
    if (key != "__metadata__" && !expected.contains(key))
      r.bad("unexpected tensor '{}' for an architecture of {} layers", key, stages.size());
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (size_t l = 0; l < stages.size(); ++l) {
    DenseLayer layer;
    layer.in = stages[l].fan_in();
    layer.out = stages[l].units();
    const json& s = scales[l];
    if (!s.is_number()) r.bad("metadata 'scales' entry {} = {} is not a number", l, s.dump());
    layer.scale = static_cast<float>(s.get<double>());
    for (const char* part : {"weight", "bias", "gain"}) {
      const std::string name = tensor_name(l, part);
      auto it = header.find(name);
      if (it == header.end()) r.bad("tensor '{}' is missing", name);
      const json& t = *it;
      if (!t.is_object()) r.bad("tensor '{}' entry is not an object", name);
      const std::string dtype = t.contains("dtype") && t["dtype"].is_string() ? t["dtype"].get<std::string>() : "(none)";
      if (dtype != "F32") r.bad("tensor '{}' has dtype {}, expected F32", name, dtype);
      const std::vector<int64_t> want = part == std::string("weight") ? weight_shape(stages[l]) : std::vector<int64_t>{layer.out};
      const json shape = t.value("shape", json());
      if (!shape.is_array() || shape != json(want))
        r.bad("tensor '{}' has shape {}, expected {} for arch {}", name, shape.dump(), json(want).dump(), to_string(net.architecture));
      const json off = t.value("data_offsets", json());
      if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
        r.bad("tensor '{}' data_offsets {} is not a pair of byte offsets", name, off.dump());
      const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
      uint64_t numel = 1;
      for (int64_t d : want) numel *= static_cast<uint64_t>(d);
      if (begin > end || end > data_size)
        r.bad("tensor '{}' byte range [{}, {}) lies outside the {} data bytes: file truncated or damaged", name, begin, end, data_size);
      if (end - begin != numel * sizeof(float))
        r.bad("tensor '{}' byte range [{}, {}) holds {} bytes, its shape needs {}", name, begin, end, end - begin, numel * 4);
      ranges.emplace_back(begin, end);
      std::vector<float>& dst = part == std::string("weight") ? layer.weight : part == std::string("bias") ? layer.bias : layer.gain;
      dst.resize(numel);
      std::memcpy(dst.data(), data + begin, numel * sizeof(float));
    }
    net.layers.push_back(std::move(layer));
  }
  std::sort(ranges.begin(), ranges.end());
  uint64_t covered = 0;
  for (const auto& [begin, end] : ranges) {
    if (begin < covered) r.bad("tensor byte ranges overlap at offset {}", begin);
    if (begin > covered) r.bad("the data section has unused bytes [{}, {})", covered, begin);
    covered = end;
  }
  if (covered != data_size) r.bad("the data section has {} bytes after the last tensor", data_size - covered);
  try {
    validate(net);
  } catch (const Error& e) {
    r.bad("{}", e.what());
  }
  return net;
}

}  // namespace spinsc
