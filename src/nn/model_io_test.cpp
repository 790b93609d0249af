#include "spinsc/model_io.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>

#include "spinsc/error.hpp"
#include "spinsc/files.hpp"
#include "spinsc/rng.hpp"
#include "testutil.hpp"

namespace spinsc {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A small network whose every tensor holds distinct values, including awkward floats.
Network sample_network() {
  Network net = Network::zeros({6, 4, 5, 3}, 5, TrainMode::Qat);
  Xoshiro256 rng(derive_seed(7, SeedStream::TestFixture, {1}));
  for (DenseLayer& layer : net.layers) {
    for (float& w : layer.weight) w = static_cast<float>(rng.normal() * 0.3);
    for (float& b : layer.bias) b = static_cast<float>(rng.normal() * 0.1);
    for (float& g : layer.gain) g = static_cast<float>(1.0 + rng.uniform());
  }
  net.layers[0].weight[0] = -0.0f;
  net.layers[0].weight[1] = std::numeric_limits<float>::denorm_min();
  net.layers[0].weight[2] = std::numeric_limits<float>::max();
  net.layers[0].weight[3] = 1.0f / 3.0f;
  net.layers[0].scale = 0.123456789f;
  net.layers[1].scale = 1e-7f;
  net.layers[2].scale = 3.0f;
  net.training = {{"epochs", 3}, {"lr", 0.001}, {"optimizer", "adam"}, {"seed", 42}, {"note", "µ-Ω ✓ \"quoted\""},
                  {"history", {{{"epoch", 1}, {"loss", 0.5}}}}};
  return net;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

void expect_same_network(const Network& a, const Network& b) {
  EXPECT_EQ(a.arch, b.arch);
  EXPECT_EQ(a.states, b.states);
  EXPECT_EQ(a.mode, b.mode);
  EXPECT_EQ(a.training, b.training);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t l = 0; l < a.layers.size(); ++l) {
    EXPECT_EQ(a.layers[l].in, b.layers[l].in);
    EXPECT_EQ(a.layers[l].out, b.layers[l].out);
    EXPECT_TRUE(same_bits(a.layers[l].weight, b.layers[l].weight)) << "layer " << l;
    EXPECT_TRUE(same_bits(a.layers[l].bias, b.layers[l].bias)) << "layer " << l;
    EXPECT_TRUE(same_bits(a.layers[l].gain, b.layers[l].gain)) << "layer " << l;
    EXPECT_EQ(std::bit_cast<uint32_t>(a.layers[l].scale), std::bit_cast<uint32_t>(b.layers[l].scale)) << "layer " << l;
  }
}

// A model file taken apart: header JSON and the data section, to damage one piece and reassemble.
struct ModelParts {
  json header;
  std::string data;
  std::string assemble() const {
    const std::string head = header.dump();
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((uint64_t{head.size()} >> (8 * i)) & 0xff);
    return out + head + data;
  }
};

ModelParts split_model(const std::string& bytes) {
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t{static_cast<uint8_t>(bytes[i])} << (8 * i);
  return {json::parse(bytes.substr(8, n)), bytes.substr(8 + n)};
}

class ModelIoTest : public ::testing::Test {
 protected:
  fs::path dir = testing::temp_dir("model_io");
  fs::path good = dir / "good.safetensors";
  std::string good_bytes;
  void SetUp() override {
    save_model(good, sample_network());
    good_bytes = read_file(good);
  }
  // Loads `bytes` written to a file and returns the Error message (failing if none).
  std::string load_error(const std::string& bytes, const std::string& name = "bad.safetensors") {
    const fs::path path = dir / name;
    write_file_atomic(path, bytes);
    try {
      load_model(path);
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path.string()), std::string::npos) << "message does not name the file: " << msg;
      return msg;
    }
    ADD_FAILURE() << "load_model accepted a damaged file";
    return "";
  }
  std::string mutated_error(const std::function<void(ModelParts&)>& mutate) {
    ModelParts parts = split_model(good_bytes);
    mutate(parts);
    return load_error(parts.assemble());
  }
};

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' lacks '" << part << "'";
}

TEST_F(ModelIoTest, RoundTripIsBitExact) {
  const Network loaded = load_model(good);
  expect_same_network(sample_network(), loaded);
  // Saving what was loaded reproduces the same bytes.
  save_model(dir / "again.safetensors", loaded);
  EXPECT_EQ(read_file(dir / "again.safetensors"), good_bytes);
}

TEST_F(ModelIoTest, LayoutFollowsTheDocumentedFormat) {
  ASSERT_GE(good_bytes.size(), 8u);
  const ModelParts parts = split_model(good_bytes);
  EXPECT_EQ((good_bytes.size() - parts.data.size()) % 8, 0u) << "tensor data is not 8-byte aligned";
  const json& meta = parts.header.at("__metadata__");
  EXPECT_EQ(meta.at("format"), "spinsc-net");
  EXPECT_EQ(meta.at("format_version"), "2");
  EXPECT_EQ(meta.at("arch"), "6,4,5,3");
  EXPECT_EQ(meta.at("architecture"), "6,4,5,3");
  EXPECT_EQ(json::parse(meta.at("layers").get<std::string>()),
            json::parse(R"({"input": [6, 1, 1], "layers": [{"kind": "dense", "units": 4}, {"kind": "dense", "units": 5},
                            {"kind": "dense", "units": 3}]})"));
  EXPECT_EQ(meta.at("states"), "5");
  EXPECT_EQ(meta.at("mode"), "qat");
  EXPECT_EQ(json::parse(meta.at("scales").get<std::string>()).size(), 3u);
  EXPECT_EQ(json::parse(meta.at("training").get<std::string>()).at("seed"), 42);
  const json& w = parts.header.at("layers.1.weight");
  EXPECT_EQ(w.at("dtype"), "F32");
  EXPECT_EQ(w.at("shape"), json({5, 4}));
  EXPECT_EQ(parts.header.at("layers.2.gain").at("shape"), json({3}));
  EXPECT_EQ(parts.header.size(), 1u + 3 * 3);
}

TEST_F(ModelIoTest, SaveIsAtomicAndRefusesInvalidNetworks) {
  Network bad = sample_network();
  bad.layers[1].bias[2] = std::nanf("");
  EXPECT_THROW(save_model(dir / "nan.safetensors", bad), Error);
  EXPECT_FALSE(fs::exists(dir / "nan.safetensors"));
  // Overwriting leaves the complete new file and no temporary beside it.
  Network other = sample_network();
  other.layers[0].bias[0] = 5.0f;
  save_model(good, other);
  EXPECT_EQ(load_model(good).layers[0].bias[0], 5.0f);
  for (const auto& entry : fs::directory_iterator(dir)) EXPECT_EQ(entry.path().extension(), ".safetensors") << entry.path();
}

TEST_F(ModelIoTest, RejectsTruncatedFiles) {
  for (size_t cut : {size_t{0}, size_t{5}, size_t{8}, size_t{20}, good_bytes.size() / 2, good_bytes.size() - 4, good_bytes.size() - 1})
    EXPECT_FALSE(load_error(good_bytes.substr(0, cut)).empty()) << "cut at " << cut;
  EXPECT_TRUE(Contains(load_error(good_bytes.substr(0, good_bytes.size() - 4)), "outside"));
  EXPECT_TRUE(Contains(load_error(good_bytes + "junk"), "after the last tensor"));
}

TEST_F(ModelIoTest, RejectsBadHeaderLength) {
  for (uint64_t n : {uint64_t{0}, uint64_t{1}, uint64_t{good_bytes.size()}, ~uint64_t{0}, uint64_t{1} << 40}) {
    std::string bytes = good_bytes;
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    EXPECT_TRUE(Contains(load_error(bytes), "header length")) << n;
  }
  // A length inside the file but not at the end of the JSON.
  std::string bytes = good_bytes;
  bytes[0] = static_cast<char>(bytes[0] - 3);
  EXPECT_FALSE(load_error(bytes).empty());
}

TEST_F(ModelIoTest, RejectsBadJson) {
  std::string bytes = good_bytes;
  const size_t header_end = good_bytes.size() - split_model(good_bytes).data.size();
  bytes[good_bytes.rfind('}', header_end)] = '#';
  EXPECT_TRUE(Contains(load_error(bytes), "not valid JSON"));
  bytes = good_bytes;
  bytes[8] = '[';
  EXPECT_TRUE(Contains(load_error(bytes), "safetensors"));
  EXPECT_TRUE(Contains(mutated_error([](ModelParts& p) { p.header["__metadata__"]["training"] = "{not json"; }), "training"));
  EXPECT_TRUE(Contains(mutated_error([](ModelParts& p) { p.header["__metadata__"]["scales"] = "[1, 2]"; }), "scales"));
  EXPECT_TRUE(Contains(mutated_error([](ModelParts& p) { p.header["__metadata__"]["states"] = 5; }), "not a string"));
}

TEST_F(ModelIoTest, RejectsWrongDtype) {
  EXPECT_TRUE(Contains(mutated_error([](ModelParts& p) { p.header["layers.0.bias"]["dtype"] = "F16"; }), "dtype F16"));
  EXPECT_TRUE(Contains(mutated_error([](ModelParts& p) { p.header["layers.2.weight"].erase("dtype"); }), "layers.2.weight"));
}

TEST_F(ModelIoTest, RejectsWrongShape) {
  auto dense = [](std::vector<int> units) {
    json layers = json::array();
    for (int u : units) layers.push_back({{"kind", "dense"}, {"units", u}});
    return json{{"input", {6, 1, 1}}, {"layers", layers}}.dump();
  };
  EXPECT_TRUE(Contains(mutated_error([](ModelParts& p) { p.header["layers.1.weight"]["shape"] = {4, 5}; }), "shape [4,5]"));
  EXPECT_TRUE(Contains(mutated_error([&](ModelParts& p) {
    p.header["__metadata__"]["layers"] = dense({5, 5, 3});
    p.header["__metadata__"]["arch"] = "6,5,5,3";
  }), "layers.0.weight"));
  EXPECT_TRUE(Contains(mutated_error([&](ModelParts& p) {
    p.header["__metadata__"]["layers"] = dense({4, 5});
    p.header["__metadata__"]["arch"] = "6,4,5";
    p.header["__metadata__"]["scales"] = "[1, 1]";
  }), "unexpected tensor 'layers.2.bias'"));
  EXPECT_TRUE(Contains(mutated_error([](ModelParts& p) { p.header["__metadata__"]["arch"] = "6,5,5,3"; }), "disagrees"));
  EXPECT_TRUE(Contains(mutated_error([](ModelParts& p) { p.header["__metadata__"]["layers"] = "{\"input\": [6, 1, 1]}"; }), "'layers'"));
  EXPECT_TRUE(Contains(mutated_error([](ModelParts& p) { p.header["__metadata__"]["layers"] = "[6,x"; }), "'layers'"));
  EXPECT_TRUE(Contains(mutated_error([&](ModelParts& p) {
    p.header["__metadata__"]["layers"] = json{{"input", {6, 1, 1}}, {"layers", {{{"kind", "maxpool2d"}, {"kernel", 2}}}}}.dump();
  }), "'layers'"));
}

// Version 1 files (MLPs: format "spinsc-mlp", widths in "arch", no layer list) keep loading.
TEST_F(ModelIoTest, LoadsVersionOneFiles) {
  ModelParts parts = split_model(good_bytes);
  json& meta = parts.header["__metadata__"];
  meta["format"] = "spinsc-mlp";
  meta["format_version"] = "1";
  meta.erase("layers");
  meta.erase("architecture");
  const fs::path v1 = dir / "v1.safetensors";
  write_file_atomic(v1, parts.assemble());
  const Network loaded = load_model(v1);
  expect_same_network(sample_network(), loaded);
  EXPECT_TRUE(loaded.is_mlp());
  // Written back, it is a version 2 file with the same tensors.
  save_model(dir / "v2.safetensors", loaded);
  EXPECT_EQ(read_file(dir / "v2.safetensors"), good_bytes);
  meta["arch"] = "6,x,5,3";
  EXPECT_TRUE(Contains(load_error(parts.assemble()), "arch"));
  meta["arch"] = "6,4,5,3";
  meta["format_version"] = "2";
  EXPECT_TRUE(Contains(load_error(parts.assemble()), "version"));
}

// A convolutional network: conv weights are [F, C, k, k]; the round trip is bit-exact.
TEST_F(ModelIoTest, ConvolutionalRoundTrip) {
  Network net = Network::zeros(parse_architecture("conv:3x3x3:p1,maxpool:2,conv:4x3x3,avgpool:2,dense:5", {2, 12, 12}), 5,
                               TrainMode::Qat);
  Xoshiro256 rng(derive_seed(3, SeedStream::TestFixture, {1}));
  for (DenseLayer& layer : net.layers)
    for (float& w : layer.weight) w = static_cast<float>(rng.normal());
  net.layers[1].scale = 0.75f;
  const fs::path path = dir / "conv.safetensors";
  save_model(path, net);
  const Network loaded = load_model(path);
  expect_same_network(net, loaded);
  EXPECT_EQ(loaded.architecture, net.architecture);
  const ModelParts parts = split_model(read_file(path));
  EXPECT_EQ(parts.header["layers.0.weight"]["shape"], json({3, 2, 3, 3}));
  EXPECT_EQ(parts.header["layers.1.weight"]["shape"], json({4, 3, 3, 3}));
  EXPECT_EQ(parts.header["layers.2.weight"]["shape"], json({5, 16}));
  EXPECT_EQ(parts.header["__metadata__"]["architecture"], "input:2x12x12,conv:3x3x3:p1,maxpool:2,conv:4x3x3,avgpool:2,dense:5");
  EXPECT_EQ(parts.header["__metadata__"]["arch"], "288,108,16,5");
}

TEST_F(ModelIoTest, RejectsMissingTensorAndMetadata) {
  EXPECT_TRUE(Contains(mutated_error([](ModelParts& p) { p.header.erase("layers.1.gain"); }), "'layers.1.gain' is missing"));
  EXPECT_TRUE(Contains(mutated_error([](ModelParts& p) { p.header["__metadata__"].erase("states"); }), "'states' is missing"));
  EXPECT_TRUE(Contains(mutated_error([](ModelParts& p) { p.header["__metadata__"]["mode"] = "fancy"; }), "fancy"));
  EXPECT_TRUE(Contains(mutated_error([](ModelParts& p) { p.header["__metadata__"]["states"] = "4"; }), "states"));
  EXPECT_TRUE(Contains(mutated_error([](ModelParts& p) { p.header["__metadata__"]["format_version"] = "3"; }), "version"));
}

TEST_F(ModelIoTest, RejectsOverlappingOrOutOfRangeData) {
  EXPECT_TRUE(Contains(mutated_error([](ModelParts& p) { p.header["layers.0.gain"]["data_offsets"] = p.header["layers.0.bias"]["data_offsets"]; }),
                       "overlap"));
  EXPECT_TRUE(Contains(mutated_error([](ModelParts& p) { p.header["layers.0.bias"]["data_offsets"] = {-4, 12}; }), "data_offsets"));
  EXPECT_TRUE(Contains(mutated_error([](ModelParts& p) { p.header["layers.0.bias"]["data_offsets"] = {8, 4}; }), "outside"));
  EXPECT_TRUE(Contains(mutated_error([](ModelParts& p) {
                         auto off = p.header["layers.2.gain"]["data_offsets"];
                         p.header["layers.2.gain"]["data_offsets"] = {off[0].get<uint64_t>() + 4, off[1].get<uint64_t>() + 4};
                         p.data += "pad!";
                       }),
                       "unused bytes"));
}

TEST_F(ModelIoTest, RejectsForeignSafetensors) {
  // What Python's safetensors.numpy.save_file writes: tensors, no spinsc metadata.
  ModelParts foreign{json{{"embedding", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {0, 8}}}}}, std::string(8, '\0')};
  EXPECT_TRUE(Contains(load_error(foreign.assemble()), "not a spinsc model"));
  foreign.header["__metadata__"] = {{"format", "pt"}};
  EXPECT_TRUE(Contains(load_error(foreign.assemble()), "format 'pt'"));
  EXPECT_TRUE(Contains(load_error("PK\x03\x04 this is a zip file, not a model"), "header length"));
}

TEST_F(ModelIoTest, RejectsNonFiniteValues) {
  ModelParts parts = split_model(good_bytes);
  const uint64_t at = parts.header["layers.1.weight"]["data_offsets"][0].get<uint64_t>() + 8;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(parts.data.data() + at, &nan, sizeof nan);
  EXPECT_TRUE(Contains(load_error(parts.assemble()), "non-finite"));
  EXPECT_TRUE(Contains(mutated_error([](ModelParts& p) { p.header["__metadata__"]["scales"] = "[1, -2, 3]"; }), "scale"));
}

TEST_F(ModelIoTest, RejectsMissingFileAndDirectory) {
  EXPECT_THROW(load_model(dir / "absent.safetensors"), Error);
  EXPECT_THROW(load_model(dir), Error);
}

// Every single-byte corruption of the header either loads or throws spinsc::Error.
TEST_F(ModelIoTest, NeverCrashesOnCorruptedHeader) {
  const ModelParts parts = split_model(good_bytes);
  const size_t header_end = good_bytes.size() - parts.data.size();
  const fs::path path = dir / "fuzz.safetensors";
  for (size_t pos = 0; pos < header_end; pos += 3) {
    std::string bytes = good_bytes;
    bytes[pos] = static_cast<char>(bytes[pos] ^ 0x5a);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;  // no fsync: hundreds of files
    try {
      validate(load_model(path));
    } catch (const Error&) {
    }
  }
}

// The file is usable outside spinsc: tests/python/read_safetensors.py reads it with numpy alone.
TEST_F(ModelIoTest, ReadableWithPythonAndNumpy) {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "/usr/bin/python3 with numpy is not available (apt-get install python3-numpy)";
  // The source tree from the environment, else from this file's own (absolute) path.
  fs::path script = testing::source_dir() / "tests/python/read_safetensors.py";
  if (!fs::exists(script)) script = fs::path(__FILE__).parent_path().parent_path().parent_path() / "tests/python/read_safetensors.py";
  ASSERT_TRUE(fs::exists(script)) << script;
  const std::string command = "/usr/bin/python3 '" + script.string() + "' '" + good.string() + "' --json";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  ASSERT_EQ(::pclose(pipe), 0) << command << " printed: " << out;
  const json result = json::parse(out);
  const Network net = sample_network();
  const json& meta = result.at("metadata");
  EXPECT_EQ(meta.at("format"), "spinsc-net");
  EXPECT_EQ(meta.at("arch"), "6,4,5,3");
  EXPECT_EQ(json::parse(meta.at("training").get<std::string>()), net.training);
  const json& tensors = result.at("tensors");
  EXPECT_EQ(tensors.size(), 9u);
  for (size_t l = 0; l < net.layers.size(); ++l) {
    const DenseLayer& layer = net.layers[l];
    const std::pair<const char*, const std::vector<float>*> parts[] = {{"weight", &layer.weight}, {"bias", &layer.bias}, {"gain", &layer.gain}};
    for (const auto& [part, values] : parts) {
      const json& t = tensors.at("layers." + std::to_string(l) + "." + part);
      EXPECT_EQ(t.at("dtype"), "float32");
      std::vector<float> read;
      for (const json& v : t.at("values")) read.push_back(static_cast<float>(v.get<double>()));
      EXPECT_TRUE(same_bits(read, *values)) << "layers." << l << "." << part;
    }
    EXPECT_EQ(tensors.at("layers." + std::to_string(l) + ".weight").at("shape"), json({layer.out, layer.in}));
  }
}

}  // namespace
}  // namespace spinsc
