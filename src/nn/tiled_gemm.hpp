// Matrix products of the trainer, split into fixed tiles.
//
// Each tile of the result is computed by single-threaded Eigen over the full inner dimension,
// with no reduction across tiles; the tiling depends only on the matrix sizes, so a product
// is bit-identical on any number of threads. All matrices are row-major float arrays.
//
// Eigen cuts the inner dimension of a product into blocks sized from the L1 cache it reads from
// CPUID, and so sums each dot product in an order that depends on the CPU (784 inputs: blocks
// of 264 with a 32 KiB L1, of 400 with 48 KiB). kEigenBlockingFixed makes every product of
// every program that includes this header plan with the same cache sizes, whatever the CPU.
#pragma once

#include <omp.h>

// GCC 12 reports -Wmaybe-uninitialized inside its AVX-512 headers when Eigen instantiates them
// (false reports on _mm512_undefined_* placeholders): kept out of the build log.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Core>
#pragma GCC diagnostic pop
#include <algorithm>
#include <cstddef>

#include "spinsc/parallel.hpp"

namespace spinsc::nn {

// Cache sizes Eigen plans its blocking with (those it detects on the 2-core AMD EPYC the speed
// figures of docs/training.md come from, L3 rounded): fixed at start-up, before any product.
inline constexpr std::ptrdiff_t kEigenL1 = 32 * 1024, kEigenL2 = 1024 * 1024, kEigenL3 = 32 * 1024 * 1024;
inline const bool kEigenBlockingFixed = (Eigen::setCpuCacheSizes(kEigenL1, kEigenL2, kEigenL3), true);

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<RowMatrix>;
using ConstMatrixMap = Eigen::Map<const RowMatrix>;

// Calls f(r0, h, c0, w) for each tile of a rows x cols result, tiles in parallel. An
// exception thrown by f is rethrown after the region.
template <class F>
void for_tiles(int rows, int cols, int tile_rows, int tile_cols, int threads, F&& f) {
  const int tr = (rows + tile_rows - 1) / tile_rows, tc = (cols + tile_cols - 1) / tile_cols;
  const int n = tr * tc;
  ParallelErrors errors;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (threads > 1 && n > 1)
  for (int t = 0; t < n; ++t) errors.run([&] {
    const int r0 = (t / tc) * tile_rows, c0 = (t % tc) * tile_cols;
    f(r0, std::min(tile_rows, rows - r0), c0, std::min(tile_cols, cols - c0));
  });
  errors.rethrow();
}

struct NoEpilogue {
  void operator()(int, int, int, int) const {}
};

// Tile sizes: large enough for Eigen's kernels to run near peak, small enough to give a
// two-core machine several tiles per product. Fixed constants, never the thread count.
inline constexpr int kTileRows = 32, kTileCols = 256;

// Z (rows x m) = X (rows x n) * W^T, W m x n.
template <class E = NoEpilogue>
void gemm_xwt(const float* X, const float* W, float* Z, int rows, int n, int m, int threads, E&& epilogue = {}) {
  for_tiles(rows, m, kTileRows, kTileCols, threads, [&](int r0, int h, int c0, int w) {
    ConstMatrixMap x(X, rows, n), wm(W, m, n);
    MatrixMap z(Z, rows, m);
    z.block(r0, c0, h, w).noalias() = x.middleRows(r0, h) * wm.middleRows(c0, w).transpose();
    epilogue(r0, h, c0, w);
  });
}

// G (m x n) = D^T * X, D rows x m, X rows x n: the weight gradient summed over the minibatch.
template <class E = NoEpilogue>
void gemm_dtx(const float* D, const float* X, float* G, int rows, int m, int n, int threads, E&& epilogue = {}) {
  for_tiles(m, n, 64, kTileCols, threads, [&](int r0, int h, int c0, int w) {
    ConstMatrixMap d(D, rows, m), x(X, rows, n);
    MatrixMap g(G, m, n);
    g.block(r0, c0, h, w).noalias() = d.middleCols(r0, h).transpose() * x.middleCols(c0, w);
    epilogue(r0, h, c0, w);
  });
}

// E (rows x n) = D * W, D rows x m, W m x n: the gradient passed to the layer below.
template <class Ep = NoEpilogue>
void gemm_dw(const float* D, const float* W, float* E, int rows, int m, int n, int threads, Ep&& epilogue = {}) {
  for_tiles(rows, n, kTileRows, kTileCols, threads, [&](int r0, int h, int c0, int w) {
    ConstMatrixMap d(D, rows, m), wm(W, m, n);
    MatrixMap e(E, rows, n);
    e.block(r0, c0, h, w).noalias() = d.middleRows(r0, h) * wm.middleCols(c0, w);
    epilogue(r0, h, c0, w);
  });
}

// The same products on the calling thread, for callers that parallelise over something else
// (the trainer's conv stages, image by image): Z (rows x m) = X (rows x n) W^T, and E (rows x n)
// = D (rows x m) W, in tiles of the same column width as gemm_xwt's and gemm_dw's.
inline void gemm_xwt_serial(const float* X, const float* W, float* Z, int rows, int n, int m) {
  ConstMatrixMap x(X, rows, n), wm(W, m, n);
  MatrixMap z(Z, rows, m);
  for (int c0 = 0; c0 < m; c0 += kTileCols) {
    const int w = std::min(kTileCols, m - c0);
    z.middleCols(c0, w).noalias() = x * wm.middleRows(c0, w).transpose();
  }
}
inline void gemm_dw_serial(const float* D, const float* W, float* E, int rows, int m, int n) {
  ConstMatrixMap d(D, rows, m), wm(W, m, n);
  MatrixMap e(E, rows, n);
  for (int c0 = 0; c0 < n; c0 += kTileCols) {
    const int w = std::min(kTileCols, n - c0);
    e.middleCols(c0, w).noalias() = d * wm.middleCols(c0, w);
  }
}

}  // namespace spinsc::nn
