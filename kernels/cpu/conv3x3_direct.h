// The direct 3×3 "same" convolution (stride 1, pad 1, no dilation, no groups), forward and both
// backwards, without im2col: SegNet's and U-Net's few-channel convs, where the column matrix
// (9·C × H·W) costs more memory traffic than the multiply-adds it feeds.
#pragma once
#include "kernels/cpu/conv_geometry.h"

namespace pg::kernels {

// Whether the direct kernels take this conv: 3×3, stride 1, dilation 1, pad 1 on every side,
// groups 1 (so Ho = H and Wo = W), on an AVX2 build, with at most kDirectMaxChannels input and
// output channels: measured (1 thread, batch 8, maps 16–64 wide) 1.0–2.5× faster than im2col +
// GEMM in each pass from 8 to 64 channels; at 128 and 256 channels the input gradient was slower
// (the GEMM's packed panels reuse each load better there).
constexpr int kDirectMaxChannels = 64;
bool conv3x3_direct_applies(const ConvGeometry& g);

// The same contracts as conv2d_forward and conv2d_backward_data (conv.h), for a geometry that
// conv3x3_direct_applies to; they compute the same as the references there.
// x: (N, C, H, W), weight: (K, C, 3, 3), bias: (K) or nullptr → y: (N, K, H, W), written.
void conv3x3_direct_forward(const ConvGeometry& g, const float* x, const float* weight, const float* bias,
                            float* y);
// dy: (N, K, H, W) → dx: (N, C, H, W), accumulated: the forward's correlation with the weight
// transposed (C ↔ K) and flipped (u, v → 2 − u, 2 − v).
void conv3x3_direct_backward_data(const ConvGeometry& g, const float* dy, const float* weight, float* dx);
// x: (N, C, H, W), dy: (N, K, H, W) → dweight: (K, C, 3, 3) and dbias: (K) or nullptr, both
// accumulated, as conv2d_backward_weight.
void conv3x3_direct_backward_weight(const ConvGeometry& g, const float* x, const float* dy, float* dweight,
                                    float* dbias);

}  // namespace pg::kernels
