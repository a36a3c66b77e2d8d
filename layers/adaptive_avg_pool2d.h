// AdaptiveAvgPool2d: average pooling to a fixed output size whatever the input size (PSPNet's
// pyramid bins 1, 2, 3, 6; image-level pooling with 1×1). Bin i of b over length L spans
// [floor(i·L/b), ceil((i+1)·L/b)).
#pragma once
#include "layers/module.h"

namespace pg {

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(int out_size) : AdaptiveAvgPool2d(out_size, out_size) {}
  AdaptiveAvgPool2d(int out_h, int out_w);

  // x: (N, C, H, W) → (N, C, out_h, out_w)
  Tensor forward(const Tensor& x) override;

  int out_h() const { return out_h_; }
  int out_w() const { return out_w_; }

 private:
  int out_h_;
  int out_w_;
};

}  // namespace pg
