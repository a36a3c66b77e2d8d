// conv_transpose2d: the adjoint of conv2d with the same geometry ("deconvolution"): the forward
// pass is conv2d's backward-data, the backward-data is conv2d's forward.
//   Ho = (H − 1)·stride − 2·pad + dilation·(kh − 1) + output_pad + 1
#pragma once
#include "core/tensor.h"

namespace pg {

struct ConvTranspose2dParams {
  int stride = 1;
  int pad = 0;
  int output_pad = 0;  // extra rows/cols at the bottom/right, < stride (or < dilation)
  int dilation = 1;
  int groups = 1;
};

// x: (N, C, H, W), weight: (C, K/groups, kh, kw) (PyTorch's layout), bias: (K) or undefined
// → (N, K, Ho, Wo).
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const ConvTranspose2dParams& p);

}  // namespace pg
