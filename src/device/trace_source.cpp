#include "spinsc/trace_source.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "spinsc/error.hpp"
#include "spinsc/markov_stream.hpp"
#include "spinsc/rng.hpp"

namespace spinsc {

TraceSource::TraceSource(std::vector<Trace> traces, std::string spec) : traces_(std::move(traces)), spec_(std::move(spec)) {
  if (traces_.empty()) fail("trace source '{}': no traces", spec_);
  for (const auto& t : traces_) {
    const MarkovFit f = fit_markov(t);
    p_.push_back(t.fraction_ones());
    rho_.push_back(std::isnan(f.rho.value) ? 0.0 : std::clamp(f.rho.value, 0.0, 0.999999));
  }
}

std::unique_ptr<TraceSource> TraceSource::open(const std::filesystem::path& dir) {
  return std::make_unique<TraceSource>(load_trace_library(dir), "trace:" + dir.string());
}

void TraceSource::check_length(int length) const {
  for (const Trace& t : traces_)
    if (t.length < length)
      fail("trace source '{}': '{}' has {} samples, fewer than the stream length {}", spec_, t.origin, t.length, length);
}

size_t TraceSource::nearest(double p) const {
  size_t best = 0;
  for (size_t i = 1; i < p_.size(); ++i)
    if (std::abs(p_[i] - p) < std::abs(p_[best] - p)) best = i;
  return best;
}

void TraceSource::generate(double p, int length, const StreamKey& key, uint64_t* words) const {
  if (!(p >= 0 && p <= 1)) fail("trace source: target probability {} is outside [0, 1]", p);
  const int n = words_for(length);
  if (p == 0 || p == 1) {
    std::memset(words, p == 1 ? 0xff : 0, static_cast<size_t>(n) * sizeof(uint64_t));
    words[n - 1] &= tail_mask(length);
    return;
  }
  const Trace& t = traces_[nearest(p)];
  if (t.length < length)
    fail("trace source: '{}' has {} samples, fewer than the stream length {}", t.origin, t.length, length);
  Xoshiro256 rng(derive_seed(key.seed, SeedStream::TraceReplay, {key.image, key.layer, static_cast<uint64_t>(key.role), key.device}));
  const int64_t offset = static_cast<int64_t>(rng.below(static_cast<uint64_t>(t.length - length + 1)));
  copy_bits(t.words.data(), t.length, offset, length, words);
}

double TraceSource::bit_mean(double p, const StreamKey&) const {
  if (p == 0 || p == 1) return p;
  return p_[nearest(p)];
}

double TraceSource::count_variance_factor(double p, int length) const {
  if (p == 0 || p == 1) return 1.0;
  return markov_count_variance_factor(rho_[nearest(p)], length);
}

}  // namespace spinsc
