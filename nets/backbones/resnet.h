// ResNet-50 / ResNet-101 backbone (He et al., "Deep Residual Learning for Image Recognition",
// CVPR 2016) as torchvision builds it (bottleneck "v1.5": the stride on the 3×3 conv), without
// the classifier (avgpool + fc), with an output-stride knob that trades strides for dilations
// (DeepLab), DeepLab v3's multi-grid rates in the last stage, and the features of every stage.
// Parameter names are torchvision's (conv1, bn1, layer1.0.conv1, …, layer4.2.downsample.1), so
// its ImageNet weights load by name once "fc.*" and "*.num_batches_tracked" are dropped.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/rng.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/max_pool2d.h"
#include "layers/sequential.h"
#include "nets/backbones/bottleneck.h"
#include "nets/backbones/output_stride.h"

namespace pg {

struct ResNetConfig {
  std::vector<int> blocks;      // bottleneck units in layer1..layer4 (ResNet-50: 3, 4, 6, 3)
  std::vector<int64_t> widths;  // each stage's bottleneck width; the stage outputs 4× it (64…512)
  int64_t stem_channels = 64;   // conv1's output channels
  int output_stride = 32;  // 32 (classification), 16 (layer4 dilated) or 8 (layer3 and layer4); 4 also works
  // Multi-grid (DeepLab v3): empty, or one factor per layer4 unit; unit i's 3×3 rate is then the
  // stage's rate × multi_grid[i] (TF DeepLab's and mmseg's convention: the first unit included,
  // overriding torchvision's "first unit keeps the previous rate"). DeepLab v3: (1, 2, 4).
  std::vector<int> multi_grid;

  static ResNetConfig resnet50(int output_stride = 32);
  static ResNetConfig resnet101(int output_stride = 32);
  // A toy ResNet for 64×64 images: stem 8, widths 8/16/32/64 (outputs 32…256), 2 units per stage
  // (so a dilated stage has units at both its first and its own rate), the same stem, bottlenecks,
  // downsample shortcuts and dilation knob as the real one.
  static ResNetConfig tiny(int output_stride = 32);
};

// The output of every stage. Strides at output stride 32; at 16 layer4 stays at 16, at 8 layer3
// and layer4 stay at 8.
struct ResNetFeatures {
  Tensor stem;    // C1: relu(bn1(conv1(x))), (N, stem_channels, H/2, W/2), before the max pool
  Tensor layer1;  // C2: (N, 4·widths[0], H/4, W/4)
  Tensor layer2;  // C3: (N, 4·widths[1], H/8, W/8)
  Tensor layer3;  // C4: (N, 4·widths[2], H/16, W/16)
  Tensor layer4;  // C5: (N, 4·widths[3], H/32, W/32)
};

class ResNet : public Module {
 public:
  ResNet(const ResNetConfig& config, Rng& rng);

  // images: (N, 3, H, W) → every stage's output (sizes rounded up: ceil(H/stride)).
  ResNetFeatures features(const Tensor& images);
  // images: (N, 3, H, W) → layer4: (N, out_channels(4), ceil(H/os), ceil(W/os))
  Tensor forward(const Tensor& images) override;

  // Channels of stage 0 (the stem), 1…4 (layer1…layer4).
  int64_t out_channels(int stage) const;
  const ResNetConfig& config() const { return config_; }
  // How layer1..layer4 run at this output stride (stride, first-unit and later-unit dilation).
  const std::vector<StageGeometry>& geometry() const { return geometry_; }
  // The 3×3 dilation of each unit of layer `stage` (1…4), multi-grid included.
  std::vector<int> unit_dilations(int stage) const;

  // Fine-tuning with small batches (DeepLab, PSPNet): every batch norm uses and keeps its
  // running statistics; freeze_affine also stops learning γ and β.
  void freeze_batch_norm(bool freeze_affine = true);

 private:
  std::shared_ptr<Sequential> make_stage(int stage, int64_t& in_channels, Rng& rng);

  ResNetConfig config_;
  std::vector<StageGeometry> geometry_;
  std::vector<std::vector<int>> unit_dilations_;  // [stage 0..3][unit]
  std::shared_ptr<Conv2d> conv1_;
  std::shared_ptr<BatchNorm2d> bn1_;
  std::shared_ptr<MaxPool2d> maxpool_;
  std::vector<std::shared_ptr<Sequential>> layers_;  // layer1..layer4
  std::vector<std::shared_ptr<Bottleneck>> units_;   // every unit, for freezing
};

}  // namespace pg
