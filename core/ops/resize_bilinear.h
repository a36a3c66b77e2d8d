// resize_bilinear: bilinear interpolation of each H×W plane, both conventions.
//   align_corners = true:  src = dst · (in − 1) / (out − 1)
//   align_corners = false: src = (dst + 0.5) · ratio − 0.5, clamped at 0, ratio = in / out
// (with a scale factor and align_corners = false, ratio = 1 / scale, as PyTorch's interpolate).
// Backward scatters each output gradient to its four source pixels with the same weights.
#pragma once
#include "core/tensor.h"

namespace pg {

// x: (N, C, H, W) → (N, C, out_h, out_w)
Tensor resize_bilinear(const Tensor& x, int out_h, int out_w, bool align_corners);
// x: (N, C, H, W) → (N, C, floor(H·scale), floor(W·scale))
Tensor resize_bilinear_scale(const Tensor& x, float scale, bool align_corners);

}  // namespace pg
