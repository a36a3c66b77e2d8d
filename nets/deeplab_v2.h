// DeepLab v2 (Chen, Papandreou, Kokkinos, Murphy, Yuille, "DeepLab: Semantic Image Segmentation
// with Deep Convolutional Nets, Atrous Convolution, and Fully Connected CRFs", TPAMI 2018).
//
// Atrous spatial pyramid pooling (ASPP): four parallel branches read the backbone's stride-8
// features, each with its own dilation rate (6, 12, 18, 24: fields of view from small to most of
// the image), each ending in class scores; the four class maps are SUMMED (not concatenated:
// that is DeepLab v3's ASPP). Two backbones, as the paper and its Caffe release:
//   VGG-16 (DeepLab-ASPP-L): the LargeFOV VGG of v1; branch i = fc6_i (3×3 dilated, 1024) → fc7_i
//     (1×1, 1024) → fc8_i (1×1 → C), dropout 0.5 after fc6_i and fc7_i (nets/deeplab_v1.h).
//   ResNet-101: output stride 8 by dilation (layer3 rate 2, layer4 rate 4), batch norm frozen as
//     the release's (running statistics, γ and β fixed); branch i = fc1_c<i>, one 3×3 dilated conv
//     2048 → C with bias. One difference from the release, in the shared backbone: ours follows
//     torchvision (each dilated stage's first unit keeps the previous rate: layer3 1, 2, 2, …,
//     layer4 2, 4, 4; stride on the 3×3), the release dilates res4a by 2 and res5a by 4 too (and
//     strides the 1×1). Parameter counts are the same.
// Multi-scale inputs (nets/multi_scale.h) are a setting (scales {1, 0.75, 0.5}: the "-msc" entries).
// Training: cross-entropy of the stride-8 scores against the labels shrunk ×8 (four losses with
// multi-scale inputs); the release's lr multipliers (classifier ×10, biases ×2). forward():
// the (fused) score map bilinearly upsampled to the input, corners aligned. The fully connected
// CRF plugs in after it through set_refiner / predict (nets/logits_refiner.h), its own issue.
#pragma once
#include <memory>
#include <vector>

#include "core/rng.h"
#include "layers/conv2d.h"
#include "nets/backbones/resnet.h"
#include "nets/backbones/vgg16.h"
#include "nets/deeplab_v1.h"
#include "nets/logits_refiner.h"
#include "nets/segmentation_net.h"

namespace pg {

enum class DeepLabV2Backbone { vgg16, resnet101 };

struct DeepLabV2Config {
  int num_classes = 21;
  DeepLabV2Backbone backbone = DeepLabV2Backbone::vgg16;
  std::vector<int> rates = {6, 12, 18, 24};  // one ASPP branch per rate
  std::vector<float> scales = {1.0f};        // input scales; {1, 0.75, 0.5}: multi-scale inputs
  // The VGG form:
  Vgg16Config vgg = Vgg16Config::deeplab_largefov();
  int64_t fc_width = 1024;  // fc6_i and fc7_i
  float dropout = 0.5f;
  // The ResNet form (any ResNetConfig at output stride 8: ResNet-101 for the paper's net):
  ResNetConfig resnet = ResNetConfig::resnet101(8);
  bool freeze_batch_norm = true;         // normalise with the running statistics, never update them
  bool freeze_batch_norm_affine = true;  // and keep γ and β fixed (the release's Scale lr_mult 0)

  static DeepLabV2Config vgg_full(int num_classes);     // DeepLab-ASPP-L, VGG-16 (37.9M parameters)
  static DeepLabV2Config vgg_tiny(int num_classes);     // tiny VGG, fc 64, rates 1-2-3-4 on an 8×8 map
  static DeepLabV2Config resnet_full(int num_classes);  // ResNet-101, rates 6-12-18-24 (44.0M)
  static DeepLabV2Config resnet_tiny(int num_classes);  // ResNetConfig::tiny(8), rates 1-2-3-4
  DeepLabV2Config with_multi_scale() const;             // the same net on scales 1, 0.75, 0.5
};

class DeepLabV2 : public SegmentationNet {
 public:
  DeepLabV2(const DeepLabV2Config& config, Rng& rng);

  // images: (N, 3, H, W) → the summed ASPP class maps at output stride 8: (N, C, h, w), h = ceil(H/8)
  // (one scale: this net, no multi-scale fusion)
  Tensor score_map(const Tensor& images);
  // images: (N, 3, H, W) → logits (N, C, H, W): the score map (multi-scale: the max-fused one)
  // upsampled, corners aligned
  Tensor forward(const Tensor& images) override;
  // Σ over the scales and the fused map of the cross-entropy against the shrunk labels (one term
  // with one scale)
  Tensor training_loss(const Batch& batch, const CrossEntropyParams& loss) override;
  // deeplab_parameter_groups with the classifiers (fc8_i, or fc1_c<i>) as the ×10 group
  std::vector<ParamGroup> parameter_groups() const override;
  int num_classes() const override { return config_.num_classes; }
  const DeepLabV2Config& config() const { return config_; }

  // The CRF's plug: predict = refine_logits(refiner, images, forward(images)).
  void set_refiner(std::shared_ptr<LogitsRefiner> refiner) { refiner_ = std::move(refiner); }
  Tensor predict(const Tensor& images);

 private:
  // features: (N, C_backbone, h, w) → Σ_i branch_i(features): (N, num_classes, h, w)
  Tensor aspp(const Tensor& features);
  bool is_classifier(const std::string& parameter_name) const;

  DeepLabV2Config config_;
  std::shared_ptr<Module> backbone_;                               // Vgg16 or ResNet
  std::vector<std::unique_ptr<LargeFovClassifier>> vgg_branches_;  // VGG: fc6_i → fc7_i → fc8_i
  std::vector<std::shared_ptr<Conv2d>> resnet_branches_;           // ResNet: fc1_c<i>
  std::shared_ptr<LogitsRefiner> refiner_;
};

std::shared_ptr<DeepLabV2> make_deeplab_v2(const DeepLabV2Config& config, uint64_t seed);

}  // namespace pg
