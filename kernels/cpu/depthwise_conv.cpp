// Direct depthwise convolution kernels and their references (see depthwise_conv.h). Each (n, c)
// plane is first copied into a zero-padded scratch plane holding exactly the pixels the taps reach,
// so the inner loops need no bounds tests. They work on blocks of 16 output columns held in
// registers (AVX-512: one register, AVX2: two, else plain loops) across all kh·kw taps:
//   forward          block of y   += w[t] · (padded x, shifted by tap t)     for every tap t
//   backward-data    stride 1: the forward of the padded dy with the kernel flipped (a "full"
//                    correlation); other strides scatter w[t] · dy rows into a padded dx plane
//   backward-weight  per tap, a block of partial sums += dy block · (padded x, shifted by tap t)
#include "kernels/cpu/depthwise_conv.h"

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace pg::kernels {

namespace {

// The multiply-adds of one pass (forward, backward-data or backward-weight): N·C·Ho·Wo·kh·kw.
int64_t multiply_adds(const ConvGeometry& g) {
  return static_cast<int64_t>(g.batch) * g.in_channels * g.out_plane() * g.kernel_h * g.kernel_w;
}

// Output columns computed together: 16 floats, one AVX-512 register (two AVX2 registers).
constexpr int kColumnBlock = 16;

// The padded plane: rows 0 … (Ho−1)·s + (kh−1)·d and columns 0 … (Wo−1)·s + (kw−1)·d of the input
// shifted by (pad_top, pad_left), i.e. padded[p, q] = x[p − pad_top, q − pad_left] or 0 outside.
// Output (i, j) reads padded[i·s + u·d, j·s + v·d] through tap (u, v). Rows are `pitch` long: the
// zero columns past `width` let the loops read whole blocks of kColumnBlock outputs.
struct PaddedPlane {
  explicit PaddedPlane(const ConvGeometry& g)
      : height((g.out_h - 1) * g.stride + (g.kernel_h - 1) * g.dilation + 1),
        width((g.out_w - 1) * g.stride + (g.kernel_w - 1) * g.dilation + 1),
        pitch(width + kColumnBlock * g.stride),
        values(static_cast<size_t>(height) * pitch, 0.0f) {}
  int height, width, pitch;
  std::vector<float> values;  // (height, pitch)

  float* row(int p) { return values.data() + static_cast<int64_t>(p) * pitch; }

  // The padded rows [row_begin, row_end) and columns [col_begin, col_end) that hold image pixels.
  struct Overlap {
    int row_begin, row_end, col_begin, col_end;
  };
  Overlap overlap(const ConvGeometry& g) const {
    return {std::max(g.pad_top, 0), std::min(height, g.in_h + g.pad_top), std::max(g.pad_left, 0),
            std::min(width, g.in_w + g.pad_left)};
  }

  // values = the zero-padded copy of plane (H, W). A negative pad crops the plane instead.
  // Only the image part is written: the padding around it is zero from construction and nothing
  // else writes there (backward_data_by_scatter, which does, clears its own plane), so a plane
  // refilled for every (n, c) never clears its whole area again.
  void fill_from(const ConvGeometry& g, const float* plane) {
    const Overlap o = overlap(g);
    for (int p = o.row_begin; p < o.row_end; ++p) {
      const float* image_row = plane + static_cast<int64_t>(p - g.pad_top) * g.in_w;
      std::copy(image_row + (o.col_begin - g.pad_left), image_row + (o.col_end - g.pad_left),
                row(p) + o.col_begin);
    }
  }

  // plane (H, W) += the image part of values (the padding part is dropped).
  void add_to(const ConvGeometry& g, float* plane) {
    const Overlap o = overlap(g);
    for (int p = o.row_begin; p < o.row_end; ++p) {
      float* image_row = plane + static_cast<int64_t>(p - g.pad_top) * g.in_w;
      const float* padded_row = row(p) + g.pad_left;  // aligned with the image row
      for (int w = o.col_begin - g.pad_left; w < o.col_end - g.pad_left; ++w) image_row[w] += padded_row[w];
    }
  }
};

// Tap t = (u, v) of output (i, j) reads padded[i·s + u·d, j·s + v·d]: the offset u·d·pitch + v·d
// from element (i·s, j·s).
std::vector<int64_t> tap_offsets(const ConvGeometry& g, const PaddedPlane& padded) {
  std::vector<int64_t> offset(g.kernel_h * g.kernel_w);
  for (int u = 0; u < g.kernel_h; ++u)
    for (int v = 0; v < g.kernel_w; ++v)
      offset[u * g.kernel_w + v] = static_cast<int64_t>(u) * g.dilation * padded.pitch + v * g.dilation;
  return offset;
}

// block[jj] = start + Σ_t w[t] · src[offset[t] + jj], for the kColumnBlock columns jj (stride 1).
void correlate_block(const float* src, const int64_t* offset, const float* w, int taps, float start,
                     float* block) {
#if defined(__AVX512F__)
  __m512 sum = _mm512_set1_ps(start);
  for (int t = 0; t < taps; ++t)
    sum = _mm512_fmadd_ps(_mm512_set1_ps(w[t]), _mm512_loadu_ps(src + offset[t]), sum);
  _mm512_storeu_ps(block, sum);
#elif defined(__AVX2__)
  __m256 low = _mm256_set1_ps(start), high = low;
  for (int t = 0; t < taps; ++t) {
    const __m256 tap = _mm256_set1_ps(w[t]);
    low = _mm256_fmadd_ps(tap, _mm256_loadu_ps(src + offset[t]), low);
    high = _mm256_fmadd_ps(tap, _mm256_loadu_ps(src + offset[t] + 8), high);
  }
  _mm256_storeu_ps(block, low);
  _mm256_storeu_ps(block + 8, high);
#else
  for (int jj = 0; jj < kColumnBlock; ++jj) block[jj] = start;
  for (int t = 0; t < taps; ++t)
    for (int jj = 0; jj < kColumnBlock; ++jj) block[jj] += w[t] * src[offset[t] + jj];
#endif
}

// Two output rows at once (stride 1): first[jj] as correlate_block from src, second[jj] from
// src + row_step (the next output row). Each tap's weight is broadcast and its offset read once
// for both rows, and the four (AVX2) accumulators hide the FMA latency better than two.
void correlate_block_two_rows(const float* src, int64_t row_step, const int64_t* offset, const float* w,
                              int taps, float start, float* first, float* second) {
#if defined(__AVX512F__)
  __m512 sum0 = _mm512_set1_ps(start), sum1 = sum0;
  for (int t = 0; t < taps; ++t) {
    const __m512 tap = _mm512_set1_ps(w[t]);
    sum0 = _mm512_fmadd_ps(tap, _mm512_loadu_ps(src + offset[t]), sum0);
    sum1 = _mm512_fmadd_ps(tap, _mm512_loadu_ps(src + row_step + offset[t]), sum1);
  }
  _mm512_storeu_ps(first, sum0);
  _mm512_storeu_ps(second, sum1);
#elif defined(__AVX2__)
  __m256 low0 = _mm256_set1_ps(start), high0 = low0, low1 = low0, high1 = low0;
  for (int t = 0; t < taps; ++t) {
    const __m256 tap = _mm256_set1_ps(w[t]);
    const float* row0 = src + offset[t];
    const float* row1 = row0 + row_step;
    low0 = _mm256_fmadd_ps(tap, _mm256_loadu_ps(row0), low0);
    high0 = _mm256_fmadd_ps(tap, _mm256_loadu_ps(row0 + 8), high0);
    low1 = _mm256_fmadd_ps(tap, _mm256_loadu_ps(row1), low1);
    high1 = _mm256_fmadd_ps(tap, _mm256_loadu_ps(row1 + 8), high1);
  }
  _mm256_storeu_ps(first, low0);
  _mm256_storeu_ps(first + 8, high0);
  _mm256_storeu_ps(second, low1);
  _mm256_storeu_ps(second + 8, high1);
#else
  correlate_block(src, offset, w, taps, start, first);
  correlate_block(src + row_step, offset, w, taps, start, second);
#endif
}

// The same for any stride: block[jj] = start + Σ_t w[t] · src[offset[t] + jj·stride].
void correlate_block_strided(const float* src, const int64_t* offset, const float* w, int taps, float start,
                             int stride, float* block) {
  for (int jj = 0; jj < kColumnBlock; ++jj) block[jj] = start;
  for (int t = 0; t < taps; ++t)
    for (int jj = 0; jj < kColumnBlock; ++jj) block[jj] += w[t] * src[offset[t] + jj * stride];
}

// out (Ho, Wo) = start + Σ_t w[t] · padded[i·s + u_t·d, j·s + v_t·d]  (written, or added when accumulate).
void correlate_plane(const ConvGeometry& g, PaddedPlane& padded, const int64_t* offset, const float* w,
                     float start, float* out, bool accumulate) {
  const int taps = g.kernel_h * g.kernel_w;
  float blocks[2][kColumnBlock];
  // Stride 1 computes output rows in pairs (correlate_block_two_rows); a last odd row goes alone.
  for (int i = 0; i < g.out_h;) {
    const int rows = (g.stride == 1 && i + 1 < g.out_h) ? 2 : 1;
    const float* top = padded.row(i * g.stride);
    float* out_row = out + static_cast<int64_t>(i) * g.out_w;
    float* out_rows[2] = {out_row, rows == 2 ? out_row + g.out_w : out_row};
    for (int j0 = 0; j0 < g.out_w; j0 += kColumnBlock) {
      const int count = std::min(kColumnBlock, g.out_w - j0);
      // A whole block that is written (not added) goes straight to the output row.
      const bool direct = count == kColumnBlock && !accumulate;
      float* result[2] = {direct ? out_rows[0] + j0 : blocks[0], direct ? out_rows[1] + j0 : blocks[1]};
      if (rows == 2)
        correlate_block_two_rows(top + j0, padded.pitch, offset, w, taps, start, result[0], result[1]);
      else if (g.stride == 1)
        correlate_block(top + j0, offset, w, taps, start, result[0]);
      else
        correlate_block_strided(top + static_cast<int64_t>(j0) * g.stride, offset, w, taps, start, g.stride,
                                result[0]);
      for (int r = 0; r < rows; ++r) {
        if (accumulate)
          for (int jj = 0; jj < count; ++jj) out_rows[r][j0 + jj] += blocks[r][jj];
        else if (!direct)
          for (int jj = 0; jj < count; ++jj) out_rows[r][j0 + jj] = blocks[r][jj];
      }
    }
    i += rows;
  }
}

// sums[t·kColumnBlock + jj] += dy_block[jj] · src[offset[t] + jj] for every tap t (stride 1).
void weight_block(const float* dy_block, const float* src, const int64_t* offset, int taps, float* sums) {
#if defined(__AVX512F__)
  const __m512 grad = _mm512_loadu_ps(dy_block);
  for (int t = 0; t < taps; ++t) {
    float* tap_sums = sums + t * kColumnBlock;
    _mm512_storeu_ps(tap_sums,
                     _mm512_fmadd_ps(grad, _mm512_loadu_ps(src + offset[t]), _mm512_loadu_ps(tap_sums)));
  }
#elif defined(__AVX2__)
  const __m256 low = _mm256_loadu_ps(dy_block), high = _mm256_loadu_ps(dy_block + 8);
  for (int t = 0; t < taps; ++t) {
    float* tap_sums = sums + t * kColumnBlock;
    _mm256_storeu_ps(tap_sums,
                     _mm256_fmadd_ps(low, _mm256_loadu_ps(src + offset[t]), _mm256_loadu_ps(tap_sums)));
    _mm256_storeu_ps(tap_sums + 8, _mm256_fmadd_ps(high, _mm256_loadu_ps(src + offset[t] + 8),
                                                   _mm256_loadu_ps(tap_sums + 8)));
  }
#else
  for (int t = 0; t < taps; ++t)
    for (int jj = 0; jj < kColumnBlock; ++jj)
      sums[t * kColumnBlock + jj] += dy_block[jj] * src[offset[t] + jj];
#endif
}

// The same for any stride: sums[t·kColumnBlock + jj] += dy_block[jj] · src[offset[t] + jj·stride].
void weight_block_strided(const float* dy_block, const float* src, const int64_t* offset, int taps,
                          int stride, float* sums) {
  for (int t = 0; t < taps; ++t)
    for (int jj = 0; jj < kColumnBlock; ++jj)
      sums[t * kColumnBlock + jj] += dy_block[jj] * src[offset[t] + jj * stride];
}

// At stride 1 the input gradient is itself a correlation: dx[h, w] = Σ_{u,v} w[u,v] · dy[h + pt − u·d,
// w + pl − v·d] = Σ_{u',v'} w[kh−1−u', kw−1−v'] · dy_padded[h + u'·d, w + v'·d], where dy is padded by
// (kh−1)·d − pt rows on top and (kw−1)·d − pl columns on the left. This is that correlation's geometry.
ConvGeometry full_correlation_geometry(const ConvGeometry& g) {
  return {.batch = g.batch,
          .in_channels = g.out_channels,
          .in_h = g.out_h,
          .in_w = g.out_w,
          .out_channels = g.in_channels,
          .kernel_h = g.kernel_h,
          .kernel_w = g.kernel_w,
          .stride = 1,
          .dilation = g.dilation,
          .groups = g.groups,
          .pad_top = (g.kernel_h - 1) * g.dilation - g.pad_top,
          .pad_left = (g.kernel_w - 1) * g.dilation - g.pad_left,
          .pad_bottom = 0,  // not read: out_h and out_w below fix the extent
          .pad_right = 0,
          .out_h = g.in_h,
          .out_w = g.in_w};
}

// dx[n, c] += the scatter of w[c, t] · dy[n, c] rows into a padded plane, for any stride.
void backward_data_by_scatter(const ConvGeometry& g, const float* dy, const float* weight, float* dx) {
  const int channels = g.in_channels, taps = g.kernel_h * g.kernel_w;
#pragma omp parallel if (worth_threads(multiply_adds(g)))
  {
    PaddedPlane dpadded(g);  // the gradient of the padded plane, scattered into, then added to dx
#pragma omp for collapse(2) schedule(static)
    for (int n = 0; n < g.batch; ++n)
      for (int c = 0; c < channels; ++c) {
        std::fill(dpadded.values.begin(), dpadded.values.end(), 0.0f);
        const float* dy_plane = dy + (static_cast<int64_t>(n) * channels + c) * g.out_plane();
        const float* w_channel = weight + static_cast<int64_t>(c) * taps;
        for (int i = 0; i < g.out_h; ++i) {
          const float* __restrict dy_row = dy_plane + static_cast<int64_t>(i) * g.out_w;
          for (int u = 0; u < g.kernel_h; ++u) {
            float* d_row = dpadded.row(i * g.stride + u * g.dilation);
            for (int v = 0; v < g.kernel_w; ++v) {
              const float tap = w_channel[u * g.kernel_w + v];
              float* __restrict d_start = d_row + v * g.dilation;
              for (int j = 0; j < g.out_w; ++j) d_start[j * g.stride] += tap * dy_row[j];
            }
          }
        }
        dpadded.add_to(g, dx + (static_cast<int64_t>(n) * channels + c) * g.in_plane());
      }
  }
}

}  // namespace

void depthwise_conv2d_forward(const ConvGeometry& g, const float* x, const float* weight, const float* bias,
                              float* y) {
  const int channels = g.in_channels, taps = g.kernel_h * g.kernel_w;
#pragma omp parallel if (worth_threads(multiply_adds(g)))
  {
    PaddedPlane padded(g);
    const std::vector<int64_t> offset = tap_offsets(g, padded);
#pragma omp for collapse(2) schedule(static)
    for (int n = 0; n < g.batch; ++n)
      for (int c = 0; c < channels; ++c) {
        padded.fill_from(g, x + (static_cast<int64_t>(n) * channels + c) * g.in_plane());  // x[n, c]: (H, W)
        correlate_plane(g, padded, offset.data(), weight + static_cast<int64_t>(c) * taps,
                        bias ? bias[c] : 0.0f, y + (static_cast<int64_t>(n) * channels + c) * g.out_plane(),
                        /*accumulate=*/false);
      }
  }
}

void depthwise_conv2d_backward_data(const ConvGeometry& g, const float* dy, const float* weight, float* dx) {
  const ConvGeometry full = full_correlation_geometry(g);
  if (g.stride != 1 || full.pad_top < 0 || full.pad_left < 0) {  // strided, or padded beyond the kernel
    backward_data_by_scatter(g, dy, weight, dx);
    return;
  }
  const int channels = g.in_channels, taps = g.kernel_h * g.kernel_w;
#pragma omp parallel if (worth_threads(multiply_adds(g)))
  {
    PaddedPlane dy_padded(full);
    const std::vector<int64_t> offset = tap_offsets(full, dy_padded);
    std::vector<float> flipped(taps);  // w[c] with both kernel axes reversed
#pragma omp for collapse(2) schedule(static)
    for (int n = 0; n < g.batch; ++n)
      for (int c = 0; c < channels; ++c) {
        const float* w_channel = weight + static_cast<int64_t>(c) * taps;
        std::reverse_copy(w_channel, w_channel + taps, flipped.begin());
        dy_padded.fill_from(full, dy + (static_cast<int64_t>(n) * channels + c) * g.out_plane());  // (Ho, Wo)
        correlate_plane(full, dy_padded, offset.data(), flipped.data(), 0.0f,
                        dx + (static_cast<int64_t>(n) * channels + c) * g.in_plane(), /*accumulate=*/true);
      }
  }
}

void depthwise_conv2d_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dweight,
                                      float* dbias) {
  const int channels = g.in_channels, taps = g.kernel_h * g.kernel_w;
#pragma omp parallel if (worth_threads(multiply_adds(g)))
  {
    PaddedPlane padded(g);
    const std::vector<int64_t> offset = tap_offsets(g, padded);
    // Per tap, kColumnBlock partial sums (one per column lane), reduced once per plane.
    std::vector<float> sums(static_cast<size_t>(taps) * kColumnBlock);
    float dy_tail[kColumnBlock];  // the last, partial block of a dy row, zero-filled past Wo
#pragma omp for schedule(static)
    for (int c = 0; c < channels; ++c) {
      std::vector<double> dtap(taps, 0.0);  // this channel's Σ over the batch, per tap
      double dbias_channel = 0.0;
      for (int n = 0; n < g.batch; ++n) {
        padded.fill_from(g, x + (static_cast<int64_t>(n) * channels + c) * g.in_plane());
        const float* dy_plane = dy + (static_cast<int64_t>(n) * channels + c) * g.out_plane();  // (Ho, Wo)
        std::fill(sums.begin(), sums.end(), 0.0f);
        for (int i = 0; i < g.out_h; ++i) {
          const float* dy_row = dy_plane + static_cast<int64_t>(i) * g.out_w;
          const float* top = padded.row(i * g.stride);
          for (int j0 = 0; j0 < g.out_w; j0 += kColumnBlock) {
            const float* dy_block = dy_row + j0;
            if (g.out_w - j0 < kColumnBlock) {
              std::fill(std::copy(dy_row + j0, dy_row + g.out_w, dy_tail), dy_tail + kColumnBlock, 0.0f);
              dy_block = dy_tail;
            }
            if (g.stride == 1)
              weight_block(dy_block, top + j0, offset.data(), taps, sums.data());
            else
              weight_block_strided(dy_block, top + static_cast<int64_t>(j0) * g.stride, offset.data(), taps,
                                   g.stride, sums.data());
          }
        }
        for (int t = 0; t < taps; ++t)
          for (int jj = 0; jj < kColumnBlock; ++jj) dtap[t] += sums[t * kColumnBlock + jj];
        float plane_total = 0.0f;
#pragma omp simd reduction(+ : plane_total)
        for (int64_t p = 0; p < g.out_plane(); ++p) plane_total += dy_plane[p];
        dbias_channel += plane_total;
      }
      for (int t = 0; t < taps; ++t)
        dweight[static_cast<int64_t>(c) * taps + t] += static_cast<float>(dtap[t]);
      if (dbias) dbias[c] += static_cast<float>(dbias_channel);
    }
  }
}

// References: the definitions, one multiply at a time.

namespace {
// The input pixel read by output (i, j) through tap (u, v), or −1 when it lies in the padding.
int64_t input_index(const ConvGeometry& g, int i, int j, int u, int v) {
  const int h = i * g.stride - g.pad_top + u * g.dilation;
  const int w = j * g.stride - g.pad_left + v * g.dilation;
  if (h < 0 || h >= g.in_h || w < 0 || w >= g.in_w) return -1;
  return static_cast<int64_t>(h) * g.in_w + w;
}
}  // namespace

void depthwise_conv2d_forward_reference(const ConvGeometry& g, const float* x, const float* weight,
                                        const float* bias, float* y) {
  const int taps = g.kernel_h * g.kernel_w;
  for (int n = 0; n < g.batch; ++n)
    for (int c = 0; c < g.in_channels; ++c) {
      const float* x_plane = x + (static_cast<int64_t>(n) * g.in_channels + c) * g.in_plane();
      for (int i = 0; i < g.out_h; ++i)
        for (int j = 0; j < g.out_w; ++j) {
          double sum = bias ? bias[c] : 0.0;
          for (int u = 0; u < g.kernel_h; ++u)
            for (int v = 0; v < g.kernel_w; ++v) {
              const int64_t at = input_index(g, i, j, u, v);
              if (at >= 0) sum += static_cast<double>(weight[c * taps + u * g.kernel_w + v]) * x_plane[at];
            }
          y[((static_cast<int64_t>(n) * g.in_channels + c) * g.out_h + i) * g.out_w + j] =
              static_cast<float>(sum);
        }
    }
}

void depthwise_conv2d_backward_data_reference(const ConvGeometry& g, const float* dy, const float* weight,
                                              float* dx) {
  const int taps = g.kernel_h * g.kernel_w;
  for (int n = 0; n < g.batch; ++n)
    for (int c = 0; c < g.in_channels; ++c) {
      float* dx_plane = dx + (static_cast<int64_t>(n) * g.in_channels + c) * g.in_plane();
      for (int i = 0; i < g.out_h; ++i)
        for (int j = 0; j < g.out_w; ++j) {
          const float grad = dy[((static_cast<int64_t>(n) * g.in_channels + c) * g.out_h + i) * g.out_w + j];
          for (int u = 0; u < g.kernel_h; ++u)
            for (int v = 0; v < g.kernel_w; ++v) {
              const int64_t at = input_index(g, i, j, u, v);
              if (at >= 0) dx_plane[at] += weight[c * taps + u * g.kernel_w + v] * grad;
            }
        }
    }
}

void depthwise_conv2d_backward_weight_reference(const ConvGeometry& g, const float* x, const float* dy,
                                                float* dweight, float* dbias) {
  const int taps = g.kernel_h * g.kernel_w;
  for (int c = 0; c < g.in_channels; ++c) {
    std::vector<double> dtap(taps, 0.0);
    double dbias_channel = 0.0;
    for (int n = 0; n < g.batch; ++n) {
      const float* x_plane = x + (static_cast<int64_t>(n) * g.in_channels + c) * g.in_plane();
      for (int i = 0; i < g.out_h; ++i)
        for (int j = 0; j < g.out_w; ++j) {
          const float grad = dy[((static_cast<int64_t>(n) * g.in_channels + c) * g.out_h + i) * g.out_w + j];
          dbias_channel += grad;
          for (int u = 0; u < g.kernel_h; ++u)
            for (int v = 0; v < g.kernel_w; ++v) {
              const int64_t at = input_index(g, i, j, u, v);
              if (at >= 0) dtap[u * g.kernel_w + v] += static_cast<double>(grad) * x_plane[at];
            }
        }
    }
    for (int t = 0; t < taps; ++t) dweight[c * taps + t] += static_cast<float>(dtap[t]);
    if (dbias) dbias[c] += static_cast<float>(dbias_channel);
  }
}

}  // namespace pg::kernels
