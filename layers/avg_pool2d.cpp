// AvgPool2d layer: checks its window at construction, then forwards to avg_pool2d.
#include "layers/avg_pool2d.h"

namespace pg {

AvgPool2d::AvgPool2d(const Pool2dParams& params) : params_(params) {
  check(params.kernel > 0 && params.stride > 0 && params.pad >= 0 && 2 * params.pad <= params.kernel,
        "AvgPool2d: kernel and stride must be positive and 0 ≤ pad ≤ kernel/2, got kernel ", params.kernel,
        ", stride ", params.stride, ", pad ", params.pad);
}

Tensor AvgPool2d::forward(const Tensor& x) {
  return avg_pool2d(x, params_);
}

}  // namespace pg
