// ReLU layer: forwards to the relu op.
#include "layers/relu.h"

#include "core/ops/activation.h"

namespace pg {

Tensor ReLU::forward(const Tensor& x) {
  return relu(x);
}

}  // namespace pg
