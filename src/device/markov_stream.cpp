#include "spinsc/markov_stream.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace spinsc {
namespace {

constexpr uint64_t mask_below(int n) { return n >= 64 ? ~0ULL : ((1ULL << n) - 1); }

// Sets bits [lo, hi) of a packed stream.
void set_range(uint64_t* words, int64_t lo, int64_t hi) {
  if (lo >= hi) return;
  int64_t wl = lo >> 6, wh = (hi - 1) >> 6;
  const uint64_t first = ~0ULL << (lo & 63);
  const uint64_t last = mask_below(static_cast<int>(((hi - 1) & 63) + 1));
  if (wl == wh) {
    words[wl] |= first & last;
    return;
  }
  words[wl] |= first;
  for (int64_t w = wl + 1; w < wh; ++w) words[w] = ~0ULL;
  words[wh] |= last;
}

// Number of failures before the first success of Bernoulli(q) trials, capped at `cap`:
// floor(log U / log(1 - q)) is exactly geometric for U uniform.
int64_t geometric_gap(double log1m_q, Xoshiro256& rng, int64_t cap) {
  if (log1m_q == 0.0) return cap;
  const double g = std::floor(std::log(rng.uniform_pos()) / log1m_q);
  return g >= static_cast<double>(cap) ? cap : static_cast<int64_t>(g);
}

// Yields successive 64-bit words of i.i.d. Bernoulli(q) bits. Dense q: each lane compares a
// uniform with q one binary digit at a time, all 64 lanes at once, stopping as soon as every
// lane is decided (about 8 random words per 64 bits, exact to 2^-53). Sparse q (or 1 - q):
// geometric gaps between the rare bits, about 64*q random numbers per word.
class BernoulliWords {
 public:
  BernoulliWords(double q, Xoshiro256& rng) : rng_(rng) {
    if (q <= 0.0) {
      mode_ = Mode::Zero;
    } else if (q >= 1.0) {
      mode_ = Mode::One;
    } else if (q < 1.0 / 16 || q > 15.0 / 16) {
      mode_ = Mode::Sparse;
      invert_ = q > 0.5;
      const double r = invert_ ? 1.0 - q : q;
      log1m_ = std::log1p(-r);
      next_ = geometric_gap(log1m_, rng_, kFar);
    } else {
      mode_ = Mode::Dense;
      digits_ = static_cast<uint64_t>(std::ldexp(q, 53));
    }
  }

  uint64_t next() {
    switch (mode_) {
      case Mode::Zero: return 0;
      case Mode::One: return ~0ULL;
      case Mode::Sparse: {
        uint64_t w = 0;
        while (next_ < 64) {
          w |= 1ULL << next_;
          next_ += 1 + geometric_gap(log1m_, rng_, kFar);
        }
        next_ -= 64;
        return invert_ ? ~w : w;
      }
      case Mode::Dense: {
        uint64_t undecided = ~0ULL, ones = 0;
        for (int j = 52; j >= 0; --j) {
          const uint64_t u = rng_.next();
          if ((digits_ >> j) & 1) {
            ones |= undecided & ~u;
            undecided &= u;
          } else {
            undecided &= ~u;
          }
          // Lanes still equal to q's digits so far are >= q once q's remaining digits are 0.
          if (!undecided || (digits_ & mask_below(j)) == 0) break;
        }
        return ones;
      }
    }
    return 0;
  }

 private:
  enum class Mode { Zero, One, Sparse, Dense };
  static constexpr int64_t kFar = int64_t{1} << 62;
  Xoshiro256& rng_;
  Mode mode_ = Mode::Zero;
  bool invert_ = false;
  double log1m_ = 0;
  int64_t next_ = 0;
  uint64_t digits_ = 0;
};

void mask_tail(int64_t length, uint64_t* words) {
  const int64_t n = (length + 63) / 64;
  if (length % 64) words[n - 1] &= mask_below(static_cast<int>(length % 64));
}

void sample_by_runs(const MarkovChain2& c, int64_t length, Xoshiro256& rng, uint64_t* words) {
  const double log1m[2] = {std::log1p(-c.leave_zero()), std::log1p(-c.leave_one())};
  int state = rng.uniform() < c.first_p ? 1 : 0;
  int64_t t = 0;
  while (t < length) {
    const int64_t run = 1 + geometric_gap(log1m[state], rng, length);
    const int64_t end = run >= length - t ? length : t + run;
    if (state) set_range(words, t, end);
    t = end;
    state ^= 1;
  }
}

void sample_by_words(const MarkovChain2& c, int64_t length, Xoshiro256& rng, uint64_t* words) {
  const int64_t n = (length + 63) / 64;
  BernoulliWords hold(c.rho, rng), fresh(c.p, rng);
  uint64_t carry = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint64_t h = hold.next(), f = fresh.next();
    if (i == 0) {
      h &= ~1ULL;  // the first bit is a fresh draw from the initial distribution
      if (c.first_p != c.p) f = (f & ~1ULL) | (rng.uniform() < c.first_p ? 1 : 0);
    }
    // Each held bit copies the latest fresh bit before it: a segmented prefix copy by doubling.
    uint64_t known = ~h, value = f & known;
    for (int s = 1; s < 64; s <<= 1) {
      value |= (value << s) & ~known;
      known |= known << s;
    }
    value |= carry & ~known;
    words[i] = value;
    carry = (value >> 63) ? ~0ULL : 0;
  }
  mask_tail(length, words);
}

}  // namespace

void sample_markov_stream(const MarkovChain2& c, int64_t length, Xoshiro256& rng, uint64_t* words) {
  const int64_t n = (length + 63) / 64;
  std::memset(words, 0, static_cast<size_t>(n) * sizeof(uint64_t));
  // Expected switches per bit; below ~1/32 drawing run lengths costs less than building words.
  const double switch_rate = 2.0 * c.p * (1.0 - c.p) * (1.0 - c.rho);
  if (switch_rate < 1.0 / 32)
    sample_by_runs(c, length, rng, words);
  else
    sample_by_words(c, length, rng, words);
}

void sample_markov_stream_reference(const MarkovChain2& c, int64_t length, Xoshiro256& rng, uint64_t* words) {
  const int64_t n = (length + 63) / 64;
  std::memset(words, 0, static_cast<size_t>(n) * sizeof(uint64_t));
  int s = rng.uniform() < c.first_p ? 1 : 0;
  for (int64_t t = 0; t < length; ++t) {
    if (t > 0) s = rng.uniform() < c.p + (s - c.p) * c.rho ? 1 : 0;
    if (s) words[t >> 6] |= 1ULL << (t & 63);
  }
}

double markov_count_variance_factor(double rho, int64_t length) {
  if (length <= 1 || rho <= 0.0) return 1.0;
  const double L = static_cast<double>(length);
  if (rho < 0.9) {
    // Closed form of the sum; well conditioned away from rho = 1.
    const double one_minus = 1.0 - rho;
    const double s = rho / one_minus - rho * (1.0 - std::pow(rho, L)) / (L * one_minus * one_minus);
    return 1.0 + 2.0 * s;
  }
  double s = 0, power = 1;
  for (int64_t k = 1; k < length; ++k) {
    power *= rho;
    s += (1.0 - k / L) * power;
    if (power < 1e-18) break;
  }
  return 1.0 + 2.0 * s;
}

}  // namespace spinsc
