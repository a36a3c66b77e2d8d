// RefineNet (Lin, Milan, Shen, Reid, "RefineNet: Multi-Path Refinement Networks for
// High-Resolution Semantic Segmentation", CVPR 2017, Fig. 2c) and its light-weight variant
// (Nekrasov, Shen, Reid, "Light-Weight RefineNet for Real-Time Semantic Segmentation", BMVC 2018).
// A ResNet without dilation gives features at 1/4, 1/8, 1/16 and 1/32 (layer1…layer4); four
// cascaded RefineNet blocks (nets/refinenet_blocks.h) refine from coarse to fine:
//   refine4 on layer4 alone (width 512), refine3 on layer3 + refine4 (256), refine2 on layer2 +
//   refine3 (256), refine1 on layer1 + refine2 (256, at 1/4);
// then dropout, the classifier conv at 1/4 and bilinear upsampling ×4 to the input.
// Training: the backbone learns at 0.1 × the base lr (parameter_groups).
//
// Reference followed: DrSleep/refinenet-pytorch (models/resnet.py: rf101, the PyTorch port of the
// authors' MATLAB guosheng/refinenet, whose VOC weights it loads) and, for the light-weight
// variant, DrSleep/light-weight-refinenet (models/resnet.py: rf_lw50 / rf_lw101). Kept from it,
// where the paper's text says otherwise or nothing:
//   - CRP of 4 pool → conv blocks (the paper's text and Fig. 3d: 2);
//   - 3 output RCUs after every CRP (the paper's text: 1 per block, and 2 more before the softmax:
//     for refine1 the code's 3 are the paper's 1 + 2);
//   - a 3×3 classifier with bias (classifier_kernel; 1 gives a 1×1);
//   - dropout 0.5 (elementwise) on layer4 and layer3 before their blocks and on refine1's output;
//   - bilinear resizes with aligned corners inside the blocks, and align_corners = false for the
//     final ×4 (src/train.py of light-weight-refinenet resizes the 1/4 logits so);
//   - the backbone is torchvision's ResNet (nets/backbones/resnet.h; the port's is the same).
// The light-weight variant: every adapt, fusion and CRP conv 1×1, no RCUs at all, no dropout; its
// CRP keeps 4 blocks. Parameter names: "backbone." + torchvision's, and refine{4,3,2,1}.* as
// nets/refinenet_blocks.h maps them to the reference's flat names (its clf_conv: classifier).
#pragma once
#include <cstdint>
#include <memory>

#include "core/rng.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "nets/backbones/resnet.h"
#include "nets/refinenet_blocks.h"
#include "nets/segmentation_net.h"

namespace pg {

struct RefineNetConfig {
  int num_classes = 21;
  ResNetConfig backbone = ResNetConfig::resnet101();  // output stride 32: no dilation
  int64_t top_channels = 512;                         // refine4's width (on layer4)
  int64_t channels = 256;                             // refine3, refine2, refine1's width
  int conv_kernel = 3;        // the blocks' adapt, fusion and CRP convs (light-weight: 1)
  int adapt_rcus = 2;         // per block (light-weight: 0)
  int crp_blocks = 4;         // the reference code's 4; the paper's text has 2
  int output_rcus = 3;        // per block (light-weight: 0)
  int classifier_kernel = 3;  // the reference's 3×3 clf_conv
  float dropout = 0.5f;       // on layer4, layer3 and refine1's output (light-weight: 0)
  float backbone_lr_multiplier = 0.1f;

  // RefineNet-101 (the paper's VOC net): 118,052,437 parameters at 21 classes (the twin; 109,794,901
  // with the paper's CRP of 2; no published figure found).
  static RefineNetConfig full(int num_classes);
  // Light-weight RefineNet: RF-LW-ResNet-101 46,349,653 parameters at 21 classes, RF-LW-ResNet-50
  // 27,357,525 (the twin; the reference repo's README: 46M and 27M).
  static RefineNetConfig light_weight(int num_classes, ResNetConfig backbone = ResNetConfig::resnet101());
  // ResNetConfig::tiny() (stage outputs 32…256, a 2×2 top map at 64×64), widths 32 / 16: 571,486
  // parameters at 6 classes; light-weight 243,918.
  static RefineNetConfig tiny(int num_classes);
  static RefineNetConfig tiny_light_weight(int num_classes);
};

class RefineNet : public SegmentationNet {
 public:
  RefineNet(const RefineNetConfig& config, Rng& rng);

  // images: (N, 3, H, W), H and W multiples of 32 → logits (N, C, H, W)
  Tensor forward(const Tensor& images) override;
  // The backbone at backbone_lr_multiplier (0.1), the rest (blocks, classifier) at 1.
  std::vector<ParamGroup> parameter_groups() const override;
  int num_classes() const override { return config_.num_classes; }
  const RefineNetConfig& config() const { return config_; }

 private:
  void check_input(const Tensor& images) const;

  RefineNetConfig config_;
  std::shared_ptr<ResNet> backbone_;
  std::shared_ptr<RefineNetBlock> refine4_;  // 1/32
  std::shared_ptr<RefineNetBlock> refine3_;  // 1/16
  std::shared_ptr<RefineNetBlock> refine2_;  // 1/8
  std::shared_ptr<RefineNetBlock> refine1_;  // 1/4
  std::shared_ptr<Dropout> dropout_;
  std::shared_ptr<Conv2d> classifier_;
};

std::shared_ptr<RefineNet> make_refinenet(const RefineNetConfig& config, uint64_t seed);

}  // namespace pg
