// MaxPool2d layer: checks its window at construction, then forwards to the pooling ops.
#include "layers/max_pool2d.h"

namespace pg {

MaxPool2d::MaxPool2d(const Pool2dParams& params) : params_(params) {
  check(params.kernel > 0 && params.stride > 0 && params.pad >= 0 && 2 * params.pad <= params.kernel,
        "MaxPool2d: kernel and stride must be positive and 0 ≤ pad ≤ kernel/2, got kernel ", params.kernel,
        ", stride ", params.stride, ", pad ", params.pad);
}

Tensor MaxPool2d::forward(const Tensor& x) {
  return max_pool2d(x, params_);
}

MaxPoolResult MaxPool2d::forward_with_indices(const Tensor& x) {
  return max_pool2d_with_indices(x, params_);
}

}  // namespace pg
