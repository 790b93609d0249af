// Tests of the SC engine. Statistical tolerances are k = 5 standard errors computed from the
// number of draws (two-sided false-alarm probability ~6e-7 each); the draws are seeded, so a
// test's outcome is fixed, not flaky.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

#include "testutil.hpp"
#include "spinsc/bitstream.hpp"
#include "spinsc/digital.hpp"
#include "spinsc/error.hpp"
#include "spinsc/quantize.hpp"
#include "spinsc/rng.hpp"
#include "spinsc/sc_engine.hpp"
#include "spinsc/sources.hpp"

namespace spinsc {
namespace {

constexpr double kSigmas = 5.0;

// A one-layer quantized network n -> m with the given signed levels q (|q| <= (K-1)/2), s = 1.
Network single_layer(int n, int m, int K, const std::vector<int>& q) {
  Network net = Network::zeros({n, m}, K, TrainMode::Qat);
  for (size_t k = 0; k < q.size(); ++k) net.layers[0].weight[k] = weight_value(q[k], 1.0f, K);
  return net;
}

struct Moments {
  double mean = 0, var = 0;
  int draws = 0;
};

Moments counter_moments(const ScEngine& eng, const std::vector<float>& x, int draws, int neuron = 0) {
  double sum = 0, sum2 = 0;
  for (int d = 0; d < draws; ++d) {
    const double c = static_cast<double>(eng.layer(0, x.data(), static_cast<uint64_t>(d)).counter[static_cast<size_t>(neuron)]);
    sum += c;
    sum2 += c * c;
  }
  Moments mo;
  mo.draws = draws;
  mo.mean = sum / draws;
  mo.var = (sum2 - sum * mo.mean) / (draws - 1);
  return mo;
}

// Mean within k standard errors of the known mean, variance within k relative standard errors
// (sqrt(2/(D-1)) for a near-normal statistic) of the known variance.
void expect_moments(const Moments& mo, double mean, double var, const std::string& what) {
  EXPECT_NEAR(mo.mean, mean, kSigmas * std::sqrt(var / mo.draws)) << what;
  EXPECT_NEAR(mo.var / var, 1.0, kSigmas * std::sqrt(2.0 / (mo.draws - 1))) << what;
}

const std::vector<float> kX = {0.9f, 0.25f, 0.6f, 1.0f, 0.4f, 0.75f};
const std::vector<int> kQ = {2, -1, 1, -2, 2, 1};  // K = 5: weights {1, -1/2, 1/2, -1, 1, 1/2}

TEST(ApcSignMagnitude, CountMeanAndVarianceAreBinomial) {
  // Product bits are independent Bernoulli(x_i |w_i|): C = sum_i sign_i Bin(L, x_i |w_i|).
  const int K = 5, L = 200, n = static_cast<int>(kX.size());
  const Network net = single_layer(n, 1, K, kQ);
  ScConfig cfg;
  cfg.length = L;
  const ScEngine eng(net, cfg);
  double mean = 0, var = 0;
  for (int i = 0; i < n; ++i) {
    const double p = kX[static_cast<size_t>(i)] * std::abs(kQ[static_cast<size_t>(i)]) / 2.0;
    mean += (kQ[static_cast<size_t>(i)] < 0 ? -1 : 1) * L * p;
    var += L * p * (1 - p);
  }
  expect_moments(counter_moments(eng, kX, 4000), mean, var, "apc signmag");
}

TEST(ApcSignMagnitude, NegativeWeightsCountDown) {
  const int K = 5, L = 300;
  const Network net = single_layer(3, 1, K, {-2, -2, -1});
  ScConfig cfg;
  cfg.length = L;
  const ScEngine eng(net, cfg);
  const std::vector<float> x = {1.0f, 0.5f, 1.0f};
  for (uint64_t img = 0; img < 50; ++img) EXPECT_LE(eng.layer(0, x.data(), img).counter[0], 0);
  const double mean = -L * (1.0 + 0.5 + 0.5);
  const double var = L * (0.0 + 0.25 + 0.25);  // p = 1, 0.5, 0.5
  expect_moments(counter_moments(eng, x, 3000), mean, var, "all negative");
}

TEST(Bipolar, CountEstimatesTheSignedProduct) {
  // Synapse i: XNOR bit ~ Bernoulli(q_i), q = Px Pw + (1-Px)(1-Pw); C = sum (2 ones - L).
  const int K = 5, L = 200, n = static_cast<int>(kX.size());
  const Network net = single_layer(n, 1, K, kQ);
  ScConfig cfg;
  cfg.length = L;
  cfg.multiply = Multiply::Bipolar;
  const ScEngine eng(net, cfg);
  double mean = 0, var = 0;
  for (int i = 0; i < n; ++i) {
    const double px = (kX[static_cast<size_t>(i)] + 1) / 2, pw = (kQ[static_cast<size_t>(i)] / 2.0 + 1) / 2;
    const double q = px * pw + (1 - px) * (1 - pw);
    mean += L * (2 * q - 1);
    var += 4.0 * L * q * (1 - q);
  }
  double exact = 0;
  for (int i = 0; i < n; ++i) exact += kX[static_cast<size_t>(i)] * kQ[static_cast<size_t>(i)] / 2.0;
  EXPECT_NEAR(mean, L * exact, 1e-6 * L);  // the bipolar product is unbiased (float inputs)
  expect_moments(counter_moments(eng, kX, 4000), mean, var, "bipolar apc");
}

TEST(Mux, UnbiasedAndFarNoisierThanApc) {
  // Each cycle passes one product bit of a uniformly chosen synapse: v_t in {-1, 0, 1} with
  // P(+-1) = (1/n) sum_{sign} x|w|; C = n sum_t v_t.
  const int K = 5, L = 200, n = static_cast<int>(kX.size());
  const Network net = single_layer(n, 1, K, kQ);
  ScConfig cfg;
  cfg.length = L;
  cfg.accumulate = Accumulate::Mux;
  const ScEngine mux(net, cfg);
  cfg.accumulate = Accumulate::Apc;
  const ScEngine apc(net, cfg);
  double pp = 0, pm = 0;
  for (int i = 0; i < n; ++i) {
    const double p = kX[static_cast<size_t>(i)] * std::abs(kQ[static_cast<size_t>(i)]) / 2.0 / n;
    (kQ[static_cast<size_t>(i)] < 0 ? pm : pp) += p;
  }
  const double ev = pp - pm, ev2 = pp + pm;
  const double mean = static_cast<double>(n) * L * ev, var = static_cast<double>(n) * n * L * (ev2 - ev * ev);
  const Moments mm = counter_moments(mux, kX, 4000), ma = counter_moments(apc, kX, 4000);
  expect_moments(mm, mean, var, "mux");
  EXPECT_NEAR(ma.mean, mm.mean, kSigmas * std::sqrt(ma.var / ma.draws + mm.var / mm.draws));
  EXPECT_GT(mm.var, 3.0 * ma.var);
}

// --- bit-exact reference: the documented keys, recomputed one stream at a time ---------------

std::vector<int64_t> reference_counters(const Network& net, const ScConfig& cfg, int l, const std::vector<float>& input,
                                        uint64_t image, int repeat) {
  const auto src = make_bit_source(cfg.source);
  const DenseLayer& layer = net.layers[static_cast<size_t>(l)];
  const int n = layer.in, m = layer.out, L = cfg.length, K = net.states, half = (K - 1) / 2;
  const bool bip = cfg.multiply == Multiply::Bipolar;
  const uint64_t seed = derive_seed(cfg.seed, SeedStream::EvalRepeat, {static_cast<uint64_t>(repeat)});
  const StreamKey in_key{seed, image, static_cast<uint32_t>(l), StreamRole::Input, 0};
  const StreamKey w_key{seed, image, static_cast<uint32_t>(l), StreamRole::Weight, 0};
  std::vector<int64_t> C(static_cast<size_t>(m), 0);
  for (int j = 0; j < m; ++j) {
    std::vector<Bitstream> xs, ws;
    std::vector<int> sign;
    for (int i = 0; i < n; ++i) {
      StreamKey ik = in_key, wk = w_key;
      ik.device = cfg.sharing == Sharing::IndependentAll ? static_cast<uint64_t>(j) * n + i : static_cast<uint64_t>(i);
      const double px = bip ? (input[static_cast<size_t>(i)] + 1.0) / 2 : input[static_cast<size_t>(i)];
      xs.push_back(draw_stream(*src, px, L, ik));
      const int q = weight_level(layer.w(j, i), layer.scale, K);
      const double u = static_cast<double>(q) / half;
      wk.device = cfg.sharing == Sharing::PerLevel ? static_cast<uint64_t>(bip ? q + half : std::abs(q)) : static_cast<uint64_t>(j) * n + i;
      ws.push_back(draw_stream(*src, bip ? (u + 1) / 2 : std::fabs(u), L, wk));
      sign.push_back(q < 0 ? -1 : 1);
    }
    if (cfg.accumulate == Accumulate::Apc) {
      for (int i = 0; i < n; ++i) {
        const auto& x = xs[static_cast<size_t>(i)];
        const auto& w = ws[static_cast<size_t>(i)];
        int64_t c = 0;
        for (int t = 0; t < L; ++t) c += bip ? (x.bit(t) == w.bit(t)) : (x.bit(t) && w.bit(t));
        C[static_cast<size_t>(j)] += bip ? 2 * c - L : sign[static_cast<size_t>(i)] * c;
      }
    } else {
      Xoshiro256 rng(derive_seed(seed, SeedStream::MuxSelect, {image, static_cast<uint64_t>(l), static_cast<uint64_t>(j)}));
      int64_t acc = 0;
      for (int t = 0; t < L; ++t) {
        const int i = static_cast<int>(rng.below(static_cast<uint64_t>(n)));
        const bool xb = xs[static_cast<size_t>(i)].bit(t), wb = ws[static_cast<size_t>(i)].bit(t);
        acc += bip ? (xb == wb) : sign[static_cast<size_t>(i)] * (xb && wb);
      }
      C[static_cast<size_t>(j)] = bip ? static_cast<int64_t>(n) * (2 * acc - L) : static_cast<int64_t>(n) * acc;
    }
  }
  return C;
}

Network random_network(const std::vector<int>& arch, int K, uint64_t seed) {
  Network net = Network::zeros(arch, K, TrainMode::Qat);
  Xoshiro256 rng(seed);
  for (auto& layer : net.layers) {
    layer.scale = 0.5f;
    for (float& w : layer.weight) w = static_cast<float>((rng.uniform() * 2 - 1) * 0.6);
    for (float& b : layer.bias) b = static_cast<float>(rng.uniform() * 0.2);
  }
  return net;
}

TEST(Engine, CountersEqualTheStreamByStreamDefinition) {
  const Network net = random_network({70, 9, 4}, 5, 11);
  std::vector<float> x(70);
  Xoshiro256 rng(3);
  for (float& v : x) v = rng.uniform() < 0.4 ? 0.0f : static_cast<float>(rng.uniform());  // zeros exercise the skip
  for (const char* source : {"ideal", "lfsr:16", "sobol"})
    for (Multiply mul : {Multiply::SignMagnitude, Multiply::Bipolar})
      for (Accumulate acc : {Accumulate::Apc, Accumulate::Mux})
        for (Sharing sh : {Sharing::Independent, Sharing::PerLevel, Sharing::IndependentAll})
          for (int L : {1, 63, 65, 100, 200, 500, 600}) {  // 1, 2, 4, 8 lanes per stream, and longer
            ScConfig cfg;
            cfg.source = source;
            cfg.length = L;
            cfg.multiply = mul;
            cfg.accumulate = acc;
            cfg.sharing = sh;
            cfg.seed = 77;
            const ScEngine eng(net, cfg);
            const auto got = eng.layer(0, x.data(), 5, 2).counter;
            const auto want = reference_counters(net, cfg, 0, x, 5, 2);
            ASSERT_EQ(got, want) << source << " " << to_string(mul) << " " << to_string(acc) << " " << to_string(sh) << " L=" << L;
          }
}

// The ideal source seen only through generate(): no batching, no exact extremes, so the
// engine generates every stream it may need.
class PlainIdeal final : public BitSource {
 public:
  std::string name() const override { return "plain-ideal"; }
  void generate(double p, int length, const StreamKey& key, uint64_t* words) const override { inner_.generate(p, length, key, words); }

 private:
  IdealSource inner_;
};

TEST(Engine, ExactSkipsChangeNoResult) {
  const Network net = random_network({70, 9, 4}, 5, 21);
  std::vector<float> x(70);
  Xoshiro256 rng(8);
  for (float& v : x) v = rng.uniform() < 0.5 ? 0.0f : static_cast<float>(rng.uniform());
  for (Multiply mul : {Multiply::SignMagnitude, Multiply::Bipolar}) {
    ScConfig cfg;
    cfg.length = 130;
    cfg.multiply = mul;
    const ScEngine fast(net, cfg, std::make_shared<IdealSource>());
    const ScEngine plain(net, cfg, std::make_shared<PlainIdeal>());
    for (uint64_t img = 0; img < 5; ++img) {
      const auto a = fast.forward(x.data(), img), b = plain.forward(x.data(), img);
      for (size_t l = 0; l < a.size(); ++l) ASSERT_EQ(a[l].counter, b[l].counter) << to_string(mul) << " layer " << l;
    }
  }
}

TEST(Engine, LengthsNotMultipleOf64) {
  const Network net = single_layer(6, 1, 5, kQ);
  for (int L : {1, 63, 65, 100, 500}) {
    ScConfig cfg;
    cfg.length = L;
    const ScEngine eng(net, cfg);
    for (uint64_t img = 0; img < 20; ++img) {
      const auto r = eng.layer(0, kX.data(), img);
      // |C| can never exceed the up-count capacity n * L; garbage tail bits would break that bound
      // at L = 1 quickly (63 extra random bits per word).
      ASSERT_LE(std::abs(r.counter[0]), 6 * L) << "L=" << L;
      ASSERT_EQ(r.counter, reference_counters(net, cfg, 0, kX, img, 0)) << "L=" << L;
    }
  }
}

// A 4-3-2 network whose digital pre-activations sit far from every rounding boundary.
Network tiny_network() {
  Network net = Network::zeros({4, 3, 2}, 5, TrainMode::Qat);
  const std::vector<float> w1 = {1, -0.5f, 0.5f, 0, 0.5f, 0.5f, -1, 1, 0, 1, 0.5f, -0.5f};
  const std::vector<float> w2 = {1, -1, 0.5f, -0.5f, 1, 1};
  net.layers[0].weight = w1;
  net.layers[1].weight = w2;
  net.layers[0].bias = {0.1f, 0.2f, 0.1f};
  net.layers[1].bias = {0.0f, -0.1f};
  return net;
}

TEST(Engine, TinyNetworkConvergesToDigital) {
  const Network net = tiny_network();
  const std::vector<float> x = {0.8f, 0.3f, 0.5f, 0.9f};
  const std::vector<float> y_dig = digital_forward(net, x.data());
  // The digital hidden pre-activations, to check they are far from the comparator thresholds.
  double prev_err = 1e9;
  for (int L : {64, 1024, 16384}) {
    ScConfig cfg;
    cfg.length = L;
    const ScEngine eng(net, cfg);
    double err = 0;
    const int draws = 40;
    for (int d = 0; d < draws; ++d) {
      const auto y = eng.forward(x.data(), static_cast<uint64_t>(d)).back().output;
      for (size_t j = 0; j < y.size(); ++j) err += std::fabs(y[j] - y_dig[j]);
    }
    err /= draws;
    EXPECT_LT(err, prev_err) << "L=" << L;
    prev_err = err;
  }
  // At L = 16384 the output estimate's standard deviation is at most sqrt(n / (4 L)) ~ 0.008 per
  // output (n = 3 synapses, p(1-p) <= 1/4): well inside 5 sigma of the digital values.
  ScConfig cfg;
  cfg.length = 16384;
  const ScEngine eng(net, cfg);
  for (int d = 0; d < 20; ++d) {
    const auto res = eng.forward(x.data(), static_cast<uint64_t>(d));
    const auto y = res.back().output;
    for (size_t j = 0; j < y.size(); ++j) EXPECT_NEAR(y[j], y_dig[j], kSigmas * std::sqrt(3.0 / (4 * 16384.0)));
    EXPECT_EQ(eng.predict(x.data(), static_cast<uint64_t>(d)), argmax_class(y_dig.data(), 2));
  }
}

TEST(Engine, AnalogConvergesToTheFloatNetwork) {
  Network net = tiny_network();
  for (float& w : net.layers[0].weight) w *= 0.83f;  // off the quantization levels
  net.mode = TrainMode::Float;
  ScConfig cfg;
  cfg.length = 16384;
  const ScEngine eng(net, cfg);
  EXPECT_TRUE(eng.analog());
  const std::vector<float> x = {0.8f, 0.3f, 0.5f, 0.9f};
  const std::vector<float> y_ref = eng.reference_forward(x.data());
  EXPECT_EQ(y_ref, digital_forward(net, x.data()));
  double err = 0;
  for (int d = 0; d < 20; ++d) {
    const auto y = eng.forward(x.data(), static_cast<uint64_t>(d)).back().output;
    for (size_t j = 0; j < y.size(); ++j) err += std::fabs(y[j] - y_ref[j]);
  }
  // Two layers of noise, each estimate sd <= s_a sqrt(n / (4L)) ~ 0.008: mean |error| well below 0.05.
  EXPECT_LT(err / 40, 0.05);
  cfg.sharing = Sharing::PerLevel;
  EXPECT_THROW(ScEngine(net, cfg), Error);
}

TEST(Engine, OutputTiesGoToTheLowestIndex) {
  Network net = Network::zeros({3, 4}, 5, TrainMode::Qat);
  net.layers[0].bias = {0.2f, 0.5f, 0.5f, 0.5f};
  const ScEngine eng(net, ScConfig{});
  const std::vector<float> x = {1, 1, 1};
  for (uint64_t img = 0; img < 10; ++img) EXPECT_EQ(eng.predict(x.data(), img), 1);
}

Dataset synthetic_data(int count, int features, uint64_t seed) {
  Dataset d;
  d.name = "synthetic";
  d.count = count;
  d.rows = 1;
  d.cols = features;
  Xoshiro256 rng(seed);
  d.images.resize(static_cast<size_t>(count) * features);
  for (auto& px : d.images) px = rng.uniform() < 0.5 ? 0 : static_cast<uint8_t>(rng.below(256));
  d.labels.resize(static_cast<size_t>(count));
  for (auto& lb : d.labels) lb = static_cast<uint8_t>(rng.below(4));
  return d;
}

TEST(Engine, SameSeedSameResultOnAnyThreadCount) {
  const Network net = random_network({30, 12, 4}, 5, 5);
  const Dataset data = synthetic_data(300, 30, 9);
  ScConfig cfg;
  cfg.length = 100;
  cfg.seed = 123;
  const ScEngine eng(net, cfg);
  const ScAccuracy one = eng.accuracy(data, 3, 1), two = eng.accuracy(data, 3, 2);
  EXPECT_EQ(one.per_repeat, two.per_repeat);
  EXPECT_GT(one.std + std::fabs(one.per_repeat[0] - one.per_repeat[1]), 0.0);  // repeats do differ
  cfg.seed = 124;
  const ScAccuracy other = ScEngine(net, cfg).accuracy(data, 3, 2);
  EXPECT_NE(one.per_repeat, other.per_repeat);
}

TEST(Engine, RejectsBadConfigurations) {
  const Network net = tiny_network();
  ScConfig cfg;
  cfg.length = 0;
  EXPECT_THROW(ScEngine(net, cfg), Error);
  cfg.length = 10;
  cfg.source = "nosuch";
  EXPECT_THROW(ScEngine(net, cfg), Error);
  cfg.source = "ideal";
  const ScEngine eng(net, cfg);
  const std::vector<float> bad = {0.5f, 1.5f, 0, 0};
  EXPECT_THROW(eng.layer(0, bad.data(), 0), Error);
  EXPECT_THROW(eng.layer(2, bad.data(), 0), Error);
  EXPECT_THROW(parse_sharing("shared"), Error);
  EXPECT_EQ(parse_sharing(to_string(Sharing::IndependentAll)), Sharing::IndependentAll);
  EXPECT_EQ(parse_multiply("bipolar"), Multiply::Bipolar);
  EXPECT_EQ(parse_accumulate("mux"), Accumulate::Mux);
}

// A source that fails on one image, as a trace library or an s-MTJ with an impossible device
// draw does from inside the engine's worker threads.
class FailingSource : public BitSource {
 public:
  std::string name() const override { return "failing"; }
  void generate(double p, int length, const StreamKey& key, uint64_t* words) const override {
    if (key.image == 123) fail("failing source: image {}", key.image);
    std::fill_n(words, words_for(length), 0);
  }
  void check_length(int length) const override {
    if (length > 64) fail("failing source: length {} is longer than 64", length);
  }
};

// Without the capture in accuracy(), the throw in the parallel region aborts the program.
TEST(Engine, ErrorsInWorkerThreadsReachTheCaller) {
  const Network net = random_network({30, 12, 4}, 5, 5);
  const Dataset data = synthetic_data(300, 30, 9);
  ScConfig cfg;
  cfg.length = 32;
  cfg.exact_bits = true;
  const ScEngine eng(net, cfg, std::make_shared<FailingSource>());
  for (int threads : {1, 2}) {
    try {
      eng.accuracy(data, 2, threads);
      ADD_FAILURE() << "no error on " << threads << " threads";
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), "failing source: image 123");
    }
  }
  // What the source cannot give is refused when the engine is built, before any work.
  cfg.length = 65;
  EXPECT_THROW(ScEngine(net, cfg, std::make_shared<FailingSource>()), Error);
  // Absurd repeat counts are refused before their tallies are allocated.
  cfg.length = 32;
  EXPECT_THROW(ScEngine(net, cfg).accuracy(data, ScEngine::kMaxRepeats + 1), Error);
}

// Long streams on the binomial shortcut: no (grid + 1) x (L + 1) tables (2 GB and a minute at
// L = 2^20), the input counts come from the binomial sampler instead.
TEST(ScEngineShortcut, LongStreamsNeedNoHugeTables) {
  const Network net = random_network({30, 12, 4}, 5, 5);
  const Dataset data = synthetic_data(20, 30, 9);
  ScConfig cfg;
  cfg.source = "ideal";
  cfg.exact_bits = false;
  cfg.length = 1 << 20;
  const auto start = std::chrono::steady_clock::now();
  const ScEngine eng(net, cfg);
  ASSERT_TRUE(eng.binomial_shortcut());
  const ScAccuracy acc = eng.accuracy(data, 1, 1);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5.0);
  EXPECT_GE(acc.mean, 0.0);
}

// The binomial shortcut must give counters with the bit-level path's distribution: for each
// neuron, equal means and variances (5 standard errors) and a two-sample Kolmogorov-Smirnov
// distance below its 0.1% critical value 1.95 sqrt(2/R). K = 5 has weight streams at p = 1/2
// only; K = 11 at p = 0.2..0.8, whose per-level counts go through both regimes of binomial()
// (inversion for n p < 10, rejection above).
class ScEngineShortcutK : public ::testing::TestWithParam<int> {};

TEST_P(ScEngineShortcutK, BinomialCountersMatchBitLevelInDistribution) {
  const int in = 40, out = 5, K = GetParam(), L = 100, R = 4000;
  Network net = Network::zeros({in, out}, K, TrainMode::Qat);
  Xoshiro256 rng(21);
  net.layers[0].scale = 0.5f;
  for (float& w : net.layers[0].weight) w = weight_value(static_cast<int>(rng.below(K)) - (K - 1) / 2, 0.5f, K);
  std::vector<float> x(in);
  for (float& v : x) v = static_cast<float>(rng.below(256)) / 255.0f;
  x[0] = 0.0f;
  ScConfig exact;
  exact.length = L;
  ScConfig fast = exact;
  fast.exact_bits = false;
  const ScEngine a(net, exact), b(net, fast);
  ASSERT_FALSE(a.binomial_shortcut());
  ASSERT_TRUE(b.binomial_shortcut());
  for (int j = 0; j < out; ++j) {
    std::vector<double> ca, cb;
    for (int r = 0; r < R; ++r) {
      ca.push_back(static_cast<double>(a.layer(0, x.data(), static_cast<uint64_t>(r)).counter[j]));
      cb.push_back(static_cast<double>(b.layer(0, x.data(), static_cast<uint64_t>(r)).counter[j]));
    }
    const auto [ma, va] = spinsc::testing::mean_and_variance(ca);
    const auto [mb, vb] = spinsc::testing::mean_and_variance(cb);
    ASSERT_GT(va, 0.0);
    EXPECT_NEAR(ma, mb, 5 * std::sqrt(2 * va / R)) << "neuron " << j;
    EXPECT_NEAR(vb / va, 1.0, 5 * std::sqrt(4.0 / (R - 1))) << "neuron " << j;
    std::sort(ca.begin(), ca.end());
    std::sort(cb.begin(), cb.end());
    double ks = 0;
    for (double t : ca) {
      const double fa = static_cast<double>(std::upper_bound(ca.begin(), ca.end(), t) - ca.begin()) / R;
      const double fb = static_cast<double>(std::upper_bound(cb.begin(), cb.end(), t) - cb.begin()) / R;
      ks = std::max(ks, std::fabs(fa - fb));
    }
    EXPECT_LT(ks, 1.95 * std::sqrt(2.0 / R)) << "neuron " << j;
  }
}

INSTANTIATE_TEST_SUITE_P(States, ScEngineShortcutK, ::testing::Values(5, 11));

TEST(ScEngineShortcut, OnlyWhereItIsExact) {
  Network net = Network::zeros({4, 2}, 5, TrainMode::Qat);
  ScConfig c;
  c.exact_bits = false;
  for (const char* spec : {"lfsr", "sobol"}) {
    c.source = spec;
    EXPECT_FALSE(ScEngine(net, c).binomial_shortcut()) << spec;
  }
  c.source = "ideal";
  c.sharing = Sharing::PerLevel;
  EXPECT_FALSE(ScEngine(net, c).binomial_shortcut());
  c.sharing = Sharing::Independent;
  c.accumulate = Accumulate::Mux;
  EXPECT_FALSE(ScEngine(net, c).binomial_shortcut());
  c.accumulate = Accumulate::Apc;
  c.analog = true;
  EXPECT_FALSE(ScEngine(net, c).binomial_shortcut());
}

}  // namespace
}  // namespace spinsc
