// Hardware parameter files: the shipped ones load, units convert, bad files fail clearly.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "spinsc/error.hpp"
#include "spinsc/files.hpp"
#include "spinsc/hw_params.hpp"
#include "testutil.hpp"

namespace spinsc {
namespace {

using nlohmann::json;

json default_json() { return json::parse(default_hw_params_json()); }

// configs/hw of this checkout: $SPINSC_SOURCE_DIR when it has one, else found from this file
// (CTest's discovered tests do not always receive SPINSC_SOURCE_DIR).
std::filesystem::path config_dir() {
  const auto from_env = testing::source_dir() / "configs" / "hw";
  if (std::filesystem::is_directory(from_env)) return from_env;
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "configs" / "hw";
}

// The message of the Error that parsing `j` throws ("" when it parses).
std::string error_of(const json& j) {
  try {
    parse_hw_params(j.dump(), "test.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_ERROR(j, ...)                                                  \
  do {                                                                        \
    const std::string msg = error_of(j);                                      \
    EXPECT_FALSE(msg.empty()) << "accepted";                                  \
    for (const char* part : {__VA_ARGS__}) EXPECT_NE(msg.find(part), std::string::npos) << msg; \
  } while (0)

TEST(HwParams, BuiltInDefaultIsTheShippedFile) {
  const auto path = config_dir() / "default.json";
  EXPECT_EQ(read_file(path), std::string(default_hw_params_json()))
      << "configs/hw/default.json and src/hw/default_params.cpp differ: edit both together";
  const HwParams h = default_hw_params();
  EXPECT_EQ(h.name, "default");
  EXPECT_EQ(h.parameters.size(), 31u);
}

TEST(HwParams, ShippedFilesLoad) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(config_dir())) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().string());
    const HwParams h = load_hw_params(entry.path());
    EXPECT_FALSE(h.name.empty());
    EXPECT_GT(h.smtj.bit_period_s, 0);
    for (const auto& p : h.parameters) EXPECT_FALSE(p.note.empty()) << p.path;
    ++files;
  }
  EXPECT_GE(files, 2);  // default, dedicated-weights
}

TEST(HwParams, ConvertsUnits) {
  const HwParams h = default_hw_params();
  EXPECT_DOUBLE_EQ(h.smtj.bias_current_A, 10e-6);    // 10 uA
  EXPECT_DOUBLE_EQ(h.smtj.bit_period_s, 20e-9);      // 20 ns
  EXPECT_DOUBLE_EQ(h.smtj.area_m2, 1.5e-12);         // 1.5 um2
  EXPECT_DOUBLE_EQ(h.logic.gate_delay_s, 20e-12);    // 20 ps
  EXPECT_DOUBLE_EQ(h.memory.read_energy_per_bit_J, 0.16e-12);
  EXPECT_DOUBLE_EQ(h.bias.reference_branch_power_W, 9e-6);
  EXPECT_EQ(h.lfsr.register_bits, 32);
  EXPECT_TRUE(h.memory.reload_weights_per_inference);

  json j = default_json();
  j["smtj"]["sense_amp_energy"] = {{"value", 0.005}, {"unit", "pJ"}, {"source", "x"}};
  j["smtj"]["read_voltage"] = {{"value", 100}, {"unit", "mV"}, {"reasoning", "x"}};
  j["smtj"]["area"] = {{"value", 1500000}, {"unit", "nm2"}, {"reasoning", "x"}};
  j["logic"]["and_energy"] = {{"value", 500}, {"unit", "aJ"}, {"reasoning", "x"}};
  j["bias"]["reference_branch_power"] = {{"value", 0.009}, {"unit", "mW"}, {"reasoning", "x"}};
  j["smtj"]["bias_current"] = {{"value", 10}, {"unit", "\u00b5A"}, {"reasoning", "x"}};
  const HwParams c = parse_hw_params(j.dump(), "t");
  EXPECT_DOUBLE_EQ(c.smtj.sense_amp_energy_J, 5e-15);
  EXPECT_DOUBLE_EQ(c.smtj.read_voltage_V, 0.1);
  EXPECT_DOUBLE_EQ(c.smtj.area_m2, 1.5e-12);
  EXPECT_DOUBLE_EQ(c.logic.and_energy_J, 0.5e-15);
  EXPECT_DOUBLE_EQ(c.bias.reference_branch_power_W, 9e-6);
  EXPECT_DOUBLE_EQ(c.smtj.bias_current_A, 10e-6);
}

TEST(HwParams, RejectsMissingParametersAndFields) {
  json j = default_json();
  j["smtj"].erase("bias_current");
  EXPECT_ERROR(j, "test.json", "missing parameter 'smtj.bias_current'");
  j = default_json();
  j.erase("logic");
  EXPECT_ERROR(j, "missing section 'logic'");
  j = default_json();
  j["logic"]["and_energy"].erase("unit");
  EXPECT_ERROR(j, "'logic.and_energy'", "missing field 'unit'");
  j = default_json();
  j["logic"]["and_energy"].erase("value");
  EXPECT_ERROR(j, "'logic.and_energy'", "missing field 'value'");
  j = default_json();
  j["logic"]["and_energy"].erase("reasoning");
  EXPECT_ERROR(j, "'logic.and_energy'", "'source' or 'reasoning'");
  j = default_json();
  j["logic"]["and_energy"]["reasoning"] = "";
  EXPECT_ERROR(j, "'logic.and_energy'", "empty");
  j = default_json();
  j.erase("name");
  EXPECT_ERROR(j, "missing field 'name'");
}

TEST(HwParams, RejectsBadValues) {
  json j = default_json();
  j["logic"]["full_adder_energy"]["value"] = -3.5;
  EXPECT_ERROR(j, "'logic.full_adder_energy'", "negative", "an energy");
  j = default_json();
  j["bias"]["reference_branch_power"]["value"] = -1;
  EXPECT_ERROR(j, "'bias.reference_branch_power'", "negative");
  j = default_json();
  j["smtj"]["bit_period"]["value"] = 0;
  EXPECT_ERROR(j, "'smtj.bit_period'", "must be positive");
  j = default_json();
  j["lfsr"]["register_bits"]["value"] = 32.5;
  EXPECT_ERROR(j, "'lfsr.register_bits'", "integer");
  j = default_json();
  j["lfsr"]["register_bits"]["value"] = 65;
  EXPECT_ERROR(j, "'lfsr.register_bits'", "[3, 64]");
}

TEST(HwParams, RejectsUnitsAndTypes) {
  json j = default_json();
  j["logic"]["and_energy"]["unit"] = "furlong";
  EXPECT_ERROR(j, "'logic.and_energy'", "unit 'furlong' is not an energy", "fJ");
  j = default_json();
  j["logic"]["and_energy"]["unit"] = "uA";  // a real unit of the wrong dimension
  EXPECT_ERROR(j, "unit 'uA' is not an energy");
  j = default_json();
  j["smtj"]["bit_period"]["unit"] = "xs";  // unknown prefix
  EXPECT_ERROR(j, "unit 'xs' is not a time");
  j = default_json();
  j["smtj"]["area"]["unit"] = "um";
  EXPECT_ERROR(j, "unit 'um' is not an area");
  j = default_json();
  j["logic"]["and_energy"]["value"] = "0.5";
  EXPECT_ERROR(j, "'logic.and_energy'", "must be a number");
  j = default_json();
  j["logic"]["and_energy"]["unit"] = 15;
  EXPECT_ERROR(j, "field 'unit' must be a string");
  j = default_json();
  j["logic"]["and_energy"] = 0.5;
  EXPECT_ERROR(j, "'logic.and_energy' must be an object");
  j = default_json();
  j["memory"]["reload_weights_per_inference"]["value"] = 1;
  EXPECT_ERROR(j, "'memory.reload_weights_per_inference'", "true or false");
  j = default_json();
  j["logic"]["and_energy"]["tolerance"] = 0.1;
  EXPECT_ERROR(j, "unknown field 'tolerance'");
  j = default_json();
  j["logic"]["nand_energy"] = j["logic"]["and_energy"];
  EXPECT_ERROR(j, "unknown parameter 'logic.nand_energy'");
  j = default_json();
  j["optics"] = json::object();
  EXPECT_ERROR(j, "unknown key 'optics'");
  EXPECT_THROW(parse_hw_params("{\"name\": ", "broken.json"), Error);
  EXPECT_THROW(load_hw_params("/nonexistent/hw.json"), Error);
}

TEST(HwParams, ExtendsReplacesWholeParameters) {
  const auto dir = testing::temp_dir("hw_extends");
  json base = default_json();
  base["name"] = "base";
  write_file_atomic(dir / "base.json", base.dump());
  json child = {{"name", "child"},
                {"extends", "base.json"},
                {"smtj", {{"bit_period", {{"value", 250}, {"unit", "us"}, {"source", "configs/device/reference.json"}}}}}};
  write_file_atomic(dir / "child.json", child.dump());
  const HwParams h = load_hw_params(dir / "child.json");
  EXPECT_EQ(h.name, "child");
  EXPECT_DOUBLE_EQ(h.smtj.bit_period_s, 250e-6);
  EXPECT_DOUBLE_EQ(h.smtj.bias_current_A, 10e-6);  // from the base

  const json from_default = {{"name", "d"}, {"extends", "default"}, {"memory", {{"reload_weights_per_inference", {{"value", false}, {"reasoning", "x"}}}}}};
  EXPECT_FALSE(parse_hw_params(from_default.dump(), "d.json").memory.reload_weights_per_inference);

  json broken = child;
  broken["smtj"]["bit_period"].erase("unit");  // an override is validated like any parameter
  write_file_atomic(dir / "broken.json", broken.dump());
  EXPECT_THROW(load_hw_params(dir / "broken.json"), Error);
  json missing = child;
  missing["extends"] = "nope.json";
  write_file_atomic(dir / "missing.json", missing.dump());
  EXPECT_THROW(load_hw_params(dir / "missing.json"), Error);
  json loop = child;
  loop["extends"] = "loop.json";
  write_file_atomic(dir / "loop.json", loop.dump());
  EXPECT_THROW(load_hw_params(dir / "loop.json"), Error);
}

std::string load_error(const std::filesystem::path& path) {
  try {
    load_hw_params(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// Errors name the file at fault: the referring file of a missing 'extends' target, the file
// holding a number beyond double's range (it used to abort with json's out_of_range.406), and
// a folder or device given as the file.
TEST(HwParams, FileErrorsNameTheFile) {
  const auto dir = testing::temp_dir("hw_file_errors");
  write_file_atomic(dir / "child.json", json{{"name", "c"}, {"extends", "nope.json"}}.dump());
  const std::string missing = load_error(dir / "child.json");
  EXPECT_NE(missing.find("child.json: 'extends'"), std::string::npos) << missing;
  EXPECT_NE(missing.find("nope.json"), std::string::npos) << missing;
  write_file_atomic(dir / "big.json", "1e400");
  EXPECT_NE(load_error(dir / "big.json").find("big.json: not valid JSON"), std::string::npos);
  write_file_atomic(dir / "big2.json", R"({"name": "x", "smtj": {"bit_period": {"value": 1e400}}})");
  EXPECT_NE(load_error(dir / "big2.json").find("big2.json: not valid JSON"), std::string::npos);
  EXPECT_NE(load_error(dir).find("is a directory"), std::string::npos);
  EXPECT_NE(load_error("/dev/zero").find("not a regular file"), std::string::npos);
}

}  // namespace
}  // namespace spinsc
