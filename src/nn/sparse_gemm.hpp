// Matrix products whose left operand is mostly zeros, for the trainer and the SC noise model.
//
// A dense layer fed by pixels multiplies mostly by zero: about 81% of MNIST's pixels are 0. Here
// the input rows are kept as their nonzeros (index order), and each output value is the sum, in
// that order, of one fused multiply-add per nonzero: the same arithmetic for every value whatever
// the tiling, so a product is bit-identical on any number of threads, and on any CPU with the
// build's instruction set (one rounding per term, scalar or vector). The right operand is read
// transposed (in x out), so that one nonzero scales a contiguous run of outputs.
//
// Whether a product takes this path depends only on its input (sparse_enough()), never on the
// thread count.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "nn/tiled_gemm.hpp"

namespace spinsc::nn {

// The nonzeros of a rows x cols row-major matrix, row by row in column order.
struct SparseRows {
  int rows = 0, cols = 0;
  std::vector<int> start;  // rows + 1 offsets into index/value
  std::vector<int> index;
  std::vector<float> value;

  void assign(const float* x, int r, int c) {
    rows = r, cols = c;
    start.resize(static_cast<size_t>(r) + 1);
    index.resize(static_cast<size_t>(r) * c);
    value.resize(static_cast<size_t>(r) * c);
    size_t count = 0;
    start[0] = 0;
    for (int i = 0; i < r; ++i) {
      const float* row = x + static_cast<size_t>(i) * c;
      for (int k = 0; k < c; ++k) {  // written unconditionally, kept when nonzero: no branch
        index[count] = k, value[count] = row[k];
        count += row[k] != 0.0f;
      }
      start[static_cast<size_t>(i) + 1] = static_cast<int>(count);
    }
    index.resize(count);
    value.resize(count);
  }
  // The nonzeros of x^T (of x o x when `squared`): by column of x, rows in order.
  void assign_transpose(const SparseRows& x, bool squared = false) {
    rows = x.cols, cols = x.rows;
    start.assign(static_cast<size_t>(rows) + 1, 0);
    for (int i : x.index) ++start[static_cast<size_t>(i) + 1];
    for (int i = 0; i < rows; ++i) start[static_cast<size_t>(i) + 1] += start[static_cast<size_t>(i)];
    index.resize(x.index.size());
    value.resize(x.index.size());
    std::vector<int> next(start.begin(), start.end() - 1);
    for (int r = 0; r < x.rows; ++r)
      for (int k = x.start[static_cast<size_t>(r)]; k < x.start[static_cast<size_t>(r) + 1]; ++k) {
        const int at = next[static_cast<size_t>(x.index[static_cast<size_t>(k)])]++;
        const float v = x.value[static_cast<size_t>(k)];
        index[static_cast<size_t>(at)] = r, value[static_cast<size_t>(at)] = squared ? v * v : v;
      }
  }
  // At most a quarter of the entries nonzero (MNIST's pixels: about a fifth; Fashion-MNIST's:
  // about half). Eigen's register-blocked kernels do more multiply-adds per cycle, so the sparse
  // path pays only where it skips most of them.
  bool sparse_enough() const { return 4 * index.size() <= static_cast<size_t>(rows) * static_cast<size_t>(cols); }
};

inline constexpr int kSparseBlock = 32;  // output columns per block: 4 AVX accumulators

// out[0, w) = sum over k of v_k B_k[c0 + 0, w) (+ v_k^2 B2_k[...] when B2 is not null) with B_k
// row idx[k] of the m-wide matrix B (and B2), one fused multiply-add per term in k order.
inline void sparse_row_block(const int* idx, const float* val, int count, const float* B, const float* B2, int m, int c0,
                             int w, float* out) {
  int c = 0;
#if defined(__AVX2__) && defined(__FMA__)
  constexpr int G = kSparseBlock / 8;
  if (w == kSparseBlock) {
    __m256 a[G];
    for (int g = 0; g < G; ++g) a[g] = _mm256_setzero_ps();
    for (int k = 0; k < count; ++k) {
      const __m256 v = _mm256_set1_ps(val[k]);
      const float* b = B + static_cast<size_t>(idx[k]) * m + c0;
      for (int g = 0; g < G; ++g) a[g] = _mm256_fmadd_ps(v, _mm256_loadu_ps(b + 8 * g), a[g]);
      if (B2) {
        const __m256 v2 = _mm256_set1_ps(val[k] * val[k]);
        const float* d = B2 + static_cast<size_t>(idx[k]) * m + c0;
        for (int g = 0; g < G; ++g) a[g] = _mm256_fmadd_ps(v2, _mm256_loadu_ps(d + 8 * g), a[g]);
      }
    }
    for (int g = 0; g < G; ++g) _mm256_storeu_ps(out + 8 * g, a[g]);
    return;
  }
  for (; c + 8 <= w; c += 8) {
    __m256 a = _mm256_setzero_ps();
    for (int k = 0; k < count; ++k) {
      a = _mm256_fmadd_ps(_mm256_set1_ps(val[k]), _mm256_loadu_ps(B + static_cast<size_t>(idx[k]) * m + c0 + c), a);
      if (B2) a = _mm256_fmadd_ps(_mm256_set1_ps(val[k] * val[k]), _mm256_loadu_ps(B2 + static_cast<size_t>(idx[k]) * m + c0 + c), a);
    }
    _mm256_storeu_ps(out + c, a);
  }
#endif
  for (; c < w; ++c) {
    float a = 0.0f;
    for (int k = 0; k < count; ++k) {
      a = std::fma(val[k], B[static_cast<size_t>(idx[k]) * m + c0 + c], a);
      if (B2) a = std::fma(val[k] * val[k], B2[static_cast<size_t>(idx[k]) * m + c0 + c], a);
    }
    out[c] = a;
  }
}

// y[0, M) += a x[0, M), M a multiple of 8, one fused multiply-add per value.
inline void axpy8(float a, const float* x, float* y, int M) {
#if defined(__AVX2__) && defined(__FMA__)
  const __m256 va = _mm256_set1_ps(a);
  for (int c = 0; c < M; c += 8) _mm256_storeu_ps(y + c, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + c), _mm256_loadu_ps(y + c)));
#else
  for (int c = 0; c < M; ++c) y[c] = std::fma(a, x[c], y[c]);
#endif
}

// Z (rows x m) = X Bt (+ (X o X) B2t when B2t is not null), Bt and B2t n x m: the layer product
// x W^T with Bt = W^T. epilogue(r0, h, c0, w) runs on each finished tile, as gemm_xwt's. The
// weight gradient D^T X of a sparse X is this product transposed, G^T = X^T D (n x m): on the
// nonzeros of X^T (SparseRows::assign_transpose) with D (rows x m) as Bt, each value summed over
// the images in order.
template <class E = NoEpilogue>
void sparse_xwt(const SparseRows& X, const float* Bt, const float* B2t, float* Z, int m, int threads, E&& epilogue = {}) {
  // Column blocks outermost: each block of Bt (n x 32 floats, 100 KB for 784 inputs) stays in
  // the L2 cache while every row reads it (the rows' nonzeros hit it in no predictable order).
  for_tiles(m, X.rows, kSparseBlock, kTileRows, threads, [&](int c0, int w, int r0, int h) {
    for (int r = r0; r < r0 + h; ++r) {
      const int k0 = X.start[static_cast<size_t>(r)], count = X.start[static_cast<size_t>(r) + 1] - k0;
      sparse_row_block(X.index.data() + k0, X.value.data() + k0, count, Bt, B2t, m, c0, w, Z + static_cast<size_t>(r) * m + c0);
    }
    epilogue(r0, h, c0, w);
  });
}

// B (cols x rows) = A^T, or B += A^T when `add`, A rows x cols: 32 x 32 tiles of 8 x 8 blocks.
inline void transpose(const float* A, int rows, int cols, float* B, int threads, bool add = false) {
  for_tiles(rows, cols, 32, 32, threads, [&](int r0, int h, int c0, int w) {
    int r = r0;
#if defined(__AVX2__)
    for (; r + 8 <= r0 + h; r += 8) {
      int c = c0;
      for (; c + 8 <= c0 + w; c += 8) {
        __m256 t[8], u[8];
        for (int k = 0; k < 8; ++k) t[k] = _mm256_loadu_ps(A + static_cast<size_t>(r + k) * cols + c);
        for (int k = 0; k < 8; k += 2) u[k] = _mm256_unpacklo_ps(t[k], t[k + 1]), u[k + 1] = _mm256_unpackhi_ps(t[k], t[k + 1]);
        for (int k = 0; k < 8; k += 4) {
          t[k] = _mm256_shuffle_ps(u[k], u[k + 2], 0x44), t[k + 1] = _mm256_shuffle_ps(u[k], u[k + 2], 0xEE);
          t[k + 2] = _mm256_shuffle_ps(u[k + 1], u[k + 3], 0x44), t[k + 3] = _mm256_shuffle_ps(u[k + 1], u[k + 3], 0xEE);
        }
        for (int k = 0; k < 4; ++k) {
          u[k] = _mm256_permute2f128_ps(t[k], t[k + 4], 0x20);
          u[k + 4] = _mm256_permute2f128_ps(t[k], t[k + 4], 0x31);
        }
        for (int k = 0; k < 8; ++k) {  // u[k]: column c + k of rows r..r+7
          float* dst = B + static_cast<size_t>(c + k) * rows + r;
          _mm256_storeu_ps(dst, add ? _mm256_add_ps(_mm256_loadu_ps(dst), u[k]) : u[k]);
        }
      }
      for (; c < c0 + w; ++c)
        for (int k = r; k < r + 8; ++k) {
          float& dst = B[static_cast<size_t>(c) * rows + k];
          dst = add ? dst + A[static_cast<size_t>(k) * cols + c] : A[static_cast<size_t>(k) * cols + c];
        }
    }
#endif
    for (; r < r0 + h; ++r)
      for (int c = c0; c < c0 + w; ++c) {
        float& dst = B[static_cast<size_t>(c) * rows + r];
        dst = add ? dst + A[static_cast<size_t>(r) * cols + c] : A[static_cast<size_t>(r) * cols + c];
      }
  });
}

}  // namespace spinsc::nn
