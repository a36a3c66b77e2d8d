// MaxPool2d layer: checks its window at construction, then forwards to the pooling ops.
#include "layers/max_pool2d.h"

namespace pg {

MaxPool2d::MaxPool2d(const Pool2dParams& params) : params_(params) {
  check_pool2d_params("MaxPool2d", params);
}

Tensor MaxPool2d::forward(const Tensor& x) {
  return max_pool2d(x, params_);
}

MaxPoolResult MaxPool2d::forward_with_indices(const Tensor& x) {
  return max_pool2d_with_indices(x, params_);
}

}  // namespace pg
