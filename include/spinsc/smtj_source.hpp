// SmtjSource: the `smtj[:device.json]` bit source, an array of simulated s-MTJs (SPEC §3.1).
//
// Each SNG named by (layer, role, device) of a StreamKey is one physical device. With variation
// enabled, its Delta, Ic and offset current are drawn from the description's spreads with a
// generator seeded by (variation seed, layer, role, device) only, so a device keeps its
// parameters for every image and run. The bias for a target p comes from the nominal curve
// (`"bias": "nominal"`: uncalibrated, the device's real P(1) differs) or from the device's own
// curve (`"calibrated"`), then is clamped to +-max_bias_A. Exactly p = 0 and p = 1 give constant
// lines under `"extreme_p": "constant"`, or the clamped bias and its residual error under
// `"clamp"`. Streams are drawn afresh per image as the device running continuously: the first
// bit from the stationary distribution (or after `warmup_periods` from a fixed initial state),
// then exact Markov transitions, from a generator seeded by (key.seed, image, layer, role,
// device). A device whose bits are i.i.d. (iid_bits() with a stationary start, as the reference
// device) draws them with the ideal source's comparator: Bernoulli(p rounded to 2^-32), the p
// still taken through the bias curve.
//
// Thread-safety: const methods may be called concurrently.
#pragma once

#include <string>

#include "spinsc/bit_source.hpp"
#include "spinsc/device_config.hpp"
#include "spinsc/smtj.hpp"
#include "spinsc/sources.hpp"

namespace spinsc {

class SmtjSource : public BitSource {
 public:
  // `spec` is what name() returns, e.g. "smtj" or "smtj:configs/device/correlated.json".
  SmtjSource(DeviceConfig config, std::string spec);

  std::string name() const override { return spec_; }
  void generate(double p, int length, const StreamKey& key, uint64_t* words) const override;
  // Same bits as generate(); what depends on p alone is computed once per distinct p.
  void generate_batch(int count, const double* p, const uint64_t* devices, int length, const StreamKey& key,
                      uint64_t* out, size_t stride) const override;
  double bit_mean(double p, const StreamKey& key) const override;
  double count_variance_factor(double p, int length) const override;
  double markov_correlation(double p) const override;
  // No variation and a lag-1 correlation below 1e-9 at p = 1/2 (where it is largest).
  bool iid_bits() const override;
  // p = 0 and p = 1 are constant lines under the "constant" extreme-p rule.
  bool exact_extremes() const override { return config_.extreme_p == DeviceConfig::ExtremeRule::Constant; }

  const DeviceConfig& config() const { return config_; }
  // The physical device behind an SNG (variation applied; the nominal device without it).
  TelegraphMtj device(const StreamKey& key) const;
  // Bias current applied to `mtj` for target bit probability p (0 < p < 1, or the clamp rule).
  double bias_current(double p, const TelegraphMtj& mtj) const;
  // The bit chain of the SNG at target p (bit 1 = the readout state, initial state applied).
  // Constant lines (p = 0 or 1 under the constant rule) have rho = 0 and p = first_p = 0 or 1.
  MarkovChain2 chain(double p, const StreamKey& key) const;

 private:
  MarkovChain2 chain_of(double p, const TelegraphMtj& mtj) const;
  MarkovChain2 chain_at(double current_A, const TelegraphMtj& mtj) const;
  void emit(const MarkovChain2& chain, int length, const StreamKey& key, uint64_t* words) const;
  // What an i.i.d. stream (iid_) at target p is Bernoulli of; validates p.
  double iid_probability(double p) const;

  DeviceConfig config_;
  std::string spec_;
  TelegraphMtj nominal_;
  // iid_bits() with a stationary start: streams are Bernoulli(p) bits, drawn by the ideal
  // source's comparator (its bits are [U < round(p 2^32) / 2^32], U uniform) under this
  // source's own stream keys.
  bool iid_ = false;
  IdealSource iid_bits_;
  double bias_range_p_ap_[2];  // p_ap of the nominal device at the bias -max and +max
};

}  // namespace spinsc
