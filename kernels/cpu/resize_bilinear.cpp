// Bilinear resize: the fast forward/backward (separable: a horizontal pass over source rows and a
// vertical blend of output rows, with per-call tap tables) and the per-pixel reference loops.
//   y[oy, ox] = Σ_{a,b ∈ {0,1}} wr_a(oy) · wc_b(ox) · x[r_a(oy), c_b(ox)]
// where (r_0, r_1, wr_0, wr_1) are the row taps of output row oy and (c_0, c_1, wc_0, wc_1) the
// column taps of output column ox (see resize_bilinear.h). The backward is the transpose:
//   dx[r_a(oy), c_b(ox)] += wr_a(oy) · wc_b(ox) · dy[oy, ox].
#include "kernels/cpu/resize_bilinear.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace pg::kernels {

float bilinear_source_ratio(int in, int out, bool align_corners) {
  if (align_corners) return out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.0f;
  return static_cast<float>(in) / static_cast<float>(out);
}

namespace {

// Below this many elements (input + output) one thread beats waking a team.
constexpr int64_t kMinElementsForThreads = 1 << 15;

// The two source taps of one output index along one axis, and their weights.
struct Tap {
  int i0, i1;
  float w0, w1;  // 1 − lambda, lambda
};

Tap source_tap(int d, int in, float ratio, bool align_corners) {
  float src = align_corners ? static_cast<float>(d) * ratio
                            : std::max(0.0f, (static_cast<float>(d) + 0.5f) * ratio - 0.5f);
  int i0 = std::min(static_cast<int>(src), in - 1);  // src ≥ 0, so truncation is floor
  int i1 = std::min(i0 + 1, in - 1);
  float lambda = src - static_cast<float>(i0);
  return {i0, i1, 1.0f - lambda, lambda};
}

// The taps of every output index along one axis, as separate arrays for SIMD loads, plus their
// transpose: the output indices reading source index j as tap 0 are [begin0[j], end0[j]), as tap 1
// [begin1[j], end1[j]). They are contiguous ranges because i0 and i1 never decrease with d.
struct AxisTaps {
  std::vector<int32_t> i0, i1;
  std::vector<float> w0, w1;
  std::vector<int> begin0, end0, begin1, end1;
};

AxisTaps axis_taps(int in, int out, float ratio, bool align_corners) {
  AxisTaps t;
  t.i0.resize(out), t.i1.resize(out), t.w0.resize(out), t.w1.resize(out);
  t.begin0.assign(in, 0), t.end0.assign(in, 0), t.begin1.assign(in, 0), t.end1.assign(in, 0);
  for (int d = 0; d < out; ++d) {
    Tap tap = source_tap(d, in, ratio, align_corners);
    t.i0[d] = tap.i0, t.i1[d] = tap.i1, t.w0[d] = tap.w0, t.w1[d] = tap.w1;
    if (t.end0[tap.i0] == 0) t.begin0[tap.i0] = d;
    t.end0[tap.i0] = d + 1;
    if (t.end1[tap.i1] == 0) t.begin1[tap.i1] = d;
    t.end1[tap.i1] = d + 1;
  }
  return t;
}

#if defined(__AVX512F__)
// base[offsets[l]] for the 16 lanes (the masked form: GCC 12 warns on the unmasked one).
__m512 gather16(const float* base, __m512i offsets) {
  return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), 0xFFFF, offsets, base, 4);
}
#endif

// dst[ox] = w0[ox] · src[i0[ox]] + w1[ox] · src[i1[ox]] for ox < n: one source row resampled to the
// output width. src: (in_w), dst: (out_w).
void interpolate_row(const float* src, float* dst, const AxisTaps& cols, int n) {
  int ox = 0;
#if defined(__AVX512F__)
  for (; ox + 16 <= n; ox += 16) {
    __m512 a = gather16(src, _mm512_loadu_si512(cols.i0.data() + ox));
    __m512 b = gather16(src, _mm512_loadu_si512(cols.i1.data() + ox));
    __m512 r = _mm512_mul_ps(_mm512_loadu_ps(cols.w0.data() + ox), a);
    _mm512_storeu_ps(dst + ox, _mm512_fmadd_ps(_mm512_loadu_ps(cols.w1.data() + ox), b, r));
  }
#elif defined(__AVX2__)
  for (; ox + 8 <= n; ox += 8) {
    __m256i j0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cols.i0.data() + ox));
    __m256i j1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cols.i1.data() + ox));
    __m256 r = _mm256_mul_ps(_mm256_loadu_ps(cols.w0.data() + ox), _mm256_i32gather_ps(src, j0, 4));
    _mm256_storeu_ps(
        dst + ox, _mm256_fmadd_ps(_mm256_loadu_ps(cols.w1.data() + ox), _mm256_i32gather_ps(src, j1, 4), r));
  }
#endif
  for (; ox < n; ++ox) dst[ox] = cols.w0[ox] * src[cols.i0[ox]] + cols.w1[ox] * src[cols.i1[ox]];
}

// The transpose of interpolate_row, added into dst: dst[j] += Σ over the output columns that read
// j of their weight · src[ox]. Walking the contiguous ranges keeps each sum in a register.
// src: (out_w), dst: (in_w).
void scatter_row_add(const float* src, float* dst, const AxisTaps& cols, int in_w) {
  for (int j = 0; j < in_w; ++j) {
    float sum = 0.0f;
    for (int ox = cols.begin0[j]; ox < cols.end0[j]; ++ox) sum += cols.w0[ox] * src[ox];
    for (int ox = cols.begin1[j]; ox < cols.end1[j]; ++ox) sum += cols.w1[ox] * src[ox];
    dst[j] += sum;
  }
}

}  // namespace

void resize_bilinear_forward(const float* x, float* y, const ResizeBilinearParams& p) {
  const AxisTaps rows = axis_taps(p.in_h, p.out_h, p.ratio_h, p.align_corners);
  const AxisTaps cols = axis_taps(p.in_w, p.out_w, p.ratio_w, p.align_corners);
  const int64_t in_plane = static_cast<int64_t>(p.in_h) * p.in_w;
  const int64_t out_plane = static_cast<int64_t>(p.out_h) * p.out_w;
#pragma omp parallel if (p.planes * (in_plane + out_plane) >= kMinElementsForThreads)
  {
    // Source rows resampled to the output width, computed the first time an output row needs them.
    std::vector<float> wide_rows(static_cast<size_t>(p.in_h) * p.out_w);  // (in_h, out_w)
    std::vector<char> ready(p.in_h);
#pragma omp for schedule(static)
    for (int64_t plane = 0; plane < p.planes; ++plane) {
      const float* xp = x + plane * in_plane;  // (in_h, in_w)
      float* yp = y + plane * out_plane;       // (out_h, out_w)
      std::fill(ready.begin(), ready.end(), 0);
      auto wide_row = [&](int i) -> const float* {
        float* row = wide_rows.data() + static_cast<size_t>(i) * p.out_w;
        if (!ready[i])
          interpolate_row(xp + static_cast<int64_t>(i) * p.in_w, row, cols, p.out_w), ready[i] = 1;
        return row;
      };
      for (int oy = 0; oy < p.out_h; ++oy) {
        const float* top = wide_row(rows.i0[oy]);
        const float* bottom = wide_row(rows.i1[oy]);
        const float w0 = rows.w0[oy], w1 = rows.w1[oy];
        float* out = yp + static_cast<int64_t>(oy) * p.out_w;
#pragma omp simd
        for (int ox = 0; ox < p.out_w; ++ox) out[ox] = w0 * top[ox] + w1 * bottom[ox];
      }
    }
  }
}

void resize_bilinear_backward(const float* dy, float* dx, const ResizeBilinearParams& p) {
  const AxisTaps rows = axis_taps(p.in_h, p.out_h, p.ratio_h, p.align_corners);
  const AxisTaps cols = axis_taps(p.in_w, p.out_w, p.ratio_w, p.align_corners);
  const int64_t in_plane = static_cast<int64_t>(p.in_h) * p.in_w;
  const int64_t out_plane = static_cast<int64_t>(p.out_h) * p.out_w;
#pragma omp parallel if (p.planes * (in_plane + out_plane) >= kMinElementsForThreads)
  {
    // The gradient of the resampled source rows of the forward, zeroed when first touched.
    std::vector<float> dwide_rows(static_cast<size_t>(p.in_h) * p.out_w);  // (in_h, out_w)
    std::vector<char> touched(p.in_h);
#pragma omp for schedule(static)
    for (int64_t plane = 0; plane < p.planes; ++plane) {
      const float* dyp = dy + plane * out_plane;  // (out_h, out_w)
      float* dxp = dx + plane * in_plane;         // (in_h, in_w), owned by this thread
      std::fill(touched.begin(), touched.end(), 0);
      auto dwide_row = [&](int i) {
        float* row = dwide_rows.data() + static_cast<size_t>(i) * p.out_w;
        if (!touched[i]) std::fill(row, row + p.out_w, 0.0f), touched[i] = 1;
        return row;
      };
      // Vertical transpose: each output row adds into its two source rows.
      for (int oy = 0; oy < p.out_h; ++oy) {
        const float* g = dyp + static_cast<int64_t>(oy) * p.out_w;
        const float w0 = rows.w0[oy], w1 = rows.w1[oy];
        float* top = dwide_row(rows.i0[oy]);
#pragma omp simd
        for (int ox = 0; ox < p.out_w; ++ox) top[ox] += w0 * g[ox];
        float* bottom = dwide_row(rows.i1[oy]);
#pragma omp simd
        for (int ox = 0; ox < p.out_w; ++ox) bottom[ox] += w1 * g[ox];
      }
      // Horizontal transpose: each touched source row collects its columns.
      for (int i = 0; i < p.in_h; ++i)
        if (touched[i])
          scatter_row_add(dwide_rows.data() + static_cast<size_t>(i) * p.out_w,
                          dxp + static_cast<int64_t>(i) * p.in_w, cols, p.in_w);
    }
  }
}

void resize_bilinear_forward_reference(const float* x, float* y, const ResizeBilinearParams& p) {
  for (int64_t plane = 0; plane < p.planes; ++plane) {
    const float* xp = x + plane * p.in_h * p.in_w;
    for (int oy = 0; oy < p.out_h; ++oy) {
      Tap r = source_tap(oy, p.in_h, p.ratio_h, p.align_corners);
      for (int ox = 0; ox < p.out_w; ++ox) {
        Tap c = source_tap(ox, p.in_w, p.ratio_w, p.align_corners);
        float top = c.w0 * xp[r.i0 * p.in_w + c.i0] + c.w1 * xp[r.i0 * p.in_w + c.i1];
        float bottom = c.w0 * xp[r.i1 * p.in_w + c.i0] + c.w1 * xp[r.i1 * p.in_w + c.i1];
        y[(plane * p.out_h + oy) * p.out_w + ox] = r.w0 * top + r.w1 * bottom;
      }
    }
  }
}

void resize_bilinear_backward_reference(const float* dy, float* dx, const ResizeBilinearParams& p) {
  for (int64_t plane = 0; plane < p.planes; ++plane) {
    float* dxp = dx + plane * p.in_h * p.in_w;
    for (int oy = 0; oy < p.out_h; ++oy) {
      Tap r = source_tap(oy, p.in_h, p.ratio_h, p.align_corners);
      for (int ox = 0; ox < p.out_w; ++ox) {
        Tap c = source_tap(ox, p.in_w, p.ratio_w, p.align_corners);
        float g = dy[(plane * p.out_h + oy) * p.out_w + ox];
        dxp[r.i0 * p.in_w + c.i0] += r.w0 * c.w0 * g;
        dxp[r.i0 * p.in_w + c.i1] += r.w0 * c.w1 * g;
        dxp[r.i1 * p.in_w + c.i0] += r.w1 * c.w0 * g;
        dxp[r.i1 * p.in_w + c.i1] += r.w1 * c.w1 * g;
      }
    }
  }
}

}  // namespace pg::kernels
