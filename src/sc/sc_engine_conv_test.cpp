// Tests of the SC engine on conv2d and pooling stages (SPEC §9). Statistical tolerances are
// k = 5 standard errors computed from the number of draws, as in sc_engine_test.cpp; the draws
// are seeded, so a test's outcome is fixed, not flaky.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

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

// A network of the given architecture with random weights (quantized networks: random levels,
// some at 0 and +-1 so that the exact-extreme skips run), biases and scales.
Network random_net(const std::string& arch, Shape input, int K, uint64_t seed, TrainMode mode = TrainMode::Qat) {
  Network net = Network::zeros(parse_architecture(arch, input), K, mode);
  Xoshiro256 rng(seed);
  for (DenseLayer& layer : net.layers) {
    layer.scale = static_cast<float>(1.5 / std::sqrt(layer.in));
    for (float& w : layer.weight)
      w = mode == TrainMode::Float ? static_cast<float>(rng.normal() * 0.8 / std::sqrt(layer.in))
                                   : weight_value(static_cast<int>(rng.below(static_cast<uint64_t>(K))) - (K - 1) / 2, layer.scale, K);
    for (float& b : layer.bias) b = static_cast<float>(0.3 + rng.normal() * 0.1);
  }
  return net;
}

std::vector<float> random_input(size_t n, uint64_t seed, double zeros = 0.3) {
  std::vector<float> x(n);
  Xoshiro256 rng(seed);
  for (float& v : x) v = rng.uniform() < zeros ? 0.0f : static_cast<float>(rng.below(256)) / 255.0f;
  return x;
}

// The synapses (input index, tap) of conv output position (oy, ox), by the definition.
std::vector<std::pair<int, int>> receptive_field(const Stage& st, int oy, int ox) {
  std::vector<std::pair<int, int>> syn;
  const int k = st.kernel, H = st.in.height, W = st.in.width;
  for (int c = 0; c < st.in.channels; ++c)
    for (int ky = 0; ky < k; ++ky)
      for (int kx = 0; kx < k; ++kx) {
        const int iy = oy * st.stride + ky - st.padding, ix = ox * st.stride + kx - st.padding;
        if (iy >= 0 && iy < H && ix >= 0 && ix < W) syn.emplace_back((c * H + iy) * W + ix, (c * k + ky) * k + kx);
      }
  return syn;
}

// The counters of conv stage l (before pooling) recomputed one stream at a time from the
// documented keys: output o = (f OH + oy) OW + ox, synapse (i, t); input device i
// (independent-all: o fan_in + t); weight device o fan_in + t (independent), f fan_in + t
// (per-tap), the level (per-level).
std::vector<int64_t> reference_conv_counters(const Network& net, const ScConfig& cfg, int l, const std::vector<float>& input,
                                             uint64_t image, int repeat) {
  const Stage st = net.stages()[static_cast<size_t>(l)];
  const DenseLayer& layer = net.layers[static_cast<size_t>(st.layer)];
  const auto src = make_bit_source(cfg.source);
  const int L = cfg.length, K = net.states, half = (K - 1) / 2, fan = st.fan_in();
  const bool bip = cfg.multiply == Multiply::Bipolar;
  const uint64_t seed = derive_seed(cfg.seed, SeedStream::EvalRepeat, {static_cast<uint64_t>(repeat)});
  const StreamKey in_key{seed, image, static_cast<uint32_t>(l), StreamRole::Input, 0};
  const StreamKey w_key{seed, image, static_cast<uint32_t>(l), StreamRole::Weight, 0};
  const int OH = st.conv.height, OW = st.conv.width;
  std::vector<int64_t> C(static_cast<size_t>(st.conv.size()), 0);
  for (int f = 0; f < st.conv.channels; ++f)
    for (int oy = 0; oy < OH; ++oy)
      for (int ox = 0; ox < OW; ++ox) {
        const uint64_t o = static_cast<uint64_t>((f * OH + oy) * OW + ox);
        const auto syn = receptive_field(st, oy, ox);
        const int n = static_cast<int>(syn.size());
        std::vector<Bitstream> xs, ws;
        std::vector<int> sign;
        for (const auto& [i, t] : syn) {
          StreamKey ik = in_key, wk = w_key;
          ik.device = cfg.sharing == Sharing::IndependentAll ? o * fan + t : static_cast<uint64_t>(i);
          const double px = bip ? (input[static_cast<size_t>(i)] + 1.0) / 2 : input[static_cast<size_t>(i)];
          xs.push_back(draw_stream(*src, px, L, ik));
          const int q = weight_level(layer.w(f, t), layer.scale, K);
          const double u = static_cast<double>(q) / half;
          wk.device = cfg.sharing == Sharing::PerLevel ? static_cast<uint64_t>(bip ? q + half : std::abs(q))
                      : cfg.sharing == Sharing::PerTap ? static_cast<uint64_t>(f) * fan + t
                                                       : o * fan + t;
          ws.push_back(draw_stream(*src, bip ? (u + 1) / 2 : std::fabs(u), L, wk));
          sign.push_back(q < 0 ? -1 : 1);
        }
        int64_t& c_o = C[o];
        if (cfg.accumulate == Accumulate::Apc) {
          for (int a = 0; a < n; ++a) {
            int64_t c = 0;
            for (int t = 0; t < L; ++t) c += bip ? (xs[a].bit(t) == ws[a].bit(t)) : (xs[a].bit(t) && ws[a].bit(t));
            c_o += bip ? 2 * c - L : sign[a] * c;
          }
        } else {
          Xoshiro256 rng(derive_seed(seed, SeedStream::MuxSelect, {image, static_cast<uint64_t>(l), o}));
          int64_t acc = 0;
          for (int t = 0; t < L; ++t) {
            const int a = static_cast<int>(rng.below(static_cast<uint64_t>(n)));
            const bool xb = xs[a].bit(t), wb = ws[a].bit(t);
            acc += bip ? (xb == wb) : sign[a] * (xb && wb);
          }
          c_o = bip ? static_cast<int64_t>(n) * (2 * acc - L) : static_cast<int64_t>(n) * acc;
        }
      }
  return C;
}

TEST(ConvEngine, CountersEqualTheStreamByStreamDefinition) {
  // Padding on every side, and stride 2; every sharing, multiply and accumulate, three sources.
  for (const char* arch : {"input:2x6x6,conv:3x3x3:p1,dense:3", "input:2x7x7,conv:3x3x3:p1:s2,dense:3"}) {
    const Network net = random_net(arch, {}, 5, 11);
    const auto x = random_input(static_cast<size_t>(net.arch.front()), 3);
    for (const char* source : {"ideal", "lfsr:16", "sobol"})
      for (Multiply mul : {Multiply::SignMagnitude, Multiply::Bipolar})
        for (Accumulate acc : {Accumulate::Apc, Accumulate::Mux})
          for (Sharing sh : {Sharing::Independent, Sharing::PerTap, Sharing::PerLevel, Sharing::IndependentAll})
            for (int L : {1, 65, 200}) {
              ScConfig cfg;
              cfg.source = source;
              cfg.length = L;
              cfg.multiply = mul;
              cfg.accumulate = acc;
              cfg.sharing = sh;
              cfg.seed = 77;
              const ScEngine eng(net, cfg);
              ASSERT_EQ(eng.layer(0, x.data(), 5, 2).counter, reference_conv_counters(net, cfg, 0, x, 5, 2))
                  << arch << " " << source << " " << to_string(mul) << " " << to_string(acc) << " " << to_string(sh) << " L=" << L;
            }
  }
}

TEST(ConvEngine, PerTapReusesOneStreamPerKernelWeightAtEveryPosition) {
  // All-one inputs (exact streams of ones) and one weight level per filter: an output's count
  // is the sum of its filter's weight-stream popcounts. With per-tap sharing it is the same at
  // every position of an image (and changes with the image); with independent streams not.
  Network net = Network::zeros(parse_architecture("input:1x6x6,conv:2x3x3,dense:2"), 5, TrainMode::Qat);
  for (int t = 0; t < 9; ++t) {
    net.layers[0].weight[static_cast<size_t>(t)] = 0.5f;       // filter 0: level +1 (p = 1/2)
    net.layers[0].weight[static_cast<size_t>(9 + t)] = -0.5f;  // filter 1: level -1
  }
  const std::vector<float> x(36, 1.0f);
  ScConfig cfg;
  cfg.length = 200;
  cfg.sharing = Sharing::PerTap;
  const ScEngine tap(net, cfg);
  cfg.sharing = Sharing::Independent;
  const ScEngine ind(net, cfg);
  std::vector<int64_t> first;
  for (uint64_t img = 0; img < 3; ++img) {
    const auto c = tap.layer(0, x.data(), img).counter;
    ASSERT_EQ(c.size(), 32u);
    for (int f = 0; f < 2; ++f)
      for (int pos = 1; pos < 16; ++pos) EXPECT_EQ(c[static_cast<size_t>(f * 16 + pos)], c[static_cast<size_t>(f * 16)]) << img;
    EXPECT_GT(c[0], 0);
    EXPECT_LT(c[16], 0);
    if (img == 0) first = c;
    else EXPECT_NE(c, first) << "the streams are drawn afresh per image";
    const auto ci = ind.layer(0, x.data(), img).counter;
    EXPECT_FALSE(std::all_of(ci.begin(), ci.begin() + 16, [&](int64_t v) { return v == ci[0]; }));
  }
}

TEST(ConvEngine, PerTapOnAnMlpIsIndependentSharing) {
  const Network net = random_net("40,7,3", {}, 5, 4);
  const auto x = random_input(40, 6);
  for (bool exact : {true, false}) {
    ScConfig cfg;
    cfg.length = 90;
    cfg.exact_bits = exact;
    const ScEngine ind(net, cfg);
    cfg.sharing = Sharing::PerTap;
    const ScEngine tap(net, cfg);
    EXPECT_EQ(tap.binomial_shortcut(), !exact);
    for (uint64_t img = 0; img < 4; ++img) {
      const auto a = ind.forward(x.data(), img), b = tap.forward(x.data(), img);
      for (size_t l = 0; l < a.size(); ++l) ASSERT_EQ(a[l].counter, b[l].counter);
    }
  }
  EXPECT_EQ(parse_sharing("per-tap"), Sharing::PerTap);
  EXPECT_EQ(to_string(Sharing::PerTap), "per-tap");
}

TEST(ConvEngine, ShortcutOnlyWhereItIsExact) {
  const Network net = random_net("input:1x6x6,conv:2x3x3,avgpool:2,dense:2", {}, 5, 3);
  ScConfig cfg;
  cfg.exact_bits = false;
  EXPECT_TRUE(ScEngine(net, cfg).binomial_shortcut());
  cfg.sharing = Sharing::PerTap;  // one stream at every position correlates the counters
  EXPECT_FALSE(ScEngine(net, cfg).binomial_shortcut());
  cfg.sharing = Sharing::PerLevel;
  EXPECT_FALSE(ScEngine(net, cfg).binomial_shortcut());
}

// The digital pre-activations u of stage `st` (before gain and bias; averaged after an
// avgpool2d) for the stage input x, from the weights as used (quantized or float).
std::vector<double> digital_u(const Network& net, const Stage& st, const std::vector<float>& x) {
  const DenseLayer& layer = net.layers[static_cast<size_t>(st.layer)];
  auto w = [&](int j, int t) {
    return net.quantized() ? static_cast<double>(quantize_weight(layer.w(j, t), layer.scale, net.states)) : static_cast<double>(layer.w(j, t));
  };
  std::vector<double> u(static_cast<size_t>(st.conv.size()), 0.0);
  if (st.kind == LayerKind::Dense) {
    for (int j = 0; j < layer.out; ++j)
      for (int i = 0; i < layer.in; ++i) u[static_cast<size_t>(j)] += w(j, i) * x[static_cast<size_t>(i)];
    return u;
  }
  const int OH = st.conv.height, OW = st.conv.width;
  for (int f = 0; f < st.conv.channels; ++f)
    for (int oy = 0; oy < OH; ++oy)
      for (int ox = 0; ox < OW; ++ox)
        for (const auto& [i, t] : receptive_field(st, oy, ox)) u[static_cast<size_t>((f * OH + oy) * OW + ox)] += w(f, t) * x[static_cast<size_t>(i)];
  if (st.pool != LayerKind::AvgPool2d) return u;
  const int win = st.window, PH = st.out.height, PW = st.out.width;
  std::vector<double> pooled(static_cast<size_t>(st.out.size()), 0.0);
  for (int c = 0; c < st.out.channels; ++c)
    for (int py = 0; py < PH; ++py)
      for (int px = 0; px < PW; ++px) {
        double s = 0;
        for (int dy = 0; dy < win; ++dy)
          for (int dx = 0; dx < win; ++dx) s += u[static_cast<size_t>((c * OH + py * win + dy) * OW + px * win + dx)];
        pooled[static_cast<size_t>((c * PH + py) * PW + px)] = s / (win * win);
      }
  return pooled;
}

// Every stage, fed the digital input of that stage, converges to the digital pre-activations:
// at L = 4096 each estimate lies within 5 standard deviations of u, the deviation bounded by
// s sqrt(n / (4 L)) (n synapses, each product count's variance at most L / 4; an avgpool2d
// average of w^2 such estimates has at most the deviation of one). The outputs are the forward
// rule applied to the estimates: comparators, then the window maximum.
class ConvConvergence : public ::testing::TestWithParam<TrainMode> {};

TEST_P(ConvConvergence, StageEstimatesConvergeToTheDigitalForward) {
  const TrainMode mode = GetParam();
  const Network net = random_net("conv:3x3x3:p1,maxpool:2,conv:4x3x3,avgpool:2,dense:5", {2, 12, 12}, 5, 9, mode);
  const auto x = random_input(static_cast<size_t>(net.arch.front()), 2);
  const DigitalNet dig(net);
  DigitalNet::Scratch scratch;
  std::vector<std::vector<float>> stage_out;
  dig.forward(x.data(), scratch, &stage_out);
  const auto stages = net.stages();
  ScConfig cfg;
  cfg.length = 4096;
  const ScEngine eng(net, cfg);
  EXPECT_EQ(eng.analog(), mode == TrainMode::Float);
  for (size_t l = 0; l < stages.size(); ++l) {
    const Stage& st = stages[l];
    const DenseLayer& layer = net.layers[l];
    const std::vector<float>& in = l == 0 ? x : stage_out[l - 1];
    const std::vector<double> u = digital_u(net, st, in);
    float scale = layer.scale;
    if (mode == TrainMode::Float) {
      scale = 0;
      for (float w : layer.weight) scale = std::max(scale, std::fabs(w));
    }
    const double sd = scale * std::sqrt(st.fan_in() / (4.0 * cfg.length));
    for (uint64_t img = 0; img < 5; ++img) {
      const ScLayerResult r = eng.layer(static_cast<int>(l), in.data(), img);
      ASSERT_EQ(r.estimate.size(), u.size()) << "stage " << l;
      ASSERT_EQ(r.output.size(), static_cast<size_t>(st.out.size())) << "stage " << l;
      for (size_t e = 0; e < u.size(); ++e) EXPECT_NEAR(r.estimate[e], u[e], kSigmas * sd) << "stage " << l << " unit " << e;
      // The outputs from the estimates, by the forward rule.
      const int64_t per_unit = static_cast<int64_t>(u.size()) / st.units();
      std::vector<float> a(u.size());
      for (size_t e = 0; e < u.size(); ++e) {
        const size_t c = e / static_cast<size_t>(per_unit);
        const float z = layer.gain[c] * r.estimate[e] + layer.bias[c];
        a[e] = !st.hidden ? r.estimate[e] + layer.bias[c] : eng.analog() ? std::clamp(z, 0.0f, 1.0f) : quantize_activation(z, net.states);
      }
      if (st.pool == LayerKind::MaxPool2d) {
        const int win = st.window, OW = st.conv.width, PH = st.out.height, PW = st.out.width, OH = st.conv.height;
        for (int c = 0; c < st.out.channels; ++c)
          for (int py = 0; py < PH; ++py)
            for (int px = 0; px < PW; ++px) {
              float m = -1;
              for (int dy = 0; dy < win; ++dy)
                for (int dx = 0; dx < win; ++dx) m = std::max(m, a[static_cast<size_t>((c * OH + py * win + dy) * OW + px * win + dx)]);
              EXPECT_EQ(r.output[static_cast<size_t>((c * PH + py) * PW + px)], m) << "stage " << l;
            }
      } else {
        EXPECT_EQ(r.output, a) << "stage " << l;
      }
    }
  }
  // The whole network: the mean output error shrinks as L grows.
  const std::vector<float> y_ref = eng.reference_forward(x.data());
  double prev = 1e9;
  for (int L : {16, 256, 4096}) {
    cfg.length = L;
    const ScEngine e(net, cfg);
    double err = 0;
    for (uint64_t img = 0; img < 8; ++img) {
      const auto y = e.forward(x.data(), img).back().output;
      ASSERT_EQ(y.size(), y_ref.size());
      for (size_t j = 0; j < y.size(); ++j) err += std::fabs(y[j] - y_ref[j]);
    }
    EXPECT_LT(err, prev) << "L=" << L;
    prev = err;
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, ConvConvergence, ::testing::Values(TrainMode::Qat, TrainMode::Float));

// The binomial shortcut on conv stages has the bit-level law: per counter (each conv output;
// each window sum after an avgpool2d), equal means and variances (5 standard errors) and a
// two-sample Kolmogorov-Smirnov distance below its 0.1% critical value 1.95 sqrt(2/R).
class ConvShortcutK : public ::testing::TestWithParam<int> {};

TEST_P(ConvShortcutK, BinomialCountersMatchBitLevelInDistribution) {
  const int K = GetParam(), L = 100, R = 2000;
  for (const char* arch : {"input:2x6x6,conv:2x3x3:p1,avgpool:2,dense:2", "input:2x6x6,conv:2x3x3,maxpool:2,dense:2"}) {
    const Network net = random_net(arch, {}, K, 21);
    auto x = random_input(72, 5);
    ScConfig exact;
    exact.length = L;
    ScConfig fast = exact;
    fast.exact_bits = false;
    const ScEngine a(net, exact), b(net, fast);
    ASSERT_FALSE(a.binomial_shortcut());
    ASSERT_TRUE(b.binomial_shortcut());
    std::vector<std::vector<double>> ca, cb;
    for (int r = 0; r < R; ++r) {
      const auto ra = a.layer(0, x.data(), static_cast<uint64_t>(r)).counter, rb = b.layer(0, x.data(), static_cast<uint64_t>(r)).counter;
      ca.resize(ra.size());
      cb.resize(rb.size());
      for (size_t j = 0; j < ra.size(); ++j) {
        ca[j].push_back(static_cast<double>(ra[j]));
        cb[j].push_back(static_cast<double>(rb[j]));
      }
    }
    for (size_t j = 0; j < ca.size(); ++j) {
      const auto [ma, va] = spinsc::testing::mean_and_variance(ca[j]);
      const auto [mb, vb] = spinsc::testing::mean_and_variance(cb[j]);
      if (va == 0) {  // an output whose synapses are all exact (level 0 or +-1): no noise at all
        EXPECT_EQ(vb, 0.0) << arch << " counter " << j;
        EXPECT_EQ(ma, mb) << arch << " counter " << j;
        continue;
      }
      EXPECT_NEAR(ma, mb, kSigmas * std::sqrt(2 * va / R)) << arch << " counter " << j;
      EXPECT_NEAR(vb / va, 1.0, kSigmas * std::sqrt(4.0 / (R - 1))) << arch << " counter " << j;
      std::sort(ca[j].begin(), ca[j].end());
      std::sort(cb[j].begin(), cb[j].end());
      double ks = 0;
      for (double t : ca[j]) {
        const double fa = static_cast<double>(std::upper_bound(ca[j].begin(), ca[j].end(), t) - ca[j].begin()) / R;
        const double fb = static_cast<double>(std::upper_bound(cb[j].begin(), cb[j].end(), t) - cb[j].begin()) / R;
        ks = std::max(ks, std::fabs(fa - fb));
      }
      EXPECT_LT(ks, 1.95 * std::sqrt(2.0 / R)) << arch << " counter " << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(States, ConvShortcutK, ::testing::Values(5, 11));

TEST(ConvEngine, SameSeedSameResultOnAnyThreadCount) {
  const Network net = random_net("conv:2x3x3:p1,maxpool:2,conv:3x3x3,avgpool:2,dense:3", {1, 8, 8}, 5, 5);
  Dataset data;
  data.name = "synthetic";
  data.count = 120;
  data.rows = data.cols = 8;
  Xoshiro256 rng(9);
  for (int k = 0; k < data.count * 64; ++k) data.images.push_back(rng.uniform() < 0.5 ? 0 : static_cast<uint8_t>(rng.below(256)));
  for (int k = 0; k < data.count; ++k) data.labels.push_back(static_cast<uint8_t>(rng.below(3)));
  for (Sharing sh : {Sharing::Independent, Sharing::PerTap, Sharing::PerLevel})
    for (bool exact : {true, false}) {
      ScConfig cfg;
      cfg.length = 64;
      cfg.seed = 123;
      cfg.sharing = sh;
      cfg.exact_bits = exact;
      const ScEngine eng(net, cfg);
      const ScAccuracy one = eng.accuracy(data, 2, 1), two = eng.accuracy(data, 2, 2);
      EXPECT_EQ(one.per_repeat, two.per_repeat) << to_string(sh) << " exact " << exact;
      EXPECT_GT(one.synapses, 0);
    }
}

}  // namespace
}  // namespace spinsc
