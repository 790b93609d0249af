#include "spinsc/calibrate.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "spinsc/bit_source.hpp"
#include "spinsc/device_config.hpp"
#include "spinsc/error.hpp"
#include "spinsc/markov_stream.hpp"
#include "spinsc/rng.hpp"
#include "spinsc/smtj.hpp"

namespace spinsc {
namespace {

const MtjParameters kTrue{6.0, 10e-6, 0.3e-6, 1e-9};
const double kTs = 100e-9;  // lag-1 correlation about 0.6 at p = 1/2: dwell times resolved

std::vector<Trace> traces_of(const TelegraphMtj& mtj, int64_t samples, uint64_t seed) {
  std::vector<Trace> out;
  const double w = kTrue.critical_current_A / (2 * kTrue.delta);
  int k = 0;
  for (double p : {0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9}) {
    Trace t;
    t.origin = fmt::format("p{:f}", p);  // as std::to_string; fmt avoids a GCC 12 -Wrestrict false positive
    t.bias_current_A = kTrue.offset_current_A + w * std::log(p / (1 - p));
    t.sample_period_s = kTs;
    t.length = samples;
    t.words.assign((samples + 63) / 64, 0);
    Xoshiro256 rng(derive_seed(seed, SeedStream::TestFixture, {static_cast<uint64_t>(k++)}));
    sample_markov_stream(mtj.chain(*t.bias_current_A), samples, rng, t.words.data());
    out.push_back(std::move(t));
  }
  return out;
}

// Recovers the true parameters within 4 reported standard errors in every repeat, and the
// reported errors are honest: the mean squared z-score over 30 repeats lies inside the
// 99.99% range of chi-square(30)/30, [0.33, 2.1].
TEST(Calibrate, RecoversKnownParametersWithinTheirUncertainty) {
  const TelegraphMtj mtj(kTrue, kTs);
  const int repeats = 30;
  double z2[4] = {0, 0, 0, 0};
  for (int r = 0; r < repeats; ++r) {
    const Calibration c = calibrate(traces_of(mtj, 100000, r), kTrue.tau0_s);
    ASSERT_TRUE(c.sigmoid && c.delta && c.critical_current_A);
    const double z[4] = {(c.sigmoid->center_A.value - kTrue.offset_current_A) / c.sigmoid->center_A.se,
                         (c.sigmoid->width_A.value - kTrue.critical_current_A / (2 * kTrue.delta)) / c.sigmoid->width_A.se,
                         (c.delta->value - kTrue.delta) / c.delta->se,
                         (c.critical_current_A->value - kTrue.critical_current_A) / c.critical_current_A->se};
    for (int j = 0; j < 4; ++j) {
      EXPECT_LT(std::abs(z[j]), 4.0) << "repeat " << r << " parameter " << j;
      z2[j] += z[j] * z[j] / repeats;
    }
    for (const auto& p : c.points) {
      ASSERT_TRUE(p.fit.resolved);
      EXPECT_NEAR(p.fit.tau_ap_s.value, mtj.tau_ap(*p.current_A), 4 * p.fit.tau_ap_s.se);
      EXPECT_NEAR(p.fit.tau_p_s.value, mtj.tau_p(*p.current_A), 4 * p.fit.tau_p_s.se);
    }
    if (r == 0) {
      EXPECT_NEAR(c.ln_tau_ap_vs_current->slope.value, kTrue.delta / kTrue.critical_current_A,
                  4 * c.ln_tau_ap_vs_current->slope.se);
      EXPECT_NEAR(c.ln_tau_p_vs_current->slope.value, -kTrue.delta / kTrue.critical_current_A,
                  4 * c.ln_tau_p_vs_current->slope.se);
      const DeviceConfig d = fitted_device(c, reference_device());
      EXPECT_NEAR(d.delta_at_temperature(), c.delta->value, 1e-12);
      EXPECT_EQ(d.sample_period_s, kTs);
      EXPECT_FALSE(calibration_text(c).empty());
      EXPECT_NE(calibration_json(c).find("\"critical_current_A\""), std::string::npos);
    }
  }
  for (int j = 0; j < 4; ++j) {
    EXPECT_GT(z2[j], 0.33) << "parameter " << j << ": standard errors too large";
    EXPECT_LT(z2[j], 2.1) << "parameter " << j << ": standard errors too small";
  }
}

// Traces at three temperatures: the Arrhenius fit finds Delta(300 K) and tau0 without assuming
// tau0; the sigmoid uses the temperature with the most bias points.
TEST(Calibrate, ArrheniusOverTemperaturesFindsDeltaAndTau0) {
  std::vector<Trace> all;
  for (double temperature : {270.0, 300.0, 330.0}) {
    MtjParameters p = kTrue;
    p.delta = kTrue.delta * 300 / temperature;
    auto traces = traces_of(TelegraphMtj(p, kTs), 100000, static_cast<uint64_t>(temperature));
    if (temperature != 300) traces.resize(2);
    for (auto& t : traces) t.temperature_K = temperature, all.push_back(std::move(t));
  }
  const Calibration c = calibrate(all, 1.0 /* a wrong tau0 that must not be used */);
  ASSERT_TRUE(c.arrhenius && c.tau0_s && c.delta && c.temperature_K);
  EXPECT_EQ(*c.temperature_K, 300);
  EXPECT_NEAR(c.arrhenius->slope.value, kTrue.delta, 4 * c.arrhenius->slope.se);
  EXPECT_NEAR(c.delta->value, kTrue.delta, 4 * c.delta->se);
  EXPECT_NEAR(std::log(c.tau0_s->value), std::log(kTrue.tau0_s), 4 * c.arrhenius->intercept.se);
  EXPECT_NEAR(c.critical_current_A->value, kTrue.critical_current_A, 4 * c.critical_current_A->se);
  const DeviceConfig d = fitted_device(c, reference_device());
  EXPECT_EQ(d.tau0_s, c.tau0_s->value);
  EXPECT_NE(calibration_text(c).find("Arrhenius"), std::string::npos);
}

TEST(Calibrate, IndependentSamplesLeaveDwellTimesUnresolved) {
  const int64_t n = 100000;
  std::vector<uint64_t> w((n + 63) / 64);
  Xoshiro256 rng(1);
  sample_markov_stream({0.4, 0.0, 0.4}, n, rng, w.data());
  const MarkovFit f = fit_markov(w.data(), n, 1e-3);
  EXPECT_FALSE(f.resolved);
  EXPECT_NEAR(f.p.value, 0.4, 4 * f.p.se);
  EXPECT_NEAR(f.rho.value, 0.0, 4 * f.rho.se);
  EXPECT_EQ(f.n00 + f.n01 + f.n10 + f.n11, n - 1);
}

// `device calibrate --write-device` wrote descriptions spinsc itself rejects: a negative
// Delta (an assumed tau0 longer than the dwell times) or a negative Ic (p falling with the
// current). fitted_device() refuses them, and whatever it returns parses back.
TEST(Calibrate, FittedDeviceIsOneSpinscAccepts) {
  const TelegraphMtj mtj(kTrue, kTs);
  const std::vector<Trace> traces = traces_of(mtj, 200000, 7);
  auto message = [](const Calibration& c) {
    try {
      const DeviceConfig d = fitted_device(c, reference_device());
      parse_device_config(to_json_text(d), "fitted.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(calibrate(traces, 1e-9)), "no error");
  EXPECT_NE(message(calibrate(traces, 1.0)).find("the fitted barrier Delta"), std::string::npos);
  std::vector<Trace> flipped = traces;
  for (auto& t : flipped) t.bias_current_A = -*t.bias_current_A;
  EXPECT_NE(message(calibrate(flipped, 1e-9)).find("critical current"), std::string::npos);
}

// A failing sigmoid fit names the library it came from.
TEST(Calibrate, SigmoidFitErrorNamesTheLibrary) {
  std::vector<Trace> traces = traces_of(TelegraphMtj(kTrue, kTs), 20000, 3);
  for (auto& t : traces) {
    t.origin = "lib/" + t.origin;
    t.bias_current_A = 1e-6;  // all at one current ...
  }
  traces.front().bias_current_A = 0;  // ... but one: the points are separated only if p is 0 / 1
  for (auto& w : traces.front().words) w = 0;
  for (size_t i = 1; i < traces.size(); ++i)
    for (auto& w : traces[i].words) w = ~0ULL;
  for (auto& t : traces) t.words.back() &= tail_mask(static_cast<int>(t.length));
  try {
    calibrate(traces, 1e-9);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("calibrate 'lib': sigmoid fit"), std::string::npos) << e.what();
  }
}

TEST(Calibrate, SigmoidFitRefusesSeparatedOrSinglePointData) {
  EXPECT_THROW(fit_sigmoid({{0.0, 0, 100, 1}, {1e-6, 100, 100, 1}}), Error);
  EXPECT_THROW(fit_sigmoid({{1e-6, 30, 100, 1}, {1e-6, 40, 100, 1}}), Error);
  const SigmoidFit f = fit_sigmoid({{-1e-6, 20, 100, 1}, {0.0, 50, 100, 1}, {1e-6, 80, 100, 1}});
  EXPECT_NEAR(f.center_A.value, 0.0, 1e-9);
  EXPECT_NEAR(f.slope_per_A.value, std::log(4.0) / 1e-6, 0.01 / 1e-6);
}

}  // namespace
}  // namespace spinsc
