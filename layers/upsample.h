// Upsample: bilinear resizing as a Module, to a fixed size or by a scale factor, with either
// corner convention (align_corners true: TF DeepLab, PSPNet's author code; false: torchvision).
// Nets that resize to another tensor's size call the resize_bilinear op directly.
#pragma once
#include "layers/module.h"

namespace pg {

struct UpsampleOptions {
  int out_h = 0;  // a fixed output size (both > 0), or
  int out_w = 0;
  float scale = 0.0f;  // a scale factor (> 0): output floor(H·scale) × floor(W·scale)
  bool align_corners = false;
};

class Upsample : public Module {
 public:
  // Exactly one of size (out_h, out_w) and scale is given.
  explicit Upsample(const UpsampleOptions& options);

  // x: (N, C, H, W) → (N, C, out_h, out_w) or (N, C, floor(H·scale), floor(W·scale))
  Tensor forward(const Tensor& x) override;

  const UpsampleOptions& options() const { return options_; }

 private:
  UpsampleOptions options_;
};

}  // namespace pg
