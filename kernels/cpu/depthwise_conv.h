// Depthwise convolution (groups = C = K: each channel filtered by its own kh×kw kernel) computed
// directly, without im2col: each plane is zero-padded once, then blocks of 16 output columns are
// accumulated in SIMD registers over all taps (AVX-512 / AVX2 intrinsics, plain loops otherwise).
#pragma once
#include "kernels/cpu/conv_geometry.h"

namespace pg::kernels {

// All functions need g.is_depthwise(). Per channel c:
//   y[n,c,i,j] = b[c] + Σ_{u,v} w[c,0,u,v] · x[n, c, i·s − pt + u·d, j·s − pl + v·d]
// x: (N, C, H, W), weight: (C, 1, kh, kw), bias: (C) or nullptr → y: (N, C, Ho, Wo), written.
// Threads over (n, c).
void depthwise_conv2d_forward(const ConvGeometry& g, const float* x, const float* weight, const float* bias,
                              float* y);
// dx[n, c, i·s − pt + u·d, j·s − pl + v·d] += w[c,0,u,v] · dy[n,c,i,j]. dy: (N, C, Ho, Wo) → dx: (N, C, H,
// W), accumulated. Threads over (n, c).
void depthwise_conv2d_backward_data(const ConvGeometry& g, const float* dy, const float* weight, float* dx);
// dw[c,0,u,v] += Σ_{n,i,j} dy[n,c,i,j] · x[n, c, i·s − pt + u·d, j·s − pl + v·d];  db[c] += Σ_{n,i,j}
// dy[n,c,i,j]. dweight: (C, 1, kh, kw) and dbias: (C) or nullptr, accumulated. Threads over c.
void depthwise_conv2d_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dweight,
                                      float* dbias);

// The same three as plain loops over (n, c, i, j, u, v) with a bounds test on every read;
// the functions above compute the same thing.
void depthwise_conv2d_forward_reference(const ConvGeometry& g, const float* x, const float* weight,
                                        const float* bias, float* y);
void depthwise_conv2d_backward_data_reference(const ConvGeometry& g, const float* dy, const float* weight,
                                              float* dx);
void depthwise_conv2d_backward_weight_reference(const ConvGeometry& g, const float* x, const float* dy,
                                                float* dweight, float* dbias);

}  // namespace pg::kernels
