#include "spinsc/sc_engine.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>

#include "bits/aligned_words.hpp"
#include "core/enum_names.hpp"
#include "sc/count_kernels.hpp"
#include "sc/multiply_kernels.hpp"
#include "spinsc/binomial.hpp"
#include "spinsc/bitstream.hpp"
#include "spinsc/digital.hpp"
#include "spinsc/error.hpp"
#include "spinsc/parallel.hpp"
#include "spinsc/context.hpp"
#include "spinsc/quantize.hpp"
#include "spinsc/rng.hpp"

namespace spinsc {

namespace {
constexpr detail::EnumNames<Sharing, 4> kSharings{{{Sharing::Independent, "independent"},
                                                  {Sharing::PerLevel, "per-level"},
                                                  {Sharing::IndependentAll, "independent-all"},
                                                  {Sharing::PerTap, "per-tap"}}};
}  // namespace

std::string to_string(Sharing s) { return detail::enum_name(kSharings, s); }
Sharing parse_sharing(const std::string& text) { return detail::parse_enum(kSharings, text, "sharing"); }

namespace {

// Synapses whose weight streams are generated in one batch: small enough that the batch's
// streams stay in L1 between generation and counting.
constexpr int kBatch = 64;
constexpr int64_t kMaxCdfEntries = int64_t{1} << 21;  // per layer: 16 MB of input-count tables
// Weight streams of a source with exact extremes: p = 0 is all zeros and p = 1 all ones, so
// their products follow from the input stream's count without generating them.
constexpr uint8_t kZero = 0, kOne = 1, kDraw = 2;

// Per-tap weight streams are kept for a whole conv stage at once (input-major walk) while they
// fit in this many bytes per thread; beyond it they are generated filter by filter.
constexpr size_t kTapBufferBytes = size_t{64} << 20;

// A stage as the engine uses it: the probability of each weight stream, precomputed. Weights
// are indexed k = j * fan_in + t (dense: t = i, the input; conv2d: j = filter, t = tap).
struct PreparedLayer {
  int in = 0, out = 0;              // inputs n; outputs m (dense: units; conv2d: F * OH * OW)
  bool hidden = false;
  // per-tap sharing on a dense stage is independent sharing: the same keys (f = j, t = i).
  Sharing sharing = Sharing::Independent;
  float scale = 1;                  // s (quantized) or s_a = max |w| (analog)
  std::vector<double> p;            // [k]: probability of the weight's stream
  std::vector<uint8_t> negative;    // [k]: sign-magnitude routing to the down count
  std::vector<uint8_t> kind;        // [k]: kZero / kOne (exact stream, not generated) / kDraw
  std::vector<uint32_t> level;      // [k]: per-level device index
  // conv2d: the synapse program. Output o = f * positions + pos (pos = oy * OW + ox) reads, for
  // a = prog_begin[pos] .. prog_begin[pos+1]-1, input prog_input[a] through tap prog_tap[a]
  // (padding left out: no synapse). Independent device o * fan_in + t; per-tap device k.
  bool conv = false;
  int fan_in = 0, units = 0, positions = 1;
  std::vector<uint32_t> prog_begin, prog_input, prog_tap;
  long long synapses = 0;           // real synapses of the stage (without padding)
  LayerKind pool = LayerKind::Flatten;
  int window = 1;
  Shape conv_shape, out_shape;
  // per-tap: the drawn (kDraw) kernel weights, in weight order; filter f's are entries
  // tap_begin[f] .. tap_begin[f+1]-1, weight k's is entry tap_slot[k].
  std::vector<double> tap_p;
  std::vector<uint64_t> tap_device;
  std::vector<uint32_t> tap_begin, tap_slot;
  std::vector<double> level_p;      // per-level: probability of each level's stream
  std::vector<float> bias, gain;
  // Binomial shortcut (when `shortcut`, see ScEngine::binomial_shortcut): the law of an input
  // stream's count of ones, Binomial(L, g/grid), as a cumulative table for every value g/grid of
  // the layer's input grid (pixels: grid 255; hidden activations: grid K-1). Inputs off the grid
  // fall back to binomial().
  int grid = 0;
  std::vector<std::vector<double>> ones_cdf;
  // The shortcut's routing as a matrix product (see shortcut_stage): `route` is fan_in x
  // (units * slots), row t, column u * slots + s. A positive weight whose stream has
  // 0 < q < 1 adds Binomial(c, q) to its neuron's counter (c: the input's count of ones), a
  // negative one -Binomial(c, q), which has the law of Binomial(c, 1 - q) - c. So slot s < slots
  // - 1 collects the counts to thin with probability slot_p[s] (the distinct values of q and
  // 1 - q over the drawn levels: for symmetric levels k/h as many slots as levels), each entry
  // 1 where weight (u, t) is positive at q = slot_p[s] or negative at 1 - q = slot_p[s]; the
  // last slot sums exactly: +1 where the stream is all ones (p = 1: the product is the input
  // stream), -1 where it is all ones and negative or drawn and negative. Then the counter is
  // z[last] + sum_s Binomial(z[s], slot_p[s]): one draw per slot, independent of the others, the
  // bit-level counter's law. Products of integer counts with these entries are exact in float
  // while fan_in * L < 2^24 (route_f), else in double (route_d).
  int slots = 1;
  std::vector<double> slot_p;
  bool route_double = false;
  std::vector<float> route_f;
  std::vector<double> route_d;
  // Input-major order (signmag + apc, broadcast inputs, independent, per-level or per-tap
  // weights; see run_layer): for input i, the synapses whose weight stream is drawn are entries
  // draw_begin[i] .. draw_begin[i+1] of the draw_* arrays, those at p = 1 the one_* entries.
  // draw_level is the shared stream's index: the level (per-level) or tap_slot (per-tap).
  bool input_major = false;
  std::vector<uint32_t> draw_begin, draw_neuron, draw_level, one_begin, one_neuron;
  std::vector<double> draw_p;
  std::vector<uint64_t> draw_device;
  std::vector<uint8_t> draw_neg, one_neg;
};

// The operands of one routing product: a (rows x live taps) and z = a times the routing rows.
template <class T>
struct GemmBuffers {
  std::vector<T> a, z;
};

struct Workspace {
  detail::AlignedWords x;           // broadcast input streams, n * nw
  detail::AlignedWords xs;          // independent-all: this neuron's input streams, n * nw
  detail::AlignedWords levels;      // per-level weight streams
  detail::AlignedWords w;           // a batch of weight streams, kBatch * nw (mux: up to min(n, L))
  std::vector<double> bp, px;      // a batch's weight-stream p; the layer's input-stream p
  std::vector<uint64_t> bd;
  std::vector<uint8_t> is_active;   // mux: whether each input stream is nonzero
  std::vector<int> active, bidx, slot, sel, needed;
  std::vector<int64_t> ones;        // popcount of each input stream
  detail::AlignedWords acc;         // input-major: per neuron, 8 lanes of partial counts
  std::vector<int64_t> exact;       // input-major: per neuron, the products with p = 1 streams
  detail::AlignedWords taps;        // per-tap weight streams
  std::vector<const uint64_t*> sx, bx, bw;  // conv2d: an output's synapse input streams; a batch's
  std::vector<int64_t> sc;          // conv2d: an output's synapse input counts
  std::vector<int> sa;              // conv2d: an output's synapses that can contribute
  std::vector<uint8_t> bneg;
  std::vector<int64_t> pooled;
  std::vector<float> act;
  // Batched shortcut: the batch's input counts (images x inputs), the inputs with a nonzero count
  // in some image, and the product's operands and result in float or double.
  std::vector<int32_t> counts;
  std::vector<uint32_t> live;
  GemmBuffers<float> gf;
  GemmBuffers<double> gd;
  long long weight_streams = 0, synapses = 0;  // work counters for ScAccuracy
};

std::vector<double> binomial_cdf(int n, double p) {
  std::vector<double> cdf(static_cast<size_t>(n) + 1);
  if (p <= 0 || p >= 1) {
    for (int k = 0; k <= n; ++k) cdf[static_cast<size_t>(k)] = (p <= 0 || k == n) ? 1.0 : 0.0;
    return cdf;
  }
  const double lp = std::log(p), lq = std::log1p(-p), ln = std::lgamma(n + 1.0);
  double acc = 0;
  for (int k = 0; k <= n; ++k) {
    acc += std::exp(ln - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0) + k * lp + (n - k) * lq);
    cdf[static_cast<size_t>(k)] = acc;
  }
  for (double& c : cdf) c /= acc;
  return cdf;
}

}  // namespace

struct ScEngine::Impl {
  Network reference;  // the network whose digital forward the engine converges to
  int states = 5;
  bool shortcut = false;  // binomial_shortcut(), decided once
  std::vector<PreparedLayer> layers;
};

ScEngine::ScEngine(const Network& net, ScConfig config, const SourceRegistry& sources)
    : ScEngine(net, config, std::shared_ptr<const BitSource>(sources.make(config.source))) {}
ScEngine::ScEngine(const Network& net, ScConfig config) : ScEngine(net, config, *builtin_sources()) {}

ScEngine::~ScEngine() = default;
ScEngine::ScEngine(ScEngine&&) noexcept = default;

ScEngine::ScEngine(const Network& net, ScConfig config, std::shared_ptr<const BitSource> source)
    : config_(std::move(config)), source_(std::move(source)), impl_(std::make_unique<Impl>()) {
  validate(net);
  if (!source_) fail("SC engine: no bit source");
  // 2^20 bits keeps a layer's streams (n * L / 8 bytes per thread) within memory.
  if (config_.length < 1 || config_.length > (1 << 20)) fail("SC stream length {} must be between 1 and 1048576 (2^20)", config_.length);
  source_->check_length(config_.length);
  if (!net.quantized()) config_.analog = true;
  if (config_.analog && config_.sharing == Sharing::PerLevel)
    fail("sharing 'per-level' needs quantized weights; the analog baseline has continuous weights (use 'independent')");
  config_.source = source_->name();
  Impl& im = *impl_;
  im.reference = net;
  if (config_.analog) im.reference.mode = TrainMode::Float;
  im.states = net.states;
  const int K = net.states, half = (K - 1) / 2;
  const MultiplyRule& multiply = rule_of(config_.multiply);
  const AccumulateRule& accumulate = rule_of(config_.accumulate);
  const std::vector<Stage> stages = net.stages();
  const bool has_conv = std::any_of(stages.begin(), stages.end(), [](const Stage& st) { return st.kind == LayerKind::Conv2d; });
  // per-tap reuses a weight stream at every position of a conv stage, which correlates the
  // positions' counters: the shortcut's independent draws would not have their law.
  im.shortcut = !config_.exact_bits && !config_.analog && binomial_counts(multiply, accumulate) &&
                (config_.sharing == Sharing::Independent || (config_.sharing == Sharing::PerTap && !has_conv)) &&
                source_->exact_extremes() && source_->iid_bits();
  for (const Stage& st : stages) {
    const DenseLayer& src = net.layers[static_cast<size_t>(st.layer)];
    PreparedLayer pl;
    pl.conv = st.kind == LayerKind::Conv2d;
    pl.in = static_cast<int>(st.in.size());
    pl.out = static_cast<int>(st.conv.size());
    pl.hidden = st.hidden;
    pl.sharing = config_.sharing == Sharing::PerTap && !pl.conv ? Sharing::Independent : config_.sharing;
    pl.fan_in = st.fan_in();
    pl.units = st.units();
    pl.positions = st.conv.height * st.conv.width;
    pl.pool = st.pool;
    pl.window = st.window;
    pl.conv_shape = st.conv;
    pl.out_shape = st.out;
    pl.bias = src.bias;
    pl.gain = src.gain;
    const size_t nsyn = src.weight.size();
    pl.p.resize(nsyn);
    pl.negative.resize(nsyn);
    if (config_.analog) {
      float smax = 0;
      for (float w : src.weight) smax = std::max(smax, std::fabs(w));
      pl.scale = smax > 0 ? smax : 1.0f;
      for (size_t k = 0; k < nsyn; ++k) {
        const double u = std::clamp(static_cast<double>(src.weight[k]) / pl.scale, -1.0, 1.0);
        pl.p[k] = multiply.encode(u);
        pl.negative[k] = u < 0;
      }
    } else {
      pl.scale = src.scale;
      pl.level.resize(nsyn);
      for (size_t k = 0; k < nsyn; ++k) {
        const int q = weight_level(src.weight[k], src.scale, K);
        const double u = static_cast<double>(q) / half;  // w_q / s, exactly a level
        pl.p[k] = multiply.encode(u);
        pl.negative[k] = q < 0;
        pl.level[k] = static_cast<uint32_t>(multiply.level_index(q, K));
      }
      // The per-level streams: level index v encodes the value of the levels q it serves.
      pl.level_p.resize(static_cast<size_t>(multiply.stream_levels(K)));
      for (int q = -half; q <= half; ++q)
        pl.level_p[static_cast<size_t>(multiply.level_index(q, K))] = multiply.encode(static_cast<double>(q) / half);
    }
    pl.kind.resize(nsyn);
    for (size_t k = 0; k < nsyn; ++k)
      pl.kind[k] = !source_->exact_extremes() ? kDraw : pl.p[k] == 0.0 ? kZero : pl.p[k] == 1.0 ? kOne : kDraw;
    pl.synapses = static_cast<long long>(pl.in) * pl.out;
    if (pl.conv) {
      // The program: each output position's receptive field, taps in weight order.
      const int H = st.in.height, W = st.in.width, k = st.kernel, OW = st.conv.width;
      pl.prog_begin.push_back(0);
      for (int pos = 0; pos < pl.positions; ++pos) {
        const int oy = pos / OW, ox = pos % OW;
        for (int c = 0; c < st.in.channels; ++c)
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx) {
              const int iy = oy * st.stride + ky - st.padding, ix = ox * st.stride + kx - st.padding;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              pl.prog_input.push_back(static_cast<uint32_t>((c * H + iy) * W + ix));
              pl.prog_tap.push_back(static_cast<uint32_t>((c * k + ky) * k + kx));
            }
        pl.prog_begin.push_back(static_cast<uint32_t>(pl.prog_input.size()));
      }
      pl.synapses = static_cast<long long>(pl.units) * static_cast<long long>(pl.prog_input.size());
      if (pl.sharing == Sharing::PerTap) {
        pl.tap_slot.assign(nsyn, 0);
        for (int f = 0; f < pl.units; ++f) {
          pl.tap_begin.push_back(static_cast<uint32_t>(pl.tap_p.size()));
          for (int t = 0; t < pl.fan_in; ++t) {
            const size_t kk = static_cast<size_t>(f) * pl.fan_in + t;
            if (pl.kind[kk] != kDraw) continue;
            pl.tap_slot[kk] = static_cast<uint32_t>(pl.tap_p.size());
            pl.tap_p.push_back(pl.p[kk]);
            pl.tap_device.push_back(kk);
          }
        }
        pl.tap_begin.push_back(static_cast<uint32_t>(pl.tap_p.size()));
      }
    }
    const size_t stream_bytes = static_cast<size_t>(words_for(config_.length)) * sizeof(uint64_t);
    // The input-major walk accumulates AND products routed by sign, counted in full.
    pl.input_major = !im.shortcut && multiply.gate == ProductGate::And && multiply.sign_routing &&
                     accumulate.counts_every_synapse &&
                     (pl.sharing == Sharing::Independent || pl.sharing == Sharing::PerLevel ||
                      (pl.sharing == Sharing::PerTap && pl.tap_p.size() * stream_bytes <= kTapBufferBytes));
    if (pl.input_major && !pl.conv) {
      // Transposed once here so that run_layer walks each active input's synapses in order.
      const size_t n = static_cast<size_t>(pl.in), m = static_cast<size_t>(pl.out);
      pl.draw_begin.assign(n + 1, 0);
      pl.one_begin.assign(n + 1, 0);
      for (size_t i = 0; i < n; ++i) {
        pl.draw_begin[i + 1] = pl.draw_begin[i];
        pl.one_begin[i + 1] = pl.one_begin[i];
        for (size_t j = 0; j < m; ++j) {
          const size_t k = j * n + i;
          if (pl.kind[k] == kDraw) {
            ++pl.draw_begin[i + 1];
            pl.draw_neuron.push_back(static_cast<uint32_t>(j));
            pl.draw_p.push_back(pl.p[k]);
            pl.draw_device.push_back(k);
            pl.draw_neg.push_back(pl.negative[k]);
            pl.draw_level.push_back(pl.level.empty() ? 0 : pl.level[k]);
          } else if (pl.kind[k] == kOne) {
            ++pl.one_begin[i + 1];
            pl.one_neuron.push_back(static_cast<uint32_t>(j));
            pl.one_neg.push_back(pl.negative[k]);
          }
        }
      }
    } else if (pl.conv && pl.input_major) {
      // The same lists from the program: every (output, tap) that reads input i, outputs in order.
      const size_t n = static_cast<size_t>(pl.in);
      std::vector<uint32_t> ndraw(n + 1, 0), none(n + 1, 0);
      auto each_synapse = [&](auto&& visit) {
        for (int f = 0; f < pl.units; ++f)
          for (int pos = 0; pos < pl.positions; ++pos)
            for (uint32_t a = pl.prog_begin[static_cast<size_t>(pos)]; a < pl.prog_begin[static_cast<size_t>(pos) + 1]; ++a)
              visit(static_cast<uint32_t>(f * pl.positions + pos), pl.prog_input[a],
                    static_cast<size_t>(f) * pl.fan_in + pl.prog_tap[a], pl.prog_tap[a]);
      };
      each_synapse([&](uint32_t, uint32_t i, size_t k, uint32_t) {
        ndraw[i + 1] += pl.kind[k] == kDraw;
        none[i + 1] += pl.kind[k] == kOne;
      });
      for (size_t i = 0; i < n; ++i) {
        ndraw[i + 1] += ndraw[i];
        none[i + 1] += none[i];
      }
      pl.draw_begin = ndraw;
      pl.one_begin = none;
      pl.draw_neuron.resize(ndraw[n]);
      pl.draw_p.resize(ndraw[n]);
      pl.draw_device.resize(ndraw[n]);
      pl.draw_neg.resize(ndraw[n]);
      pl.draw_level.resize(ndraw[n]);
      pl.one_neuron.resize(none[n]);
      pl.one_neg.resize(none[n]);
      each_synapse([&](uint32_t o, uint32_t i, size_t k, uint32_t t) {
        if (pl.kind[k] == kDraw) {
          const uint32_t e = ndraw[i]++;
          pl.draw_neuron[e] = o;
          pl.draw_p[e] = pl.p[k];
          pl.draw_device[e] = static_cast<uint64_t>(o) * static_cast<uint64_t>(pl.fan_in) + t;
          pl.draw_neg[e] = pl.negative[k];
          pl.draw_level[e] = pl.sharing == Sharing::PerTap ? pl.tap_slot[k] : pl.level.empty() ? 0 : pl.level[k];
        } else if (pl.kind[k] == kOne) {
          const uint32_t e = none[i]++;
          pl.one_neuron[e] = o;
          pl.one_neg[e] = pl.negative[k];
        }
      });
    }
    im.layers.push_back(std::move(pl));
  }
  if (im.shortcut)
    for (size_t l = 0; l < im.layers.size(); ++l) {
      PreparedLayer& pl = im.layers[l];
      pl.grid = l == 0 ? 255 : K - 1;
      // The tables cost (grid + 1) (L + 1) doubles and as many lgamma calls: for long streams
      // (2 GB and a minute at L = 2^20) every input count comes from binomial() instead.
      if (static_cast<int64_t>(pl.grid + 1) * (config_.length + 1) <= kMaxCdfEntries)
        for (int g = 0; g <= pl.grid; ++g) pl.ones_cdf.push_back(binomial_cdf(config_.length, static_cast<double>(g) / pl.grid));
      // The routing matrix (weights k = u * fan_in + t: dense u = j, t = i; conv2d u = filter).
      // Slot of probability p: 1 - q of one level and q of another are one slot when they agree
      // to 1e-12 (the levels' own rounding; sources round p to 2^-32 anyway).
      auto slot_of = [&](double p) {
        for (size_t s = 0; s < pl.slot_p.size(); ++s)
          if (std::fabs(pl.slot_p[s] - p) < 1e-12) return static_cast<int>(s);
        pl.slot_p.push_back(p);
        return static_cast<int>(pl.slot_p.size()) - 1;
      };
      std::vector<int> up_slot(pl.level_p.size(), -1), down_slot(pl.level_p.size(), -1);
      for (size_t v = 0; v < pl.level_p.size(); ++v)
        if (pl.level_p[v] > 0 && pl.level_p[v] < 1) up_slot[v] = slot_of(pl.level_p[v]);
      for (size_t v = 0; v < pl.level_p.size(); ++v)
        if (pl.level_p[v] > 0 && pl.level_p[v] < 1) down_slot[v] = slot_of(1.0 - pl.level_p[v]);
      pl.slots = static_cast<int>(pl.slot_p.size()) + 1;
      const size_t T = static_cast<size_t>(pl.fan_in), cols = static_cast<size_t>(pl.units) * static_cast<size_t>(pl.slots);
      pl.route_double = static_cast<double>(pl.fan_in) * config_.length >= 16777216.0;  // 2^24
      std::vector<double> route(T * cols, 0.0);
      for (size_t u = 0; u < static_cast<size_t>(pl.units); ++u)
        for (size_t t = 0; t < T; ++t) {
          const size_t k = u * T + t, col = u * static_cast<size_t>(pl.slots), exact = col + static_cast<size_t>(pl.slots) - 1;
          if (pl.kind[k] == kOne) {
            route[t * cols + exact] = pl.negative[k] ? -1.0 : 1.0;
          } else if (pl.kind[k] == kDraw) {
            const int s = pl.negative[k] ? down_slot[pl.level[k]] : up_slot[pl.level[k]];
            route[t * cols + col + static_cast<size_t>(s)] = 1.0;
            if (pl.negative[k]) route[t * cols + exact] = -1.0;
          }
        }
      if (pl.route_double)
        pl.route_d = std::move(route);
      else
        pl.route_f.assign(route.begin(), route.end());
    }
}

bool ScEngine::binomial_shortcut() const { return impl_->shortcut; }

int ScEngine::layers() const { return static_cast<int>(impl_->layers.size()); }

std::vector<float> ScEngine::reference_forward(const float* x) const { return digital_forward(impl_->reference, x); }
const Network& ScEngine::reference() const { return impl_->reference; }

namespace {

// Generates `count` streams at probabilities p[], devices d[] into buf (nw words each).
void draw(const BitSource& source, int count, const double* p, const uint64_t* d, int L, const StreamKey& key, uint64_t* buf) {
  if (count > 0) source.generate_batch(count, p, d, L, key, buf, static_cast<size_t>(words_for(L)));
}

// One batch of synapses of a neuron, from the active inputs active[pos..]: the products with
// an exact weight stream summed into `exact`, up to kBatch others listed (input index, p,
// device) in the workspace's batch arrays for drawing. A separate small function so that its
// loop keeps everything in registers.
struct Collected {
  size_t next = 0;   // the first active input not looked at
  int count = 0;     // synapses listed for drawing
  int64_t exact = 0;
};

template <class Mul>
Collected collect_batch(const int* active, size_t nact, size_t pos, const uint8_t* kind, const int64_t* ones, const uint8_t* neg,
                        const double* prow, uint64_t row, int L, Workspace& ws) {
  int* bidx = ws.bidx.data();
  double* bp = ws.bp.data();
  uint64_t* bd = ws.bd.data();
  int cnt = 0;
  int64_t C = 0;
  for (; pos < nact && cnt < kBatch; ++pos) {
    const int i = active[pos];
    const uint8_t k = kind[i];
    const int64_t c = ones[i], s = neg[i];
    C += Mul::constant(k == kOne, k == kZero, c, s, L);
    bidx[cnt] = i;
    bp[cnt] = prow[i];
    bd[cnt] = row + static_cast<uint64_t>(i);
    cnt += k == kDraw;
  }
  return {pos, cnt, C};
}

// A conv2d stage output by output: every configuration the input-major walk does not take
// (bipolar, mux, independent-all, per-tap streams beyond kTapBufferBytes).
// Output o = f * positions + pos reads its position's program; synapse a (input i, tap t) has
// the weight k = f * fan_in + t. X: the broadcast input streams (null under
// independent-all), LV: the per-level streams, W: room for a batch of weight streams (mux: for
// min(fan_in, L)). Counters go to counter[o].
template <class Mul>
void run_conv_outputs(const PreparedLayer& pl, int l, const ScConfig& cfg, const BitSource& source, uint64_t run_seed,
                      uint64_t image, const uint64_t* X, const uint64_t* LV, uint64_t* W, Workspace& ws, int64_t* counter) {
  const int L = cfg.length, nw = words_for(L), fan = pl.fan_in;
  const size_t snw = static_cast<size_t>(nw);
  const bool mux = !rule_of(cfg.accumulate).counts_every_synapse;
  const bool own_inputs = pl.sharing == Sharing::IndependentAll, per_tap = pl.sharing == Sharing::PerTap;
  const bool per_level = pl.sharing == Sharing::PerLevel;
  const StreamKey in_key{run_seed, image, static_cast<uint32_t>(l), StreamRole::Input, 0};
  const StreamKey w_key{run_seed, image, static_cast<uint32_t>(l), StreamRole::Weight, 0};
  ws.sx.resize(static_cast<size_t>(fan));
  ws.sc.resize(static_cast<size_t>(fan));
  ws.bx.resize(static_cast<size_t>(kBatch));
  ws.bw.resize(static_cast<size_t>(kBatch));
  ws.bneg.resize(static_cast<size_t>(kBatch));
  for (int f = 0; f < pl.units; ++f) {
    const size_t krow = static_cast<size_t>(f) * fan;
    // per-tap: the filter's drawn kernel weights, once for all its positions (slot - t0).
    const uint64_t* TAP = nullptr;
    const uint32_t t0 = per_tap ? pl.tap_begin[static_cast<size_t>(f)] : 0;
    if (per_tap) {
      const int nt = static_cast<int>(pl.tap_begin[static_cast<size_t>(f) + 1] - t0);
      uint64_t* T = ws.taps.get(static_cast<size_t>(std::max(nt, 1)) * snw);
      draw(source, nt, pl.tap_p.data() + t0, pl.tap_device.data() + t0, L, w_key, T);
      ws.weight_streams += nt;
      TAP = T;
    }
    // The weight stream of synapse a of output o, for the shared sharings.
    auto shared_stream = [&](size_t k) { return per_level ? LV + pl.level[k] * snw : TAP + (pl.tap_slot[k] - t0) * snw; };
    for (int pos = 0; pos < pl.positions; ++pos) {
      const uint64_t o = static_cast<uint64_t>(f) * static_cast<uint64_t>(pl.positions) + static_cast<uint64_t>(pos);
      const uint32_t b0 = pl.prog_begin[static_cast<size_t>(pos)];
      const int ns = static_cast<int>(pl.prog_begin[static_cast<size_t>(pos) + 1] - b0);
      const uint32_t* in = pl.prog_input.data() + b0;
      const uint32_t* tap = pl.prog_tap.data() + b0;
      // Each synapse's input stream and its count of ones; those that can contribute.
      if (own_inputs) {
        uint64_t* XS = ws.xs.get(static_cast<size_t>(ns) * snw);
        for (int a = 0; a < ns; ++a) {
          ws.bp[static_cast<size_t>(a)] = ws.px[in[a]];
          ws.bd[static_cast<size_t>(a)] = o * static_cast<uint64_t>(fan) + tap[a];
        }
        draw(source, ns, ws.bp.data(), ws.bd.data(), L, in_key, XS);
        for (int a = 0; a < ns; ++a) {
          ws.sx[static_cast<size_t>(a)] = XS + static_cast<size_t>(a) * snw;
          ws.sc[static_cast<size_t>(a)] = count_ones(XS + static_cast<size_t>(a) * snw, nw);
        }
      } else {
        for (int a = 0; a < ns; ++a) {
          ws.sx[static_cast<size_t>(a)] = X ? X + static_cast<size_t>(in[a]) * snw : nullptr;
          ws.sc[static_cast<size_t>(a)] = ws.ones[in[a]];
        }
      }
      ws.sa.clear();
      for (int a = 0; a < ns; ++a)
        if (Mul::active(ws.sc[static_cast<size_t>(a)])) ws.sa.push_back(a);
      int64_t C = 0;
      if (!mux) {
        // Exact weight streams from the input count alone; the others in batches, bit by bit.
        int cnt = 0;
        auto flush = [&] {
          if (!per_level && !per_tap) {
            draw(source, cnt, ws.bp.data(), ws.bd.data(), L, w_key, W);
            ws.weight_streams += cnt;
            for (int a = 0; a < cnt; ++a) ws.bw[static_cast<size_t>(a)] = W + static_cast<size_t>(a) * snw;
          }
          auto xp = [&](int a) { return ws.bx[static_cast<size_t>(a)]; };
          auto wp = [&](int a) { return ws.bw[static_cast<size_t>(a)]; };
          C += Mul::batch(cnt, nw, L, xp, wp, [&](int a) { return ws.bneg[static_cast<size_t>(a)]; });
          cnt = 0;
        };
        for (int a : ws.sa) {
          const size_t k = krow + tap[a];
          const uint8_t kd = pl.kind[k];
          const int64_t c = ws.sc[static_cast<size_t>(a)];
          if (kd != kDraw) {
            C += Mul::constant(kd == kOne, kd == kZero, c, pl.negative[k], L);
          } else {
            ws.bx[static_cast<size_t>(cnt)] = ws.sx[static_cast<size_t>(a)];
            ws.bneg[static_cast<size_t>(cnt)] = pl.negative[k];
            if (per_level || per_tap) {
              ws.bw[static_cast<size_t>(cnt)] = shared_stream(k);
            } else {
              ws.bp[static_cast<size_t>(cnt)] = pl.p[k];
              ws.bd[static_cast<size_t>(cnt)] = o * static_cast<uint64_t>(fan) + tap[a];
            }
            if (++cnt == kBatch) flush();
          }
        }
        if (cnt) flush();
      } else {
        // The scaled adder over the output's (real) synapses: cycle t passes synapse sel[t].
        Xoshiro256 rng(derive_seed(run_seed, SeedStream::MuxSelect, {image, static_cast<uint64_t>(l), o}));
        ws.sel.resize(static_cast<size_t>(L));
        for (int t = 0; t < L; ++t) ws.sel[static_cast<size_t>(t)] = static_cast<int>(rng.below(static_cast<uint64_t>(ns)));
        ws.slot.assign(static_cast<size_t>(ns), -1);
        ws.is_active.assign(static_cast<size_t>(ns), 0);
        for (int a : ws.sa) ws.is_active[static_cast<size_t>(a)] = 1;
        ws.needed.clear();
        for (int t = 0; t < L; ++t) {
          const int a = ws.sel[static_cast<size_t>(t)];
          if (ws.is_active[static_cast<size_t>(a)] && ws.slot[static_cast<size_t>(a)] < 0) {
            ws.slot[static_cast<size_t>(a)] = static_cast<int>(ws.needed.size());
            ws.needed.push_back(a);
          }
        }
        const int nn = static_cast<int>(ws.needed.size());
        if (!per_level && !per_tap) {
          for (int s = 0; s < nn; ++s) {
            const int a = ws.needed[static_cast<size_t>(s)];
            ws.bp[static_cast<size_t>(s)] = pl.p[krow + tap[a]];
            ws.bd[static_cast<size_t>(s)] = o * static_cast<uint64_t>(fan) + tap[a];
          }
          draw(source, nn, ws.bp.data(), ws.bd.data(), L, w_key, W);
          ws.weight_streams += nn;
        }
        int64_t up = 0, down = 0;
        for (int t = 0; t < L; ++t) {
          const int a = ws.sel[static_cast<size_t>(t)], s = ws.slot[static_cast<size_t>(a)];
          if (s < 0) continue;  // an all-zero input stream (signmag): no product bit
          const size_t k = krow + tap[a];
          const bool xb = (ws.sx[static_cast<size_t>(a)][t >> 6] >> (t & 63)) & 1;
          bool wb = pl.kind[k] == kOne;  // exact streams: per-tap draws no stream for them
          if (pl.kind[k] == kDraw) {
            const uint64_t* wst = per_level || per_tap ? shared_stream(k) : W + static_cast<size_t>(s) * snw;
            wb = (wst[t >> 6] >> (t & 63)) & 1;
          }
          Mul::bit(xb, wb, pl.negative[k], up, down);
        }
        C = Mul::mux_counter(ns, up, down, L);
      }
      counter[o] = C;
    }
  }
}

// A conv2d stage's counters (out.counter, one per conv output) to its outputs by the forward
// rule: avgpool2d sums each window's counters before the comparators (estimate
// s * sum / (L window^2)); z = gain * estimate + bias per filter; hidden: the activation
// (quantized, or clipped in analog mode), then maxpool2d's maximum over each window.
void finish_conv(const PreparedLayer& pl, const ScConfig& cfg, int states, Workspace& ws, ScLayerResult& out) {
  const int win = pl.window, CW = pl.conv_shape.width, conv_plane = pl.positions;
  const int OH = pl.out_shape.height, OW = pl.out_shape.width, out_plane = OH * OW;
  double denom = cfg.length;
  if (pl.pool == LayerKind::AvgPool2d) {
    ws.pooled.assign(static_cast<size_t>(pl.units) * out_plane, 0);
    for (int c = 0; c < pl.units; ++c)
      for (int py = 0; py < OH; ++py)
        for (int px = 0; px < OW; ++px) {
          int64_t sum = 0;
          for (int dy = 0; dy < win; ++dy)
            for (int dx = 0; dx < win; ++dx)
              sum += out.counter[static_cast<size_t>(c) * conv_plane + static_cast<size_t>((py * win + dy) * CW + px * win + dx)];
          ws.pooled[static_cast<size_t>(c) * out_plane + static_cast<size_t>(py * OW + px)] = sum;
        }
    out.counter.swap(ws.pooled);
    denom *= static_cast<double>(win) * win;
  }
  const size_t n = out.counter.size(), plane = n / static_cast<size_t>(pl.units);
  out.estimate.resize(n);
  std::vector<float>& a = pl.pool == LayerKind::MaxPool2d ? ws.act : out.output;
  a.resize(n);
  for (size_t e = 0; e < n; ++e) {
    const size_t c = e / plane;
    const float est = pl.scale * static_cast<float>(static_cast<double>(out.counter[e]) / denom);
    out.estimate[e] = est;
    if (pl.hidden) {
      const float z = pl.gain[c] * est + pl.bias[c];
      a[e] = cfg.analog ? std::clamp(z, 0.0f, 1.0f) : quantize_activation(z, states);
    } else {
      a[e] = est + pl.bias[c];
    }
  }
  if (pl.pool == LayerKind::MaxPool2d) {
    out.output.resize(static_cast<size_t>(pl.units) * out_plane);
    for (int c = 0; c < pl.units; ++c)
      for (int py = 0; py < OH; ++py)
        for (int px = 0; px < OW; ++px) {
          float m = a[static_cast<size_t>(c) * conv_plane + static_cast<size_t>(py * win * CW + px * win)];
          for (int dy = 0; dy < win; ++dy)
            for (int dx = 0; dx < win; ++dx)
              m = std::max(m, a[static_cast<size_t>(c) * conv_plane + static_cast<size_t>((py * win + dy) * CW + px * win + dx)]);
          out.output[static_cast<size_t>(c) * out_plane + static_cast<size_t>(py * OW + px)] = m;
        }
  } else {
    out.output.resize(n);
  }
}

// A dense stage's counters to its estimates and outputs (hidden: the activation; last: the
// estimate plus the bias).
void finish_dense(const PreparedLayer& pl, const ScConfig& cfg, int states, ScLayerResult& out) {
  const int m = pl.out, L = cfg.length;
  out.estimate.resize(static_cast<size_t>(m));
  out.output.resize(static_cast<size_t>(m));
  for (int j = 0; j < m; ++j) {
    const float est = pl.scale * static_cast<float>(static_cast<double>(out.counter[static_cast<size_t>(j)]) / L);
    out.estimate[static_cast<size_t>(j)] = est;
    if (pl.hidden) {
      const float z = pl.gain[static_cast<size_t>(j)] * est + pl.bias[static_cast<size_t>(j)];
      out.output[static_cast<size_t>(j)] = cfg.analog ? std::clamp(z, 0.0f, 1.0f) : quantize_activation(z, states);
    } else {
      out.output[static_cast<size_t>(j)] = est + pl.bias[static_cast<size_t>(j)];
    }
  }
}

// One image of a shortcut batch: the stream seed of its repeat and its index.
struct BatchImage {
  uint64_t run_seed = 0, image = 0;
};

// Images per routing product of the shortcut: enough rows for the product to run near the
// machine's peak, few enough that a batch's operands stay in the L2 cache. The batch never
// changes a result: every draw comes from a generator keyed by its own image.
constexpr int kShortcutBatch = 32;

// The count of ones of an i.i.d. stream at p = v: Binomial(L, v), by inverting its tabulated law
// when v is on the stage's input grid (one uniform), else by binomial().
int64_t draw_ones(const PreparedLayer& pl, double v, int L, Xoshiro256& rng) {
  const double g = v * pl.grid;
  const long k = std::lround(g);
  if (pl.ones_cdf.empty() || std::fabs(g - static_cast<double>(k)) >= 1e-6) return binomial(L, v, rng);
  const double u = rng.uniform();
  if (k == 0) return 0;         // the table of p = 0 is all ones: the search would end at 0
  if (k == pl.grid) return L;   // that of p = 1 is zero up to L
  const auto& cdf = pl.ones_cdf[static_cast<size_t>(k)];
  return std::upper_bound(cdf.begin(), cdf.end() - 1, u) - cdf.begin();
}

// Stage l of the binomial shortcut (ScEngine::binomial_shortcut) for a batch of B images, image
// b's stage input inputs[b], its counters and outputs to outs[b]. In three steps:
//   1. each input stream's count of ones, Binomial(L, x_i): one generator per image and stage,
//      keyed (image, l, kBinomialTag, ~0), inputs in order;
//   2. the counts routed to every unit's levels and signs by one matrix product: rows are the
//      images (conv2d: images x output positions, a row holding its receptive field's counts by
//      tap, 0 on padding), times the stage's routing matrix (PreparedLayer::route_f / route_d),
//      the zero counts skipped. Integer values below 2^24 (float) or 2^53 (double): the
//      product is exact in any summation order;
//   3. per neuron o (dense unit, conv output), one generator keyed (image, l, kBinomialTag, o):
//      each slot's ones thinned by its binomial law (slot order), plus the exact slot.
template <class Scalar>
void shortcut_stage(const PreparedLayer& pl, int l, const ScConfig& cfg, int states, int B, const float* const* inputs,
                    const BatchImage* batch, const std::vector<Scalar>& route, GemmBuffers<Scalar>& g, Workspace& ws,
                    ScLayerResult* const* outs) {
  const int n = pl.in, L = cfg.length, taps = pl.fan_in, P = pl.conv ? pl.positions : 1, S = pl.slots;
  const size_t cols = static_cast<size_t>(pl.units) * static_cast<size_t>(S), sn = static_cast<size_t>(n);
  ws.counts.resize(static_cast<size_t>(B) * sn);
  ws.is_active.assign(static_cast<size_t>(taps), 0);
  for (int b = 0; b < B; ++b) {
    Xoshiro256 rng(derive_seed(batch[b].run_seed, SeedStream::ShortcutDraw, {batch[b].image, static_cast<uint64_t>(l), ~0ULL}));
    int32_t* c = ws.counts.data() + static_cast<size_t>(b) * sn;
    for (int i = 0; i < n; ++i) {
      const double v = inputs[b][i];
      if (!(v >= 0.0 && v <= 1.0)) fail("SC layer {}: input {} = {} is outside [0, 1]", l, i, v);
      c[i] = static_cast<int32_t>(draw_ones(pl, v, L, rng));
      if (!pl.conv) ws.is_active[static_cast<size_t>(i)] |= c[i] != 0;
    }
  }
  auto each_tap = [&](auto&& visit) {  // conv2d: (row, tap, input count) of every real synapse
    for (int b = 0; b < B; ++b)
      for (int pos = 0; pos < P; ++pos)
        for (uint32_t a = pl.prog_begin[static_cast<size_t>(pos)]; a < pl.prog_begin[static_cast<size_t>(pos) + 1]; ++a)
          visit(static_cast<size_t>(b) * P + pos, pl.prog_tap[a], ws.counts[static_cast<size_t>(b) * sn + pl.prog_input[a]]);
  };
  if (pl.conv) each_tap([&](size_t, uint32_t t, int32_t c) { ws.is_active[t] |= c != 0; });
  ws.live.clear();
  ws.slot.assign(static_cast<size_t>(taps), -1);
  for (int t = 0; t < taps; ++t)
    if (ws.is_active[static_cast<size_t>(t)]) {
      ws.slot[static_cast<size_t>(t)] = static_cast<int>(ws.live.size());
      ws.live.push_back(static_cast<uint32_t>(t));
    }
  const size_t rows = static_cast<size_t>(B) * static_cast<size_t>(P), live = ws.live.size();
  g.a.assign(rows * live, Scalar(0));
  if (pl.conv) {
    each_tap([&](size_t r, uint32_t t, int32_t c) { g.a[r * live + static_cast<size_t>(ws.slot[t])] = static_cast<Scalar>(c); });
  } else {
    for (size_t b = 0; b < static_cast<size_t>(B); ++b)
      for (size_t e = 0; e < live; ++e) g.a[b * live + e] = static_cast<Scalar>(ws.counts[b * sn + ws.live[e]]);
  }
  // The product, tap by tap: each routing row is read once per batch and added, times the
  // count, to the rows with a nonzero count (most pixels and many activations are 0), whose
  // results stay in cache across taps.
  g.z.assign(rows * cols, Scalar(0));
  for (size_t e = 0; e < live; ++e) {
    const Scalar* __restrict rr = route.data() + ws.live[e] * cols;
    for (size_t r = 0; r < rows; ++r) {
      const Scalar a = g.a[r * live + e];
      if (a == Scalar(0)) continue;
      Scalar* __restrict z = g.z.data() + r * cols;
      for (size_t c = 0; c < cols; ++c) z[c] += a * rr[c];
    }
  }
  for (int b = 0; b < B; ++b) {
    ScLayerResult& out = *outs[b];
    out.counter.resize(static_cast<size_t>(pl.out));
    for (int pos = 0; pos < P; ++pos) {
      const Scalar* zrow = g.z.data() + (static_cast<size_t>(b) * P + static_cast<size_t>(pos)) * cols;
      for (int u = 0; u < pl.units; ++u) {
        const Scalar* z = zrow + static_cast<size_t>(u) * static_cast<size_t>(S);
        const uint64_t o = static_cast<uint64_t>(u) * static_cast<uint64_t>(P) + static_cast<uint64_t>(pos);
        int64_t C = static_cast<int64_t>(z[S - 1]);
        if (std::any_of(z, z + S - 1, [](Scalar v) { return v != 0; })) {  // else every draw is Bin(0, p) = 0
          Xoshiro256 rng(derive_seed(batch[b].run_seed, SeedStream::ShortcutDraw, {batch[b].image, static_cast<uint64_t>(l), o}));
          for (int s = 0; s + 1 < S; ++s) C += binomial(static_cast<int64_t>(z[s]), pl.slot_p[static_cast<size_t>(s)], rng);
        }
        out.counter[o] = C;
      }
    }
    if (pl.conv)
      finish_conv(pl, cfg, states, ws, out);
    else
      finish_dense(pl, cfg, states, out);
  }
  ws.synapses += pl.synapses * B;
}

// All stages of the shortcut for a batch of B images x[b]: results[b][l] is image b's stage l.
void run_shortcut_network(const std::vector<PreparedLayer>& layers, const ScConfig& cfg, int states, int B, const float* const* x,
                          const BatchImage* batch, Workspace& ws, std::vector<std::vector<ScLayerResult>>& results) {
  if (results.size() < static_cast<size_t>(B)) results.resize(static_cast<size_t>(B));
  std::vector<const float*> in(x, x + B);
  std::vector<ScLayerResult*> outs(static_cast<size_t>(B));
  for (size_t l = 0; l < layers.size(); ++l) {
    const PreparedLayer& pl = layers[l];
    for (int b = 0; b < B; ++b) {
      results[static_cast<size_t>(b)].resize(layers.size());
      outs[static_cast<size_t>(b)] = &results[static_cast<size_t>(b)][l];
    }
    if (pl.route_double)
      shortcut_stage(pl, static_cast<int>(l), cfg, states, B, in.data(), batch, pl.route_d, ws.gd, ws, outs.data());
    else
      shortcut_stage(pl, static_cast<int>(l), cfg, states, B, in.data(), batch, pl.route_f, ws.gf, ws, outs.data());
    for (int b = 0; b < B; ++b) in[static_cast<size_t>(b)] = results[static_cast<size_t>(b)][l].output.data();
  }
}


template <class Mul>
void run_layer(Mul, const PreparedLayer& pl, int l, const ScConfig& cfg, const BitSource& source, int states, const float* input,
               uint64_t run_seed, uint64_t image, Workspace& ws, ScLayerResult& out) {
  const int n = pl.in, m = pl.out, L = cfg.length, nw = words_for(L);
  const size_t snw = static_cast<size_t>(nw);
  const MultiplyRule& multiply = rule_of(cfg.multiply);
  const bool mux = !rule_of(cfg.accumulate).counts_every_synapse;
  const bool own_inputs = pl.sharing == Sharing::IndependentAll;
  const StreamKey in_key{run_seed, image, static_cast<uint32_t>(l), StreamRole::Input, 0};
  const StreamKey w_key{run_seed, image, static_cast<uint32_t>(l), StreamRole::Weight, 0};

  ws.bp.resize(static_cast<size_t>(std::max({n, kBatch, static_cast<int>(pl.level_p.size())})));
  ws.bd.resize(ws.bp.size());
  ws.bidx.resize(static_cast<size_t>(kBatch));
  ws.ones.resize(static_cast<size_t>(n));
  std::vector<double>& px = ws.px;
  px.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const double v = input[i];
    if (!(v >= 0.0 && v <= 1.0)) fail("SC layer {}: input {} = {} is outside [0, 1]", l, i, v);
    px[static_cast<size_t>(i)] = multiply.encode(v);
  }
  // The input streams of the layer (broadcast) or of one neuron (independent-all), and which
  // of them can contribute: a signmag product with an all-zero input stream is zero.
  uint64_t* X = nullptr;
  auto draw_inputs = [&](uint64_t device0) {
    X = (own_inputs ? ws.xs : ws.x).get(static_cast<size_t>(n) * snw);
    for (int i = 0; i < n; ++i) ws.bd[static_cast<size_t>(i)] = device0 + static_cast<uint64_t>(i);
    draw(source, n, px.data(), ws.bd.data(), L, in_key, X);
    ws.active.clear();
    for (int i = 0; i < n; ++i) {
      const int64_t c = count_ones(X + i * snw, nw);
      ws.ones[static_cast<size_t>(i)] = c;
      if (Mul::active(c)) ws.active.push_back(i);
    }
  };
  if (!own_inputs) draw_inputs(0);
  // Shared weight streams: one per level (per-level), or every kernel weight of a conv stage
  // walked input-major (per-tap; else run_conv_outputs draws them filter by filter).
  uint64_t* LV = nullptr;
  if (pl.sharing == Sharing::PerTap && pl.input_major) {
    const int nt = static_cast<int>(pl.tap_p.size());
    LV = ws.taps.get(static_cast<size_t>(nt) * snw);
    draw(source, nt, pl.tap_p.data(), pl.tap_device.data(), L, w_key, LV);
    ws.weight_streams += nt;
  }
  if (pl.sharing == Sharing::PerLevel) {
    const int nl = static_cast<int>(pl.level_p.size());
    LV = ws.levels.get(static_cast<size_t>(nl) * snw);
    for (int v = 0; v < nl; ++v) ws.bd[static_cast<size_t>(v)] = static_cast<uint64_t>(v);
    draw(source, nl, pl.level_p.data(), ws.bd.data(), L, w_key, LV);
    ws.weight_streams += nl;
  }
  // A batch of weight streams; mux needs the streams of up to min(n, L) selected synapses at once.
  uint64_t* W = ws.w.get(static_cast<size_t>(mux ? std::max(kBatch, std::min(n, L)) : kBatch) * snw);
  ws.synapses += pl.synapses;

  out.counter.assign(static_cast<size_t>(m), 0);
  if (pl.input_major) {
    // Input-major: each active input stream is loaded once and ANDed with the weight streams
    // of all its synapses, drawn in batches from the lists prepared in the constructor; the
    // counts go to per-neuron vector accumulators. Streams are keyed by synapse, so the bits
    // (and every count) are those of the neuron-by-neuron order below.
    int64_t* acc = reinterpret_cast<int64_t*>(ws.acc.get(static_cast<size_t>(m) * 8));  // signed view: same type family
    std::fill(acc, acc + static_cast<size_t>(m) * 8, 0);
    ws.exact.assign(static_cast<size_t>(m), 0);
    for (int i : ws.active) {
      const int64_t c = ws.ones[static_cast<size_t>(i)];
      for (uint32_t e = pl.one_begin[static_cast<size_t>(i)]; e < pl.one_begin[static_cast<size_t>(i) + 1]; ++e)
        ws.exact[pl.one_neuron[e]] += pl.one_neg[e] ? -c : c;  // AND with all ones: the input count
      const uint64_t* x = X + static_cast<size_t>(i) * snw;
      for (uint32_t b = pl.draw_begin[static_cast<size_t>(i)], end = pl.draw_begin[static_cast<size_t>(i) + 1]; b < end;) {
        const int cnt = static_cast<int>(std::min<uint32_t>(kBatch, end - b));
        const uint32_t* neuron = pl.draw_neuron.data() + b;
        const uint8_t* neg = pl.draw_neg.data() + b;
        if (pl.sharing != Sharing::Independent) {  // per-level or per-tap: the shared streams
          const uint32_t* level = pl.draw_level.data() + b;
          detail::accumulate_signed_and(cnt, nw, x, [&](int a) { return LV + level[a] * snw; }, neg, neuron, acc);
        } else {
          draw(source, cnt, pl.draw_p.data() + b, pl.draw_device.data() + b, L, w_key, W);
          ws.weight_streams += cnt;
          detail::accumulate_signed_and(cnt, nw, x, [&](int a) { return W + static_cast<size_t>(a) * snw; }, neg, neuron, acc);
        }
        b += static_cast<uint32_t>(cnt);
      }
    }
    for (int j = 0; j < m; ++j) {
      int64_t C = ws.exact[static_cast<size_t>(j)];
      for (int q = 0; q < 8; ++q) C += acc[static_cast<size_t>(j) * 8 + q];
      out.counter[static_cast<size_t>(j)] = C;
    }
  }
  // Neuron by neuron: every other configuration.
  for (int j = 0; !pl.input_major && !pl.conv && j < m; ++j) {
    const size_t row = static_cast<size_t>(j) * n;
    const double* prow = pl.p.data() + row;
    const uint8_t* neg = pl.negative.data() + row;
    const uint8_t* kind = pl.kind.data() + row;
    if (own_inputs) draw_inputs(row);
    const int64_t* ones = ws.ones.data();
    auto xptr = [&](int i) { return X + i * snw; };
    int64_t C = 0;
    if (!mux) {
      // Synapses with an exact weight stream contribute from the input count alone; the others
      // are drawn in batches and counted bit by bit. The batch count and the running sum stay
      // in registers: flush() takes the count and returns the batch's signed sum.
      auto flush = [&](int cnt) -> int64_t {
        auto xp = [&](int a) { return xptr(ws.bidx[static_cast<size_t>(a)]); };
        auto ng = [&](int a) { return neg[ws.bidx[static_cast<size_t>(a)]]; };
        if (pl.sharing == Sharing::PerLevel) {
          auto wp = [&](int a) { return LV + pl.level[row + static_cast<size_t>(ws.bidx[static_cast<size_t>(a)])] * snw; };
          return Mul::batch(cnt, nw, L, xp, wp, ng);
        }
        draw(source, cnt, ws.bp.data(), ws.bd.data(), L, w_key, W);
        ws.weight_streams += cnt;
        auto wp = [&](int a) { return W + static_cast<size_t>(a) * snw; };
        return Mul::batch(cnt, nw, L, xp, wp, ng);
      };
      const size_t nact = ws.active.size();
      for (size_t pos = 0; pos < nact;) {
        const Collected got = collect_batch<Mul>(ws.active.data(), nact, pos, kind, ones, neg, prow, row, L, ws);
        pos = got.next;
        C += got.exact;
        if (got.count) C += flush(got.count);
      }
    } else {
      // The scaled adder: cycle t passes the product bit of synapse sel[t] only.
      Xoshiro256 rng(derive_seed(run_seed, SeedStream::MuxSelect, {image, static_cast<uint64_t>(l), static_cast<uint64_t>(j)}));
      ws.sel.resize(static_cast<size_t>(L));
      for (int t = 0; t < L; ++t) ws.sel[static_cast<size_t>(t)] = static_cast<int>(rng.below(static_cast<uint64_t>(n)));
      // Streams of the selected synapses only (those with a nonzero input stream).
      ws.slot.assign(static_cast<size_t>(n), -1);
      std::vector<uint8_t>& is_active = ws.is_active;
      is_active.assign(static_cast<size_t>(n), 0);
      for (int i : ws.active) is_active[static_cast<size_t>(i)] = 1;
      ws.needed.clear();
      for (int t = 0; t < L; ++t) {
        const int i = ws.sel[static_cast<size_t>(t)];
        if (is_active[static_cast<size_t>(i)] && ws.slot[static_cast<size_t>(i)] < 0) {
          ws.slot[static_cast<size_t>(i)] = static_cast<int>(ws.needed.size());
          ws.needed.push_back(i);
        }
      }
      const int nn = static_cast<int>(ws.needed.size());
      if (pl.sharing != Sharing::PerLevel) {
        for (int a = 0; a < nn; ++a) {
          ws.bp[static_cast<size_t>(a)] = prow[ws.needed[static_cast<size_t>(a)]];
          ws.bd[static_cast<size_t>(a)] = row + static_cast<uint64_t>(ws.needed[static_cast<size_t>(a)]);
        }
        draw(source, nn, ws.bp.data(), ws.bd.data(), L, w_key, W);
        ws.weight_streams += nn;
      }
      int64_t up = 0, down = 0;
      for (int t = 0; t < L; ++t) {
        const int i = ws.sel[static_cast<size_t>(t)], s = ws.slot[static_cast<size_t>(i)];
        const bool xb = s >= 0 && ((xptr(i)[t >> 6] >> (t & 63)) & 1);
        const uint64_t* wst = pl.sharing == Sharing::PerLevel ? LV + pl.level[row + i] * snw : W + (s >= 0 ? s : 0) * snw;
        const bool wb = s >= 0 && ((wst[t >> 6] >> (t & 63)) & 1);
        Mul::bit(xb, wb, neg[i], up, down);  // an inactive input (s < 0) gives no bit (signmag only)
      }
      C = Mul::mux_counter(n, up, down, L);
    }
    out.counter[static_cast<size_t>(j)] = C;
  }
  if (pl.conv && !pl.input_major) {
    run_conv_outputs<Mul>(pl, l, cfg, source, run_seed, image, X, LV, W, ws, out.counter.data());
  }
  if (pl.conv)
    finish_conv(pl, cfg, states, ws, out);
  else
    finish_dense(pl, cfg, states, out);
}

// One stage of one inference, with the bit kernels of the configured multiply rule.
void run_layer(const PreparedLayer& pl, int l, const ScConfig& cfg, const BitSource& source, int states, const float* input,
               uint64_t run_seed, uint64_t image, Workspace& ws, ScLayerResult& out) {
  detail::with_multiply_kernel(cfg.multiply, [&](auto kernel) {
    run_layer(kernel, pl, l, cfg, source, states, input, run_seed, image, ws, out);
  });
}

// The stream seed of stochastic repeat r.
uint64_t repeat_seed(uint64_t seed, int repeat) { return derive_seed(seed, SeedStream::EvalRepeat, {static_cast<uint64_t>(repeat)}); }

// All layers for one image, each fed the previous one's output.
void run_network(const std::vector<PreparedLayer>& layers, const ScConfig& cfg, const BitSource& source, int states,
                 const float* x, uint64_t run_seed, uint64_t image, Workspace& ws, std::vector<ScLayerResult>& results) {
  results.resize(layers.size());
  const float* input = x;
  for (size_t l = 0; l < layers.size(); ++l) {
    run_layer(layers[l], static_cast<int>(l), cfg, source, states, input, run_seed, image, ws, results[l]);
    input = results[l].output.data();
  }
}

}  // namespace

ScLayerResult ScEngine::layer(int l, const float* input, uint64_t image, int repeat) const {
  if (l < 0 || l >= layers()) fail("SC engine: layer {} does not exist (the network has {})", l, layers());
  Workspace ws;
  ScLayerResult r;
  const PreparedLayer& pl = impl_->layers[static_cast<size_t>(l)];
  const uint64_t run_seed = repeat_seed(config_.seed, repeat);
  if (impl_->shortcut) {  // a batch of one image
    const BatchImage one{run_seed, image};
    ScLayerResult* out = &r;
    if (pl.route_double)
      shortcut_stage(pl, l, config_, impl_->states, 1, &input, &one, pl.route_d, ws.gd, ws, &out);
    else
      shortcut_stage(pl, l, config_, impl_->states, 1, &input, &one, pl.route_f, ws.gf, ws, &out);
  } else {
    run_layer(pl, l, config_, *source_, impl_->states, input, run_seed, image, ws, r);
  }
  return r;
}

std::vector<ScLayerResult> ScEngine::forward(const float* x, uint64_t image, int repeat) const {
  Workspace ws;
  const uint64_t run_seed = repeat_seed(config_.seed, repeat);
  if (impl_->shortcut) {  // a batch of one image
    const BatchImage one{run_seed, image};
    std::vector<std::vector<ScLayerResult>> results;
    run_shortcut_network(impl_->layers, config_, impl_->states, 1, &x, &one, ws, results);
    return std::move(results.front());
  }
  std::vector<ScLayerResult> results;
  run_network(impl_->layers, config_, *source_, impl_->states, x, run_seed, image, ws, results);
  return results;
}

int ScEngine::predict(const float* x, uint64_t image, int repeat) const {
  const auto results = forward(x, image, repeat);
  const auto& y = results.back().output;
  return argmax_class(y.data(), static_cast<int>(y.size()));
}

ScAccuracy ScEngine::accuracy(const Dataset& data, int repeats, int threads, ProgressObserver* observer) const {
  // Checked before the per-thread tallies of every repeat are allocated.
  if (repeats < 1 || repeats > kMaxRepeats) fail("repeats must be in [1, {}], got {}", kMaxRepeats, repeats);
  if (data.features() != impl_->reference.arch.front())
    fail("data set '{}' has {} features per image but the network expects {}", data.name, data.features(), impl_->reference.arch.front());
  const auto start = std::chrono::steady_clock::now();
  const long total = static_cast<long>(repeats) * data.count;
  std::vector<long> correct(static_cast<size_t>(repeats), 0);
  std::atomic<long> done{0};
  long long weight_streams = 0, synapses = 0;
  const int nthreads = threads > 0 ? threads : omp_get_max_threads();
  ParallelErrors errors;
  // The shortcut evaluates batches of consecutive (repeat, image) items, the bit-level path
  // one item at a time; every item's streams and draws are keyed by its own seed and image.
  const bool batched = impl_->shortcut;
  const long step = batched ? kShortcutBatch : 1;
  const long chunks = (total + step - 1) / step;
  const int chunk_schedule = batched ? 1 : 8;
#pragma omp parallel num_threads(nthreads)
  {
    Workspace ws;
    std::vector<std::vector<ScLayerResult>> results(static_cast<size_t>(step));
    std::vector<float> x;
    std::vector<const float*> xs(static_cast<size_t>(step));
    std::vector<BatchImage> batch(static_cast<size_t>(step));
    std::vector<long> mine;
    const size_t features = static_cast<size_t>(data.features());
    errors.run([&] {
      x.resize(static_cast<size_t>(step) * features);
      mine.assign(static_cast<size_t>(repeats), 0);
    });
#pragma omp for schedule(dynamic, chunk_schedule)
    for (long chunk = 0; chunk < chunks; ++chunk) errors.run([&] {
      const long k0 = chunk * step;
      const int B = static_cast<int>(std::min(step, total - k0));
      for (int b = 0; b < B; ++b) {
        const long k = k0 + b;
        const int r = static_cast<int>(k / data.count), i = static_cast<int>(k % data.count);
        float* xb = x.data() + static_cast<size_t>(b) * features;
        for (size_t f = 0; f < features; ++f) xb[f] = data.pixel(i, static_cast<int>(f));
        xs[static_cast<size_t>(b)] = xb;
        batch[static_cast<size_t>(b)] = {repeat_seed(config_.seed, r), static_cast<uint64_t>(i)};
      }
      if (batched)
        run_shortcut_network(impl_->layers, config_, impl_->states, B, xs.data(), batch.data(), ws, results);
      else
        run_network(impl_->layers, config_, *source_, impl_->states, xs[0], batch[0].run_seed, batch[0].image, ws, results[0]);
      for (int b = 0; b < B; ++b) {
        const long k = k0 + b;
        const int r = static_cast<int>(k / data.count), i = static_cast<int>(k % data.count);
        const auto& y = results[static_cast<size_t>(b)].back().output;
        mine[static_cast<size_t>(r)] += argmax_class(y.data(), static_cast<int>(y.size())) == data.labels[static_cast<size_t>(i)];
      }
      const long d = done += B;
      if (observer && omp_get_thread_num() == 0 && d / 64 != (d - B) / 64) observer->progress("sc eval", d, total);
    });
#pragma omp critical
    if (!errors.failed()) {
      for (int r = 0; r < repeats; ++r) correct[static_cast<size_t>(r)] += mine[static_cast<size_t>(r)];
      weight_streams += ws.weight_streams;
      synapses += ws.synapses;
    }
  }
  if (observer && !errors.failed()) observer->progress("sc eval", total, total);  // the last report is the whole
  if (observer) observer->finished("sc eval");
  errors.rethrow();
  ScAccuracy acc;
  acc.images = data.count;
  acc.repeats = repeats;
  acc.weight_streams = weight_streams;
  acc.synapses = synapses;
  for (long c : correct) acc.per_repeat.push_back(data.count ? static_cast<double>(c) / data.count : 0.0);
  double sum = 0;
  for (double a : acc.per_repeat) sum += a;
  acc.mean = sum / repeats;
  if (repeats > 1) {
    double ss = 0;
    for (double a : acc.per_repeat) ss += (a - acc.mean) * (a - acc.mean);
    acc.std = std::sqrt(ss / (repeats - 1));
  }
  acc.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return acc;
}

}  // namespace spinsc
