// AvgPool2d: the Module around avg_pool2d (window, stride, padding, ceil mode, and whether the
// zero padding counts in the divisor, as PyTorch's nn.AvgPool2d).
#pragma once
#include "core/ops/pool2d.h"
#include "layers/module.h"

namespace pg {

class AvgPool2d : public Module {
 public:
  // e.g. AvgPool2d({.kernel = 3, .stride = 1, .pad = 1, .count_include_pad = false})
  explicit AvgPool2d(const Pool2dParams& params = {});

  // x: (N, C, H, W) → (N, C, Ho, Wo)
  Tensor forward(const Tensor& x) override;

  const Pool2dParams& params() const { return params_; }

 private:
  Pool2dParams params_;
};

}  // namespace pg
