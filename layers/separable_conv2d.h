// SeparableConv2d: a k×k depthwise conv (groups = C, dilated, no bias) followed by a 1×1
// pointwise conv — MobileNet / Xception's factorisation of a dense k×k conv, with
// C·k² + C·K weights instead of C·K·k². DeepLab v3+'s "atrous separable conv" puts BN + ReLU
// after each of the two (the default here); TF DeepLab's aligned Xception keeps both BNs but
// drops the ReLUs (its units apply a ReLU before each separable conv instead); the plain variant
// is depthwise → pointwise only.
// Children are named "depthwise", "depthwise_bn", "pointwise", "pointwise_bn" for the PyTorch twin.
#pragma once
#include <cstdint>
#include <memory>

#include "core/rng.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/module.h"

namespace pg {

struct SeparableConv2dOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int kernel = 3;
  int stride = 1;         // of the depthwise conv
  int pad = 1;            // of the depthwise conv; "same" at stride 1 is dilation·(kernel − 1)/2
  int dilation = 1;       // of the depthwise conv (atrous separable conv)
  int pad_end_extra = 0;  // TF "SAME" at stride 2
  // true:  depthwise → BN → ReLU → pointwise → BN → ReLU (DeepLab v3+)
  // false: depthwise → pointwise (no BN, no ReLU; callers add their own)
  bool batch_norm_relu = true;
  // With batch_norm_relu: false leaves out both ReLUs, depthwise → BN → pointwise → BN
  // (aligned Xception's entry and middle flows).
  bool relu = true;
  bool pointwise_bias = false;  // a bias on the pointwise conv (useless before a BN)
  BatchNorm2dOptions bn = {};
};

class SeparableConv2d : public Module {
 public:
  SeparableConv2d(const SeparableConv2dOptions& options, Rng& rng);

  // x: (N, in_channels, H, W) → depthwise: (N, in_channels, Ho, Wo) → (N, out_channels, Ho, Wo)
  Tensor forward(const Tensor& x) override;

  const SeparableConv2dOptions& options() const { return options_; }
  Conv2d& depthwise() const { return *depthwise_; }
  Conv2d& pointwise() const { return *pointwise_; }
  BatchNorm2d* depthwise_bn() const { return depthwise_bn_.get(); }  // null in the plain variant
  BatchNorm2d* pointwise_bn() const { return pointwise_bn_.get(); }  // null in the plain variant

 private:
  SeparableConv2dOptions options_;
  std::shared_ptr<Conv2d> depthwise_;
  std::shared_ptr<BatchNorm2d> depthwise_bn_;
  std::shared_ptr<Conv2d> pointwise_;
  std::shared_ptr<BatchNorm2d> pointwise_bn_;
};

}  // namespace pg
