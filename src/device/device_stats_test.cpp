#include "spinsc/device_stats.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "spinsc/markov_stream.hpp"
#include "spinsc/rng.hpp"

namespace spinsc {
namespace {

// Run lengths and autocorrelation against direct bit-by-bit computations, for lengths that are
// not multiples of 64 and streams with long and short runs.
TEST(DeviceStats, RunLengthsAndAutocorrelationMatchDirectComputation) {
  Xoshiro256 rng(21);
  for (int64_t length : {1, 2, 63, 64, 65, 1000, 4097}) {
    for (double rho : {0.0, 0.9}) {
      std::vector<uint64_t> w((length + 63) / 64);
      sample_markov_stream({0.4, rho, 0.4}, length, rng, w.data());
      std::vector<int> b(length);
      for (int64_t t = 0; t < length; ++t) b[t] = (w[t >> 6] >> (t & 63)) & 1;
      // Complete runs: between two changes; the first and last runs are censored.
      std::vector<int64_t> ones, zeros;
      int64_t last = -1;
      for (int64_t t = 1; t < length; ++t)
        if (b[t] != b[t - 1]) {
          if (last >= 0) (b[last] ? ones : zeros).push_back(t - last);
          last = t;
        }
      const RunLengths r = run_lengths(w.data(), length);
      EXPECT_EQ(r.ones, ones) << "length " << length;
      EXPECT_EQ(r.zeros, zeros) << "length " << length;

      double m = 0;
      for (int v : b) m += v;
      m /= length;
      const std::vector<double> ac = stream_autocorrelation(w.data(), length, 5);
      for (int k = 0; k <= 5 && k < length; ++k) {
        if (m == 0 || m == 1) {
          EXPECT_TRUE(std::isnan(ac[k]));
          continue;
        }
        double both = 0;
        for (int64_t t = 0; t + k < length; ++t) both += b[t] * b[t + k];
        EXPECT_NEAR(ac[k], (both / (length - k) - m * m) / (m * (1 - m)), 1e-12) << "length " << length << " lag " << k;
      }
    }
  }
}

}  // namespace
}  // namespace spinsc
