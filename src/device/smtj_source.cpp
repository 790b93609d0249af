#include "spinsc/smtj_source.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <vector>

#include "spinsc/error.hpp"
#include "spinsc/rng.hpp"

namespace spinsc {
namespace {

// One draw of a parameter with nominal value `nominal`; `scale` is what a relative sigma is a
// fraction of. Normal draws of positive parameters are redrawn until positive (truncation).
double draw(double nominal, double scale, const ParameterSpread& s, double z, Xoshiro256& rng, bool positive) {
  if (s.sigma <= 0) return nominal;
  if (s.law == ParameterSpread::Law::LogNormal) return nominal * std::exp(s.sigma * z);
  const double sigma = s.relative ? s.sigma * scale : s.sigma;
  double v = nominal + sigma * z;
  while (positive && v <= 0) v = nominal + sigma * rng.normal();
  return v;
}

}  // namespace

SmtjSource::SmtjSource(DeviceConfig config, std::string spec)
    : config_(std::move(config)), spec_(std::move(spec)), nominal_(TelegraphMtj::nominal(config_)) {
  iid_ = iid_bits() && config_.initial_state == DeviceConfig::InitialState::Stationary;
  bias_range_p_ap_[0] = nominal_.p_ap(-config_.max_bias_A);
  bias_range_p_ap_[1] = nominal_.p_ap(config_.max_bias_A);
}

TelegraphMtj SmtjSource::device(const StreamKey& key) const {
  if (!config_.variation.enabled()) return nominal_;
  Xoshiro256 rng(derive_seed(config_.variation.seed, SeedStream::DeviceVariation,
                             {key.layer, static_cast<uint64_t>(key.role), key.device}));
  // Three normals in a fixed order, so that enabling one spread leaves the others' draws alone
  // (Box–Muller, both of the first pair used).
  const double r1 = std::sqrt(-2.0 * std::log(rng.uniform_pos())), a1 = 2.0 * std::numbers::pi * rng.uniform();
  const double z_delta = r1 * std::cos(a1), z_ic = r1 * std::sin(a1), z_offset = rng.normal();
  const auto& v = config_.variation;
  MtjParameters d = nominal_.parameters();
  const double delta_ref = draw(config_.delta, config_.delta, v.delta, z_delta, rng, true);
  d.delta = delta_ref * config_.reference_temperature_K / config_.temperature_K;
  d.critical_current_A = draw(config_.critical_current_A, config_.critical_current_A, v.critical_current, z_ic, rng, true);
  d.offset_current_A = draw(config_.offset_current_A, config_.critical_current_A, v.offset_current, z_offset, rng, false);
  // A spread wide enough to draw Delta or Ic as 0 or infinity (exp of a large lognormal draw)
  // describes no device: said so, naming the source and the device drawn.
  if (!(std::isfinite(d.delta) && d.delta > 0 && std::isfinite(d.critical_current_A) && d.critical_current_A > 0 &&
        std::isfinite(d.offset_current_A)))
    fail("smtj source '{}': the variation drew Delta = {}, Ic = {} A, offset {} A for device {} of layer {} (role {}): "
         "the spread is too wide for a device to exist",
         spec_, d.delta, d.critical_current_A, d.offset_current_A, key.device, key.layer, static_cast<int>(key.role));
  return TelegraphMtj(d, config_.sample_period_s);
}

double SmtjSource::bias_current(double p, const TelegraphMtj& mtj) const {
  const double p_ap = config_.readout == DeviceConfig::Readout::AntiParallel ? p : 1.0 - p;
  const double max = config_.max_bias_A;
  if (p_ap <= 0) return -max;
  if (p_ap >= 1) return max;
  return std::clamp(mtj.current_for_p_ap(p_ap), -max, max);
}

MarkovChain2 SmtjSource::chain_of(double p, const TelegraphMtj& mtj) const {
  if (!(p >= 0 && p <= 1)) fail("smtj source: target probability {} is outside [0, 1]", p);
  if (config_.extreme_p == DeviceConfig::ExtremeRule::Constant && (p == 0 || p == 1)) return MarkovChain2{p, 0, p};
  const bool calibrated = config_.bias == DeviceConfig::BiasRule::Calibrated;
  return chain_at(bias_current(p, calibrated ? mtj : nominal_), mtj);
}

MarkovChain2 SmtjSource::chain_at(double current, const TelegraphMtj& mtj) const {
  const double p_ap = mtj.p_ap(current);
  MarkovChain2 c;
  c.p = config_.readout == DeviceConfig::Readout::AntiParallel ? p_ap : 1.0 - p_ap;
  c.rho = mtj.correlation(current);
  c.first_p = c.p;
  if (config_.initial_state != DeviceConfig::InitialState::Stationary) {
    const bool start_ap = config_.initial_state == DeviceConfig::InitialState::AntiParallel;
    const double s0 = start_ap == (config_.readout == DeviceConfig::Readout::AntiParallel) ? 1.0 : 0.0;
    c.first_p = c.p + (s0 - c.p) * std::pow(c.rho, static_cast<double>(config_.warmup_periods));
  }
  return c;
}

MarkovChain2 SmtjSource::chain(double p, const StreamKey& key) const { return chain_of(p, device(key)); }

void SmtjSource::generate(double p, int length, const StreamKey& key, uint64_t* words) const {
  if (iid_) {
    const uint64_t device = key.device;
    generate_batch(1, &p, &device, length, key, words, static_cast<size_t>(words_for(length)));
    return;
  }
  emit(chain(p, key), length, key, words);
}

double SmtjSource::iid_probability(double p) const {
  if (!(p >= 0 && p <= 1)) fail("smtj source: target probability {} is outside [0, 1]", p);
  if (config_.extreme_p == DeviceConfig::ExtremeRule::Constant && (p == 0 || p == 1)) return p;
  // The i.i.d. device is the nominal one, and the bias rule inverts its own p_ap(I): a target
  // inside the range the bias reaches, [p_ap(-max), p_ap(max)], is met exactly; one outside is
  // met at the clamped bias. (This is chain_of(p, nominal_).p without the round trip through
  // the current and its exp and log, which only added rounding: the comparator reads p to 32
  // bits. The analog network's streams, every one at its own p, spent most of their time there.)
  const bool ap = config_.readout == DeviceConfig::Readout::AntiParallel;
  const double p_ap = std::clamp(ap ? p : 1.0 - p, bias_range_p_ap_[0], bias_range_p_ap_[1]);
  return ap ? p_ap : 1.0 - p_ap;
}

void SmtjSource::generate_batch(int count, const double* p, const uint64_t* devices, int length, const StreamKey& key,
                                uint64_t* out, size_t stride) const {
  if (iid_) {
    // i.i.d. Bernoulli bits: the ideal source's bit-parallel comparator, on its own key space.
    // Batches repeat a few p values (quantized levels): the bias round trip (exp/log) is done
    // once per distinct p in a row.
    thread_local std::vector<double> q;
    q.resize(static_cast<size_t>(count));
    double last_p = -1, last_q = 0;
    for (int s = 0; s < count; ++s) {
      if (p[s] != last_p) last_q = iid_probability(last_p = p[s]);
      q[static_cast<size_t>(s)] = last_q;
    }
    StreamKey k = key;
    k.seed = derive_seed(key.seed, SeedStream::DeviceStream);
    iid_bits_.generate_batch(count, q.data(), devices, length, k, out, stride);
    return;
  }
  // Batches repeat a few p values (quantized levels): a small round-robin cache keyed by p holds
  // what depends on p alone — the whole chain without variation, the nominal-curve bias current
  // with it — and skips their transcendental functions.
  constexpr int kCache = 8;
  double cached_p[kCache];
  MarkovChain2 cached_chain[kCache];
  double cached_current[kCache];
  int filled = 0, next = 0;
  const bool variation = config_.variation.enabled();
  const bool nominal_bias = config_.bias == DeviceConfig::BiasRule::Nominal;
  StreamKey k = key;
  for (int s = 0; s < count; ++s) {
    k.device = devices[s];
    int hit = -1;
    for (int i = 0; i < filled; ++i)
      if (cached_p[i] == p[s]) hit = i;
    if (hit < 0) {
      hit = next;
      cached_p[hit] = p[s];
      cached_chain[hit] = chain_of(p[s], nominal_);  // also validates p
      cached_current[hit] = bias_current(p[s], nominal_);
      next = (next + 1) % kCache;
      filled = std::min(filled + 1, kCache);
    }
    uint64_t* words = out + static_cast<size_t>(s) * stride;
    const bool constant = config_.extreme_p == DeviceConfig::ExtremeRule::Constant && (p[s] == 0 || p[s] == 1);
    if (!variation || constant)
      emit(cached_chain[hit], length, k, words);
    else if (nominal_bias)
      emit(chain_at(cached_current[hit], device(k)), length, k, words);
    else
      emit(chain_of(p[s], device(k)), length, k, words);
  }
}

void SmtjSource::emit(const MarkovChain2& c, int length, const StreamKey& key, uint64_t* words) const {
  const int n = words_for(length);
  if ((c.p == 0 || c.p == 1) && c.first_p == c.p) {
    std::memset(words, c.p == 1 ? 0xff : 0, static_cast<size_t>(n) * sizeof(uint64_t));
    words[n - 1] &= tail_mask(length);
    return;
  }
  Xoshiro256 rng(derive_seed(key.seed, SeedStream::DeviceStream, {key.image, key.layer, static_cast<uint64_t>(key.role), key.device}));
  sample_markov_stream(c, length, rng, words);
}

double SmtjSource::bit_mean(double p, const StreamKey& key) const {
  if (iid_) return iid_bits_.bit_mean(iid_probability(p), key);
  return chain(p, key).p;
}

double SmtjSource::markov_correlation(double p) const { return chain_of(p, nominal_).rho; }

bool SmtjSource::iid_bits() const { return !config_.variation.enabled() && markov_correlation(0.5) < 1e-9; }

double SmtjSource::count_variance_factor(double p, int length) const {
  const MarkovChain2 c = chain_of(p, nominal_);
  return markov_count_variance_factor(c.rho, length);
}

}  // namespace spinsc
