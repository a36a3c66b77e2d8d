// Element-wise arithmetic on tensors of the same shape, and scaling by a constant.
#pragma once
#include <vector>

#include "core/tensor.h"

namespace pg {

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor scale(const Tensor& x, float factor);
Tensor add_scalar(const Tensor& x, float value);
Tensor sum_of(const std::vector<Tensor>& terms);  // a + b + c + ...: ASPP v2's summed branches
// Pixel-wise maximum of same-shape tensors (multi-scale fusion); the gradient goes to the
// first input holding the maximum.
Tensor maximum(const std::vector<Tensor>& terms);

}  // namespace pg
