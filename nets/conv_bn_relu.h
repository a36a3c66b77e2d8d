// ConvBnRelu: conv (no bias: batch norm's mean cancels it) → batch norm → ReLU, the unit every
// PSPNet / UperNet head is built from. Its children are named "conv" and "bn", as mmsegmentation's
// ConvModule, so a head's parameters read "decode_head.bottleneck.conv.weight",
// "decode_head.psp_modules.0.1.bn.running_mean".
#pragma once
#include <cstdint>
#include <memory>

#include "core/rng.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"

namespace pg {

struct ConvBnReluOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int kernel = 1;    // square; padded by dilation·(kernel − 1)/2 so the size is kept
  int dilation = 1;  // of the conv
};

class ConvBnRelu : public Module {
 public:
  // The conv He-normal (fan_out, as mmcv's ConvModule), BN γ = 1, β = 0.
  ConvBnRelu(const ConvBnReluOptions& options, Rng& rng);

  // x: (N, in_channels, H, W) → relu(bn(conv(x))): (N, out_channels, H, W)
  Tensor forward(const Tensor& x) override;

  const ConvBnReluOptions& options() const { return options_; }

 private:
  ConvBnReluOptions options_;
  std::shared_ptr<Conv2d> conv_;
  std::shared_ptr<BatchNorm2d> bn_;
};

}  // namespace pg
