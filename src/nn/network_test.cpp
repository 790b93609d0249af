// The layer list (network.hpp): parsing, canonical spelling, JSON, stages and their errors.
#include "spinsc/network.hpp"

#include <gtest/gtest.h>

#include "spinsc/error.hpp"
#include "spinsc/files.hpp"
#include "testutil.hpp"

namespace spinsc {
namespace {

std::string error_of(const std::string& text, Shape input = {1, 28, 28}) {
  try {
    parse_architecture(text, input);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "'" << text << "' was accepted";
  return "";
}

TEST(Architecture, MlpWidths) {
  const Architecture a = parse_architecture("784,128,10");
  EXPECT_TRUE(a.is_mlp());
  EXPECT_EQ(a, Architecture({784, 128, 10}));
  EXPECT_EQ(a.widths(), (std::vector<int>{784, 128, 10}));
  EXPECT_EQ(to_string(a), "784,128,10");
  EXPECT_EQ(a.weight_layers(), 2);
  // A dense-only layer list is the same MLP (flatten dropped, input flattened).
  EXPECT_EQ(parse_architecture("flatten,dense:128,dense:10"), a);
  EXPECT_EQ(parse_architecture("input:1x28x28,dense:128,dense:10"), a);
}

TEST(Architecture, LeNet5Stages) {
  const Architecture a = parse_architecture("lenet5");
  EXPECT_FALSE(a.is_mlp());
  EXPECT_EQ(a, parse_architecture("conv:6x5x5:p2,maxpool:2,conv:16x5x5,maxpool:2,dense:120,dense:84,dense:10"));
  EXPECT_EQ(a.widths(), (std::vector<int>{784, 6 * 14 * 14, 16 * 5 * 5, 120, 84, 10}));
  const auto st = stages(a);
  ASSERT_EQ(st.size(), 5u);
  EXPECT_EQ(st[0].kind, LayerKind::Conv2d);
  EXPECT_EQ(st[0].conv, (Shape{6, 28, 28}));
  EXPECT_EQ(st[0].pool, LayerKind::MaxPool2d);
  EXPECT_EQ(st[0].out, (Shape{6, 14, 14}));
  EXPECT_EQ(st[0].fan_in(), 25);
  EXPECT_EQ(st[1].conv, (Shape{16, 10, 10}));
  EXPECT_EQ(st[1].fan_in(), 150);
  EXPECT_EQ(st[2].kind, LayerKind::Dense);
  EXPECT_EQ(st[2].fan_in(), 400);
  EXPECT_TRUE(st[3].hidden);
  EXPECT_FALSE(st[4].hidden);
  EXPECT_EQ(to_string(a), "input:1x28x28,conv:6x5x5:p2,maxpool:2,conv:16x5x5,maxpool:2,dense:120,dense:84,dense:10");
}

TEST(Architecture, CanonicalSpellingAndJsonRoundTrip) {
  for (const std::string text : {"784,64,10", "lenet5", "conv:4x3:s2:p1,conv:8x3x3:p1,avgpool:2,flatten,dense:10",
                                 "input:3x32x32,conv:8x3x3:p1:s1,maxpool:4,dense:10"}) {
    const Architecture a = parse_architecture(text);
    EXPECT_EQ(parse_architecture(to_string(a)), a) << text;
    EXPECT_EQ(architecture_from_json(to_json(a)), a) << text;
  }
  EXPECT_EQ(parse_architecture("conv:4x3:s2,dense:10").layers[0].stride, 2);
  EXPECT_EQ(parse_architecture("input:3x32x32,dense:10").input, (Shape{3 * 32 * 32, 1, 1}));
}

TEST(Architecture, FromJsonFile) {
  const auto dir = testing::temp_dir("arch_json");
  write_file_atomic(dir / "a.json", R"({"input": [1, 28, 28], "layers": [{"kind": "conv2d", "units": 4, "kernel": 5, "padding": 2},
      {"kind": "avgpool2d", "kernel": 2}, {"kind": "flatten"}, {"kind": "dense", "units": 10}]})");
  const Architecture a = parse_architecture((dir / "a.json").string());
  EXPECT_EQ(a, parse_architecture("conv:4x5x5:p2,avgpool:2,flatten,dense:10"));
  write_file_atomic(dir / "bad.json", R"({"input": [1, 28, 28], "layers": [{"kind": "conv2d", "units": 4}]})");
  try {
    parse_architecture((dir / "bad.json").string());
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'kernel' is missing"), std::string::npos) << e.what();
  }
  write_file_atomic(dir / "garbage.json", "{");
  EXPECT_THROW(parse_architecture((dir / "garbage.json").string()), Error);
  EXPECT_THROW(parse_architecture((dir / "missing.json").string()), Error);
}

TEST(Architecture, ClearErrors) {
  EXPECT_NE(error_of("784").find("at least"), std::string::npos);
  EXPECT_NE(error_of("784,x,10").find("'x'"), std::string::npos);
  EXPECT_NE(error_of("784,0,10").find("'0'"), std::string::npos);
  EXPECT_NE(error_of("conv:6x5x5,fancy:3,dense:10").find("fancy:3"), std::string::npos);
  EXPECT_NE(error_of("conv:6x5x4,dense:10").find("square"), std::string::npos);
  EXPECT_NE(error_of("conv:6x5x5:q2,dense:10").find("q2"), std::string::npos);
  EXPECT_NE(error_of("maxpool:2,dense:10").find("must directly follow a conv2d"), std::string::npos);
  EXPECT_NE(error_of("conv:4x3,maxpool:2,maxpool:2,dense:10").find("must directly follow a conv2d"), std::string::npos);
  EXPECT_NE(error_of("dense:100,conv:4x3,dense:10").find("cannot follow"), std::string::npos);
  EXPECT_NE(error_of("conv:4x3,flatten,conv:4x3,dense:10").find("cannot follow"), std::string::npos);
  EXPECT_NE(error_of("conv:4x3,maxpool:5,dense:10").find("does not tile"), std::string::npos);
  EXPECT_NE(error_of("conv:4x30,dense:10").find("does not fit"), std::string::npos);
  EXPECT_NE(error_of("conv:4x3,maxpool:2").find("class scores"), std::string::npos);
  EXPECT_NE(error_of("conv:4x3:p3,dense:10").find("padding"), std::string::npos);
  EXPECT_NE(error_of("dense:10,input:1x28x28").find("first item"), std::string::npos);
  EXPECT_NE(error_of("input:1x28,dense:10").find("CxHxW"), std::string::npos);
  EXPECT_NE(error_of("flatten").find("no dense or conv2d"), std::string::npos);
  EXPECT_NE(error_of("conv:1048576x64,dense:10", {64, 64, 64}).find("too large"), std::string::npos);
  EXPECT_THROW(architecture_from_json(nlohmann::json::parse(R"({"input": [1, 2], "layers": []})")), Error);
  EXPECT_THROW(architecture_from_json(nlohmann::json::parse(R"({"input": [1, 2, 2], "layers": [{"kind": "dense", "units": 1e10}]})")),
               Error);
}

TEST(Network, ZerosFollowTheStages) {
  const Network net = Network::zeros(parse_architecture("conv:3x3x3:p1,avgpool:2,dense:4"), 5, TrainMode::Qat);
  ASSERT_EQ(net.layers.size(), 2u);
  EXPECT_EQ(net.layers[0].in, 9);
  EXPECT_EQ(net.layers[0].out, 3);
  EXPECT_EQ(net.layers[1].in, 3 * 14 * 14);
  EXPECT_EQ(net.arch, (std::vector<int>{784, 3 * 14 * 14, 4}));
  Network bad = net;
  bad.layers[0].gain.pop_back();
  EXPECT_THROW(validate(bad), Error);
  bad = net;
  bad.arch[1] = 5;
  EXPECT_THROW(validate(bad), Error);
}

}  // namespace
}  // namespace spinsc
