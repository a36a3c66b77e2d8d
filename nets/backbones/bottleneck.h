// Bottleneck: ResNet's residual unit for the deep nets (He et al., "Deep Residual Learning for
// Image Recognition", 2016), in torchvision's "v1.5" form: 1×1 reduce → 3×3 (the stride and the
// dilation sit here) → 1×1 expand ×4, each followed by batch norm, plus a shortcut that is the
// identity or, when the shape changes, a strided 1×1 conv + BN ("downsample").
#pragma once
#include <cstdint>
#include <memory>

#include "core/rng.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/sequential.h"

namespace pg {

constexpr int64_t kBottleneckExpansion = 4;  // out_channels = 4 · width

struct BottleneckOptions {
  int64_t in_channels = 0;
  int64_t width = 0;  // the 3×3 conv's channels ("planes" in torchvision)
  int stride = 1;
  int dilation = 1;  // of the 3×3 conv, padded by the same amount so the size depends on the stride only
};

class Bottleneck : public Module {
 public:
  // Parameters named as torchvision's Bottleneck: conv1, bn1, conv2, bn2, conv3, bn3 and, when
  // stride ≠ 1 or in_channels ≠ 4·width, downsample.0 (1×1 conv) and downsample.1 (BN).
  // Convs without bias, He-normal (fan_out) weights; BN γ = 1, β = 0 (torchvision's init).
  Bottleneck(const BottleneckOptions& options, Rng& rng);

  // x: (N, in_channels, H, W) → (N, 4·width, ceil(H/stride), ceil(W/stride))
  //   y = relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x))))))))) + shortcut(x))
  Tensor forward(const Tensor& x) override;

  const BottleneckOptions& options() const { return options_; }
  int64_t out_channels() const { return kBottleneckExpansion * options_.width; }
  // The unit's batch norms (bn1–bn3 and the shortcut's), for freezing.
  std::vector<std::shared_ptr<BatchNorm2d>> batch_norms() const;

 private:
  BottleneckOptions options_;
  std::shared_ptr<Conv2d> conv1_;
  std::shared_ptr<BatchNorm2d> bn1_;
  std::shared_ptr<Conv2d> conv2_;
  std::shared_ptr<BatchNorm2d> bn2_;
  std::shared_ptr<Conv2d> conv3_;
  std::shared_ptr<BatchNorm2d> bn3_;
  std::shared_ptr<Sequential> downsample_;  // null: identity shortcut
  std::shared_ptr<BatchNorm2d> downsample_bn_;
};

}  // namespace pg
