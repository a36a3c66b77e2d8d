// Bilinear resize: the fast forward/backward (separable: a horizontal pass over source rows and a
// vertical blend of output rows, with per-call tap tables) and the per-pixel reference loops.
//   y[oy, ox] = Σ_{a,b ∈ {0,1}} wr_a(oy) · wc_b(ox) · x[r_a(oy), c_b(ox)]
// where (r_0, r_1, wr_0, wr_1) are the row taps of output row oy and (c_0, c_1, wc_0, wc_1) the
// column taps of output column ox (see resize_bilinear.h). The backward is the transpose:
//   dx[r_a(oy), c_b(ox)] += wr_a(oy) · wc_b(ox) · dy[oy, ox].
#include "kernels/cpu/resize_bilinear.h"

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace pg::kernels {

float bilinear_source_ratio(int in, int out, bool align_corners) {
  if (align_corners) return out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.0f;
  return static_cast<float>(in) / static_cast<float>(out);
}

namespace {

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

// The taps of every output index along one axis, as separate arrays for SIMD loads.
struct AxisTaps {
  std::vector<int32_t> i0, i1;  // (out)
  std::vector<float> w0, w1;    // (out)
};

AxisTaps axis_taps(int in, int out, float ratio, bool align_corners) {
  AxisTaps t;
  t.i0.resize(out), t.i1.resize(out), t.w0.resize(out), t.w1.resize(out);
  for (int d = 0; d < out; ++d) {
    Tap tap = source_tap(d, in, ratio, align_corners);
    t.i0[d] = tap.i0, t.i1[d] = tap.i1, t.w0[d] = tap.w0, t.w1[d] = tap.w1;
  }
  return t;
}

// The same taps seen from the source side, for the backward: source index j is read by the output
// indices first[j] .. last[j] (a band, since i0 and i1 never decrease with d), so its gradient is
//   dsrc[j] = Σ_{k < width} weight[k][j] · dout[index[k][j]],   index[k][j] = first[j] + k,
// with weight 0 where the band of j is shorter than `width` (index then stays inside the band).
struct BandTaps {
  int width = 1;
  std::vector<int32_t> index;  // (width, in)
  std::vector<float> weight;   // (width, in)
};

BandTaps band_taps(const AxisTaps& t, int in) {
  const int out = static_cast<int>(t.i0.size());
  std::vector<int> first(in, out), last(in, -1);
  for (int d = 0; d < out; ++d)
    for (int j : {t.i0[d], t.i1[d]}) first[j] = std::min(first[j], d), last[j] = std::max(last[j], d);
  BandTaps band;
  for (int j = 0; j < in; ++j) band.width = std::max(band.width, last[j] - first[j] + 1);
  band.index.assign(static_cast<size_t>(band.width) * in, 0);
  band.weight.assign(static_cast<size_t>(band.width) * in, 0.0f);
  for (int j = 0; j < in; ++j)
    for (int k = 0; k < band.width && first[j] <= last[j]; ++k)
      band.index[static_cast<size_t>(k) * in + j] = std::min(first[j] + k, last[j]);
  for (int d = 0; d < out; ++d) {  // i0 = i1 at the last source index: both weights add up
    band.weight[static_cast<size_t>(d - first[t.i0[d]]) * in + t.i0[d]] += t.w0[d];
    band.weight[static_cast<size_t>(d - first[t.i1[d]]) * in + t.i1[d]] += t.w1[d];
  }
  return band;
}

#if defined(__AVX512F__)
// base[offsets[l]] for the 16 lanes (the masked form: GCC 12 warns on the unmasked one).
__m512 gather16(const float* base, __m512i offsets) {
  return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), 0xFFFF, offsets, base, 4);
}
#endif

// dst[ox] = w0[ox] · src[i0[ox]] + w1[ox] · src[i1[ox]] for ox < n: one source row resampled to the
// output width. src: (in_w), dst: (n = out_w).
void interpolate_row(const float* src, [[maybe_unused]] int in_w, float* dst, const AxisTaps& cols, int n) {
  int ox = 0;
#if defined(__AVX512F__)
  if (in_w <= 16) {  // the row fits one register: a permute is much cheaper than a gather (maskz: GCC 12
                     // warns otherwise)
    const __m512 row = _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << in_w) - 1), src);
    for (; ox + 16 <= n; ox += 16) {
      __m512 a = _mm512_maskz_permutexvar_ps(0xFFFF, _mm512_loadu_si512(cols.i0.data() + ox), row);
      __m512 b = _mm512_maskz_permutexvar_ps(0xFFFF, _mm512_loadu_si512(cols.i1.data() + ox), row);
      __m512 r = _mm512_mul_ps(_mm512_loadu_ps(cols.w0.data() + ox), a);
      _mm512_storeu_ps(dst + ox, _mm512_fmadd_ps(_mm512_loadu_ps(cols.w1.data() + ox), b, r));
    }
  }
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

// The transpose of interpolate_row, added into dst: dst[j] += Σ_k weight[k][j] · src[index[k][j]],
// SIMD over source columns j (a gather per band step). src: (out_w), dst: (in_w).
void accumulate_band_row(const float* src, float* dst, const BandTaps& band, int in_w) {
  int j = 0;
#if defined(__AVX512F__)
  for (; j + 16 <= in_w; j += 16) {
    __m512 sum = _mm512_setzero_ps();
    for (int k = 0; k < band.width; ++k) {
      const size_t at = static_cast<size_t>(k) * in_w + j;
      sum = _mm512_fmadd_ps(_mm512_loadu_ps(band.weight.data() + at),
                            gather16(src, _mm512_loadu_si512(band.index.data() + at)), sum);
    }
    _mm512_storeu_ps(dst + j, _mm512_add_ps(_mm512_loadu_ps(dst + j), sum));
  }
#elif defined(__AVX2__)
  for (; j + 8 <= in_w; j += 8) {
    __m256 sum = _mm256_setzero_ps();
    for (int k = 0; k < band.width; ++k) {
      const size_t at = static_cast<size_t>(k) * in_w + j;
      __m256i index = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(band.index.data() + at));
      sum =
          _mm256_fmadd_ps(_mm256_loadu_ps(band.weight.data() + at), _mm256_i32gather_ps(src, index, 4), sum);
    }
    _mm256_storeu_ps(dst + j, _mm256_add_ps(_mm256_loadu_ps(dst + j), sum));
  }
#endif
  for (; j < in_w; ++j) {
    float sum = 0.0f;
    for (int k = 0; k < band.width; ++k)
      sum +=
          band.weight[static_cast<size_t>(k) * in_w + j] * src[band.index[static_cast<size_t>(k) * in_w + j]];
    dst[j] += sum;
  }
}

}  // namespace

void resize_bilinear_forward(const float* x, float* y, const ResizeBilinearParams& p) {
  const AxisTaps rows = axis_taps(p.in_h, p.out_h, p.ratio_h, p.align_corners);
  const AxisTaps cols = axis_taps(p.in_w, p.out_w, p.ratio_w, p.align_corners);
  const int64_t in_plane = static_cast<int64_t>(p.in_h) * p.in_w;
  const int64_t out_plane = static_cast<int64_t>(p.out_h) * p.out_w;
#pragma omp parallel if (worth_threads(p.planes * (in_plane + out_plane)))
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
          interpolate_row(xp + static_cast<int64_t>(i) * p.in_w, p.in_w, row, cols, p.out_w), ready[i] = 1;
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
  const BandTaps col_bands = band_taps(axis_taps(p.in_w, p.out_w, p.ratio_w, p.align_corners), p.in_w);
  const int64_t in_plane = static_cast<int64_t>(p.in_h) * p.in_w;
  const int64_t out_plane = static_cast<int64_t>(p.out_h) * p.out_w;
#pragma omp parallel if (worth_threads(p.planes * (in_plane + out_plane)))
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
          accumulate_band_row(dwide_rows.data() + static_cast<size_t>(i) * p.out_w,
                              dxp + static_cast<int64_t>(i) * p.in_w, col_bands, p.in_w);
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
