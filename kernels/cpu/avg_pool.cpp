// Average pool and adaptive average pool, forward and backward. Memory-bound: each kernel is the
// plain loop with OpenMP over planes (each plane owned by one thread), its own reference.
//   avg:      y[oh, ow] = Σ_{window ∩ input} x / divisor   (divisor: see pool.h)
//   adaptive: y[i, j]  = Σ_{bin_i × bin_j} x / |bin_i × bin_j|
// The backwards add dy / divisor to every input pixel of the window.
#include <algorithm>
#include <cstdint>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/pool.h"

namespace pg::kernels {

namespace {

// The real input pixels of output (oh, ow): rows [h0, h1), columns [w0, w1), and its divisor.
struct AvgWindow {
  int h0, h1, w0, w1;
  float divisor;
};

AvgWindow avg_window(const Pool2dGeometry& g, int oh, int ow) {
  int h0 = oh * g.stride - g.pad, w0 = ow * g.stride - g.pad;
  // Clipped to the padded input first: a ceil-mode window may run past the right padding.
  int h1 = std::min(h0 + g.kernel, g.in_h + g.pad), w1 = std::min(w0 + g.kernel, g.in_w + g.pad);
  const int padded_area = (h1 - h0) * (w1 - w0);
  h0 = std::max(h0, 0), w0 = std::max(w0, 0);
  h1 = std::min(h1, g.in_h), w1 = std::min(w1, g.in_w);
  const int real_area = (h1 - h0) * (w1 - w0);
  return {h0, h1, w0, w1, static_cast<float>(g.count_include_pad ? padded_area : real_area)};
}

}  // namespace

void avg_pool2d_forward(const float* x, float* y, const Pool2dGeometry& g) {
#pragma omp parallel for schedule(static) if (worth_threads(elements_in_and_out(g)))
  for (int64_t plane = 0; plane < g.planes; ++plane) {
    const float* xp = x + plane * g.in_h * g.in_w;  // (in_h, in_w)
    float* yp = y + plane * g.out_h * g.out_w;      // (out_h, out_w)
    for (int oh = 0; oh < g.out_h; ++oh)
      for (int ow = 0; ow < g.out_w; ++ow) {
        const AvgWindow win = avg_window(g, oh, ow);
        float sum = 0.0f;
        for (int h = win.h0; h < win.h1; ++h)
          for (int w = win.w0; w < win.w1; ++w) sum += xp[h * g.in_w + w];
        yp[oh * g.out_w + ow] = sum / win.divisor;
      }
  }
}

void avg_pool2d_backward(const float* dy, float* dx, const Pool2dGeometry& g) {
#pragma omp parallel for schedule(static) if (worth_threads(elements_in_and_out(g)))
  for (int64_t plane = 0; plane < g.planes; ++plane) {
    const float* dyp = dy + plane * g.out_h * g.out_w;  // (out_h, out_w)
    float* dxp = dx + plane * g.in_h * g.in_w;          // (in_h, in_w)
    for (int oh = 0; oh < g.out_h; ++oh)
      for (int ow = 0; ow < g.out_w; ++ow) {
        const AvgWindow win = avg_window(g, oh, ow);
        const float share = dyp[oh * g.out_w + ow] / win.divisor;
        for (int h = win.h0; h < win.h1; ++h)
          for (int w = win.w0; w < win.w1; ++w) dxp[h * g.in_w + w] += share;
      }
  }
}

void adaptive_avg_pool2d_forward(const float* x, float* y, const PlaneSizes& s) {
#pragma omp parallel for schedule(static) if (worth_threads(elements_in_and_out(s)))
  for (int64_t plane = 0; plane < s.planes; ++plane) {
    const float* xp = x + plane * s.in_h * s.in_w;  // (in_h, in_w)
    float* yp = y + plane * s.out_h * s.out_w;      // (out_h, out_w)
    for (int i = 0; i < s.out_h; ++i) {
      const int h0 = adaptive_bin_start(i, s.in_h, s.out_h), h1 = adaptive_bin_end(i, s.in_h, s.out_h);
      for (int j = 0; j < s.out_w; ++j) {
        const int w0 = adaptive_bin_start(j, s.in_w, s.out_w), w1 = adaptive_bin_end(j, s.in_w, s.out_w);
        float sum = 0.0f;
        for (int h = h0; h < h1; ++h)
          for (int w = w0; w < w1; ++w) sum += xp[h * s.in_w + w];
        yp[i * s.out_w + j] = sum / static_cast<float>((h1 - h0) * (w1 - w0));
      }
    }
  }
}

void adaptive_avg_pool2d_backward(const float* dy, float* dx, const PlaneSizes& s) {
#pragma omp parallel for schedule(static) if (worth_threads(elements_in_and_out(s)))
  for (int64_t plane = 0; plane < s.planes; ++plane) {
    const float* dyp = dy + plane * s.out_h * s.out_w;  // (out_h, out_w)
    float* dxp = dx + plane * s.in_h * s.in_w;          // (in_h, in_w)
    for (int i = 0; i < s.out_h; ++i) {
      const int h0 = adaptive_bin_start(i, s.in_h, s.out_h), h1 = adaptive_bin_end(i, s.in_h, s.out_h);
      for (int j = 0; j < s.out_w; ++j) {
        const int w0 = adaptive_bin_start(j, s.in_w, s.out_w), w1 = adaptive_bin_end(j, s.in_w, s.out_w);
        const float share = dyp[i * s.out_w + j] / static_cast<float>((h1 - h0) * (w1 - w0));
        for (int h = h0; h < h1; ++h)
          for (int w = w0; w < w1; ++w) dxp[h * s.in_w + w] += share;
      }
    }
  }
}

}  // namespace pg::kernels
