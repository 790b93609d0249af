#include "spinsc/llg.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "spinsc/error.hpp"

namespace spinsc {
namespace {

constexpr double kElementaryCharge = 1.602176634e-19;  // C
constexpr double kHbar = 1.054571817e-34;              // J s
constexpr double kBoltzmann = 1.380649e-23;            // J/K
constexpr double kGyromagnetic = 1.76085963023e11;     // rad / (s T), electron

using Vec = std::array<double, 3>;

Vec cross(const Vec& a, const Vec& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}

void check(const MacrospinParameters& p) {
  if (!(p.delta > 0) || !(p.temperature_K > 0) || !(p.alpha > 0) || !(p.mu0_hk_T > 0) || !(p.polarization > 0) ||
      !(p.time_step > 0) || p.time_step > 0.5)
    fail("macrospin parameters out of range: Delta {}, T {} K, alpha {}, mu0Hk {} T, eta {}, step {} (all > 0, step <= 0.5)",
         p.delta, p.temperature_K, p.alpha, p.mu0_hk_T, p.polarization, p.time_step);
}

}  // namespace

double MacrospinParameters::critical_current_A() const {
  return 4 * kElementaryCharge * alpha * delta * kBoltzmann * temperature_K / (kHbar * polarization);
}

double MacrospinParameters::telegraph_critical_current_A() const { return critical_current_A() / 2; }

double MacrospinParameters::time_unit_s() const { return (1 + alpha * alpha) / (kGyromagnetic * mu0_hk_T); }

MacrospinParameters macrospin_parameters(const DeviceConfig& c, double delta_at_reference, double temperature_K) {
  MacrospinParameters p;
  p.delta = delta_at_reference * c.reference_temperature_K / temperature_K;
  p.temperature_K = temperature_K;
  p.alpha = c.macrospin.alpha;
  p.mu0_hk_T = c.macrospin.mu0_hk_T;
  p.polarization = c.macrospin.polarization;
  p.time_step = c.macrospin.time_step;
  check(p);
  return p;
}

MacrospinLlg::MacrospinLlg(const MacrospinParameters& parameters, uint64_t seed, bool start_up)
    : p_(parameters), m_{0, 0, start_up ? 1.0 : -1.0}, rng_(seed) {
  check(p_);
  noise_sigma_ = std::sqrt(p_.alpha * p_.time_step / (p_.delta * (1 + p_.alpha * p_.alpha)));
}

void MacrospinLlg::set_current(double current_A) { j_ = p_.alpha * current_A / p_.critical_current_A(); }

double MacrospinLlg::normal() {
  // Marsaglia's polar method; both normals of a pair are used.
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u, v, s;
  do {
    u = 2 * rng_.uniform() - 1;
    v = 2 * rng_.uniform() - 1;
    s = u * u + v * v;
  } while (s >= 1 || s == 0);
  const double f = std::sqrt(-2 * std::log(s) / s);
  spare_ = v * f;
  has_spare_ = true;
  return u * f;
}

void MacrospinLlg::step() {
  const double dt = p_.time_step, a = p_.alpha, j = j_;
  const Vec dw{noise_sigma_ * normal(), noise_sigma_ * normal(), noise_sigma_ * normal()};
  // Increment of m over one step for a given m and the step's (fixed) noise.
  auto increment = [&](const Vec& m) {
    const Vec h{dw[0], dw[1], m[2] * dt + dw[2]};
    const Vec mh = cross(m, h), mmh = cross(m, mh);
    const Vec mz{m[1], -m[0], 0.0};  // m x z
    const Vec mmz = cross(m, mz);
    Vec d;
    for (int k = 0; k < 3; ++k) d[k] = -mh[k] - a * mmh[k] + j * dt * (-mmz[k] + a * mz[k]);
    return d;
  };
  const Vec d1 = increment(m_);
  Vec pred;
  for (int k = 0; k < 3; ++k) pred[k] = m_[k] + d1[k];
  const Vec d2 = increment(pred);
  Vec next;
  for (int k = 0; k < 3; ++k) next[k] = m_[k] + 0.5 * (d1[k] + d2[k]);
  const double norm = 1.0 / std::sqrt(next[0] * next[0] + next[1] * next[1] + next[2] * next[2]);
  for (int k = 0; k < 3; ++k) m_[k] = next[k] * norm;
}

MacrospinDwells measure_dwells(const MacrospinParameters& parameters, double current_A, int dwells, double threshold,
                               uint64_t seed, int64_t max_steps) {
  MacrospinLlg llg(parameters, seed, true);
  llg.set_current(current_A);
  MacrospinDwells out;
  bool up = true, first = true;
  int64_t entered = 0;
  for (int64_t s = 1; s <= max_steps; ++s) {
    llg.step();
    const double z = llg.mz();
    if ((up && z < -threshold) || (!up && z > threshold)) {
      if (!first) (up ? out.up : out.down).push_back(static_cast<double>(s - entered) * parameters.time_step);
      first = false;
      up = !up;
      entered = s;
      if (static_cast<int>(out.up.size() + out.down.size()) >= dwells) {
        out.steps = s;
        return out;
      }
    }
  }
  out.steps = max_steps;
  return out;
}

double macrospin_mean_dwell(double delta, double alpha, double current_ratio, double threshold, bool up) {
  // T(x0 -> b) = integral_b^x0 dy e^U(y) / D(y) integral_y^1 e^-U(z) dz, D = alpha (1 - y^2) / (2 Delta),
  // reflecting at m_z = 1; the down dwell is the mirror image with the current reversed.
  const double i = up ? current_ratio : -current_ratio;
  auto u = [&](double x) { return -delta * (x * x + 2 * i * x); };
  const int n = 20000;
  // Tail integral_xc^1 e^-U by Simpson.
  double tail = 0;
  {
    const double h = (1 - threshold) / n;
    for (int k = 0; k <= n; ++k) {
      const double w = (k == 0 || k == n) ? 1 : (k % 2 ? 4 : 2);
      tail += w * std::exp(-u(threshold + k * h));
    }
    tail *= h / 3;
  }
  // Outer integral over [-xc, xc] with the inner integral accumulated from the top (trapezoid).
  const double h = 2 * threshold / n;
  double inner = tail, total = 0, prev_y = threshold;
  double prev_f = std::exp(u(threshold)) / (alpha * (1 - threshold * threshold) / (2 * delta)) * inner;
  for (int k = n - 1; k >= 0; --k) {
    const double y = -threshold + k * h;
    inner += 0.5 * h * (std::exp(-u(y)) + std::exp(-u(prev_y)));
    const double f = std::exp(u(y)) / (alpha * (1 - y * y) / (2 * delta)) * inner;
    total += 0.5 * h * (f + prev_f);
    prev_f = f, prev_y = y;
  }
  return total;
}

double macrospin_p_up(double delta, double current_ratio) {
  const int n = 20000;
  const double h = 1.0 / n;
  double up = 0, down = 0;
  for (int k = 0; k <= n; ++k) {
    const double x = k * h, w = (k == 0 || k == n) ? 1 : (k % 2 ? 4 : 2);
    up += w * std::exp(delta * (x * x + 2 * current_ratio * x - 1 - 2 * std::abs(current_ratio)));
    down += w * std::exp(delta * (x * x - 2 * current_ratio * x - 1 - 2 * std::abs(current_ratio)));
  }
  return up / (up + down);
}

double macrospin_relaxation_rate(double delta, double alpha, double current_ratio) {
  // Master equation on cells of m_z with detailed-balance rates across each interface,
  // r(i -> i+1) = D/h^2 exp(-(U[i+1] - U[i])/2); its symmetrised generator is tridiagonal with
  // off-diagonal D/h^2. The eigenvalues of -generator are 0 = mu0 < mu1 < ...; mu1 is found by
  // bisection on the Sturm count of eigenvalues below x.
  const int n = 4000;
  const double h = 2.0 / n;
  std::vector<double> u(n), diag(n, 0.0), off(n - 1);
  for (int i = 0; i < n; ++i) {
    const double x = -1 + (i + 0.5) * h;
    u[i] = -delta * (x * x + 2 * current_ratio * x);
  }
  for (int i = 0; i + 1 < n; ++i) {
    const double x = -1 + (i + 1) * h;
    const double d = alpha * (1 - x * x) / (2 * delta) / (h * h);
    const double du = u[i + 1] - u[i];
    diag[i] += d * std::exp(-du / 2);
    diag[i + 1] += d * std::exp(du / 2);
    off[i] = -d;
  }
  auto below = [&](double x) {  // eigenvalues of the symmetric tridiagonal matrix below x
    int count = 0;
    double q = diag[0] - x;
    if (q < 0) ++count;
    for (int i = 1; i < n; ++i) {
      q = diag[i] - x - off[i - 1] * off[i - 1] / (q != 0 ? q : 1e-300);
      if (q < 0) ++count;
    }
    return count;
  };
  double lo = 0, hi = 0;
  for (int i = 0; i < n; ++i) hi = std::max(hi, diag[i] + 2 * std::abs(i ? off[i - 1] : 0.0) + 1);
  for (int it = 0; it < 200 && hi - lo > 1e-13 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    (below(mid) >= 2 ? hi : lo) = mid;
  }
  return 0.5 * (lo + hi);
}

MacrospinTrace simulate_macrospin_trace(const MacrospinParameters& parameters, double current_A, int64_t samples,
                                        double sample_period_s, uint64_t seed) {
  if (samples < 1) fail("macrospin trace: samples must be >= 1, got {}", samples);
  const double period = sample_period_s / parameters.time_unit_s();
  const double steps_f = std::ceil(period / parameters.time_step);
  if (!(steps_f >= 1) || steps_f > 1e9)
    fail("macrospin trace: sample period {} s is {:.3g} reduced units: out of range for time step {}", sample_period_s,
         period, parameters.time_step);
  const int64_t steps = static_cast<int64_t>(steps_f);
  MacrospinParameters p = parameters;
  p.time_step = period / static_cast<double>(steps);
  const double ratio = current_A / p.critical_current_A();
  Xoshiro256 start(derive_seed(seed, SeedStream::LlgStart));
  MacrospinLlg llg(p, derive_seed(seed, SeedStream::LlgNoise), start.uniform() < macrospin_p_up(p.delta, ratio));
  llg.set_current(current_A);
  llg.advance(static_cast<int64_t>(std::ceil(5 / (p.alpha * p.time_step))));  // relax within the well
  MacrospinTrace out;
  Trace& t = out.trace;
  t.bias_current_A = current_A;
  t.sample_period_s = sample_period_s;
  t.temperature_K = p.temperature_K;
  t.length = samples;
  t.words.assign((samples + 63) / 64, 0);
  out.mz.resize(samples);
  for (int64_t s = 0; s < samples; ++s) {
    llg.advance(steps);
    const double z = llg.mz();
    out.mz[s] = static_cast<float>(z);
    if (z > 0) t.words[s >> 6] |= 1ULL << (s & 63);
  }
  return out;
}

}  // namespace spinsc
