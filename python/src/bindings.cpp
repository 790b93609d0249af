// spinsc._spinsc: the library seen from Python (docs/python.md). These bindings only convert
// between numpy/Python values and the library's types and call the library; every step of the
// computation lives in the library. The public face is the package spinsc (python/spinsc/),
// which re-exports what is defined here.
//
// Conventions: packed bitstreams become numpy bool arrays (one element per bit, bit t of the
// stream at index t); images are uint8 arrays of pixel bytes (the model input is byte / 255);
// weights are float32 arrays shaped like the library's (out x in, row-major). spinsc::Error
// becomes spinsc.Error (a ValueError) with the same message. Long calls (training epochs,
// evaluations, calibration) release the GIL.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/operators.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <omp.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "spinsc/bit_source.hpp"
#include "spinsc/calibrate.hpp"
#include "spinsc/cost_model.hpp"
#include "spinsc/dataset.hpp"
#include "spinsc/device_config.hpp"
#include "spinsc/context.hpp"
#include "spinsc/device_sources.hpp"
#include "spinsc/device_stats.hpp"
#include "spinsc/digital.hpp"
#include "spinsc/error.hpp"
#include "spinsc/hw_params.hpp"
#include "spinsc/markov_stream.hpp"
#include "spinsc/model_io.hpp"
#include "spinsc/network.hpp"
#include "spinsc/rng.hpp"
#include "spinsc/parallel.hpp"
#include "spinsc/recipes.hpp"
#include "spinsc/results.hpp"
#include "spinsc/sc_engine.hpp"
#include "spinsc/sc_noise.hpp"
#include "spinsc/sc_noise_setup.hpp"
#include "spinsc/smtj.hpp"
#include "spinsc/smtj_source.hpp"
#include "spinsc/trace.hpp"
#include "spinsc/train.hpp"

namespace py = pybind11;
using namespace pybind11::literals;

namespace spinsc {
namespace {

// ---------------------------------------------------------------------------------------------
// Conversions

py::object json_to_py(const nlohmann::json& j) { return py::module_::import("json").attr("loads")(j.dump()); }

nlohmann::json py_to_json(const py::handle& o) {
  return nlohmann::json::parse(py::module_::import("json").attr("dumps")(o).cast<std::string>());
}

// A bool array of `length` elements from a packed stream (bit t = words[t / 64] bit t % 64).
void unpack_into(const uint64_t* words, int64_t length, bool* out) {
  for (int64_t t = 0; t < length; ++t) out[t] = (words[t >> 6] >> (t & 63)) & 1;
}

py::array_t<bool> unpack(const uint64_t* words, int64_t length) {
  py::array_t<bool> a(length);
  unpack_into(words, length, a.mutable_data());
  return a;
}

// The packed words of a 1-D array of bits (bool or integers 0/1).
std::vector<uint64_t> pack(const py::array& bits, const char* what) {
  if (bits.ndim() != 1) fail("{}: expected a 1-D array of bits, got {} dimensions", what, bits.ndim());
  const auto b = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>::ensure(bits);
  const int64_t n = b.size();
  std::vector<uint64_t> words(static_cast<size_t>((n + 63) / 64), 0);
  const uint8_t* p = b.data();
  for (int64_t t = 0; t < n; ++t) {
    if (p[t] > 1) fail("{}: element {} is {}, not a bit (0 or 1)", what, t, static_cast<int>(p[t]));
    words[static_cast<size_t>(t >> 6)] |= uint64_t{p[t]} << (t & 63);
  }
  return words;
}

// A numpy array that owns a moved-in vector (no copy).
template <class T>
py::array_t<T> owned_array(std::vector<T>&& v, std::vector<py::ssize_t> shape) {
  auto* owner = new std::vector<T>(std::move(v));
  py::capsule base(owner, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(shape, owner->data(), base);
}

py::array_t<float> float_array(const std::vector<float>& v, std::vector<py::ssize_t> shape) {
  py::array_t<float> a(shape);
  std::memcpy(a.mutable_data(), v.data(), v.size() * sizeof(float));
  return a;
}

// A Dataset from numpy images (N x H x W or N x F, uint8 pixel bytes) and labels (N, 0..9): one
// copy of each.
Dataset to_dataset(const py::array& images, const py::array& labels, const std::string& name) {
  if (!images.dtype().is(py::dtype::of<uint8_t>()))
    fail("images: dtype {} is not uint8 (pixel bytes 0..255; the model input is byte / 255)",
         py::str(images.dtype()).cast<std::string>());
  if (images.ndim() != 2 && images.ndim() != 3)
    fail("images: expected an array N x H x W or N x F, got {} dimensions", images.ndim());
  if (labels.ndim() != 1) fail("labels: expected a 1-D array, got {} dimensions", labels.ndim());
  if (labels.shape(0) != images.shape(0))
    fail("labels: {} labels for {} images", labels.shape(0), images.shape(0));
  const auto img = py::array_t<uint8_t, py::array::c_style>::ensure(images);
  const auto lab = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(labels);
  if (!img || !lab) fail("images/labels: could not be read as arrays");
  Dataset d;
  d.name = name;
  d.count = static_cast<int>(img.shape(0));
  d.rows = images.ndim() == 3 ? static_cast<int>(img.shape(1)) : 1;
  d.cols = static_cast<int>(images.ndim() == 3 ? img.shape(2) : img.shape(1));
  d.images.assign(img.data(), img.data() + img.size());
  d.labels.resize(static_cast<size_t>(d.count));
  const int64_t* l = lab.data();
  for (int i = 0; i < d.count; ++i) {
    if (l[i] < 0 || l[i] > 9) fail("labels[{}] = {} is not a class 0..9", i, l[i]);
    d.labels[static_cast<size_t>(i)] = static_cast<uint8_t>(l[i]);
  }
  return d;
}

// Model inputs x (rows x features, float) from a batch: uint8 pixel bytes are divided by 255
// exactly as Dataset::pixel() does; float arrays are taken as they are.
std::vector<float> to_inputs(const py::array& x, int features, int& rows) {
  const int64_t size = x.size();
  if (x.ndim() == 0 || size % features != 0)
    fail("inputs: {} values are not a whole number of inputs of {} features", size, features);
  if (x.ndim() == 1 && size != features)
    fail("inputs: a 1-D input must have {} values, got {}", features, size);
  rows = static_cast<int>(size / features);
  std::vector<float> out(static_cast<size_t>(size));
  if (x.dtype().is(py::dtype::of<uint8_t>())) {
    const auto b = py::array_t<uint8_t, py::array::c_style>::ensure(x);
    for (int64_t i = 0; i < size; ++i) out[static_cast<size_t>(i)] = b.data()[i] * (1.0f / 255.0f);
  } else {
    const auto f = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(x);
    if (!f) fail("inputs: dtype {} cannot be read as float32", py::str(x.dtype()).cast<std::string>());
    std::memcpy(out.data(), f.data(), out.size() * sizeof(float));
  }
  return out;
}

// A C-contiguous float32 view of x: no copy when x already is one (a torch tensor's .numpy(), or
// a float32 array); otherwise one converted copy.
py::array_t<float, py::array::c_style> float_view(const py::array& x, const char* what) {
  auto f = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(x);
  if (!f) fail("{}: dtype {} cannot be read as float32", what, py::str(x.dtype()).cast<std::string>());
  return f;
}

Split parse_split(const std::string& s) {
  if (s == "train") return Split::Train;
  if (s == "test") return Split::Test;
  fail("split '{}' must be 'train' or 'test'", s);
}

StreamRole parse_role(const std::string& s) {
  if (s == "input") return StreamRole::Input;
  if (s == "weight") return StreamRole::Weight;
  if (s == "bias") return StreamRole::Bias;
  fail("role '{}' must be 'input', 'weight' or 'bias'", s);
}

StreamKey make_key(uint64_t seed, uint64_t image, uint32_t layer, const std::string& role, uint64_t device) {
  return StreamKey{seed, image, layer, parse_role(role), device};
}

// An architecture given as text ("784,128,10", a layer list, "lenet5", a JSON file), as a list
// of widths, or as an Architecture.
Architecture to_architecture(const py::handle& a) {
  if (py::isinstance<Architecture>(a)) return a.cast<Architecture>();
  if (py::isinstance<py::str>(a)) return parse_architecture(a.cast<std::string>());
  if (py::isinstance<py::sequence>(a)) return Architecture::mlp(a.cast<std::vector<int>>());
  fail("architecture: expected a string, a list of widths or an Architecture, got {}",
       py::str(py::type::of(a)).cast<std::string>());
}

// The kinds of source the package builds from a spec: every kind spinsc ships (an immutable
// registry, made once, the package's context; context.hpp).
const std::shared_ptr<const SourceRegistry>& package_registry() {
  static const std::shared_ptr<const SourceRegistry> sources = standard_sources();
  return sources;
}
const SourceRegistry& package_sources() { return *package_registry(); }

// A Python callable as the library's progress observer: called as progress(task, done, total)
// with the GIL held. An exception it raises is kept and raised when the call returns (an
// observer must not throw into the library).
class CallbackObserver : public ProgressObserver {
 public:
  explicit CallbackObserver(py::object callback) : callback_(std::move(callback)) {}
  void progress(std::string_view task, long done, long total) override {
    py::gil_scoped_acquire gil;
    if (error_ || callback_.is_none()) return;
    try {
      callback_(std::string(task), done, total);
    } catch (py::error_already_set& e) {
      error_.emplace(std::move(e));
    }
  }
  // With the GIL held again: re-raises what the callback raised.
  void rethrow() {
    if (error_) {
      py::error_already_set e = std::move(*error_);
      error_.reset();
      throw e;
    }
  }

 private:
  py::object callback_;
  // Empty until the callback raises (a default-constructed error_already_set would fetch an
  // error indicator that is not set).
  std::optional<py::error_already_set> error_;
};

std::shared_ptr<const BitSource> to_source(const py::handle& s) {
  if (py::isinstance<py::str>(s)) return std::shared_ptr<const BitSource>(package_sources().make(s.cast<std::string>()));
  if (py::isinstance<BitSource>(s)) return s.cast<std::shared_ptr<BitSource>>();
  fail("source: expected a spec string (ideal, lfsr, sobol, smtj[:dev.json], trace:DIR) or a BitSource, got {}",
       py::str(py::type::of(s)).cast<std::string>());
}

DeviceConfig to_device_config(const py::handle& d) {
  if (d.is_none()) return reference_device();
  if (py::isinstance<py::dict>(d)) return parse_device_config(py_to_json(d).dump(), "device dict");
  return load_device_config(d.cast<std::filesystem::path>());
}

// ---------------------------------------------------------------------------------------------
// Device: a device description with its nominal telegraph model and its array of SNGs.

struct Device {
  DeviceConfig config;
  std::shared_ptr<SmtjSource> source;
  TelegraphMtj nominal;
  // `spec` names the source as make_source() would: "smtj" or "smtj:FILE".
  Device(DeviceConfig c, std::string spec)
      : config(c), source(std::make_shared<SmtjSource>(c, std::move(spec))), nominal(TelegraphMtj::nominal(c)) {}
};

std::unique_ptr<Device> make_device(const py::handle& d) {
  if (d.is_none() || py::isinstance<py::dict>(d)) return std::make_unique<Device>(to_device_config(d), "smtj");
  const auto path = d.cast<std::filesystem::path>();
  return std::make_unique<Device>(load_device_config(path), "smtj:" + path.string());
}

// f applied to a scalar (returns a float) or elementwise to an array (returns an array of its shape).
py::object vec_or_scalar(const py::object& x, const std::function<double(double)>& f) {
  if (py::isinstance<py::float_>(x) || py::isinstance<py::int_>(x)) return py::float_(f(x.cast<double>()));
  const auto in = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(x);
  if (!in) fail("expected a number or an array of numbers");
  py::array_t<double> out(std::vector<py::ssize_t>(in.shape(), in.shape() + in.ndim()));
  for (py::ssize_t i = 0; i < in.size(); ++i) out.mutable_data()[i] = f(in.data()[i]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Trainer with everything it refers to (data, initial network, SC noise) kept alive beside it.

struct PyTrainer {
  Dataset data;
  std::optional<Network> init;
  std::unique_ptr<ModelTraining> training;  // the library's recipe (recipes.hpp), as `spinsc train` runs it
};

// The engine with the widths it expects, which the numpy inputs are checked against.
struct PyScEngine {
  ScEngine engine;
  std::vector<int> arch;
};

py::dict epoch_dict(const EpochReport& r) {
  return py::dict("epoch"_a = r.epoch, "loss"_a = r.loss, "train_accuracy"_a = r.train_accuracy,
                  "val_accuracy"_a = r.val_accuracy < 0 ? py::object(py::none()) : py::object(py::float_(r.val_accuracy)),
                  "seconds"_a = r.seconds, "threads"_a = r.threads, "lr"_a = r.lr);
}

py::dict layer_result_dict(const ScLayerResult& r) {
  auto counter = r.counter;
  const auto n = static_cast<py::ssize_t>(counter.size());
  return py::dict("counter"_a = owned_array(std::move(counter), {n}),
                  "estimate"_a = float_array(r.estimate, {static_cast<py::ssize_t>(r.estimate.size())}),
                  "output"_a = float_array(r.output, {static_cast<py::ssize_t>(r.output.size())}));
}

py::dict trace_fit_dict(const MarkovFit& f) {
  auto est = [](const Estimate& e) { return py::make_tuple(e.value, e.se); };
  return py::dict("samples"_a = f.samples, "ones"_a = f.ones, "n11"_a = f.n11, "n10"_a = f.n10, "n01"_a = f.n01,
                  "n00"_a = f.n00, "p"_a = est(f.p), "leave_one"_a = est(f.leave_one), "leave_zero"_a = est(f.leave_zero),
                  "rho"_a = est(f.rho), "resolved"_a = f.resolved, "tau_ap_s"_a = est(f.tau_ap_s),
                  "tau_p_s"_a = est(f.tau_p_s));
}

}  // namespace
}  // namespace spinsc

PYBIND11_MODULE(_spinsc, m) {
  using namespace spinsc;
  m.doc() = "spinsc's C++ library, bound with pybind11. Use the package `spinsc`, which re-exports all of it.";
  py::register_exception<Error>(m, "Error", PyExc_ValueError);
  m.attr("Error").attr("__doc__") =
      "Bad input (a missing or damaged file, a bad field, a value out of range): the library's spinsc::Error, "
      "with the same message. A subclass of ValueError.";

  // ----------------------------------------------------------------------------------- datasets
  m.def(
      "load_dataset",
      [](const std::string& name, const std::string& split, std::optional<std::filesystem::path> data_dir) {
        const auto dir = data_dir ? *data_dir : default_data_dir();
        Dataset d;
        {
          py::gil_scoped_release release;
          d = load_dataset(name, dir, parse_split(split));
        }
        // The arrays view the loaded bytes (no copy); the capsule keeps them alive.
        auto* owner = new Dataset(std::move(d));
        py::capsule base(owner, [](void* p) { delete static_cast<Dataset*>(p); });
        py::array_t<uint8_t> images({owner->count, owner->rows, owner->cols}, owner->images.data(), base);
        py::array_t<uint8_t> labels({owner->count}, owner->labels.data(), base);
        return py::make_tuple(images, labels);
      },
      "name"_a = "mnist", "split"_a = "train", "data_dir"_a = py::none(),
      R"(Load a data set: returns (images, labels).

name      "mnist" or "fashion-mnist"
split     "train" (60 000 images) or "test" (10 000)
data_dir  folder of the IDX files; None: $SPINSC_DATA, else ./data (fashion-mnist also from the
          Debian package dataset-fashion-mnist)

images is an (N, 28, 28) uint8 array of pixel bytes (the model input is byte / 255), labels an
(N,) uint8 array of classes 0..9; both view the loaded bytes without a copy. Raises spinsc.Error
naming the missing file and the command that provides it.)");
  m.def("default_data_dir", &default_data_dir, "The data folder used when data_dir is None: $SPINSC_DATA, else ./data.");

  // -------------------------------------------------------------------------------- architectures
  py::class_<Architecture>(m, "Architecture", R"(A network's input shape and layer list (docs/network.md).

Build one with parse_architecture(); str() gives the canonical spelling, which parses back to
the same architecture.)")
      .def_property_readonly("input", [](const Architecture& a) { return py::make_tuple(a.input.channels, a.input.height, a.input.width); },
                             "Input shape (channels, height, width).")
      .def_property_readonly(
          "layers",
          [](const Architecture& a) {
            py::list l;
            for (const LayerSpec& s : a.layers)
              l.append(py::dict("kind"_a = to_string(s.kind), "units"_a = s.units, "kernel"_a = s.kernel, "stride"_a = s.stride,
                                "padding"_a = s.padding));
            return l;
          },
          "The layers as dicts: kind (dense, conv2d, avgpool2d, maxpool2d, flatten), units, kernel, stride, padding.")
      .def_property_readonly("widths", &Architecture::widths, "Sizes between stages, input first (an MLP's widths).")
      .def_property_readonly("is_mlp", &Architecture::is_mlp, "Only dense layers on a flat input.")
      .def_property_readonly("weight_layers", &Architecture::weight_layers, "Number of dense and conv2d layers.")
      .def_property_readonly("classes", &Architecture::classes, "Outputs of the last layer.")
      .def("to_json", [](const Architecture& a) { return json_to_py(to_json(a)); }, "The JSON form as a dict.")
      .def("__str__", [](const Architecture& a) { return to_string(a); })
      .def("__repr__", [](const Architecture& a) { return "spinsc.Architecture('" + to_string(a) + "')"; })
      .def(py::self == py::self)
      .def(py::pickle([](const Architecture& a) { return to_string(a); },
                      [](const std::string& s) { return parse_architecture(s); }));
  m.def(
      "parse_architecture",
      [](const std::string& text, std::tuple<int, int, int> input) {
        return parse_architecture(text, Shape{std::get<0>(input), std::get<1>(input), std::get<2>(input)});
      },
      "text"_a, "input_shape"_a = std::make_tuple(1, 28, 28),
      R"(Parse an architecture: "784,128,10" (MLP widths), a layer list such as
"conv:6x5x5:p2,maxpool:2,dense:10" (optionally starting with input:CxHxW, else input_shape),
"lenet5", or a JSON file. Raises spinsc.Error naming the item at fault.)");
  m.def("to_string", [](const Architecture& a) { return to_string(a); }, "arch"_a,
        "The canonical spelling of an architecture (parse_architecture() of it gives it back).");
  m.def("architecture_from_json", [](const py::dict& d) { return architecture_from_json(py_to_json(d)); }, "json"_a,
        "An architecture from its JSON form (a dict with input and layers).");

  // ------------------------------------------------------------------------------------ networks
  py::class_<Network>(m, "Network", R"(A trained (or hand-built) network: architecture, K, mode and per-layer
weights, biases, gains and weight scales (docs/network.md).

Network(architecture, weights, biases=None, gains=None, scales=None, states=5, mode="qat",
training=None) builds one from numpy arrays: weights[l] is (out, in) float32 (conv2d: filters x
C*k*k), biases[l] and gains[l] are (out,), scales[l] the weight scale s > 0; missing biases are
zeros, gains and scales ones. The reading properties return copies of the same float32 values, so
a network taken apart and rebuilt is bit-identical.)")
      .def(py::init([](const py::object& architecture, const std::vector<py::array_t<float, py::array::c_style | py::array::forcecast>>& weights,
                       std::optional<std::vector<py::array_t<float, py::array::c_style | py::array::forcecast>>> biases,
                       std::optional<std::vector<py::array_t<float, py::array::c_style | py::array::forcecast>>> gains,
                       std::optional<std::vector<float>> scales, int states, const std::string& mode,
                       std::optional<py::dict> training) {
             Network net = Network::zeros(to_architecture(architecture), states, parse_train_mode(mode));
             const size_t n = net.layers.size();
             auto count = [n](size_t got, const char* what) {
               if (got != n) fail("{}: {} arrays for a network of {} weight layers", what, got, n);
             };
             count(weights.size(), "weights");
             if (biases) count(biases->size(), "biases");
             if (gains) count(gains->size(), "gains");
             if (scales) count(scales->size(), "scales");
             for (size_t l = 0; l < n; ++l) {
               DenseLayer& layer = net.layers[l];
               const auto& w = weights[l];
               if (w.ndim() != 2 || w.shape(0) != layer.out || w.shape(1) != layer.in)
                 fail("weights[{}]: shape {} but the architecture needs ({}, {})", l,
                      py::str(py::tuple(py::cast(std::vector<py::ssize_t>(w.shape(), w.shape() + w.ndim())))).cast<std::string>(),
                      layer.out, layer.in);
               layer.weight.assign(w.data(), w.data() + w.size());
               auto vec = [&](const char* what, const auto& arrays, std::vector<float>& into) {
                 const auto& a = arrays[l];
                 if (a.ndim() != 1 || a.shape(0) != layer.out)
                   fail("{}[{}]: {} values but layer {} has {} outputs", what, l, a.size(), l, layer.out);
                 into.assign(a.data(), a.data() + a.size());
               };
               if (biases) vec("biases", *biases, layer.bias);
               if (gains) vec("gains", *gains, layer.gain);
               if (scales) layer.scale = (*scales)[l];
             }
             if (training) net.training = py_to_json(*training);
             validate(net);
             return net;
           }),
           "architecture"_a, "weights"_a, "biases"_a = py::none(), "gains"_a = py::none(), "scales"_a = py::none(),
           "states"_a = 5, "mode"_a = "qat", "training"_a = py::none())
      .def_property_readonly("architecture", [](const Network& n) { return n.architecture; }, "The Architecture.")
      .def_property_readonly("arch", [](const Network& n) { return n.arch; }, "Sizes between stages, input first ([784, 128, 10]).")
      .def_property_readonly("states", [](const Network& n) { return n.states; }, "K: levels of weights and hidden activations.")
      .def_property_readonly("mode", [](const Network& n) { return to_string(n.mode); }, "Training mode: float, qat or sc.")
      .def_property_readonly("quantized", &Network::quantized, "True unless mode is float.")
      .def_property_readonly(
          "weights",
          [](const Network& n) {
            py::list l;
            for (const DenseLayer& d : n.layers) l.append(float_array(d.weight, {d.out, d.in}));
            return l;
          },
          "Per weight layer, the stored (trained, unquantized) weights: float32 (out, in) copies.")
      .def_property_readonly(
          "biases",
          [](const Network& n) {
            py::list l;
            for (const DenseLayer& d : n.layers) l.append(float_array(d.bias, {d.out}));
            return l;
          },
          "Per weight layer, the biases (out,) float32.")
      .def_property_readonly(
          "gains",
          [](const Network& n) {
            py::list l;
            for (const DenseLayer& d : n.layers) l.append(float_array(d.gain, {d.out}));
            return l;
          },
          "Per weight layer, the gains (out,) float32 (ones for the output layer).")
      .def_property_readonly(
          "scales",
          [](const Network& n) {
            std::vector<float> s;
            for (const DenseLayer& d : n.layers) s.push_back(d.scale);
            return s;
          },
          "Per weight layer, the weight scale s (w_q = s Q_K(clip(w/s, -1, 1))).")
      .def_property(
          "training", [](const Network& n) { return json_to_py(n.training); },
          [](Network& n, const py::dict& d) { n.training = py_to_json(d); },
          "Settings and history recorded with the model (a dict, saved in the file).")
      .def(
          "forward",
          [](const Network& n, const py::array& x) {
            int rows = 0;
            const int features = n.arch.front(), outputs = n.arch.back();
            const std::vector<float> in = to_inputs(x, features, rows);
            std::vector<float> out(static_cast<size_t>(rows) * outputs);
            {
              py::gil_scoped_release release;
              const DigitalNet dn(n);
              DigitalNet::Scratch scratch;
              for (int r = 0; r < rows; ++r) {
                const float* y = dn.forward(in.data() + static_cast<size_t>(r) * features, scratch);
                std::memcpy(out.data() + static_cast<size_t>(r) * outputs, y, outputs * sizeof(float));
              }
            }
            return owned_array(std::move(out), {rows, outputs});
          },
          "x"_a,
          R"(Digital forward (docs/network.md's rule, quantized unless mode is float) of a batch: x is uint8
images (N, 28, 28) or (N, 784) (divided by 255 like the data sets) or float32 inputs (N, features)
or one input (features,). Returns the output values y as (N, classes) float32.)")
      .def(
          "predict",
          [](const Network& n, const py::array& x) {
            int rows = 0;
            const int features = n.arch.front(), outputs = n.arch.back();
            const std::vector<float> in = to_inputs(x, features, rows);
            std::vector<int64_t> cls(static_cast<size_t>(rows));
            {
              py::gil_scoped_release release;
              const DigitalNet dn(n);
              DigitalNet::Scratch scratch;
              for (int r = 0; r < rows; ++r)
                cls[static_cast<size_t>(r)] = argmax_class(dn.forward(in.data() + static_cast<size_t>(r) * features, scratch), outputs);
            }
            return owned_array(std::move(cls), {rows});
          },
          "x"_a, "Digital classes (argmax of forward(), ties to the lowest index) of a batch, as an int64 array.")
      .def(
          "forward_stages",
          [](const Network& n, const py::array& x) {
            int rows = 0;
            const std::vector<float> in = to_inputs(x, n.arch.front(), rows);
            if (rows != 1) fail("forward_stages: one input of {} values, got {} inputs", n.arch.front(), rows);
            std::vector<std::vector<float>> stages;
            {
              py::gil_scoped_release release;
              const DigitalNet dn(n);
              DigitalNet::Scratch scratch;
              dn.forward(in.data(), scratch, &stages);
            }
            py::list l;
            for (auto& s : stages) {
              const auto size = static_cast<py::ssize_t>(s.size());
              l.append(owned_array(std::move(s), {size}));
            }
            return l;
          },
          "x"_a,
          R"(Every stage's output of the digital forward of one input x (uint8 pixels or float32 values):
a list of float32 arrays, one per weight layer with its pooling (hidden stages: the quantized
activations, C x H x W flattened for conv2d; the last stage: the output values y).)")
      .def(
          "accuracy",
          [](const Network& n, const py::array& images, const py::array& labels, int threads) {
            const Dataset d = to_dataset(images, labels, "numpy");
            py::gil_scoped_release release;
            return digital_accuracy(n, d, threads);
          },
          "images"_a, "labels"_a, "threads"_a = 0,
          "Digital accuracy (fraction correct) on uint8 images and labels; what `spinsc eval --model M` reports.")
      .def("save", [](const Network& n, const std::filesystem::path& p) { save_model(p, n); }, "path"_a,
           "Save as a safetensors model file (atomically).")
      .def("copy", [](const Network& n) { return Network(n); }, "A deep copy.")
      .def("__repr__", [](const Network& n) {
        return fmt::format("spinsc.Network('{}', states={}, mode='{}')", to_string(n.architecture), n.states, to_string(n.mode));
      });
  m.def("load_model", [](const std::filesystem::path& p) { return load_model(p); }, "path"_a,
        "Load a model file (safetensors, format versions 1 and 2). Raises spinsc.Error naming the file and the fault.");
  m.def("save_model", [](const std::filesystem::path& p, const Network& n) { save_model(p, n); }, "path"_a, "network"_a,
        "Save a network as a safetensors model file (atomically).");

  // ------------------------------------------------------------------------------------ training
  py::class_<PyTrainer>(m, "Trainer", R"(Minibatch training of a network (docs/training.md), epoch by epoch.

Trainer(images, labels, arch="784,128,10", states=5, mode="qat", epochs=30, batch=128, lr=None,
optimizer="adam", momentum=0.9, schedule="cosine", weight_decay=None, val=0, shift=1, seed=1,
threads=0, dataset="mnist", length=100, source="smtj", exact_bits=False,
variance_gradient=True, init=None, multiply="signmag", accumulate="apc")

The keywords are TrainConfig's fields and `spinsc train`'s options (lr and weight_decay None:
the optimizer's default). Mode "sc" trains with the SC noise of stream length `length` (`spinsc
train --sc-length`) and source in the
forward pass (moment-matched, or the bit-level engine with exact_bits; multiply "bipolar" and
accumulate "mux" need exact_bits: the moment-matched noise models signmag with apc only). init: a Network to start
from (fine-tuning). The same settings and seed give the same network as `spinsc train`, on any
thread count.)")
      .def(py::init([](const py::array& images, const py::array& labels, const py::object& arch, int states,
                       const std::string& mode, int epochs, int batch, std::optional<double> lr, const std::string& optimizer,
                       double momentum, const std::string& schedule, std::optional<double> weight_decay, int val, int shift,
                       uint64_t seed, int threads, const std::string& dataset, int length, const std::string& source,
                       bool exact_bits, bool variance_gradient, std::optional<Network> init, const std::string& multiply,
                       const std::string& accumulate) {
             auto t = std::make_unique<PyTrainer>();
             TrainConfig cfg;
             cfg.arch = to_architecture(arch);
             cfg.states = states;
             cfg.mode = parse_train_mode(mode);
             cfg.epochs = epochs;
             cfg.batch = batch;
             if (lr && !(*lr > 0.0)) fail("lr {} must be positive", *lr);
             cfg.lr = lr.value_or(0.0);  // 0: the optimizer's default
             cfg.optimizer = parse_optimizer(optimizer);
             cfg.momentum = momentum;
             cfg.schedule = parse_schedule(schedule);
             if (weight_decay && !(*weight_decay >= 0.0)) fail("weight_decay {} must not be negative", *weight_decay);
             cfg.weight_decay = weight_decay.value_or(-1.0);  // -1: the optimizer's default
             cfg.val = val;
             cfg.shift = shift;
             cfg.seed = seed;
             cfg.threads = threads;
             cfg.dataset = dataset;
             validate(cfg);
             t->data = to_dataset(images, labels, dataset);
             t->init = std::move(init);
             TrainRecipe recipe;
             recipe.config = cfg;
             recipe.sc = ScNoiseOptions{source, length, exact_bits, variance_gradient, parse_multiply(multiply),
                                        parse_accumulate(accumulate)};
             recipe.init = t->init ? &*t->init : nullptr;
             t->training = std::make_unique<ModelTraining>(recipe, t->data, Context{package_registry()});
             return t;
           }),
           "images"_a, "labels"_a, py::kw_only(), "arch"_a = "784,128,10", "states"_a = TrainConfig{}.states, "mode"_a = "qat",
           "epochs"_a = TrainConfig{}.epochs, "batch"_a = TrainConfig{}.batch, "lr"_a = py::none(), "optimizer"_a = "adam",
           "momentum"_a = TrainConfig{}.momentum, "schedule"_a = "cosine", "weight_decay"_a = py::none(), "val"_a = 0,
           "shift"_a = TrainConfig{}.shift, "seed"_a = 1, "threads"_a = 0, "dataset"_a = "mnist", "length"_a = 100,
           "source"_a = "smtj", "exact_bits"_a = false, "variance_gradient"_a = true, "init"_a = py::none(),
           "multiply"_a = "signmag", "accumulate"_a = "apc")
      .def(
          "run_epoch",
          [](PyTrainer& t, std::optional<std::function<void(long, long, double, double)>> on_step) {
            Trainer::StepCallback cb;
            if (on_step)
              cb = [&on_step](long step, long steps, double loss, double acc) {
                py::gil_scoped_acquire acquire;
                (*on_step)(step, steps, loss, acc);
              };
            EpochReport r;
            {
              py::gil_scoped_release release;
              r = t.training->run_epoch(cb);
            }
            return epoch_dict(r);
          },
          "on_step"_a = py::none(),
          R"(One pass over the shuffled training images; returns the epoch's report as a dict (epoch,
loss, train_accuracy, val_accuracy or None, seconds, threads, lr). on_step(step, steps, loss,
accuracy) is called after each minibatch with the epoch's running means.)")
      .def_property_readonly("done", [](const PyTrainer& t) { return t.training->done(); }, "All configured epochs run.")
      .def_property_readonly("epochs_done", [](const PyTrainer& t) { return t.training->trainer().epochs_done(); }, "Epochs run so far.")
      .def_property_readonly("train_images", [](const PyTrainer& t) { return t.training->trainer().train_images(); },
                             "Images trained on (after removing the validation split).")
      .def_property_readonly("steps_per_epoch", [](const PyTrainer& t) { return t.training->trainer().steps_per_epoch(); }, "Minibatches per epoch.")
      .def(
          "network",
          [](const PyTrainer& t) { return t.training->network(); },
          "The network as trained so far, ready for inference; its training dict records the settings and history.");

  // ------------------------------------------------------------------------------------- devices
  py::class_<Device>(m, "Device", R"(An s-MTJ device description (docs/device.md) with its telegraph model.

Device(config=None): None is the built-in reference device; a path loads a device JSON; a dict is
parsed like a JSON file (fields absent keep the reference's values). Raises spinsc.Error naming
the field at fault.)")
      .def(py::init([](const py::object& c) { return make_device(c); }), "config"_a = py::none())
      .def_property_readonly("config", [](const Device& d) { return json_to_py(nlohmann::json::parse(to_json_text(d.config))); },
                             "Every field of the description, as a dict.")
      .def("to_json", [](const Device& d) { return to_json_text(d.config); }, "The description as JSON text (every field).")
      .def_property_readonly("name", [](const Device& d) { return d.config.name; }, "The description's name.")
      .def_property_readonly("sample_period_s", [](const Device& d) { return d.config.sample_period_s; }, "Clock period Ts.")
      .def("p_ap", [](const Device& d, const py::object& i) { return vec_or_scalar(i, [&](double c) { return d.nominal.p_ap(c); }); },
           "current_A"_a, "Stationary P(AP) of the nominal device at bias current(s) I (scalar or array, in A).")
      .def("tau_ap", [](const Device& d, const py::object& i) { return vec_or_scalar(i, [&](double c) { return d.nominal.tau_ap(c); }); },
           "current_A"_a, "Mean dwell time in AP at bias current(s) I (s).")
      .def("tau_p", [](const Device& d, const py::object& i) { return vec_or_scalar(i, [&](double c) { return d.nominal.tau_p(c); }); },
           "current_A"_a, "Mean dwell time in P at bias current(s) I (s).")
      .def("correlation", [](const Device& d, const py::object& i) { return vec_or_scalar(i, [&](double c) { return d.nominal.correlation(c); }); },
           "current_A"_a, "Lag-1 correlation rho = exp(-(1/tau_AP + 1/tau_P) Ts) of the sampled bits at I.")
      .def("current_for_p_ap", [](const Device& d, const py::object& p) { return vec_or_scalar(p, [&](double v) { return d.nominal.current_for_p_ap(v); }); },
           "p"_a, "Inverse of p_ap(): the current giving P(AP) = p (0 < p < 1), without clamping.")
      .def("bias_for_p", [](const Device& d, const py::object& p) { return vec_or_scalar(p, [&](double v) { return d.source->bias_current(v, d.nominal); }); },
           "p"_a, "Bias current the SNG applies to the nominal device for target bit probability p (readout, clamp to max_bias_A).")
      .def(
          "sample",
          [](const Device& d, double p, int64_t length, uint64_t seed, uint64_t image, uint32_t layer, const std::string& role,
             uint64_t device) {
            if (length < 1 || length > (int64_t{1} << 30)) fail("length {} must be between 1 and 2^30", length);
            std::vector<uint64_t> words(static_cast<size_t>((length + 63) / 64));
            d.source->generate(p, static_cast<int>(length), make_key(seed, image, layer, role, device), words.data());
            return unpack(words.data(), length);
          },
          "p"_a, "length"_a, "seed"_a = 0, "image"_a = 0, "layer"_a = 0, "role"_a = "input", "device"_a = 0,
          R"(A stream of the SNG (layer, role, device) at target probability p, as the `smtj` source draws it
(variation, bias rule and readout applied): a bool array of `length` bits.)")
      .def(
          "sample_at_current",
          [](const Device& d, double current_A, int64_t length, uint64_t seed) {
            if (length < 1 || length > (int64_t{1} << 34)) fail("length {} must be between 1 and 2^34", length);
            std::vector<uint64_t> words(static_cast<size_t>((length + 63) / 64));
            Xoshiro256 rng(seed);
            sample_markov_stream(d.nominal.chain(current_A), length, rng, words.data());
            return unpack(words.data(), length);
          },
          "current_A"_a, "length"_a, "seed"_a = 1,
          "The nominal device's AP state (True = AP) sampled every Ts at bias current I, from its stationary distribution.")
      .def(
          "variation",
          [](const Device& d, int count, uint32_t layer, const std::string& role) {
            if (count < 1) fail("count {} must be at least 1", count);
            std::vector<double> delta(count), ic(count), off(count);
            for (int i = 0; i < count; ++i) {
              const MtjParameters p = d.source->device(make_key(0, 0, layer, role, static_cast<uint64_t>(i))).parameters();
              delta[i] = p.delta, ic[i] = p.critical_current_A, off[i] = p.offset_current_A;
            }
            return py::dict("delta"_a = py::array_t<double>(count, delta.data()),
                            "critical_current_A"_a = py::array_t<double>(count, ic.data()),
                            "offset_current_A"_a = py::array_t<double>(count, off.data()));
          },
          "count"_a, "layer"_a = 0, "role"_a = "weight",
          R"(Device-to-device variation: the parameters of SNGs 0..count-1 of (layer, role) as drawn from the
description's spreads (fixed by the variation seed): a dict of arrays delta, critical_current_A,
offset_current_A. Without variation every device is the nominal one.)")
      .def("source", [](const Device& d) { return std::static_pointer_cast<BitSource>(d.source); },
           "The `smtj` BitSource of this description, named smtj:FILE for a file and smtj otherwise (also for a dict).");
  m.def("reference_device", [] { return json_to_py(nlohmann::json::parse(to_json_text(reference_device()))); },
        "The built-in reference device description (configs/device/reference.json) as a dict.");
  m.def("load_device", [](const std::filesystem::path& p) { return json_to_py(nlohmann::json::parse(to_json_text(load_device_config(p)))); },
        "path"_a, "A device JSON file, checked and completed with the reference's values, as a dict.");

  // --------------------------------------------------------------------------------- bit sources
  py::class_<BitSource, std::shared_ptr<BitSource>>(m, "BitSource", R"(A stochastic number generator (SNG) kind: turns
a probability p into a stream of L bits (docs/sc-engine.md). Build one with make_source().

A stream depends only on the source, p, L and its key (seed, image, layer, role, device), so the
same key gives the same bits.)")
      .def_property_readonly("name", &BitSource::name, "The spec, as make_source() accepts it.")
      .def_property_readonly("iid_bits", &BitSource::iid_bits, "Bits are i.i.d. Bernoulli(p) (the SC engine's binomial shortcut applies).")
      .def_property_readonly("exact_extremes", &BitSource::exact_extremes, "p = 0 and p = 1 always give constant streams.")
      .def(
          "generate",
          [](const BitSource& s, const py::object& p, int length, uint64_t seed, uint64_t image, uint32_t layer,
             const std::string& role, std::optional<py::array_t<uint64_t, py::array::forcecast>> devices, bool packed) -> py::object {
            if (length < 1 || length > (1 << 24)) fail("length {} must be between 1 and 2^24", length);
            const StreamKey key = make_key(seed, image, layer, role, 0);
            const auto pa = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(p);
            if (!pa || pa.ndim() > 1) fail("p: expected a probability or a 1-D array of them");
            const bool scalar = pa.ndim() == 0;
            const auto count = static_cast<int>(pa.size());
            std::vector<uint64_t> dev(static_cast<size_t>(count));
            if (devices) {
              if (devices->size() != count) fail("devices: {} entries for {} probabilities", devices->size(), count);
              for (int i = 0; i < count; ++i) dev[i] = devices->data()[i];
            } else {
              for (int i = 0; i < count; ++i) dev[i] = static_cast<uint64_t>(i);
            }
            for (int i = 0; i < count; ++i)
              if (!(pa.data()[i] >= 0.0 && pa.data()[i] <= 1.0)) fail("p[{}] = {} is not a probability in [0, 1]", i, pa.data()[i]);
            const int words = words_for(length);
            std::vector<uint64_t> out(static_cast<size_t>(count) * words);
            {
              py::gil_scoped_release release;
              s.generate_batch(count, pa.data(), dev.data(), length, key, out.data(), static_cast<size_t>(words));
            }
            if (packed) {
              if (scalar) return owned_array(std::move(out), {words});
              return owned_array(std::move(out), {count, words});
            }
            py::array_t<bool> bits(scalar ? std::vector<py::ssize_t>{length} : std::vector<py::ssize_t>{count, length});
            for (int i = 0; i < count; ++i) unpack_into(out.data() + static_cast<size_t>(i) * words, length, bits.mutable_data() + static_cast<size_t>(i) * length);
            return bits;
          },
          "p"_a, "length"_a, "seed"_a = 0, "image"_a = 0, "layer"_a = 0, "role"_a = "input", "devices"_a = py::none(),
          "packed"_a = false,
          R"(Streams of `length` bits. p: one probability (returns shape (length,)) or an array of them
(returns (len(p), length), stream i from SNG devices[i], default i). The key is (seed, image,
layer, role, device); role is "input", "weight" or "bias". packed=True returns the packed uint64
words instead (bit t of a stream is bit t % 64 of word t // 64, bits past length zero).)")
      .def("bit_mean", [](const BitSource& s, double p, uint64_t seed, uint64_t image, uint32_t layer, const std::string& role,
                          uint64_t device) { return s.bit_mean(p, make_key(seed, image, layer, role, device)); },
           "p"_a, "seed"_a = 0, "image"_a = 0, "layer"_a = 0, "role"_a = "input", "device"_a = 0,
           "Mean of one bit for target p on the SNG of that key (p for an ideal source).")
      .def("count_variance_factor", &BitSource::count_variance_factor, "p"_a, "length"_a,
           "Var(ones in L bits) / (L m (1 - m)): 1 for independent bits, > 1 for correlated, < 1 for low-discrepancy ones.")
      .def("markov_correlation", &BitSource::markov_correlation, "p"_a,
           "Lag-1 correlation of the nominal SNG's bits at p (0 for i.i.d.; NaN for non-Markov sources).")
      .def("__repr__", [](const BitSource& s) { return "spinsc.make_source('" + s.name() + "')"; });
  m.def("make_source", [](const std::string& spec) { return std::shared_ptr<BitSource>(package_sources().make(spec)); }, "spec"_a,
        R"(A bit source from its spec: "ideal", "lfsr[:n]", "sobol", "smtj[:device.json]" or "trace:DIR"
(replay of a trace library). Raises spinsc.Error on an unknown name or a bad argument.)");

  // ------------------------------------------------------------------------------- SC evaluation
  py::class_<PyScEngine>(m, "ScEngine", R"(A network run as a stochastic computer, bit by bit (docs/sc-engine.md).

ScEngine(network, length=100, source="smtj", multiply="signmag", accumulate="apc",
sharing="independent", analog=False, exact_bits=False, seed=1)

source: a spec string or a BitSource. multiply "signmag" | "bipolar"; accumulate "apc" | "mux";
sharing "independent" | "per-level" | "per-tap" | "independent-all"; analog runs the unquantized baseline
(always for a float network). exact_bits=False uses the binomial shortcut where it is exact in
distribution (as `spinsc eval` does without --exact-bits). The engine keeps its own copy of the
network. Results depend on the seed only, never on the thread count.)")
      .def(py::init([](const Network& net, int length, const py::object& source, const std::string& multiply,
                       const std::string& accumulate, const std::string& sharing, bool analog, bool exact_bits, uint64_t seed) {
             ScConfig c;
             c.length = length;
             c.multiply = parse_multiply(multiply);
             c.accumulate = parse_accumulate(accumulate);
             c.sharing = parse_sharing(sharing);
             c.analog = analog;
             c.exact_bits = exact_bits;
             c.seed = seed;
             auto src = to_source(source);
             c.source = src->name();
             return std::unique_ptr<PyScEngine>(new PyScEngine{ScEngine(net, c, src), net.arch});
           }),
           "network"_a, "length"_a = 100, "source"_a = "smtj", "multiply"_a = "signmag", "accumulate"_a = "apc",
           "sharing"_a = "independent", "analog"_a = false, "exact_bits"_a = false, "seed"_a = 1)
      .def_property_readonly("binomial_shortcut", [](const PyScEngine& e) { return e.engine.binomial_shortcut(); },
                             "Whether the binomial shortcut is in use.")
      .def_property_readonly("analog", [](const PyScEngine& e) { return e.engine.analog(); }, "Whether the unquantized (analog) baseline runs.")
      .def_property_readonly("layers", [](const PyScEngine& e) { return e.engine.layers(); }, "Number of weight layers.")
      .def_property_readonly(
          "config",
          [](const PyScEngine& e) {
            const ScConfig& c = e.engine.config();
            return py::dict("source"_a = c.source, "length"_a = c.length, "multiply"_a = to_string(c.multiply),
                            "accumulate"_a = to_string(c.accumulate), "sharing"_a = to_string(c.sharing), "analog"_a = c.analog,
                            "exact_bits"_a = c.exact_bits, "seed"_a = c.seed);
          },
          "The configuration as used (source by name).")
      .def(
          "accuracy",
          [](const PyScEngine& e, const py::array& images, const py::array& labels, int repeats, int threads,
             py::object progress, bool digital) {
            if (repeats < 1) fail("repeats {} must be at least 1", repeats);
            const Dataset d = to_dataset(images, labels, "numpy");
            CallbackObserver observer(std::move(progress));
            Evaluation ev;
            {
              py::gil_scoped_release release;
              ev = evaluate_sc(e.engine, d, repeats, threads, Context{package_registry(), &observer}, digital);
            }
            observer.rethrow();
            // The record of docs/results.md, as `spinsc eval --json` writes it.
            return json_to_py(ev.record());
          },
          "images"_a, "labels"_a, "repeats"_a = 1, "threads"_a = 0, "progress"_a = py::none(), "digital"_a = true,
          R"(Accuracy over `repeats` independent draws (repeat r uses the seed derive_seed(seed, EvalRepeat, {r})), images in
parallel on `threads` threads (0: all): the evaluation record of docs/results.md as a dict
(schema_version, accuracy_mean, accuracy_std (sample std over repeats), accuracy_ci95,
accuracy_per_repeat, images, repeats, seconds, weight_streams, synapses and the configuration:
length, source, multiply, accumulate, sharing, analog, exact_bits, path, seed) and, with digital
(the default), digital_accuracy: the network the engine converges to, on the same images; as
`spinsc eval --json` names them. `progress`, when given, is called as progress(task, done, total) while it runs
(task "sc eval", units image x repeat; e.g. a tqdm bar's update); an exception it raises is
raised when the evaluation ends.)")
      .def(
          "forward",
          [](const PyScEngine& e, const py::array& x, uint64_t image, int repeat) {
            int rows = 0;
            const std::vector<float> in = to_inputs(x, e.arch.front(), rows);
            if (rows != 1) fail("forward: one input of {} values, got {} inputs", e.arch.front(), rows);
            std::vector<ScLayerResult> r;
            {
              py::gil_scoped_release release;
              r = e.engine.forward(in.data(), image, repeat);
            }
            py::list l;
            for (const auto& layer : r) l.append(layer_result_dict(layer));
            return l;
          },
          "x"_a, "image"_a = 0, "repeat"_a = 0,
          R"(Every layer of one inference of input x (uint8 pixels or float32 values in [0, 1]); image and
repeat select the streams (as in accuracy(): image index, repeat index). A list with one dict per
layer: counter (int64 C_j), estimate (float32 s C_j / L) and output (activations, or the output
values of the last layer).)")
      .def(
          "layer",
          [](const PyScEngine& e, int l, const py::array& x, uint64_t image, int repeat) {
            if (l < 0 || l >= e.engine.layers()) fail("layer {} is not in 0..{}", l, e.engine.layers() - 1);
            int rows = 0;
            const std::vector<float> in = to_inputs(x, e.arch[static_cast<size_t>(l)], rows);
            if (rows != 1) fail("layer: one input of {} values, got {} inputs", e.arch[static_cast<size_t>(l)], rows);
            ScLayerResult r;
            {
              py::gil_scoped_release release;
              r = e.engine.layer(l, in.data(), image, repeat);
            }
            return layer_result_dict(r);
          },
          "index"_a, "x"_a, "image"_a = 0, "repeat"_a = 0,
          "Layer `index` alone for its input x (arch[index] values in [0, 1]): a dict counter, estimate, output.")
      .def(
          "predict",
          [](const PyScEngine& e, const py::array& x, uint64_t first_image, int repeat) {
            int rows = 0;
            const std::vector<float> in = to_inputs(x, e.arch.front(), rows);
            std::vector<int64_t> cls(static_cast<size_t>(rows));
            {
              py::gil_scoped_release release;
              for (int r = 0; r < rows; ++r)
                cls[static_cast<size_t>(r)] = e.engine.predict(in.data() + static_cast<size_t>(r) * e.arch.front(), first_image + r, repeat);
            }
            return owned_array(std::move(cls), {rows});
          },
          "x"_a, "first_image"_a = 0, "repeat"_a = 0,
          "SC classes of a batch (row r uses the streams of image first_image + r), as an int64 array.")
      .def(
          "outputs",
          [](const PyScEngine& e, const py::array& x, uint64_t first_image, int repeat, int threads) {
            const int features = e.arch.front(), classes = e.arch.back();
            // uint8 images are divided by 255 (one converted copy); float32 inputs are read in place.
            std::vector<float> converted;
            py::array_t<float, py::array::c_style> view;
            const float* in = nullptr;
            int rows = 0;
            if (x.dtype().is(py::dtype::of<uint8_t>())) {
              converted = to_inputs(x, features, rows);
              in = converted.data();
            } else {
              view = float_view(x, "inputs");
              if (view.ndim() == 0 || view.size() % features != 0)
                fail("inputs: {} values are not a whole number of inputs of {} features", view.size(), features);
              rows = static_cast<int>(view.size() / features);
              in = view.data();
            }
            if (threads < 0) fail("threads {} must not be negative", threads);
            std::vector<float> out(static_cast<size_t>(rows) * classes);
            {
              py::gil_scoped_release release;
              ParallelErrors errors;
              const int team = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 4) num_threads(team) if (team > 1 && rows > 1)
              for (int r = 0; r < rows; ++r) errors.run([&] {
                const auto stages = e.engine.forward(in + static_cast<size_t>(r) * features, first_image + static_cast<uint64_t>(r), repeat);
                std::memcpy(out.data() + static_cast<size_t>(r) * classes, stages.back().output.data(), classes * sizeof(float));
              });
              errors.rethrow();
            }
            return owned_array(std::move(out), {rows, classes});
          },
          "x"_a, "first_image"_a = 0, "repeat"_a = 0, "threads"_a = 0,
          R"(SC output values (the last stage's s C_j / L + b_j) of a batch, as an (N, classes) float32 array.
x: uint8 pixels or float32 inputs in [0, 1], (N, features) or any shape of N * features values;
a C-contiguous float32 array (e.g. a CPU torch tensor's .numpy()) is read without a copy, and
the result owns its memory (torch.from_numpy() wraps it without a copy). Row r uses the streams
of image first_image + r and `repeat`, so it equals forward(x[r], first_image + r, repeat)[-1]
["output"]. Rows run in parallel on `threads` threads (0: all) without the GIL; the result does
not depend on the thread count.)")
      .def(
          "reference_forward",
          [](const PyScEngine& e, const py::array& x) {
            int rows = 0;
            const std::vector<float> in = to_inputs(x, e.arch.front(), rows);
            if (rows != 1) fail("reference_forward: one input of {} values, got {} inputs", e.arch.front(), rows);
            const std::vector<float> y = e.engine.reference_forward(in.data());
            return float_array(y, {static_cast<py::ssize_t>(y.size())});
          },
          "x"_a, "The digital computation the engine converges to as L grows (the float network when analog).");

  // ------------------------------------------------------------------------------ SC noise model
  py::class_<MomentMatchedNoise>(m, "ScNoiseModel", R"(The moment-matched SC noise of training mode "sc" (docs/training.md,
include/spinsc/sc_noise.hpp): the variance of the engine's estimate s C_j / L of a
pre-activation u_j = (W_q x)_j under its default layout (sign-magnitude AND, APC counting,
broadcast inputs, one weight SNG per synapse), for a source and a stream length L.

ScNoiseModel(source="smtj", length=100, states=5): source a spec string or a BitSource; states
is the network's K (the weights lie on its levels). The same object `spinsc train --mode sc`
builds; spinsc.torch calls variance() for its noise layers.)")
      .def(py::init([](const py::object& source, int length, int states) {
             if (length < 1) fail("length {} must be at least 1", length);
             if (states < 3 || states % 2 == 0) fail("states {} must be odd and at least 3", states);
             return std::make_unique<MomentMatchedNoise>(to_source(source), length, states, 1);
           }),
           "source"_a = "smtj", "length"_a = 100, "states"_a = 5)
      .def(
          "variance",
          [](const MomentMatchedNoise& noise, const py::array& x, const py::array& weight, float scale, int threads) {
            const auto X = float_view(x, "x"), W = float_view(weight, "weight");
            if (X.ndim() != 2) fail("x: expected rows x inputs (2-D), got {} dimensions", X.ndim());
            if (W.ndim() != 2) fail("weight: expected outputs x inputs (2-D), got {} dimensions", W.ndim());
            if (W.shape(1) != X.shape(1)) fail("weight: {} inputs but x has {}", W.shape(1), X.shape(1));
            if (!(scale > 0.0f) || !std::isfinite(scale)) fail("scale {} must be positive and finite", scale);
            if (threads < 0) fail("threads {} must not be negative", threads);
            const int rows = static_cast<int>(X.shape(0)), in = static_cast<int>(X.shape(1)), out = static_cast<int>(W.shape(0));
            std::vector<double> v;
            {
              py::gil_scoped_release release;
              v = noise.variance(X.data(), rows, in, W.data(), out, scale, threads);
            }
            return owned_array(std::move(v), {rows, out});
          },
          "x"_a, "weight"_a, "scale"_a, "threads"_a = 0,
          R"(Var(s C_j / L) of every pre-activation: x (rows, inputs) float32 values in [0, 1] (the
layer's input streams' probabilities; for conv2d the im2col rows of receptive fields), weight
(outputs, inputs) the quantized weights W_q (each |w|/s on a level of K), scale s. Returns a
(rows, outputs) float64 array. Float32 C-contiguous arrays are read without a copy; the GIL is
released. The result does not depend on the thread count.)");

  // ---------------------------------------------------------------------------------------- cost
  m.def(
      "cost_report",
      [](const py::object& model, const py::object& arch, int states, int length, const std::string& sharing,
         const std::string& multiply, const std::string& accumulate, std::optional<std::filesystem::path> hw) {
        CostArchitecture a;
        if (!model.is_none()) {
          if (!arch.is_none()) fail("give model or arch, not both (a model states its architecture and K)");
          if (py::isinstance<Network>(model))
            a = cost_architecture(model.cast<const Network&>(), "network");
          else {
            const auto path = model.cast<std::filesystem::path>();
            a = cost_architecture(load_model(path), path.string());
          }
        } else {
          if (arch.is_none()) fail("give model (a Network or a model file) or arch (e.g. \"784,128,10\")");
          a = cost_architecture(to_architecture(arch), states);
        }
        CostOptions o;
        o.length = length;
        o.sharing = parse_cost_sharing(sharing);
        o.multiply = parse_multiply(multiply);
        o.accumulate = parse_accumulate(accumulate);
        const HwParams params = hw ? load_hw_params(*hw) : default_hw_params();
        return json_to_py(cost_record(cost_report(a, o, params)));
      },
      "model"_a = py::none(), "arch"_a = py::none(), "states"_a = 5, "length"_a = 100, "sharing"_a = "independent",
      "multiply"_a = "signmag", "accumulate"_a = "apc", "hw"_a = py::none(),
      R"(Hardware latency and energy per inference (docs/cost-model.md), as `spinsc cost --json` gives it:
a dict with config, latency_s, energy_j, neuron_activation_latency_s, sng_devices, sng_area_m2
(each keyed by design: quantized_smtj, analog_smtj, quantized_lfsr, analog_lfsr), breakdown,
ratios and parameters.

model: a Network or a model file (its architecture, K and used weight levels), or arch (a
string or list of MLP widths) with states = K. length = L; sharing "independent" | "per-level" |
"independent-all"; multiply "signmag" | "bipolar"; accumulate "apc" | "mux"; hw: a hardware parameter file (default: the
built-in configs/hw/default.json).)");

  // -------------------------------------------------------------------------------------- traces
  py::class_<Trace>(m, "Trace", R"(One recorded or simulated s-MTJ time series at one bias point (docs/device.md).

Trace(bits, sample_period_s, bias_current_A=None, target_p=None, temperature_K=None, note="",
origin="array") builds one from a bit array (True = AP); read_trace() reads a file.)")
      .def(py::init([](const py::array& bits, double sample_period_s, std::optional<double> bias, std::optional<double> target_p,
                       std::optional<double> temperature, const std::string& note, const std::string& origin) {
             Trace t;
             t.words = pack(bits, "bits");
             t.length = bits.size();
             t.sample_period_s = sample_period_s;
             t.bias_current_A = bias;
             t.target_p = target_p;
             t.temperature_K = temperature;
             t.note = note;
             t.origin = origin;
             // The file form is the one validated representation: a trace built here is checked
             // exactly as a file with the same content would be.
             return parse_trace(format_trace(t), origin);
           }),
           "bits"_a, "sample_period_s"_a, "bias_current_A"_a = py::none(), "target_p"_a = py::none(),
           "temperature_K"_a = py::none(), "note"_a = "", "origin"_a = "array")
      .def_readonly("origin", &Trace::origin, "The file it came from (or the origin given).")
      .def_readonly("bias_current_A", &Trace::bias_current_A, "Bias current of the recording (A), or None.")
      .def_readonly("target_p", &Trace::target_p, "Target probability of the recording, or None.")
      .def_readonly("sample_period_s", &Trace::sample_period_s, "Sample period Ts (s).")
      .def_readonly("temperature_K", &Trace::temperature_K, "Temperature (K), or None.")
      .def_readonly("note", &Trace::note, "Free text of the header.")
      .def_readonly("length", &Trace::length, "Number of samples.")
      .def_property_readonly("bits", [](const Trace& t) { return unpack(t.words.data(), t.length); }, "The samples as a bool array (True = AP).")
      .def_property_readonly("fraction_ones", &Trace::fraction_ones, "Fraction of samples in AP.")
      .def("fit", [](const Trace& t) { return trace_fit_dict(fit_markov(t)); },
           "Maximum-likelihood Markov fit (calibrate.hpp): p, switching probabilities, rho, dwell times, each (value, standard error).")
      .def("to_text", [](const Trace& t) { return format_trace(t); }, "The canonical file form.")
      .def("__repr__", [](const Trace& t) { return fmt::format("<spinsc.Trace '{}': {} samples>", t.origin, t.length); });
  m.def("read_trace", [](const std::filesystem::path& p) { return read_trace(p); }, "path"_a,
        "Read and validate one trace file (bits, resistance or voltage format). Raises spinsc.Error as 'FILE:LINE: fault'.");
  m.def("write_trace", [](const std::filesystem::path& p, const Trace& t) { write_trace(p, t); }, "path"_a, "trace"_a,
        "Write a trace in canonical form.");
  m.def("load_trace_library", [](const std::filesystem::path& dir) { return load_trace_library(dir); }, "directory"_a,
        "Every *.trace file of a directory, sorted by name (the library `trace:DIR` replays).");
  m.def(
      "import_traces",
      [](const std::filesystem::path& in, const std::filesystem::path& out) {
        std::vector<std::filesystem::path> written;
        {
          py::gil_scoped_release release;
          written = import_traces(in, out);
        }
        std::vector<std::string> s;
        for (const auto& w : written) s.push_back(w.string());
        return s;
      },
      "source"_a, "out_dir"_a,
      R"(Validate a trace file or a directory of them and write each as out_dir/<stem>.trace in
canonical form (nothing is written unless every input is valid); returns the written paths. What
`spinsc device import` does.)");

  py::class_<Calibration>(m, "Calibration", "Fitted transfer curve p(I) and dwell times of a trace library (calibrate()).")
      .def("as_dict", [](const Calibration& c) { return json_to_py(nlohmann::json::parse(calibration_json(c))); },
           "The calibration as `spinsc device calibrate --json` prints it.")
      .def("text", [](const Calibration& c) { return calibration_text(c); }, "The calibration as a table.")
      .def(
          "fitted_device",
          [](const Calibration& c, const py::object& base) { return std::make_unique<Device>(fitted_device(c, to_device_config(base)), "smtj"); },
          "base"_a = py::none(),
          "A Device: `base` (None: the reference) with the fitted Delta, Ic, offset and tau0. Raises spinsc.Error when the fit lacks them.")
      .def("__str__", [](const Calibration& c) { return calibration_text(c); });
  m.def(
      "calibrate",
      [](const py::object& traces, double tau0) {
        std::vector<Trace> list = py::isinstance<py::list>(traces) || py::isinstance<py::tuple>(traces)
                                      ? traces.cast<std::vector<Trace>>()
                                      : load_trace_library(traces.cast<std::filesystem::path>());
        py::gil_scoped_release release;
        return calibrate(list, tau0);
      },
      "traces"_a, "tau0_s"_a = 1e-9,
      R"(Fit the telegraph model to traces (a directory or a list of Trace): p(I) by maximum-likelihood
logistic fit, dwell times from the transition counts (docs/device.md). tau0_s is the attempt
time assumed when the traces have one temperature. Returns a Calibration.)");
  m.def(
      "autocorrelation",
      [](const py::array& bits, int max_lag) {
        const auto words = pack(bits, "bits");
        return stream_autocorrelation(words.data(), bits.size(), max_lag);
      },
      "bits"_a, "max_lag"_a, "Sample autocorrelation of a bit array at lags 0..max_lag.");
}
