// TraceSource: the `trace:DIR` bit source, replaying a trace library (SPEC §3.3).
//
// For a target p it picks the trace whose fraction of ones is nearest p (ties: the first in
// file-name order) and copies a window of `length` consecutive samples starting at a uniform
// random offset drawn from (key.seed, image, layer, role, device). Windows keep the recorded
// autocorrelation. Nearest, not interpolated: mixing two bias points per window would give the
// right mean but a variance no device has. p = 0 and p = 1 give constant lines (the SNG is
// gated off/on), as with the smtj default rule. A trace shorter than the stream length is an
// error.
//
// Thread-safety: immutable after construction; const methods may be called concurrently.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "spinsc/bit_source.hpp"
#include "spinsc/calibrate.hpp"
#include "spinsc/trace.hpp"

namespace spinsc {

class TraceSource : public BitSource {
 public:
  TraceSource(std::vector<Trace> traces, std::string spec);
  static std::unique_ptr<TraceSource> open(const std::filesystem::path& dir);

  std::string name() const override { return spec_; }
  void generate(double p, int length, const StreamKey& key, uint64_t* words) const override;
  // Every trace must hold at least `length` samples (any of them may be replayed).
  void check_length(int length) const override;
  // The fraction of ones of the trace replayed for p.
  double bit_mean(double p, const StreamKey& key) const override;
  // From the replayed trace's fitted lag-1 correlation (markov_count_variance_factor).
  double count_variance_factor(double p, int length) const override;

  // Index of the trace replayed for p in (0, 1).
  size_t nearest(double p) const;
  const std::vector<Trace>& traces() const { return traces_; }

 private:
  std::vector<Trace> traces_;
  std::vector<double> p_;    // fraction of ones per trace
  std::vector<double> rho_;  // fitted lag-1 correlation per trace, clamped to [0, 1)
  std::string spec_;
};

}  // namespace spinsc
