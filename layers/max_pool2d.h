// MaxPool2d: the Module around max_pool2d (window, stride, padding, ceil mode as PyTorch's
// nn.MaxPool2d), with forward_with_indices for SegNet, whose decoder max-unpools with the
// encoder's argmax positions.
#pragma once
#include "core/ops/pool2d.h"
#include "layers/module.h"

namespace pg {

class MaxPool2d : public Module {
 public:
  // e.g. MaxPool2d({.kernel = 3, .stride = 2, .pad = 1}); count_include_pad is not used.
  explicit MaxPool2d(const Pool2dParams& params = {});

  // x: (N, C, H, W) → (N, C, Ho, Wo)
  Tensor forward(const Tensor& x) override;
  // The output and, per output element, the flat index h·W + w of its maximum in the input plane.
  MaxPoolResult forward_with_indices(const Tensor& x);

  const Pool2dParams& params() const { return params_; }

 private:
  Pool2dParams params_;
};

}  // namespace pg
