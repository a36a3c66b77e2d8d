// Ops that move values without arithmetic: concatenation, slicing, cropping and zero padding.
#pragma once
#include <vector>

#include "core/tensor.h"

namespace pg {

// All inputs equal in every dimension but `dim`. (Channels: dim = 1.)
Tensor concat(const std::vector<Tensor>& inputs, int dim);
// Elements [start, end) along `dim`.
Tensor slice(const Tensor& x, int dim, int64_t start, int64_t end);
// x: (N, C, H, W) → (N, C, height, width), the window starting at (top, left).
Tensor crop2d(const Tensor& x, int top, int left, int height, int width);
// x: (N, C, H, W) → (N, C, H + top + bottom, W + left + right), zeros around.
Tensor pad2d(const Tensor& x, int top, int bottom, int left, int right);

}  // namespace pg
