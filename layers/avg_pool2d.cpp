// AvgPool2d layer: checks its window at construction, then forwards to avg_pool2d.
#include "layers/avg_pool2d.h"

namespace pg {

AvgPool2d::AvgPool2d(const Pool2dParams& params) : params_(params) {
  check_pool2d_params("AvgPool2d", params);
  check(params.dilation == 1, "AvgPool2d: average pooling has no dilation (as PyTorch's), got ", params.dilation);
}

Tensor AvgPool2d::forward(const Tensor& x) {
  return avg_pool2d(x, params_);
}

}  // namespace pg
