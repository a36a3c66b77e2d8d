// AdaptiveAvgPool2d layer: forwards to adaptive_avg_pool2d with its fixed output size.
#include "layers/adaptive_avg_pool2d.h"

#include "core/ops/pool2d.h"

namespace pg {

AdaptiveAvgPool2d::AdaptiveAvgPool2d(int out_h, int out_w) : out_h_(out_h), out_w_(out_w) {
  check(out_h > 0 && out_w > 0, "AdaptiveAvgPool2d: output size must be positive, got ", out_h, "×", out_w);
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) {
  return adaptive_avg_pool2d(x, out_h_, out_w_);
}

}  // namespace pg
