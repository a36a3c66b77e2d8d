// Max pool forward (fast SIMD version and reference) and backward, and max-unpool (SegNet's
// decoder) forward and backward.
//   y[oh, ow] = max over the window's real input pixels, indices[oh, ow] = its flat position h·W + w
//   dx[indices[oh, ow]] += dy[oh, ow]
#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/pool.h"

namespace pg::kernels {

namespace {

// The window taps k = 0..kernel−1 at base + k·dilation that fall inside [0, length): [begin, end).
struct TapRange {
  int begin, end;
};
TapRange real_taps(int base, int length, const Pool2dGeometry& g) {
  const int d = g.dilation;
  const int begin = base < 0 ? (-base + d - 1) / d : 0;
  const int end = base > length - 1 ? 0 : std::min(g.kernel, (length - 1 - base) / d + 1);
  return {begin, std::max(begin, end)};
}

// The max over the window's real taps, rows h0 + kh·d for kh in `rows` and columns w0 + kw·d for
// kw in `cols`, of one plane; first in scan order on ties.
void window_max(const float* xp, const Pool2dGeometry& g, int h0, TapRange rows, int w0, TapRange cols, float* y,
                int32_t* index) {
  const int d = g.dilation;
  float best = -INFINITY;
  int32_t best_index = (h0 + rows.begin * d) * g.in_w + w0 + cols.begin * d;
  for (int kh = rows.begin; kh < rows.end; ++kh)
    for (int kw = cols.begin; kw < cols.end; ++kw) {
      const int32_t position = (h0 + kh * d) * g.in_w + w0 + kw * d;
      if (xp[position] > best) best = xp[position], best_index = position;
    }
  *y = best;
  *index = best_index;
}

#if defined(__AVX512F__)
constexpr int kLanes = 16;

// Lanes l = 0..15 of p[l · stride].
__m512 load_strided(const float* p, int stride, __m512i lane_offsets) {
  if (stride == 1) return _mm512_loadu_ps(p);
  if (stride == 2) {  // the even elements of p[0..30]; the mask keeps the read inside p[30]
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(p), even, _mm512_maskz_loadu_ps(0x7FFF, p + 16));
  }
  return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), 0xFFFF, lane_offsets, p,
                                  4);  // masked: GCC 12 warns on the unmasked form
}

// kLanes consecutive output columns from ow0 on, whose windows all lie inside the row: rows
// h0 + kh·dilation for kh in `rows`, window columns starting at ow·stride − pad. Same scan order
// and ties as window_max.
void window_max_lanes(const float* xp, const Pool2dGeometry& g, int h0, TapRange rows, int ow0, float* y,
                      int32_t* index) {
  const __m512i lane_offsets = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(g.stride));
  const int w0 = ow0 * g.stride - g.pad;
  __m512 best = _mm512_set1_ps(-INFINITY);
  __m512i best_index = _mm512_add_epi32(lane_offsets, _mm512_set1_epi32((h0 + rows.begin * g.dilation) * g.in_w + w0));
  for (int kh = rows.begin; kh < rows.end; ++kh)
    for (int kw = 0; kw < g.kernel; ++kw) {
      const int offset = (h0 + kh * g.dilation) * g.in_w + w0 + kw * g.dilation;
      __m512 v = load_strided(xp + offset, g.stride, lane_offsets);
      __mmask16 greater = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
      best = _mm512_mask_blend_ps(greater, best, v);
      best_index = _mm512_mask_blend_epi32(greater, best_index,
                                           _mm512_add_epi32(lane_offsets, _mm512_set1_epi32(offset)));
    }
  _mm512_storeu_ps(y, best);
  _mm512_storeu_si512(index, best_index);
}
#elif defined(__AVX2__)
constexpr int kLanes = 8;

// Lanes l = 0..7 of p[l · stride].
__m256 load_strided(const float* p, int stride, __m256i lane_offsets) {
  if (stride == 1) return _mm256_loadu_ps(p);
  if (stride == 2) {  // the even elements of p[0..14]; the mask keeps the read inside p[14]
    __m256 lo = _mm256_loadu_ps(p);
    __m256 hi = _mm256_maskload_ps(p + 8, _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, -1, 0));
    __m256 evens = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));  // lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(evens), _MM_SHUFFLE(3, 1, 2, 0)));
  }
  return _mm256_i32gather_ps(p, lane_offsets, 4);
}

void window_max_lanes(const float* xp, const Pool2dGeometry& g, int h0, TapRange rows, int ow0, float* y,
                      int32_t* index) {
  const __m256i lane_offsets =
      _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(g.stride));
  const int w0 = ow0 * g.stride - g.pad;
  __m256 best = _mm256_set1_ps(-INFINITY);
  __m256i best_index = _mm256_add_epi32(lane_offsets, _mm256_set1_epi32((h0 + rows.begin * g.dilation) * g.in_w + w0));
  for (int kh = rows.begin; kh < rows.end; ++kh)
    for (int kw = 0; kw < g.kernel; ++kw) {
      const int offset = (h0 + kh * g.dilation) * g.in_w + w0 + kw * g.dilation;
      __m256 v = load_strided(xp + offset, g.stride, lane_offsets);
      __m256 greater = _mm256_cmp_ps(v, best, _CMP_GT_OQ);
      best = _mm256_blendv_ps(best, v, greater);
      best_index = _mm256_blendv_epi8(best_index, _mm256_add_epi32(lane_offsets, _mm256_set1_epi32(offset)),
                                      _mm256_castps_si256(greater));
    }
  _mm256_storeu_ps(y, best);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(index), best_index);
}
#endif

}  // namespace

void max_pool2d_forward(const float* x, float* y, int32_t* indices, const Pool2dGeometry& g) {
  const int64_t in_plane = static_cast<int64_t>(g.in_h) * g.in_w;
  const int64_t out_plane = static_cast<int64_t>(g.out_h) * g.out_w;
  // Output columns [inner_begin, inner_end) have windows inside the row: w0 ≥ 0 and
  // w0 + window_extent ≤ in_w.
  const int extent = g.window_extent();
  const int inner_begin = std::min(g.out_w, (g.pad + g.stride - 1) / g.stride);
  [[maybe_unused]] const int inner_end = std::clamp(  // unused by the scalar build
      g.in_w + g.pad - extent >= 0 ? (g.in_w + g.pad - extent) / g.stride + 1 : 0, inner_begin, g.out_w);
#pragma omp parallel for collapse(2) schedule(static) if (worth_threads(elements_in_and_out(g)))
  for (int64_t plane = 0; plane < g.planes; ++plane)
    for (int oh = 0; oh < g.out_h; ++oh) {
      const float* xp = x + plane * in_plane;                                  // (in_h, in_w)
      float* yr = y + plane * out_plane + static_cast<int64_t>(oh) * g.out_w;  // (out_w)
      int32_t* ir = indices + plane * out_plane + static_cast<int64_t>(oh) * g.out_w;
      const int h0 = oh * g.stride - g.pad;
      const TapRange rows = real_taps(h0, g.in_h, g);
      auto scalar_column = [&](int ow) {
        const int w0 = ow * g.stride - g.pad;
        window_max(xp, g, h0, rows, w0, real_taps(w0, g.in_w, g), yr + ow, ir + ow);
      };
      int ow = 0;
      for (; ow < inner_begin; ++ow) scalar_column(ow);
#if defined(__AVX512F__) || defined(__AVX2__)
      for (; ow + kLanes <= inner_end; ow += kLanes) window_max_lanes(xp, g, h0, rows, ow, yr + ow, ir + ow);
#endif
      for (; ow < g.out_w; ++ow) scalar_column(ow);
    }
}

void max_pool2d_forward_reference(const float* x, float* y, int32_t* indices, const Pool2dGeometry& g) {
  for (int64_t plane = 0; plane < g.planes; ++plane) {
    const float* xp = x + plane * g.in_h * g.in_w;
    for (int oh = 0; oh < g.out_h; ++oh)
      for (int ow = 0; ow < g.out_w; ++ow) {
        float best = -INFINITY;
        int32_t best_index = -1;
        for (int kh = 0; kh < g.kernel; ++kh)
          for (int kw = 0; kw < g.kernel; ++kw) {
            const int h = oh * g.stride - g.pad + kh * g.dilation, w = ow * g.stride - g.pad + kw * g.dilation;
            if (h < 0 || h >= g.in_h || w < 0 || w >= g.in_w) continue;  // padding: −inf, never wins
            const int32_t position = h * g.in_w + w;
            if (best_index < 0) best_index = position;  // the first real pixel, should nothing beat −inf
            if (xp[position] > best) best = xp[position], best_index = position;
          }
        const int64_t o = (plane * g.out_h + oh) * g.out_w + ow;
        y[o] = best;
        indices[o] = best_index;
      }
  }
}

void max_pool2d_backward(const float* dy, const int32_t* indices, float* dx, const Pool2dGeometry& g) {
  const int64_t in_plane = static_cast<int64_t>(g.in_h) * g.in_w;
  const int64_t out_plane = static_cast<int64_t>(g.out_h) * g.out_w;
#pragma omp parallel for schedule(static) if (worth_threads(elements_in_and_out(g)))
  for (int64_t plane = 0; plane < g.planes; ++plane) {
    float* dxp = dx + plane * in_plane;
    for (int64_t o = plane * out_plane; o < (plane + 1) * out_plane; ++o) dxp[indices[o]] += dy[o];
  }
}

void max_unpool2d_forward(const float* x, const int32_t* indices, float* y, const PlaneSizes& s) {
  const int64_t in_plane = static_cast<int64_t>(s.in_h) * s.in_w;
  const int64_t out_plane = static_cast<int64_t>(s.out_h) * s.out_w;
#pragma omp parallel for schedule(static) if (worth_threads(elements_in_and_out(s)))
  for (int64_t plane = 0; plane < s.planes; ++plane) {
    float* yp = y + plane * out_plane;
    std::fill(yp, yp + out_plane, 0.0f);
    for (int64_t i = plane * in_plane; i < (plane + 1) * in_plane; ++i) yp[indices[i]] = x[i];
  }
}

void max_unpool2d_backward(const float* dy, const int32_t* indices, float* dx, const PlaneSizes& s) {
  const int64_t in_plane = static_cast<int64_t>(s.in_h) * s.in_w;
  const int64_t out_plane = static_cast<int64_t>(s.out_h) * s.out_w;
#pragma omp parallel for schedule(static) if (worth_threads(elements_in_and_out(s)))
  for (int64_t plane = 0; plane < s.planes; ++plane) {
    const float* dyp = dy + plane * out_plane;
    for (int64_t i = plane * in_plane; i < (plane + 1) * in_plane; ++i) dx[i] += dyp[indices[i]];
  }
}

}  // namespace pg::kernels
