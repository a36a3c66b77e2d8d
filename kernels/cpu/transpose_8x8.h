// An 8×8 block of floats transposed in AVX2 registers, for the packing routines that turn rows into
// panel columns (the GEMM's, and the conv's im2col-into-panels for the weight gradient).
#pragma once
#include <cstddef>

#if defined(__AVX2__)
#include <immintrin.h>

namespace pg::kernels {

// dst[k·ld_dst + r] = rows[r][offset + k] for r, k < 8: eight rows, each eight consecutive floats
// from its own pointer, transposed in registers (pairs of rows interleaved, then pairs of pairs,
// then the 128-bit halves swapped).
inline void transpose_8x8(const float* const rows[8], ptrdiff_t offset, float* dst, int ld_dst) {
  __m256 row[8], pair[8], quad[8];
  for (int r = 0; r < 8; ++r) row[r] = _mm256_loadu_ps(rows[r] + offset);
  for (int r = 0; r < 8; r += 2) {
    pair[r] = _mm256_unpacklo_ps(row[r], row[r + 1]);      // a0 b0 a1 b1 | a4 b4 a5 b5
    pair[r + 1] = _mm256_unpackhi_ps(row[r], row[r + 1]);  // a2 b2 a3 b3 | a6 b6 a7 b7
  }
  for (int r = 0; r < 8; r += 4)
    for (int h = 0; h < 2; ++h) {
      quad[r + 2 * h] = _mm256_shuffle_ps(pair[r + h], pair[r + 2 + h], 0x44);      // k = 2h, 2h + 4
      quad[r + 2 * h + 1] = _mm256_shuffle_ps(pair[r + h], pair[r + 2 + h], 0xEE);  // k = 2h + 1, 2h + 5
    }
  for (int k = 0; k < 4; ++k) {
    _mm256_storeu_ps(dst + k * ld_dst, _mm256_permute2f128_ps(quad[k], quad[k + 4], 0x20));
    _mm256_storeu_ps(dst + (k + 4) * ld_dst, _mm256_permute2f128_ps(quad[k], quad[k + 4], 0x31));
  }
}

}  // namespace pg::kernels
#endif
