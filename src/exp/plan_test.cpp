// Sweep plans: parsing, validation with clear errors, expansion, job identity and sharing.
#include "spinsc/plan.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <tuple>

#include "spinsc/error.hpp"
#include "spinsc/files.hpp"
#include "spinsc/trace.hpp"
#include "testutil.hpp"

namespace spinsc {
namespace {

using nlohmann::json;

std::string error_of(const json& plan) {
  try {
    expand(parse_plan(plan, "plan 'p.json'"));
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << plan.dump();
  return "";
}

// A trace library of `traces` bits-format files in `dir`: fractions of ones 0.1, 0.3, ... (i.i.d.
// bits from `seed`), `samples` samples each.
void write_trace_library(const std::filesystem::path& dir, int traces, int samples, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (int i = 0; i < traces; ++i) {
    const double p = (2 * i + 1) / (2.0 * traces);
    std::string text = fmt::format("# target_p: {}\n# sample_period_s: 1e-9\n# format: bits\n", p);
    for (int t = 0; t < samples; ++t) {
      text += std::uniform_real_distribution<double>(0, 1)(rng) < p ? '1' : '0';
      if (t % 64 == 63 || t + 1 == samples) text += '\n';
    }
    write_file_atomic(dir / fmt::format("p{}.trace", i), text);
  }
}

// The built-in device study: both literature devices at 0.1, 1, 10 and 100 times their
// relaxation time at p = 1/2, the 3-hidden network at K = 5 and 11, four lengths, without and with
// SC; written out as a plan file it gives the same cells and jobs.
TEST(Plan, BuiltInDeviceStudy) {
  EXPECT_EQ(builtin_plan_names(), (std::vector<std::string>{"device-study", "reproduce"}));
  const Plan p = builtin_plan("device-study");
  const auto cells = expand(p);
  ASSERT_EQ(cells.size(), 128u);
  std::map<std::string, std::set<double>> clocks;
  std::set<std::tuple<std::string, double, int, int, std::string>> distinct;
  for (const CellConfig& c : cells) {
    EXPECT_EQ(c.arch, "784,256,128,64,10");
    EXPECT_EQ(c.source, "smtj");
    const std::string name = c.device["name"].get<std::string>();
    const double ts = c.device["sample_period_s"].get<double>();
    clocks[name].insert(ts);
    distinct.emplace(name, ts, c.states, c.length, c.training);
  }
  EXPECT_EQ(distinct.size(), 128u);
  // perpendicular_ns: dwell 2.7 ns at p = 1/2, relaxation 1/lambda = 1.35 ns; inplane_ns: 10 ns, 5 ns.
  EXPECT_EQ(clocks["perpendicular_ns"], (std::set<double>{1.4e-10, 1.4e-9, 1.4e-8, 1.4e-7}));
  EXPECT_EQ(clocks["inplane_ns"], (std::set<double>{5e-10, 5e-9, 5e-8, 5e-7}));
  const JobGraph g = jobs_of(cells);
  std::map<std::string, int> kinds;
  for (const Job& j : g.jobs) ++kinds[j.kind];
  EXPECT_EQ(kinds["train"], 2 + 2 + 64);  // qat bases per K, their continuations without SC, one with SC per device, clock, K, L
  EXPECT_EQ(kinds["evaluate"], 128);
  EXPECT_EQ(kinds["cost"], 64);
  const JobGraph again = jobs_of(expand(parse_plan(plan_json(p), "exported")));
  ASSERT_EQ(again.jobs.size(), g.jobs.size());
  for (size_t i = 0; i < g.jobs.size(); ++i) EXPECT_EQ(again.jobs[i].id, g.jobs[i].id);
  EXPECT_THROW(builtin_plan("device_study"), Error);
}

// A plan's device may name a built-in device (no such file beside the plan).
TEST(Plan, DeviceByBuiltInName) {
  const auto cells = expand(parse_plan(json::parse(R"({"base": {"device": "inplane_ns"}, "axes": {"length": [8]}})"), "t"));
  EXPECT_EQ(cells[0].device["name"], "inplane_ns");
  EXPECT_NE(error_of(json::parse(R"({"base": {"device": "no_such_device"}, "axes": {"length": [8]}})")).find("device 'no_such_device': no such file, and no built-in device of that name"),
            std::string::npos);
}

TEST(Plan, ExpandsTheProductOfItsAxes) {
  const Plan p = parse_plan(json::parse(R"({"name": "t", "base": {"arch": "784,32,10", "repeats": 2},
      "axes": {"length": [8, 16, 100], "states": [5, 11], "training": ["without_sc", "with_sc"]}})"), "t");
  const auto cells = expand(p);
  ASSERT_EQ(cells.size(), 12u);
  // Axes by name (length, states, training), the last fastest.
  EXPECT_EQ(cells[0].length, 8);
  EXPECT_EQ(cells[0].states, 5);
  EXPECT_EQ(cells[0].training, "without_sc");
  EXPECT_EQ(cells[1].training, "with_sc");
  EXPECT_EQ(cells[2].states, 11);
  EXPECT_EQ(cells[4].length, 16);
  EXPECT_EQ(cells[11].length, 100);
  for (const auto& c : cells) {
    EXPECT_EQ(c.arch, "784,32,10");
    EXPECT_EQ(c.repeats, 2);
    EXPECT_EQ(c.device["name"], "reference");  // the default source is smtj with the reference device
  }
}

TEST(Plan, DeviceParametersAsAxes) {
  const Plan p = parse_plan(json::parse(R"({"base": {"device": {"delta": 8, "name": "d"}},
      "axes": {"device.sample_period_s": [1e-9, 1e-6], "device.variation.delta.sigma": [0, 0.05]}})"), "t");
  const auto cells = expand(p);
  ASSERT_EQ(cells.size(), 4u);
  EXPECT_EQ(cells[1].device["sample_period_s"], 1e-9);
  EXPECT_EQ(cells[1].device["variation"]["delta"]["sigma"], 0.05);
  EXPECT_EQ(cells[3].device["sample_period_s"], 1e-6);
  EXPECT_EQ(cells[3].device["delta"], 8);
}

TEST(Plan, ExplicitCells) {
  const auto cells = expand(parse_plan(json::parse(R"({"base": {"source": "ideal"},
      "cells": [{"length": 4}, {"length": 8, "sharing": "per-level"}]})"), "t"));
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_EQ(cells[1].sharing, "per-level");
  EXPECT_TRUE(cells[0].device.is_null());
}

TEST(Plan, ClearErrors) {
  EXPECT_NE(error_of(json::parse(R"({"axes": {"lenght": [1]}})")).find("unknown setting 'lenght'"), std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"axes": {"length": []}})")).find("axis 'length' must be a non-empty list"), std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"axes": {"length": [8, 0]}})")).find("'length' = 0"), std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"axes": {"length": [8, 0]}})")).find("length = 0"), std::string::npos);  // names the cell
  EXPECT_NE(error_of(json::parse(R"({"axes": {"states": [4]}})")).find("must be odd"), std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"axes": {"arch": ["784,x"]}})")).find("'arch'"), std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"axes": {"device.fancy": [1]}})")).find("'device.fancy' is not a device parameter"), std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"axes": {"device.delta": [-1]}})")).find("delta"), std::string::npos);
  for (const char* key : {"device.a~b", "device.~1", "device.variation/delta", "device.", "device..delta"})
    EXPECT_NE(error_of(json{{"axes", {{key, {1}}}}}).find("is not a device parameter"), std::string::npos) << key;
  EXPECT_NE(error_of(json::parse(R"({"base": {"source": "ideal"}, "axes": {"device.delta": [5]}})")).find("smtj source only"),
            std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"axes": {"training": ["sometimes"]}})")).find("not one of float, without_sc, with_sc"),
            std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"base": {"length": 8}, "axes": {"length": [8]}})")).find("both in 'base' and an axis"),
            std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"base": {}})")).find("needs 'axes' or 'cells'"), std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"axes": {"length": [8]}, "extra": 1})")).find("unknown plan field 'extra'"), std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"axes": {"sharing": ["shared"]}})")).find("shared"), std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"axes": {"device": ["missing.json"]}})")).find("missing.json"), std::string::npos);
  // Training with SC noise the moment-matched model does not have (it models signmag with apc).
  EXPECT_NE(error_of(json::parse(R"({"base": {"training": "with_sc"}, "axes": {"accumulate": ["apc", "mux"]}})"))
                .find("models signmag with apc only, not signmag with mux"),
            std::string::npos);
  EXPECT_NO_THROW(expand(parse_plan(json::parse(R"({"base": {"training": "without_sc"}, "axes": {"accumulate": ["apc", "mux"]}})"),
                                    "plan 'p.json'")));
}

TEST(Plan, LoadResolvesDeviceFilesBesideThePlan) {
  const auto dir = testing::temp_dir("plan");
  write_file_atomic(dir / "dev.json", R"({"name": "mine", "delta": 7})");
  write_file_atomic(dir / "p.json", R"({"axes": {"device": ["dev.json"], "length": [8]}})");
  const Plan p = load_plan(dir / "p.json");
  const auto cells = expand(p, dir);
  ASSERT_EQ(cells.size(), 1u);
  EXPECT_EQ(cells[0].device["name"], "mine");
  write_file_atomic(dir / "bad.json", "{\"axes\": ");
  try {
    load_plan(dir / "bad.json");
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos);
  }
}

// The cost job carries the cell's whole device (SPEC §11: its clock, currents, resistance and
// sense energy price the s-MTJs), so a different clock or sense energy is a different cost job;
// the sense energy is a plan setting like any device parameter.
TEST(Plan, CostJobsCarryTheCellsDevice) {
  const auto cells = expand(parse_plan(json::parse(R"({"base": {"training": "without_sc", "sc_epochs": 0},
      "axes": {"device.sample_period_s": [1e-9, 1e-8], "device.sense_energy_J": [1e-15, 5e-15]}})"), "t"));
  ASSERT_EQ(cells.size(), 4u);
  EXPECT_EQ(cells[1].device["sense_energy_J"], 5e-15);
  const JobGraph g = jobs_of(cells);
  std::set<std::string> costs;
  for (const auto& c : g.cells) costs.insert(c.second);
  EXPECT_EQ(costs.size(), 4u);
  for (const Job& j : g.jobs)
    if (j.kind == "cost") {
      ASSERT_TRUE(j.config.contains("device"));
      EXPECT_TRUE(j.config["device"].contains("sense_energy_J"));
    }
  // Other sources have no device: their cost keeps the hardware file's s-MTJ figures.
  const auto ideal = expand(parse_plan(json::parse(R"({"base": {"source": "ideal"}, "axes": {"length": [8]}})"), "t"));
  for (const Job& j : jobs_of(ideal).jobs) EXPECT_FALSE(j.config.contains("device")) << j.kind;
  EXPECT_NE(error_of(json::parse(R"({"axes": {"device.sense_energy_J": [-1e-15]}})")).find("sense_energy_J"), std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"axes": {"device.sense_energy_J": ["5 fJ"]}})")).find("sense_energy_J"), std::string::npos);
}

// Equal settings are one job; any change of a setting that a job reads changes its identity.
TEST(Plan, JobIdentity) {
  const auto cells = expand(parse_plan(json::parse(R"({"base": {"arch": "784,32,10"},
      "axes": {"length": [8, 16], "training": ["without_sc", "with_sc"]}})"), "t"));
  const JobGraph g = jobs_of(cells);
  // One qat base, one continuation without SC (shared by both L), one with SC per L; four
  // evaluations; one cost per L.
  std::map<std::string, int> kinds;
  std::set<std::string> ids;
  for (const Job& j : g.jobs) {
    ++kinds[j.kind];
    EXPECT_TRUE(ids.insert(j.id).second) << "duplicate job";
    for (const auto& in : j.inputs) EXPECT_TRUE(ids.contains(in)) << "a job before its input";
    EXPECT_EQ(j.id.size(), 64u);
  }
  EXPECT_EQ(kinds["train"], 1 + 1 + 2);
  EXPECT_EQ(kinds["evaluate"], 4);
  EXPECT_EQ(kinds["cost"], 2);
  EXPECT_EQ(g.cells.size(), 4u);
  EXPECT_EQ(g.cells[0].second, g.cells[1].second);  // L = 8 without / with SC: one design, one cost

  // Every setting a job reads changes its id; the same settings give the same id.
  const std::string base = job_id("evaluate", cells[0].to_json());
  EXPECT_EQ(job_id("evaluate", cells[0].to_json()), base);
  for (const char* key : {"arch", "states", "dataset", "training", "epochs", "sc_epochs", "seed", "source", "length", "sharing",
                          "multiply", "accumulate", "exact_bits", "repeats", "limit"}) {
    json changed = cells[0].to_json();
    json& v = changed[key];
    if (v.is_boolean()) v = !v.get<bool>();
    else if (v.is_number()) v = v.get<double>() + 1;
    else v = v.get<std::string>() + "x";
    EXPECT_NE(job_id("evaluate", changed), base) << key;
  }
  json dev = cells[0].to_json();
  dev["device"]["sample_period_s"] = 1e-9;
  EXPECT_NE(job_id("evaluate", dev), base);
  EXPECT_NE(job_id("train", cells[0].to_json()), base);  // the kind is part of the identity

  // Two plans that spell the same cell differently give the same jobs.
  const auto again = expand(parse_plan(json::parse(R"({"base": {"arch": "dense:32,dense:10", "device": "configs/device/reference.json"},
      "cells": [{"length": 8, "training": "without_sc"}]})"), "t"), testing::source_dir());
  EXPECT_EQ(jobs_of(again).cells[0], g.cells[0]);
}

}  // namespace
}  // namespace spinsc

namespace spinsc {
namespace {

using nlohmann::json;

std::vector<std::string> ids_of(const JobGraph& g) {
  std::vector<std::string> ids;
  for (const Job& j : g.jobs) ids.push_back(j.id);
  return ids;
}

// train_limit enters the trainings only when set: every job of a plan without it keeps its id,
// and a limit changes the trainings (and through their models the evaluations), not the cost.
TEST(Plan, TrainLimit) {
  auto graph = [](const json& train_limit) {
    json plan = json::parse(R"({"base": {"arch": "784,32,10"}, "axes": {"length": [8, 16], "training": ["without_sc", "with_sc"]}})");
    if (!train_limit.is_null()) plan["base"]["train_limit"] = train_limit;
    return jobs_of(expand(parse_plan(plan, "t")));
  };
  const JobGraph plain = graph(nullptr);
  EXPECT_EQ(ids_of(graph(0)), ids_of(plain));
  for (const Job& j : plain.jobs) EXPECT_FALSE(j.config.contains("train_limit")) << j.kind;  // the ids of before the setting
  const JobGraph limited = graph(100);
  ASSERT_EQ(limited.jobs.size(), plain.jobs.size());
  for (size_t i = 0; i < plain.jobs.size(); ++i) {
    const Job &a = plain.jobs[i], &b = limited.jobs[i];
    ASSERT_EQ(a.kind, b.kind);
    if (a.kind == "cost") {
      EXPECT_EQ(a.id, b.id) << "the design does not depend on the training images";
    } else {
      EXPECT_NE(a.id, b.id) << a.kind;
      if (a.kind == "train") {
        EXPECT_EQ(b.config.at("train_limit"), 100) << b.config.dump();
      }
    }
  }
  const auto cells = expand(parse_plan(json::parse(R"({"axes": {"train_limit": [0, 500]}})"), "t"));
  EXPECT_FALSE(cells[0].to_json().contains("train_limit"));
  EXPECT_EQ(cells[1].to_json().at("train_limit"), 500);
  EXPECT_NE(error_of(json::parse(R"({"axes": {"train_limit": [-1]}})")).find("'train_limit' = -1 must be an integer in 0.."),
            std::string::npos);
  EXPECT_NE(error_of(json::parse(R"({"axes": {"train_limit": [1.5]}})")).find("'train_limit'"), std::string::npos);
}

// A trace:DIR source: resolved beside the plan, named by its absolute directory, identified by
// the library's content, and refused (naming the setting and the directory) when it does not
// load.
TEST(Plan, TraceLibrarySource) {
  const auto dir = testing::temp_dir("plan_trace");
  write_trace_library(dir / "lib", 3, 256, 1);
  const std::string plan = R"({"base": {"source": "trace:lib", "training": "with_sc", "sc_epochs": 1}, "axes": {"length": [8, 16]}})";
  const auto cells = expand(parse_plan(json::parse(plan), "t"), dir);
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_EQ(cells[0].source, "trace:" + (dir / "lib").string());
  EXPECT_EQ(cells[0].library_sha256, trace_library_sha256(dir / "lib"));
  EXPECT_EQ(cells[0].library_sha256.size(), 64u);
  EXPECT_TRUE(cells[0].device.is_null());
  EXPECT_EQ(cells[0].to_json().at("library_sha256"), cells[0].library_sha256);
  // An absolute spelling, with a trailing '/' or a detour, is the same cell and the same jobs.
  const auto again = expand(parse_plan(json{{"base", {{"source", "trace:" + (dir / "lib" / "..").string() + "/lib/"},
                                                      {"training", "with_sc"}, {"sc_epochs", 1}}},
                                            {"axes", {{"length", {8, 16}}}}},
                                       "t"));
  EXPECT_EQ(again[0].source, cells[0].source);
  const JobGraph g = jobs_of(cells);
  EXPECT_EQ(ids_of(jobs_of(again)), ids_of(g));
  int reading = 0;
  for (const Job& j : g.jobs) {
    const json* bits = j.kind == "evaluate"           ? &j.config.at("bits")
                       : j.config.contains("noise") ? &j.config.at("noise").at("bits")
                                                    : nullptr;
    if (!bits) continue;
    ++reading;
    EXPECT_EQ(*bits, (json{{"source", cells[0].source}, {"library_sha256", cells[0].library_sha256}}));
  }
  EXPECT_EQ(reading, 4);  // two continuations with SC noise, two evaluations

  // One changed sample of one trace: every job that reads the bits is a new job; the base
  // training and the costs are not.
  std::string text = read_file(dir / "lib" / "p1.trace");
  const size_t bit = text.find_last_of("01");
  text[bit] = text[bit] == '0' ? '1' : '0';
  write_file_atomic(dir / "lib" / "p1.trace", text);
  const JobGraph changed = jobs_of(expand(parse_plan(json::parse(plan), "t"), dir));
  ASSERT_EQ(changed.jobs.size(), g.jobs.size());
  for (size_t i = 0; i < g.jobs.size(); ++i) {
    const bool reads = g.jobs[i].kind == "evaluate" || g.jobs[i].config.contains("noise");
    if (reads) {
      EXPECT_NE(changed.jobs[i].id, g.jobs[i].id) << g.jobs[i].kind;
    } else {
      EXPECT_EQ(changed.jobs[i].id, g.jobs[i].id) << g.jobs[i].kind;
    }
  }
  // A renamed or an added trace changes the library too.
  const std::string before = trace_library_sha256(dir / "lib");
  std::filesystem::rename(dir / "lib" / "p2.trace", dir / "lib" / "p3.trace");
  EXPECT_NE(trace_library_sha256(dir / "lib"), before);
  write_file_atomic(dir / "lib" / "notes.txt", "not a trace");
  const std::string renamed = trace_library_sha256(dir / "lib");
  std::filesystem::remove(dir / "lib" / "notes.txt");
  EXPECT_EQ(trace_library_sha256(dir / "lib"), renamed) << "only *.trace files are the library";

  // Errors name the setting and the directory.
  auto error = [&](const std::string& source) {
    try {
      expand(parse_plan(json{{"base", {{"source", source}}}, {"axes", {{"length", {8}}}}}, "plan 'p.json'"), dir);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    ADD_FAILURE() << "accepted: " << source;
    return std::string();
  };
  std::string m = error("trace:missing");
  EXPECT_NE(m.find("'source' = 'trace:missing'"), std::string::npos) << m;
  EXPECT_NE(m.find((dir / "missing").string() + "' is not a directory"), std::string::npos) << m;
  std::filesystem::create_directories(dir / "empty");
  m = error("trace:empty");
  EXPECT_NE(m.find((dir / "empty").string() + "' has no *.trace files"), std::string::npos) << m;
  std::filesystem::create_directories(dir / "bad");
  write_file_atomic(dir / "bad" / "a.trace", "# target_p: 0.5\n# format: bits\n0110\n");
  m = error("trace:bad");
  EXPECT_NE(m.find("'source' = 'trace:bad'"), std::string::npos) << m;
  EXPECT_NE(m.find((dir / "bad" / "a.trace").string()), std::string::npos) << m;
  EXPECT_NE(error("trace:").find("names no directory"), std::string::npos);
  EXPECT_NE(error("tracer").find("is not ideal, lfsr[:n], sobol, smtj or trace:DIR"), std::string::npos);
  try {
    expand(parse_plan(json::parse(R"({"base": {"source": "trace:lib", "device.delta": 5}, "axes": {"length": [8]}})"), "t"), dir);
    ADD_FAILURE() << "a device setting accepted with a trace source";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("smtj source only"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace spinsc
