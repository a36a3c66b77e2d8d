// Reductions to a scalar (shape ()).
#pragma once
#include "core/tensor.h"

namespace pg {

Tensor sum(const Tensor& x);
Tensor mean(const Tensor& x);

}  // namespace pg
