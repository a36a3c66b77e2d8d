// The GEMM micro-kernel: one MR×NR tile of C from a packed A micro-panel and a packed B
// micro-panel, accumulated in registers. One version per instruction set, chosen at compile time
// (AVX-512, AVX2+FMA, scalar); the rest of the GEMM (kernels/cpu/gemm.cpp) only sees MR and NR.
#pragma once

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace pg::kernels::gemm_detail {

// How the finished tile meets C: C_tile = alpha · acc + beta · C_tile, and with beta = 0 the old
// C is never read (it may hold garbage, even NaN).
struct TileOutput {
  float* c;  // the top-left element of the tile in C
  int ldc;   // C's row stride
  float alpha;
  float beta;
};

// Every micro-kernel computes, for a packed A micro-panel a (kc × MR, a[k·MR + r] = op(A)(r, k))
// and a packed B micro-panel b (kc × NR, b[k·NR + j] = op(B)(k, j)):
//   acc(r, j) = Σ_k a[k·MR + r] · b[k·NR + j],   then   C(r, j) = alpha · acc(r, j) + beta · C(r, j)
// for the full MR×NR tile. Edge tiles are handled by the caller (a temporary tile).

#if defined(__AVX512F__)

// 8 rows × 32 columns: 16 zmm accumulators (two 16-float vectors per row), 2 zmm for the B row,
// 1 for the broadcast A value. 16 independent FMA chains cover the FMA latency (4 cycles × 2
// ports); per k step: 2 vector loads + 8 broadcasts feed 16 FMAs. 8 rows divide every conv
// channel count we use (16, 64, 256), so small-M convolutions waste no rows on padding.
inline constexpr int kMR = 8;
inline constexpr int kNR = 32;

inline void microkernel(int kc, const float* a, const float* b, const TileOutput& out) {
  __m512 acc[kMR][2];
#pragma GCC unroll 16
  for (int r = 0; r < kMR; ++r) {
    acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    // Start fetching the C tile now; it is needed only after the k loop.
    _mm_prefetch(reinterpret_cast<const char*>(out.c + r * out.ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(out.c + r * out.ldc + 16), _MM_HINT_T0);
  }
#pragma GCC unroll 4
  for (int k = 0; k < kc; ++k, a += kMR, b += kNR) {
    const __m512 b0 = _mm512_load_ps(b);
    const __m512 b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 16
    for (int r = 0; r < kMR; ++r) {
      const __m512 ar = _mm512_set1_ps(a[r]);
      acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
    }
  }
  const __m512 alpha = _mm512_set1_ps(out.alpha);
  const __m512 beta = _mm512_set1_ps(out.beta);
#pragma GCC unroll 16
  for (int r = 0; r < kMR; ++r) {
    float* c = out.c + r * out.ldc;
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      __m512 v = _mm512_mul_ps(alpha, acc[r][h]);
      if (out.beta != 0.0f) v = _mm512_fmadd_ps(beta, _mm512_loadu_ps(c + 16 * h), v);
      _mm512_storeu_ps(c + 16 * h, v);
    }
  }
}

#elif defined(__AVX2__)

// 6 rows × 16 columns: 12 ymm accumulators, 2 for the B row, 1 broadcast (15 of 16 registers).
inline constexpr int kMR = 6;
inline constexpr int kNR = 16;

inline void microkernel(int kc, const float* a, const float* b, const TileOutput& out) {
  __m256 acc[kMR][2];
#pragma GCC unroll 6
  for (int r = 0; r < kMR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int k = 0; k < kc; ++k, a += kMR, b += kNR) {
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
    for (int r = 0; r < kMR; ++r) {
      const __m256 ar = _mm256_broadcast_ss(a + r);
      acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
    }
  }
  const __m256 alpha = _mm256_set1_ps(out.alpha);
  const __m256 beta = _mm256_set1_ps(out.beta);
#pragma GCC unroll 6
  for (int r = 0; r < kMR; ++r) {
    float* c = out.c + r * out.ldc;
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      __m256 v = _mm256_mul_ps(alpha, acc[r][h]);
      if (out.beta != 0.0f) v = _mm256_fmadd_ps(beta, _mm256_loadu_ps(c + 8 * h), v);
      _mm256_storeu_ps(c + 8 * h, v);
    }
  }
}

#else

// Portable fallback: a 4×8 tile of scalar accumulators the compiler may still vectorize.
inline constexpr int kMR = 4;
inline constexpr int kNR = 8;

inline void microkernel(int kc, const float* a, const float* b, const TileOutput& out) {
  float acc[kMR][kNR] = {};
  for (int k = 0; k < kc; ++k, a += kMR, b += kNR)
    for (int r = 0; r < kMR; ++r)
      for (int j = 0; j < kNR; ++j) acc[r][j] += a[r] * b[j];
  for (int r = 0; r < kMR; ++r) {
    float* c = out.c + r * out.ldc;
    for (int j = 0; j < kNR; ++j) c[j] = out.alpha * acc[r][j] + (out.beta != 0.0f ? out.beta * c[j] : 0.0f);
  }
}

#endif

}  // namespace pg::kernels::gemm_detail
