#include "spinsc/normal.hpp"

#include <array>
#include <cmath>

namespace spinsc {
namespace {

constexpr int kLayers = 256;
// The base layer's right edge and the common area of every layer (Marsaglia and Tsang 2000,
// 256 layers): the layers' edges follow from them.
constexpr double kR = 3.6541528853610088, kArea = 4.92867323399e-3;

double density(double x) { return std::exp(-0.5 * x * x); }

struct Tables {
  // x[0] = area / f(r) (the base layer's width, its tail included), x[1] = r, ..., x[256] = 0;
  // f[i] = f(x[i]).
  std::array<double, kLayers + 1> x, f;
  Tables() {
    x[0] = kArea / density(kR);
    x[1] = kR;
    for (int i = 1; i < kLayers - 1; ++i) x[i + 1] = std::sqrt(-2.0 * std::log(kArea / x[i] + density(x[i])));
    x[kLayers] = 0.0;
    for (int i = 0; i <= kLayers; ++i) f[i] = density(x[i]);
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

double ziggurat_normal(Xoshiro256& rng) {
  const Tables& t = tables();
  for (;;) {
    const uint64_t bits = rng.next();
    const int i = static_cast<int>(bits & 0xff);
    // Uniform in (-1, 1) from the 53 high bits (disjoint from the layer's 8).
    const double u = static_cast<double>(static_cast<int64_t>(bits >> 11) - (int64_t{1} << 52)) * 0x1.0p-52;
    const double x = u * t.x[i];
    if (std::fabs(x) < t.x[i + 1]) return x;  // inside the layer's rectangle under the curve
    if (i == 0) {
      // The tail beyond r: x = r + e1 / r, accepted when 2 e2 > (e1 / r)^2 (e exponential).
      double a, b;
      do {
        a = -std::log(rng.uniform_pos()) / kR;
        b = -std::log(rng.uniform_pos());
      } while (2.0 * b <= a * a);
      return u < 0 ? -(kR + a) : kR + a;
    }
    if (t.f[i + 1] + (t.f[i] - t.f[i + 1]) * rng.uniform() < density(x)) return x;
  }
}

}  // namespace spinsc
