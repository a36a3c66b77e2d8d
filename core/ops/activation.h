// Element-wise activations: y = f(x), dx += f'(x) · dy. At relu's kink (x = 0) the gradient is 0.
#pragma once
#include "core/tensor.h"

namespace pg {

Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, float negative_slope = 0.01f);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);

}  // namespace pg
