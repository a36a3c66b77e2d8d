// Direct depthwise convolution kernels and their references (see depthwise_conv.h). For each
// output row and kernel tap (u, v), the run of output columns that read inside the image is found
// once (valid_output_range); the loop over that run is branch-free and, at stride 1, contiguous.
#include "kernels/cpu/depthwise_conv.h"

#include <algorithm>
#include <vector>

namespace pg::kernels {

// Below this many multiply-adds, waking the threads costs more than the conv itself.
constexpr int64_t kMinParallelMacs = int64_t{1} << 15;
static bool worth_threads(const ConvGeometry& g) {
  return g.batch * g.in_channels * g.out_plane() * g.kernel_h * g.kernel_w >= kMinParallelMacs;
}

void depthwise_conv2d_forward(const ConvGeometry& g, const float* x, const float* weight, const float* bias,
                              float* y) {
  const int channels = g.in_channels;
#pragma omp parallel for collapse(2) schedule(static) if (worth_threads(g))
  for (int n = 0; n < g.batch; ++n)
    for (int c = 0; c < channels; ++c) {
      const float* x_plane = x + (static_cast<int64_t>(n) * channels + c) * g.in_plane();   // (H, W)
      float* y_plane = y + (static_cast<int64_t>(n) * channels + c) * g.out_plane();        // (Ho, Wo)
      const float* w_channel = weight + static_cast<int64_t>(c) * g.kernel_h * g.kernel_w;  // (kh, kw)
      for (int i = 0; i < g.out_h; ++i) {
        float* __restrict y_row = y_plane + static_cast<int64_t>(i) * g.out_w;
        std::fill(y_row, y_row + g.out_w, bias ? bias[c] : 0.0f);
        for (int u = 0; u < g.kernel_h; ++u) {
          const int h = i * g.stride - g.pad_top + u * g.dilation;
          if (h < 0 || h >= g.in_h) continue;
          const float* __restrict x_row = x_plane + static_cast<int64_t>(h) * g.in_w;
          for (int v = 0; v < g.kernel_w; ++v) {
            const float tap = w_channel[u * g.kernel_w + v];
            const int offset = v * g.dilation - g.pad_left;
            const IndexRange run = valid_output_range(offset, g.stride, g.in_w, g.out_w);
            if (g.stride == 1) {
              for (int j = run.begin; j < run.end; ++j) y_row[j] += tap * x_row[j + offset];
            } else {
              for (int j = run.begin; j < run.end; ++j) y_row[j] += tap * x_row[j * g.stride + offset];
            }
          }
        }
      }
    }
}

void depthwise_conv2d_backward_data(const ConvGeometry& g, const float* dy, const float* weight, float* dx) {
  const int channels = g.in_channels;
#pragma omp parallel for collapse(2) schedule(static) if (worth_threads(g))
  for (int n = 0; n < g.batch; ++n)
    for (int c = 0; c < channels; ++c) {
      const float* dy_plane = dy + (static_cast<int64_t>(n) * channels + c) * g.out_plane();
      float* dx_plane = dx + (static_cast<int64_t>(n) * channels + c) * g.in_plane();
      const float* w_channel = weight + static_cast<int64_t>(c) * g.kernel_h * g.kernel_w;
      for (int i = 0; i < g.out_h; ++i) {
        const float* __restrict dy_row = dy_plane + static_cast<int64_t>(i) * g.out_w;
        for (int u = 0; u < g.kernel_h; ++u) {
          const int h = i * g.stride - g.pad_top + u * g.dilation;
          if (h < 0 || h >= g.in_h) continue;
          float* __restrict dx_row = dx_plane + static_cast<int64_t>(h) * g.in_w;
          for (int v = 0; v < g.kernel_w; ++v) {
            const float tap = w_channel[u * g.kernel_w + v];
            const int offset = v * g.dilation - g.pad_left;
            const IndexRange run = valid_output_range(offset, g.stride, g.in_w, g.out_w);
            if (g.stride == 1) {
              for (int j = run.begin; j < run.end; ++j) dx_row[j + offset] += tap * dy_row[j];
            } else {
              for (int j = run.begin; j < run.end; ++j) dx_row[j * g.stride + offset] += tap * dy_row[j];
            }
          }
        }
      }
    }
}

void depthwise_conv2d_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dweight,
                                      float* dbias) {
  const int channels = g.in_channels, taps = g.kernel_h * g.kernel_w;
#pragma omp parallel for schedule(static) if (worth_threads(g))
  for (int c = 0; c < channels; ++c) {
    std::vector<double> dtap(taps, 0.0);  // this channel's Σ over the batch, per kernel tap
    double dbias_channel = 0.0;
    for (int n = 0; n < g.batch; ++n) {
      const float* x_plane = x + (static_cast<int64_t>(n) * channels + c) * g.in_plane();
      const float* dy_plane = dy + (static_cast<int64_t>(n) * channels + c) * g.out_plane();
      for (int i = 0; i < g.out_h; ++i) {
        const float* dy_row = dy_plane + static_cast<int64_t>(i) * g.out_w;
        float row_total = 0.0f;
#pragma omp simd reduction(+ : row_total)
        for (int j = 0; j < g.out_w; ++j) row_total += dy_row[j];
        dbias_channel += row_total;
        for (int u = 0; u < g.kernel_h; ++u) {
          const int h = i * g.stride - g.pad_top + u * g.dilation;
          if (h < 0 || h >= g.in_h) continue;
          const float* x_row = x_plane + static_cast<int64_t>(h) * g.in_w;
          for (int v = 0; v < g.kernel_w; ++v) {
            const int offset = v * g.dilation - g.pad_left;
            const IndexRange run = valid_output_range(offset, g.stride, g.in_w, g.out_w);
            float dot = 0.0f;
            if (g.stride == 1) {
#pragma omp simd reduction(+ : dot)
              for (int j = run.begin; j < run.end; ++j) dot += dy_row[j] * x_row[j + offset];
            } else {
#pragma omp simd reduction(+ : dot)
              for (int j = run.begin; j < run.end; ++j) dot += dy_row[j] * x_row[j * g.stride + offset];
            }
            dtap[u * g.kernel_w + v] += dot;
          }
        }
      }
    }
    for (int t = 0; t < taps; ++t) dweight[static_cast<int64_t>(c) * taps + t] += static_cast<float>(dtap[t]);
    if (dbias) dbias[c] += static_cast<float>(dbias_channel);
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
