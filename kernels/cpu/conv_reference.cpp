// The reference convolution: the definition of conv2d and of its two gradients as plain nested
// loops with double accumulators and a bounds test on every read. conv.cpp computes the same thing.
#include "kernels/cpu/conv.h"

namespace pg::kernels {

namespace {
// Index helpers for the four NCHW-style buffers.
struct Indexer {
  const ConvGeometry& g;
  int64_t x(int n, int c, int h, int w) const {
    return ((static_cast<int64_t>(n) * g.in_channels + c) * g.in_h + h) * g.in_w + w;
  }
  int64_t y(int n, int k, int i, int j) const {
    return ((static_cast<int64_t>(n) * g.out_channels + k) * g.out_h + i) * g.out_w + j;
  }
  int64_t w(int k, int c, int u, int v) const {
    return ((static_cast<int64_t>(k) * g.in_channels_per_group() + c) * g.kernel_h + u) * g.kernel_w + v;
  }
  // The input row/column that output (i, j) reads through kernel tap (u, v).
  int in_row(int i, int u) const { return i * g.stride - g.pad_top + u * g.dilation; }
  int in_col(int j, int v) const { return j * g.stride - g.pad_left + v * g.dilation; }
  bool inside(int h, int w) const { return h >= 0 && h < g.in_h && w >= 0 && w < g.in_w; }
};
}  // namespace

void conv2d_forward_reference(const ConvGeometry& g, const float* x, const float* weight, const float* bias,
                              float* y) {
  const Indexer at{g};
  const int cg = g.in_channels_per_group(), kg = g.out_channels_per_group();
  for (int n = 0; n < g.batch; ++n)
    for (int k = 0; k < g.out_channels; ++k) {
      const int first_channel = (k / kg) * cg;  // the group of output channel k
      for (int i = 0; i < g.out_h; ++i)
        for (int j = 0; j < g.out_w; ++j) {
          double sum = bias ? bias[k] : 0.0;
          for (int c = 0; c < cg; ++c)
            for (int u = 0; u < g.kernel_h; ++u)
              for (int v = 0; v < g.kernel_w; ++v) {
                const int h = at.in_row(i, u), w = at.in_col(j, v);
                if (at.inside(h, w))
                  sum += static_cast<double>(weight[at.w(k, c, u, v)]) * x[at.x(n, first_channel + c, h, w)];
              }
          y[at.y(n, k, i, j)] = static_cast<float>(sum);
        }
    }
}

// dx[n, c, h, w] += Σ over every (k, i, j, u, v) that read x[n, c, h, w] of w[k, c, u, v] · dy[n, k, i, j].
void conv2d_backward_data_reference(const ConvGeometry& g, const float* dy, const float* weight, float* dx) {
  const Indexer at{g};
  const int cg = g.in_channels_per_group(), kg = g.out_channels_per_group();
  for (int n = 0; n < g.batch; ++n)
    for (int k = 0; k < g.out_channels; ++k) {
      const int first_channel = (k / kg) * cg;
      for (int i = 0; i < g.out_h; ++i)
        for (int j = 0; j < g.out_w; ++j)
          for (int c = 0; c < cg; ++c)
            for (int u = 0; u < g.kernel_h; ++u)
              for (int v = 0; v < g.kernel_w; ++v) {
                const int h = at.in_row(i, u), w = at.in_col(j, v);
                if (at.inside(h, w))
                  dx[at.x(n, first_channel + c, h, w)] += weight[at.w(k, c, u, v)] * dy[at.y(n, k, i, j)];
              }
    }
}

// dw[k, c, u, v] += Σ_{n,i,j} dy[n, k, i, j] · x[n, c, i·s − pt + u·d, j·s − pl + v·d];  db[k] += Σ_{n,i,j}
// dy.
void conv2d_backward_weight_reference(const ConvGeometry& g, const float* x, const float* dy, float* dweight,
                                      float* dbias) {
  const Indexer at{g};
  const int cg = g.in_channels_per_group(), kg = g.out_channels_per_group();
  for (int k = 0; k < g.out_channels; ++k) {
    const int first_channel = (k / kg) * cg;
    for (int c = 0; c < cg; ++c)
      for (int u = 0; u < g.kernel_h; ++u)
        for (int v = 0; v < g.kernel_w; ++v) {
          double sum = 0.0;
          for (int n = 0; n < g.batch; ++n)
            for (int i = 0; i < g.out_h; ++i)
              for (int j = 0; j < g.out_w; ++j) {
                const int h = at.in_row(i, u), w = at.in_col(j, v);
                if (at.inside(h, w))
                  sum += static_cast<double>(dy[at.y(n, k, i, j)]) * x[at.x(n, first_channel + c, h, w)];
              }
          dweight[at.w(k, c, u, v)] += static_cast<float>(sum);
        }
    if (!dbias) continue;
    double sum = 0.0;
    for (int n = 0; n < g.batch; ++n)
      for (int i = 0; i < g.out_h; ++i)
        for (int j = 0; j < g.out_w; ++j) sum += dy[at.y(n, k, i, j)];
    dbias[k] += static_cast<float>(sum);
  }
}

}  // namespace pg::kernels
