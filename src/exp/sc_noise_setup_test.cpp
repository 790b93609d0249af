#include "spinsc/sc_noise_setup.hpp"

#include <gtest/gtest.h>
#include <fmt/format.h>

#include <vector>

#include "spinsc/device_sources.hpp"
#include "spinsc/error.hpp"
#include "spinsc/sc_noise.hpp"

namespace spinsc {
namespace {

// One layer's minibatch product, perturbed in place by `noise`.
std::vector<float> perturbed(PreactivationNoise& noise) {
  const int rows = 3, in = 8, out = 4;
  std::vector<float> x(rows * in), w(out * in), u(rows * out, 0.25f);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 5) / 4.0f;
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(static_cast<int>(i % 5) - 2) * 0.25f;
  const std::vector<int> images = {4, 9, 11};
  PreactivationBatch b;
  b.rows = rows, b.in = in, b.out = out, b.input = x.data(), b.weight = w.data(), b.scale = 0.5f;
  b.images = images.data(), b.epoch = 2, b.product = u.data();
  noise.perturb(b);
  return u;
}

TEST(ScNoiseSetup, MomentMatchedIsTheSameNoiseAsBuiltByHand) {
  ScNoiseOptions o;
  o.source = "ideal";
  o.length = 16;
  const auto noise = make_sc_noise(o, 5, 7, *standard_sources());
  ASSERT_NE(dynamic_cast<MomentMatchedNoise*>(noise.get()), nullptr);
  // Its draws are seeded from the training seed 7 as every front-end seeds them.
  MomentMatchedNoise direct(std::shared_ptr<const BitSource>(make_bit_source("ideal")), 16, 5, derive_seed(7, SeedStream::TrainingNoise));
  const std::vector<float> a = perturbed(*noise), b = perturbed(direct);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, std::vector<float>(a.size(), 0.25f));  // it did add noise
}

// The moment-matched noise models signmag with apc only: another arithmetic is refused with a
// message naming it and the way out; the bit-level noise runs every combination.
TEST(ScNoiseSetup, ArithmeticTheMomentMatchedNoiseDoesNotModelIsRefused) {
  for (const auto& [m, a] : {std::pair{Multiply::Bipolar, Accumulate::Apc}, std::pair{Multiply::SignMagnitude, Accumulate::Mux},
                             std::pair{Multiply::Bipolar, Accumulate::Mux}}) {
    ScNoiseOptions o;
    o.source = "ideal";
    o.length = 16;
    o.multiply = m;
    o.accumulate = a;
    try {
      make_sc_noise(o, 5, 1, *standard_sources());
      ADD_FAILURE() << to_string(m) << " with " << to_string(a) << " was accepted";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(fmt::format("not {} with {}", to_string(m), to_string(a))), std::string::npos) << what;
      EXPECT_NE(what.find("--exact-bits"), std::string::npos) << what;
    }
    o.exact_bits = true;
    const auto noise = make_sc_noise(o, 5, 1, *standard_sources());
    ASSERT_NE(dynamic_cast<BitLevelNoise*>(noise.get()), nullptr);
    const std::vector<float> a1 = perturbed(*noise);
    EXPECT_NE(a1, std::vector<float>(a1.size(), 0.25f));  // it ran and added noise
    EXPECT_EQ(sc_noise_json(o)["multiply"], to_string(m));
    EXPECT_EQ(sc_noise_json(o)["accumulate"], to_string(a));
  }
}

TEST(ScNoiseSetup, ExactBitsIsBitLevelAndRecorded) {
  ScNoiseOptions o;
  o.source = "lfsr";
  o.length = 32;
  o.exact_bits = true;
  EXPECT_NE(dynamic_cast<BitLevelNoise*>(make_sc_noise(o, 5, 1, *standard_sources()).get()), nullptr);
  const nlohmann::json j = sc_noise_json(o);
  EXPECT_EQ(j["noise"], "bit-level");
  EXPECT_EQ(j["source"], "lfsr");
  EXPECT_EQ(j["length"], 32);
  EXPECT_EQ(j["variance_gradient"], false);
  o.exact_bits = false;
  EXPECT_EQ(sc_noise_json(o)["noise"], "moment-matched");
  EXPECT_EQ(sc_noise_json(o)["variance_gradient"], true);
}

TEST(ScNoiseSetup, BadSettingsAreNamed) {
  ScNoiseOptions o;
  o.length = 0;
  try {
    make_sc_noise(o, 5, 1, *standard_sources());
    FAIL() << "length 0 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("length 0"), std::string::npos) << e.what();
  }
  o.length = 8;
  o.source = "nonsense";
  EXPECT_THROW(make_sc_noise(o, 5, 1, *standard_sources()), Error);
}

}  // namespace
}  // namespace spinsc
