#include "sc/multiply_kernels.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "spinsc/bitstream.hpp"
#include "spinsc/rng.hpp"

namespace spinsc::detail {
namespace {

// Random streams of L bits (tails zero), `count` of them.
std::vector<Bitstream> streams(int count, int L, uint64_t seed, double p) {
  Xoshiro256 rng(seed);
  std::vector<Bitstream> s;
  for (int a = 0; a < count; ++a) {
    Bitstream b(L);
    for (int t = 0; t < L; ++t)
      if (rng.uniform() < p) b.words[static_cast<size_t>(t >> 6)] |= uint64_t{1} << (t & 63);
    s.push_back(b);
  }
  return s;
}

bool bit(const Bitstream& b, int t) { return (b.words[static_cast<size_t>(t >> 6)] >> (t & 63)) & 1; }

// Each kernel's batch and constant forms agree with its own product bit, cycle by cycle: the
// counter of a synapse is the up count minus the down count of its L product bits (bipolar:
// 2 ones - L). So a rule's kernel is defined once, by bit(), and its fast forms are checked
// against it.
template <class Mul>
void check_kernel(int L) {
  const int n = 37, nw = words_for(L);
  const auto xs = streams(n, L, 11 + L, 0.4), ws = streams(n, L, 29 + L, 0.6);
  std::vector<uint8_t> neg(static_cast<size_t>(n));
  for (int a = 0; a < n; ++a) neg[static_cast<size_t>(a)] = a % 3 == 0;
  int64_t expected = 0;
  for (int a = 0; a < n; ++a) {
    int64_t up = 0, down = 0;
    for (int t = 0; t < L; ++t) Mul::bit(bit(xs[a], t), bit(ws[a], t), neg[static_cast<size_t>(a)], up, down);
    expected += Mul::mux_counter(1, up, down, L);  // one synapse passed at every cycle: its full count
  }
  const int64_t got = Mul::batch(
      n, nw, L, [&](int a) { return xs[static_cast<size_t>(a)].words.data(); },
      [&](int a) { return ws[static_cast<size_t>(a)].words.data(); }, [&](int a) { return neg[static_cast<size_t>(a)]; });
  EXPECT_EQ(got, expected) << "L " << L;
  // Constant weight streams: the contribution from the input's count alone.
  Bitstream ones(L), zeros(L);
  for (int t = 0; t < L; ++t) ones.words[static_cast<size_t>(t >> 6)] |= uint64_t{1} << (t & 63);
  for (int a = 0; a < n; ++a) {
    const int64_t c = count_ones(xs[a].words.data(), nw);
    for (const bool one : {true, false}) {
      int64_t up = 0, down = 0;
      for (int t = 0; t < L; ++t) Mul::bit(bit(xs[a], t), one ? bit(ones, t) : bit(zeros, t), neg[static_cast<size_t>(a)], up, down);
      EXPECT_EQ(Mul::constant(one, !one, c, neg[static_cast<size_t>(a)], L), Mul::mux_counter(1, up, down, L));
    }
    if (!Mul::active(c)) {
      int64_t up = 0, down = 0;
      for (int t = 0; t < L; ++t) Mul::bit(false, bit(ws[a], t), neg[static_cast<size_t>(a)], up, down);
      EXPECT_EQ(Mul::mux_counter(1, up, down, L), 0);  // a skipped synapse contributes nothing
    }
  }
  EXPECT_EQ(Mul::active(0), (std::is_same_v<Mul, BipolarKernel>));  // only signmag skips a silent input
}

TEST(MultiplyKernels, FastFormsAgreeWithTheProductBit) {
  for (int L : {1, 7, 64, 100, 257}) {
    check_kernel<SignMagnitudeKernel>(L);
    check_kernel<BipolarKernel>(L);
  }
}

TEST(MultiplyKernels, EachRuleHasItsKernel) {
  EXPECT_TRUE((with_multiply_kernel(Multiply::SignMagnitude, [](auto k) { return std::is_same_v<decltype(k), SignMagnitudeKernel>; })));
  EXPECT_TRUE((with_multiply_kernel(Multiply::Bipolar, [](auto k) { return std::is_same_v<decltype(k), BipolarKernel>; })));
}

}  // namespace
}  // namespace spinsc::detail
