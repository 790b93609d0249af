#include "spinsc/smtj.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <bit>
#include <cmath>
#include <vector>

#include "spinsc/bit_source.hpp"
#include "spinsc/device_config.hpp"
#include "spinsc/device_sources.hpp"
#include "spinsc/error.hpp"
#include "spinsc/files.hpp"
#include "spinsc/smtj_source.hpp"
#include "testutil.hpp"

namespace spinsc {
namespace {

// The reference device has i.i.d. bits, drawn as Bernoulli(round(p 2^32) / 2^32): its means are
// the target to half a step of 2^-32.
const double kIidRounding = std::ldexp(1.0, -33);

int64_t ones(const std::vector<uint64_t>& w) {
  int64_t n = 0;
  for (uint64_t x : w) n += std::popcount(x);
  return n;
}

TEST(TelegraphMtj, TransferCurveMatchesClosedForm) {
  const TelegraphMtj mtj({8.0, 12e-6, 0.5e-6, 2e-9}, 1e-6);
  for (double i : {-5e-6, -1e-6, 0.0, 0.5e-6, 0.9e-6, 3e-6}) {
    const double x = (i - 0.5e-6) / 12e-6;
    EXPECT_NEAR(mtj.tau_ap(i), 2e-9 * std::exp(8.0 * (1 + x)), 1e-12 * mtj.tau_ap(i));
    EXPECT_NEAR(mtj.tau_p(i), 2e-9 * std::exp(8.0 * (1 - x)), 1e-12 * mtj.tau_p(i));
    const double p = mtj.tau_ap(i) / (mtj.tau_ap(i) + mtj.tau_p(i));
    EXPECT_NEAR(mtj.p_ap(i), p, 1e-14);
    EXPECT_NEAR(mtj.p_ap(i), 1 / (1 + std::exp(-2 * 8.0 * x)), 1e-14);
    EXPECT_NEAR(mtj.relaxation_rate(i), 1 / mtj.tau_ap(i) + 1 / mtj.tau_p(i), 1e-12 * mtj.relaxation_rate(i));
    EXPECT_NEAR(mtj.correlation(i), std::exp(-mtj.relaxation_rate(i) * 1e-6), 1e-15);
  }
  for (double p : {1e-6, 0.1, 0.5, 0.77, 0.999})
    EXPECT_NEAR(mtj.p_ap(mtj.current_for_p_ap(p)), p, 1e-12);
  EXPECT_DOUBLE_EQ(mtj.current_for_p_ap(0.5), 0.5e-6);
}

TEST(DeviceConfig, TemperatureScalesTheBarrier) {
  DeviceConfig c = reference_device();
  c.temperature_K = 350;
  EXPECT_DOUBLE_EQ(c.delta_at_temperature(), 10.0 * 300 / 350);
  EXPECT_DOUBLE_EQ(TelegraphMtj::nominal(c).parameters().delta, 10.0 * 300 / 350);
}

TEST(DeviceConfig, JsonRoundTripAndStrictParsing) {
  DeviceConfig c = reference_device();
  c.variation.delta.sigma = 0.05;
  c.variation.critical_current = {0.1, true, ParameterSpread::Law::LogNormal};
  c.bias = DeviceConfig::BiasRule::Calibrated;
  c.readout = DeviceConfig::Readout::Parallel;
  c.initial_state = DeviceConfig::InitialState::AntiParallel;
  c.warmup_periods = 3;
  const DeviceConfig d = parse_device_config(to_json_text(c), "x.json");
  EXPECT_EQ(to_json_text(d), to_json_text(c));
  EXPECT_EQ(d.variation.critical_current.law, ParameterSpread::Law::LogNormal);
  auto message = [](const std::string& text) {
    try {
      parse_device_config(text, "dev.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(R"({"delta": 10, "dleta": 3})").find("unknown field 'dleta'"), std::string::npos);
  EXPECT_NE(message(R"({"delta": "ten"})").find("'delta' must be a number"), std::string::npos);
  EXPECT_NE(message(R"({"delta": -1})").find("'delta' = -1 is out of range"), std::string::npos);
  EXPECT_NE(message(R"({"readout": "up"})").find("'readout' = 'up' is not one of"), std::string::npos);
  EXPECT_NE(message(R"({"variation": {"delta": {"sigma": 0.1, "kind": "sideways"}}})").find("kind"), std::string::npos);
  EXPECT_NE(message(R"({"variation": {"offset_current": {"sigma": 0.1, "distribution": "lognormal"}}})").find("lognormal"),
            std::string::npos);
  EXPECT_NE(message("{").find("dev.json: not valid JSON"), std::string::npos);
  EXPECT_NE(message(R"({"delta": 1e400})").find("dev.json: not valid JSON"), std::string::npos);
}

// Devices outside the model's physical ranges, or that never switch on the time scale of their
// samples, were accepted and crashed `device stats` or printed NaN in `device simulate`.
TEST(DeviceConfig, RefusesDevicesThatCannotSwitch) {
  auto message = [](const std::string& text) {
    try {
      parse_device_config(text, "dev.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(R"({"sample_period_s": 1e-300})").find("dev.json: field 'sample_period_s' = 1e-300 is outside the physical range"),
            std::string::npos);
  EXPECT_NE(message(R"({"temperature_K": 1e-300})").find("'temperature_K' = 1e-300 is outside the physical range"),
            std::string::npos);
  EXPECT_NE(message(R"({"delta": 200, "temperature_K": 1e-310})").find("temperature_K"), std::string::npos);
  EXPECT_NE(message(R"({"delta": 10, "temperature_K": 10})").find("barrier at the operating temperature"), std::string::npos);
  EXPECT_NE(message(R"({"delta": 60})").find("never switches"), std::string::npos);
  EXPECT_NE(message(R"({"tau0_s": 1e-300})").find("'tau0_s'"), std::string::npos);
  EXPECT_EQ(message(R"({"delta": 20, "sample_period_s": 1e-6})"), "no error");
  EXPECT_EQ(message(to_json_text(reference_device())), "no error");
  // A variation so wide that some device's Delta is drawn as 0 or infinity: an error naming the
  // source (it used to abort from the engine's worker threads as "Delta 0").
  DeviceConfig c = reference_device();
  c.variation.delta = {1000, true, ParameterSpread::Law::LogNormal};
  const SmtjSource source(c, "smtj:wide.json");
  int refused = 0;
  for (uint64_t d = 0; d < 20; ++d) {
    try {
      source.device({0, 0, 0, StreamRole::Weight, d});
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("smtj:wide.json"), std::string::npos) << e.what();
      ++refused;
    }
  }
  EXPECT_GT(refused, 0);  // |z| > ~0.7 draws exp(+-700): 0 or infinity
}

// configs/device of this checkout: $SPINSC_SOURCE_DIR when it has one, else found from this file.
std::filesystem::path config_dir() {
  const auto from_env = spinsc::testing::source_dir() / "configs" / "device";
  if (std::filesystem::is_directory(from_env)) return from_env;
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "configs" / "device";
}

TEST(DeviceConfig, ShippedDescriptionsParseAndReferenceMatchesBuiltIn) {
  const auto dir = config_dir();
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".json") continue;
    ++n;
    EXPECT_NO_THROW(load_device_config(e.path())) << e.path();
  }
  EXPECT_GE(n, 4);
  EXPECT_EQ(to_json_text(load_device_config(dir / "reference.json")), to_json_text(reference_device()));
}

// Every shipped description is built into the program under its file name, identical to the file.
TEST(DeviceConfig, BuiltInDevicesAreTheShippedFiles) {
  const auto dir = config_dir();
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".json") files.push_back(e.path().stem().string());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(builtin_device_names(), files);
  for (const std::string& name : files)
    EXPECT_EQ(to_json_text(builtin_device(name)), to_json_text(load_device_config(dir / (name + ".json")))) << name;
  // A name is resolved where no file of that name exists; a path or a .json name is a file.
  EXPECT_EQ(to_json_text(resolve_device("perpendicular_ns")), to_json_text(builtin_device("perpendicular_ns")));
  EXPECT_EQ(to_json_text(resolve_device((dir / "inplane_ns.json").string())), to_json_text(builtin_device("inplane_ns")));
  try {
    resolve_device("perpendicular");
    ADD_FAILURE() << "an unknown name was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no built-in device of that name (built in: correlated, correlated_strong, inplane_ns"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(resolve_device("perpendicular_ns.json"), Error);  // a file name: no such file here
  EXPECT_THROW(builtin_device("nope"), Error);
  EXPECT_EQ(standard_sources()->make("smtj:inplane_ns")->name(), "smtj:inplane_ns");
}

TEST(SmtjSource, StreamsAreDeterministicPerKeyWithZeroTail) {
  DeviceConfig c = reference_device();
  c.sample_period_s = 10e-6;  // correlated bits: the run-length and word paths both in use
  const SmtjSource source(c, "smtj");
  for (int length : {1, 63, 100, 129, 500}) {
    for (double p : {0.0, 0.03, 0.3, 0.5, 0.9, 1.0}) {
      StreamKey key{42, 7, 1, StreamRole::Weight, 3};
      std::vector<uint64_t> a(words_for(length)), b(words_for(length));
      source.generate(p, length, key, a.data());
      source.generate(p, length, key, b.data());
      EXPECT_EQ(a, b);
      EXPECT_EQ(a.back() & ~tail_mask(length), 0u);
    }
  }
  std::vector<uint64_t> a(8), b(8);
  source.generate(0.5, 500, {1, 1, 0, StreamRole::Input, 0}, a.data());
  source.generate(0.5, 500, {1, 2, 0, StreamRole::Input, 0}, b.data());
  EXPECT_NE(a, b) << "a new image must redraw the stream";
}

// Mean count of ones over many images against L * bit_mean, within 4.5 standard errors that
// include the autocorrelation (count_variance_factor).
TEST(SmtjSource, BatchGivesTheSameBitsAsSingleStreams) {
  for (bool variation : {false, true}) {
    DeviceConfig c = reference_device();
    c.sample_period_s = 10e-6;
    if (variation) c.variation.offset_current.sigma = 0.05;
    const SmtjSource source(c, "smtj");
    const int count = 40, length = 130;
    std::vector<double> p(count);
    std::vector<uint64_t> devices(count);
    for (int s = 0; s < count; ++s) p[s] = (s % 11) / 10.0, devices[s] = 1000 + 7 * s;  // includes 0 and 1
    const StreamKey key{3, 4, 1, StreamRole::Weight, 0};
    const size_t stride = 5;
    std::vector<uint64_t> batch(count * stride, 0), single(words_for(length));
    source.generate_batch(count, p.data(), devices.data(), length, key, batch.data(), stride);
    for (int s = 0; s < count; ++s) {
      StreamKey k = key;
      k.device = devices[s];
      source.generate(p[s], length, k, single.data());
      for (int w = 0; w < words_for(length); ++w) ASSERT_EQ(batch[s * stride + w], single[w]) << s;
    }
  }
}

TEST(SmtjSource, StreamsHaveTheDevicesMean) {
  for (double ts : {250e-6, 10e-6}) {
    DeviceConfig c = reference_device();
    c.sample_period_s = ts;
    const SmtjSource source(c, "smtj");
    const int length = 256, images = 4000;
    for (double p : {0.02, 0.25, 0.5, 0.8}) {
      std::vector<uint64_t> w(words_for(length));
      double total = 0;
      for (int i = 0; i < images; ++i) {
        source.generate(p, length, {9, static_cast<uint64_t>(i), 0, StreamRole::Input, 5}, w.data());
        total += ones(w);
      }
      const double m = source.bit_mean(p, {9, 0, 0, StreamRole::Input, 5});
      EXPECT_NEAR(m, p, kIidRounding) << "no variation: the nominal curve is the device's";
      const double se = std::sqrt(length * m * (1 - m) * source.count_variance_factor(p, length) * images);
      EXPECT_NEAR(total, images * length * m, 4.5 * se) << "Ts " << ts << " p " << p;
    }
  }
}

TEST(SmtjSource, VariationDependsOnlyOnTheDeviceIdentity) {
  DeviceConfig c = reference_device();
  c.variation.delta.sigma = 0.1;
  c.variation.critical_current.sigma = 0.05;
  c.variation.offset_current.sigma = 0.05;
  const SmtjSource source(c, "smtj");
  auto params = [&](StreamKey k) { return source.device(k).parameters(); };
  const auto a = params({1, 2, 3, StreamRole::Weight, 17});
  const auto b = params({99, 1234, 3, StreamRole::Weight, 17});
  EXPECT_EQ(a.delta, b.delta);
  EXPECT_EQ(a.critical_current_A, b.critical_current_A);
  EXPECT_EQ(a.offset_current_A, b.offset_current_A);
  const auto d = params({1, 2, 3, StreamRole::Weight, 18});
  EXPECT_NE(a.delta, d.delta);
  // The spreads: sample standard deviations within 4 standard errors (sigma / sqrt(2(n-1))).
  const int n = 4000;
  double s[3] = {0, 0, 0}, s2[3] = {0, 0, 0};
  for (int i = 0; i < n; ++i) {
    const auto q = params({0, 0, 0, StreamRole::Input, static_cast<uint64_t>(i)});
    const double v[3] = {q.delta, q.critical_current_A, q.offset_current_A};
    for (int j = 0; j < 3; ++j) s[j] += v[j], s2[j] += v[j] * v[j];
  }
  const double expected[3] = {0.1 * 10, 0.05 * 15e-6, 0.05 * 15e-6};
  for (int j = 0; j < 3; ++j) {
    const double sd = std::sqrt(s2[j] / n - (s[j] / n) * (s[j] / n));
    EXPECT_NEAR(sd, expected[j], 4 * expected[j] / std::sqrt(2.0 * (n - 1))) << "parameter " << j;
  }
}

TEST(SmtjSource, CalibratedBiasRestoresTheTargetUncalibratedDoesNot) {
  DeviceConfig c = reference_device();
  c.variation.offset_current.sigma = 0.05;
  c.variation.delta.sigma = 0.05;
  const SmtjSource uncalibrated(c, "smtj");
  c.bias = DeviceConfig::BiasRule::Calibrated;
  const SmtjSource calibrated(c, "smtj");
  double worst = 0;
  for (uint64_t dev = 0; dev < 50; ++dev) {
    const StreamKey key{0, 0, 0, StreamRole::Weight, dev};
    EXPECT_NEAR(calibrated.bit_mean(0.3, key), 0.3, 1e-9);
    const TelegraphMtj mtj = uncalibrated.device(key);
    const double i = TelegraphMtj::nominal(c).current_for_p_ap(0.3);
    EXPECT_NEAR(uncalibrated.bit_mean(0.3, key), mtj.p_ap(i), 1e-12);
    worst = std::max(worst, std::abs(uncalibrated.bit_mean(0.3, key) - 0.3));
  }
  EXPECT_GT(worst, 0.1) << "a 5% offset spread (0.75 uA = 1.0 sigmoid width) must move p visibly";
}

TEST(SmtjSource, ExtremeProbabilityRules) {
  DeviceConfig c = reference_device();
  const SmtjSource constant(c, "smtj");
  std::vector<uint64_t> w(2);
  constant.generate(0.0, 100, {}, w.data());
  EXPECT_EQ(ones(w), 0);
  constant.generate(1.0, 100, {}, w.data());
  EXPECT_EQ(ones(w), 100);
  EXPECT_EQ(constant.bit_mean(1.0, {}), 1.0);
  c.extreme_p = DeviceConfig::ExtremeRule::Clamp;
  const SmtjSource clamp(c, "smtj");
  const double residual = TelegraphMtj::nominal(c).p_ap(-c.max_bias_A);
  EXPECT_NEAR(clamp.bit_mean(0.0, {}), residual, kIidRounding);
  EXPECT_NEAR(clamp.bit_mean(1.0, {}), 1 - residual, kIidRounding);
  EXPECT_NEAR(clamp.bit_mean(1e-9, {}), residual, kIidRounding) << "bias beyond max_bias_A is clamped";
  EXPECT_THROW(clamp.bit_mean(1.5, {}), Error);
}

TEST(SmtjSource, ParallelReadoutInvertsTheBias) {
  DeviceConfig c = reference_device();
  c.readout = DeviceConfig::Readout::Parallel;
  const SmtjSource source(c, "smtj");
  EXPECT_NEAR(source.bit_mean(0.2, {}), 0.2, kIidRounding);
  EXPECT_GT(source.bias_current(0.2, TelegraphMtj::nominal(c)), 0.0) << "bit 1 = P: a low p needs AP favoured";
}

TEST(SmtjSource, VarianceFactorFollowsTheCorrelation) {
  DeviceConfig c = reference_device();
  const SmtjSource independent(c, "smtj");
  EXPECT_NEAR(independent.count_variance_factor(0.5, 100), 1.0, 1e-6);
  c.sample_period_s = 10e-6;
  const SmtjSource correlated(c, "smtj");
  const double rho = TelegraphMtj::nominal(c).correlation(0.0);
  EXPECT_NEAR(correlated.count_variance_factor(0.5, 100), markov_count_variance_factor(rho, 100), 1e-12);
  EXPECT_GT(correlated.count_variance_factor(0.5, 100), 2.0);
  EXPECT_EQ(correlated.count_variance_factor(0.0, 100), 1.0);
}

TEST(SmtjSource, RegisteredAsBitSources) {
  auto s = standard_sources()->make("smtj");
  EXPECT_EQ(s->name(), "smtj");
  EXPECT_THROW(standard_sources()->make("smtj:/nonexistent/device.json"), Error);
  EXPECT_THROW(standard_sources()->make("trace:/nonexistent/dir"), Error);
  const auto dir = spinsc::testing::temp_dir("smtj-source");
  write_file_atomic(dir / "d.json", R"({"name": "fast", "sample_period_s": 1e-6})");
  auto f = standard_sources()->make("smtj:" + (dir / "d.json").string());
  EXPECT_GT(f->count_variance_factor(0.5, 100), 10.0);
}

}  // namespace
}  // namespace spinsc
