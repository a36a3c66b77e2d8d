// conv2d: 2-D cross-correlation with stride, zero padding (symmetric, or with extra rows/cols at
// the bottom/right as TF "SAME" needs for stride 2), dilation and groups (groups = C is depthwise).
//   y[n,k,i,j] = b[k] + Σ_{c in group(k)} Σ_{u,v} w[k,c,u,v] · x[n, c, i·s − pad + u·d, j·s − pad + v·d]
// Forward and both backwards go through kernels/cpu/conv.h (im2col + GEMM) or, for depthwise,
// kernels/cpu/depthwise_conv.h.
#pragma once
#include "core/tensor.h"

namespace pg {

struct Conv2dParams {
  int stride = 1;
  int pad = 0;            // zero rows/cols added on every side
  int dilation = 1;
  int groups = 1;
  int pad_end_extra = 0;  // further zero rows/cols at the bottom and right only (asymmetric padding)
};

// x: (N, C, H, W), weight: (K, C/groups, kh, kw), bias: (K) or undefined → (N, K, Ho, Wo).
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p);

}  // namespace pg
