#include "spinsc/arithmetic.hpp"

#include <gtest/gtest.h>

#include <set>

#include "spinsc/error.hpp"

namespace spinsc {
namespace {

TEST(Arithmetic, NamesRoundTripAndUnknownNamesAreRefused) {
  for (Multiply m : {Multiply::SignMagnitude, Multiply::Bipolar}) {
    EXPECT_EQ(parse_multiply(to_string(m)), m);
    EXPECT_EQ(rule_of(m).id, m);
    EXPECT_EQ(rule_of(m).name, to_string(m));
  }
  for (Accumulate a : {Accumulate::Apc, Accumulate::Mux}) {
    EXPECT_EQ(parse_accumulate(to_string(a)), a);
    EXPECT_EQ(rule_of(a).id, a);
    EXPECT_EQ(rule_of(a).name, to_string(a));
  }
  EXPECT_THROW(parse_multiply("xor"), Error);
  EXPECT_THROW(parse_accumulate("tree"), Error);
}

// Every level q of K maps to a per-level stream; levels that encode the same probability share
// one, and no two different probabilities share one; the cost model's preset SNGs are those
// streams that are not constant (p = 0 or 1 needs no generator for signmag's zero level).
TEST(Arithmetic, LevelsOfEachRuleCoverKAndEncodeConsistently) {
  for (Multiply m : {Multiply::SignMagnitude, Multiply::Bipolar}) {
    const MultiplyRule& r = rule_of(m);
    for (int K : {3, 5, 11, 17}) {
      const int half = (K - 1) / 2;
      std::vector<double> p(static_cast<size_t>(r.stream_levels(K)), -1.0);
      for (int q = -half; q <= half; ++q) {
        const int v = r.level_index(q, K);
        ASSERT_GE(v, 0);
        ASSERT_LT(v, r.stream_levels(K));
        const double pq = r.encode(static_cast<double>(q) / half);
        EXPECT_GE(pq, 0.0);
        EXPECT_LE(pq, 1.0);
        if (p[static_cast<size_t>(v)] >= 0) {
          EXPECT_EQ(p[static_cast<size_t>(v)], pq) << r.name << " K " << K << " q " << q;
        }
        p[static_cast<size_t>(v)] = pq;
      }
      EXPECT_EQ(std::set<double>(p.begin(), p.end()).size(), p.size()) << r.name;  // every stream used, all distinct
      EXPECT_EQ(r.preset_levels(K), m == Multiply::SignMagnitude ? half : K);
    }
  }
  EXPECT_EQ(rule_of(Multiply::SignMagnitude).encode(-0.5), 0.5);
  EXPECT_EQ(rule_of(Multiply::Bipolar).encode(-0.5), 0.25);
  EXPECT_EQ(rule_of(Multiply::Bipolar).encode(0.0), 0.5);  // bipolar 0 is a fair coin, not a silent input
  EXPECT_TRUE(rule_of(Multiply::SignMagnitude).zero_input_silent);
  EXPECT_FALSE(rule_of(Multiply::Bipolar).zero_input_silent);
}

TEST(Arithmetic, NoiseAndShortcutSupportFollowFromTheRules) {
  const MultiplyRule& sm = rule_of(Multiply::SignMagnitude);
  const MultiplyRule& bp = rule_of(Multiply::Bipolar);
  const AccumulateRule& apc = rule_of(Accumulate::Apc);
  const AccumulateRule& mux = rule_of(Accumulate::Mux);
  EXPECT_TRUE(moment_matched_noise_models(sm, apc));
  EXPECT_FALSE(moment_matched_noise_models(bp, apc));
  EXPECT_FALSE(moment_matched_noise_models(sm, mux));
  EXPECT_FALSE(moment_matched_noise_models(bp, mux));
  EXPECT_TRUE(binomial_counts(sm, apc));
  EXPECT_FALSE(binomial_counts(bp, apc));
  EXPECT_FALSE(binomial_counts(sm, mux));
  EXPECT_EQ(sm.gate, ProductGate::And);
  EXPECT_EQ(bp.gate, ProductGate::Xnor);
}

}  // namespace
}  // namespace spinsc
