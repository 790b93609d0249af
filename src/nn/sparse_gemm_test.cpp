#include "nn/sparse_gemm.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "spinsc/rng.hpp"

namespace spinsc::nn {
namespace {

// rows x cols values on the pixel grid, each zero with probability `zeros`.
std::vector<float> mostly_zero(int rows, int cols, double zeros, uint64_t seed) {
  Xoshiro256 rng(seed);
  std::vector<float> x(static_cast<size_t>(rows) * cols);
  for (float& v : x) v = rng.uniform() < zeros ? 0.0f : static_cast<float>(1 + rng.below(255)) / 255.0f;
  return x;
}

std::vector<float> uniform(size_t n, uint64_t seed) {
  Xoshiro256 rng(seed);
  std::vector<float> x(n);
  for (float& v : x) v = static_cast<float>(2 * rng.uniform() - 1);
  return x;
}

TEST(SparseRows, KeepsTheNonzerosInOrderAndTransposes) {
  const int rows = 7, cols = 13;
  const std::vector<float> x = mostly_zero(rows, cols, 0.7, 1);
  SparseRows s;
  s.assign(x.data(), rows, cols);
  size_t nonzero = 0;
  for (float v : x) nonzero += v != 0.0f;
  ASSERT_EQ(s.index.size(), nonzero);
  std::vector<float> back(x.size(), 0.0f);
  for (int r = 0; r < rows; ++r)
    for (int k = s.start[r]; k < s.start[r + 1]; ++k) {
      if (k > s.start[r]) {
        EXPECT_LT(s.index[k - 1], s.index[k]);
      }
      back[static_cast<size_t>(r) * cols + s.index[k]] = s.value[k];
    }
  EXPECT_EQ(back, x);
  SparseRows t, t2;
  t.assign_transpose(s);
  t2.assign_transpose(s, true);
  ASSERT_EQ(t.rows, cols);
  ASSERT_EQ(t.cols, rows);
  for (int c = 0; c < cols; ++c)
    for (int k = t.start[c]; k < t.start[c + 1]; ++k) {
      if (k > t.start[c]) {
        EXPECT_LT(t.index[k - 1], t.index[k]);
      }
      const float v = x[static_cast<size_t>(t.index[k]) * cols + c];
      EXPECT_EQ(t.value[k], v);
      EXPECT_EQ(t2.value[k], v * v);
    }
  EXPECT_EQ(t.index.size(), nonzero);
  EXPECT_EQ(s.sparse_enough(), 4 * nonzero <= static_cast<size_t>(rows) * cols);
}

// Z = X Bt (+ (X o X) B2t) against a double reference, for widths with full 64-column blocks,
// 8-wide tails and scalar tails. Each value is a sum of n terms |x b| <= 1 in float with one
// rounding per term: |error| <= n * 2^-24 * sum |terms| (+ the same for the second product).
TEST(SparseGemm, ProductMatchesADoubleReferenceOnAnyThreadCount) {
  const int rows = 37, n = 100;
  for (int m : {1, 10, 64, 100, 256})
    for (bool second : {false, true}) {
      const std::vector<float> x = mostly_zero(rows, n, 0.8, 2), bt = uniform(static_cast<size_t>(n) * m, 3),
                               b2t = uniform(static_cast<size_t>(n) * m, 4);
      SparseRows s;
      s.assign(x.data(), rows, n);
      std::vector<float> one(static_cast<size_t>(rows) * m), two(one.size());
      int tiles = 0;
      sparse_xwt(s, bt.data(), second ? b2t.data() : nullptr, one.data(), m, 1, [&](int, int, int, int) { ++tiles; });
      EXPECT_EQ(tiles, ((rows + kTileRows - 1) / kTileRows) * ((m + kSparseBlock - 1) / kSparseBlock));
      sparse_xwt(s, bt.data(), second ? b2t.data() : nullptr, two.data(), m, 2);
      EXPECT_EQ(one, two) << "m " << m;
      for (int r = 0; r < rows; ++r)
        for (int j = 0; j < m; ++j) {
          double want = 0, size = 0;
          for (int i = 0; i < n; ++i) {
            const double v = x[static_cast<size_t>(r) * n + i];
            const double t = v * bt[static_cast<size_t>(i) * m + j] + (second ? v * v * b2t[static_cast<size_t>(i) * m + j] : 0.0);
            want += t;
            size += std::fabs(t);
          }
          EXPECT_NEAR(one[static_cast<size_t>(r) * m + j], want, 2 * n * 0x1p-24 * size + 1e-30) << "m " << m << " row " << r;
        }
    }
}

// The weight gradient D^T X as (X^T) D through the transposed nonzeros, against the dense sum.
TEST(SparseGemm, TransposedProductIsTheWeightGradient) {
  const int rows = 50, n = 30, m = 70;
  const std::vector<float> x = mostly_zero(rows, n, 0.75, 5), d = uniform(static_cast<size_t>(rows) * m, 6);
  SparseRows s, t;
  s.assign(x.data(), rows, n);
  t.assign_transpose(s);
  std::vector<float> gt(static_cast<size_t>(n) * m);
  sparse_xwt(t, d.data(), nullptr, gt.data(), m, 2);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < m; ++j) {
      double want = 0, size = 0;
      for (int r = 0; r < rows; ++r) {
        const double term = static_cast<double>(x[static_cast<size_t>(r) * n + i]) * d[static_cast<size_t>(r) * m + j];
        want += term;
        size += std::fabs(term);
      }
      EXPECT_NEAR(gt[static_cast<size_t>(i) * m + j], want, 2 * rows * 0x1p-24 * size + 1e-30);
    }
}

TEST(Transpose, IsExactForEveryShapeAndAdds) {
  for (auto [rows, cols] : {std::pair{1, 1}, {8, 8}, {9, 17}, {64, 40}, {33, 100}, {784, 256}}) {
    const std::vector<float> a = uniform(static_cast<size_t>(rows) * cols, 7);
    std::vector<float> b(a.size()), sum = uniform(a.size(), 8);
    const std::vector<float> before = sum;
    transpose(a.data(), rows, cols, b.data(), 2);
    transpose(a.data(), rows, cols, sum.data(), 1, true);
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) {
        const size_t at = static_cast<size_t>(c) * rows + r;
        ASSERT_EQ(b[at], a[static_cast<size_t>(r) * cols + c]) << rows << "x" << cols;
        ASSERT_EQ(sum[at], before[at] + a[static_cast<size_t>(r) * cols + c]) << rows << "x" << cols;
      }
  }
}

}  // namespace
}  // namespace spinsc::nn
