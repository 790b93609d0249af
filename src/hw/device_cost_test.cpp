// The device -> cost mapping (hw_params.hpp: device_sng_figures, with_device) against values
// computed by hand from the closed forms of the logistic distribution: for x = ln(q/(1-q)) with
// q uniform, x has density sigma(x) sigma(-x), E[x^2] = pi^2/3, E[x^2 sigma(x)] = pi^2/6,
// E[x sigma(x)] = 1/2, E|x| = 2 ln 2, and the tail integral
// T(a) = int_a^inf x^2 sigma'(x) dx = sum_k (-1)^(k+1) e^(-k a) (a^2 + 2a/k + 2/k^2).
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "spinsc/cost_model.hpp"
#include "spinsc/error.hpp"
#include "spinsc/hw_params.hpp"
#include "testutil.hpp"

namespace spinsc {
namespace {

constexpr double kPi2 = std::numbers::pi * std::numbers::pi;

// Composite Simpson with h = 0.03 on integrands whose fourth derivative stays below ~10:
// error <= 120 h^4 10 / 180 ~ 5e-6 absolute on values of order 1, so 1e-6 relative is a bound
// with room on the O(1) integrals below (the rule is much better in practice).
constexpr double kRel = 1e-6;

DeviceConfig device(double max_bias_A, double offset_A = 0) {
  DeviceConfig d = reference_device();  // delta 10, Ic 15 uA: width w = Ic/(2 delta) = 0.75 uA
  d.max_bias_A = max_bias_A;
  d.offset_current_A = offset_A;
  d.resistance_p_ohm = 5000;
  d.tmr = 1.0;
  d.sample_period_s = 10e-9;
  d.sense_energy_J = 5e-15;
  return d;
}

TEST(DeviceCost, UnclampedBiasByHand) {
  // max bias 1 A: the clamp sits at x = 1.3e6, i.e. never.
  const DeviceSngFigures f = device_sng_figures(device(1.0));
  const double w = 0.75e-6, rbar = 5000 * (1 + 1.0 / 2);
  EXPECT_NEAR(f.rms_bias_current_A, w * std::sqrt(kPi2 / 3), kRel * w);
  EXPECT_NEAR(f.mean_abs_bias_current_A, w * 2 * std::numbers::ln2, kRel * w);
  const double power = rbar * w * w * kPi2 / 3;  // 1.3879e-8 W
  EXPECT_NEAR(f.junction_power_W, power, kRel * power);
  EXPECT_NEAR(f.read_voltage_V, power / (w * std::sqrt(kPi2 / 3)), kRel * f.read_voltage_V);
  EXPECT_DOUBLE_EQ(f.bit_period_s, 10e-9);
  EXPECT_DOUBLE_EQ(f.sense_energy_J, 5e-15);
  EXPECT_NEAR(f.bit_energy_J(), power * 10e-9 + 5e-15, kRel * 5e-15);
}

TEST(DeviceCost, OffsetCurrentByHand) {
  // I = I_off + w x: E[I^2 R_P (1 + tmr q)] = R_P [(I_off^2 + w^2 pi^2/3)(1 + tmr/2) + tmr I_off w].
  const double off = 0.3e-6, w = 0.75e-6;
  const DeviceSngFigures f = device_sng_figures(device(1.0, off));
  const double power = 5000 * ((off * off + w * w * kPi2 / 3) * 1.5 + 1.0 * off * w);
  EXPECT_NEAR(f.junction_power_W, power, kRel * power);
  EXPECT_NEAR(f.rms_bias_current_A, std::sqrt(off * off + w * w * kPi2 / 3), kRel * w);
}

TEST(DeviceCost, ClampedBiasByHand) {
  // The reference device: max bias 7.5 uA = 10 w, so |x| > 10 runs at the clamp.
  const double w = 0.75e-6, m = 7.5e-6, a = 10;
  double tail = 0;
  for (int k = 1; k <= 4; ++k) tail += (k % 2 ? 1 : -1) * std::exp(-k * a) * (a * a + 2 * a / k + 2.0 / (k * k));
  const double clamped = 2 / (1 + std::exp(a));  // P(|x| > a) = 2 sigma(-a)
  const double i2 = w * w * (kPi2 / 3 - 2 * tail) + m * m * clamped;
  const DeviceSngFigures f = device_sng_figures(device(m));
  EXPECT_NEAR(f.rms_bias_current_A, std::sqrt(i2), kRel * w);
  EXPECT_NEAR(f.junction_power_W, 5000 * 1.5 * i2, kRel * 5000 * 1.5 * i2);
  // The clamp matters: without it the power is higher.
  EXPECT_LT(f.junction_power_W, device_sng_figures(device(1.0)).junction_power_W);
}

TEST(DeviceCost, ReadoutAndTemperature) {
  // Either readout makes the same currents (the target p is uniform, so is P(AP)).
  DeviceConfig p = device(7.5e-6);
  p.readout = DeviceConfig::Readout::Parallel;
  EXPECT_DOUBLE_EQ(device_sng_figures(p).junction_power_W, device_sng_figures(device(7.5e-6)).junction_power_W);
  // Half the barrier at twice the temperature: twice the sigmoid width, four times the power.
  DeviceConfig hot = device(1.0);
  hot.temperature_K = 600;
  EXPECT_NEAR(device_sng_figures(hot).junction_power_W, 4 * device_sng_figures(device(1.0)).junction_power_W,
              4 * kRel * device_sng_figures(device(1.0)).junction_power_W);
}

TEST(DeviceCost, WithDeviceReplacesTheJunctionFiguresOnly) {
  const HwParams base = default_hw_params();
  const DeviceConfig d = device(7.5e-6);
  const HwParams hw = with_device(base, d, "dev.json");
  const DeviceSngFigures f = device_sng_figures(d);
  EXPECT_DOUBLE_EQ(hw.smtj.bit_period_s, 10e-9);
  EXPECT_DOUBLE_EQ(hw.smtj.sense_amp_energy_J, 5e-15);
  EXPECT_DOUBLE_EQ(hw.smtj.bias_current_A, f.rms_bias_current_A);
  EXPECT_NEAR(sng_bit_energy(hw, CostSource::Smtj), f.bit_energy_J(), 1e-12 * f.bit_energy_J());
  EXPECT_EQ(hw.smtj.area_m2, base.smtj.area_m2);  // hardware
  EXPECT_EQ(sng_bit_energy(hw, CostSource::Lfsr), sng_bit_energy(base, CostSource::Lfsr));
  EXPECT_EQ(hw.device_origin, "dev.json");
  EXPECT_EQ(hw.parameters.size(), base.parameters.size());
  int from_device = 0;
  for (const auto& p : hw.parameters)
    if (p.note.find("dev.json") != std::string::npos) {
      ++from_device;
      EXPECT_TRUE(p.path.starts_with("smtj.")) << p.path;
    }
  EXPECT_EQ(from_device, 4);

  // The device's clock drives the latency: L bit periods of the device per layer.
  const auto arch = cost_architecture({4, 3, 2}, 5);
  CostOptions o;
  o.length = 50;
  const DesignCost c = design_cost(arch, o, hw, CostDesign::Quantized, CostSource::Smtj);
  EXPECT_DOUBLE_EQ(c.latency_of(LatencyPart::Stream), 2 * 50 * 10e-9);
  EXPECT_NEAR(c.energy_of(EnergyPart::WeightSng), (12 + 6) * 50 * f.bit_energy_J(), 1e-12 * c.energy_of(EnergyPart::WeightSng));
}

TEST(DeviceCost, BadDevicesNameTheFileAndField) {
  try {
    parse_device_config(R"({"sense_energy_J": -1e-15})", "dev.json");
    FAIL() << "a negative sense energy was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("dev.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sense_energy_J"), std::string::npos) << e.what();
  }
  DeviceConfig d = device(7.5e-6);
  d.sample_period_s = 0;
  try {
    with_device(default_hw_params(), d, "slow.json");
    FAIL() << "a zero clock period was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("slow.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sample_period_s"), std::string::npos) << e.what();
  }
}

// Every shipped device prices: finite figures, its own clock; the literature devices are named
// in their descriptions.
TEST(DeviceCost, ShippedDevices) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(testing::source_dir() / "configs" / "device")) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().string());
    const DeviceConfig d = load_device_config(entry.path());
    const DeviceSngFigures f = device_sng_figures(d, entry.path().string());
    EXPECT_GT(f.junction_power_W, 0);
    EXPECT_TRUE(std::isfinite(f.bit_energy_J()));
    EXPECT_EQ(f.bit_period_s, d.sample_period_s);
    EXPECT_LE(f.rms_bias_current_A, d.max_bias_A);
    ++files;
  }
  EXPECT_GE(files, 9);
}

}  // namespace
}  // namespace spinsc
