// The general 2-D convolution kernels, forward and both backwards, as im2col + GEMM per image and
// group, with a bounded workspace; and the plain nested-loop references they are tested against.
// Depthwise convs (groups = C = K) have their own direct kernels in depthwise_conv.h.
#pragma once
#include <cstdint>

#include "kernels/cpu/conv_geometry.h"

namespace pg::kernels {

// The largest column buffer (floats) one thread holds in the backward-data pass when it goes
// through col2im: 2 Mi floats = 8 MB. An image whose column matrix (Cg·kh·kw × Ho·Wo) is larger is
// processed in tiles of whole output rows, so the bound is max(8 MB, the columns of one output
// row). Tests pass a small value to exercise the tiling.
constexpr int64_t kMaxColumnFloats = int64_t{1} << 21;

// Per image n and group g (Kg = K/groups output channels, Cg = C/groups input channels):
//   columns (Cg·kh·kw, Ho·Wo) = im2col(x[n, group g]);    y[n, group g] (Kg, Ho·Wo) = W_g · columns
// where W_g (Kg, Cg·kh·kw) is the group's slice of the weight. The forward and the weight gradient
// never store the columns: the GEMM gathers them block by block from the zero-padded image
// straight into its packed panels (ImageColumns, ImageColumnsTransposed in conv.cpp); their
// workspace is one padded image per thread. A 1×1 conv with stride 1 and no padding uses x itself
// as the column matrix. Threads: over the batch when it has at least as many images as threads,
// otherwise inside the GEMM.

// x: (N, C, H, W), weight: (K, C/groups, kh, kw), bias: (K) or nullptr → y: (N, K, Ho, Wo), written.
void conv2d_forward(const ConvGeometry& g, const float* x, const float* weight, const float* bias, float* y);
// dcolumns = W_gᵀ · dy[n, group g], then col2im; at stride 1 with Kg ≤ 128, instead the packed
// forward of dy with the kernel turned by 180° (see conv.cpp). dy: (N, K, Ho, Wo) → dx: (N, C, H, W),
// accumulated.
void conv2d_backward_data(const ConvGeometry& g, const float* dy, const float* weight, float* dx,
                          int64_t max_column_floats = kMaxColumnFloats);
// dW_g += dy[n, group g] · columnsᵀ summed over n; dbias[k] += Σ_{n,i,j} dy[n,k,i,j].
// x: (N, C, H, W), dy: (N, K, Ho, Wo) → dweight: (K, C/groups, kh, kw) and dbias: (K) or nullptr,
// both accumulated. Over the batch, each thread sums into its own partial dW, added in thread order.
void conv2d_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dweight,
                            float* dbias);

// The bias of a conv or transposed conv, forward and backward, on (batch, channels, plane) maps:
//   y[n, k, p] += b[k]        db[k] += Σ_{n,p} dy[n, k, p]
void add_bias(int batch, int channels, int64_t plane, const float* bias, float* y);
void bias_backward(int batch, int channels, int64_t plane, const float* dy, float* dbias);

// The definitions as nested loops (double accumulators), with the same buffers and the same
// write/accumulate contract; the three functions above compute the same thing.
//   y[n,k,i,j] = b[k] + Σ_{c ∈ group(k), u, v} w[k, c, u, v] · x[n, c, i·s − pt + u·d, j·s − pl + v·d]
void conv2d_forward_reference(const ConvGeometry& g, const float* x, const float* weight, const float* bias,
                              float* y);
void conv2d_backward_data_reference(const ConvGeometry& g, const float* dy, const float* weight, float* dx);
void conv2d_backward_weight_reference(const ConvGeometry& g, const float* x, const float* dy, float* dweight,
                                      float* dbias);

}  // namespace pg::kernels
