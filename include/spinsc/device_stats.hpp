// Device statistics and their figures (`spinsc device stats`).
//
// For a device description (simulated with the telegraph model) or a trace library (measured),
// three figures, each a CSV plus a PNG/SVG rendered by gnuplot (plot.hpp):
//   p_vs_bias        P(AP) at each bias current, with standard errors, and the model sigmoid
//                    (the description's closed form, or the logistic fit of the traces);
//   autocorrelation  sample autocorrelation vs lag at p ~ 1/2 against rho^k = exp(-k lambda Ts);
//   dwell_times      histogram of complete runs of AP and P samples against the geometric law
//                    (the exponential dwell time seen through sampling every Ts).
// Device descriptions with variation add the transfer curves of a few sampled devices.
//
// Thread-safety: the statistics are pure; the writers touch only their output directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "spinsc/device_config.hpp"
#include "spinsc/trace.hpp"

namespace spinsc {

// Sample autocorrelation of a packed 0/1 stream at lags 0..max_lag (lag 0 is 1).
std::vector<double> stream_autocorrelation(const uint64_t* words, int64_t length, int max_lag);

// Lengths (in samples) of the complete runs of ones and of zeros; the first and last runs are
// censored by the ends of the record and are left out.
struct RunLengths {
  std::vector<int64_t> ones, zeros;
};
RunLengths run_lengths(const uint64_t* words, int64_t length);

struct StatsOptions {
  std::string image_extension = ".png";  // ".png" or ".svg"
  int64_t samples = 1 << 20;             // per simulated bias point (device statistics)
  uint64_t seed = 1;
};

// Both return the files written (CSV and images).
std::vector<std::filesystem::path> write_device_stats(const DeviceConfig& config, const std::filesystem::path& out_dir,
                                                      const StatsOptions& options);
std::vector<std::filesystem::path> write_trace_stats(const std::vector<Trace>& traces,
                                                     const std::filesystem::path& out_dir, const StatsOptions& options);

}  // namespace spinsc
