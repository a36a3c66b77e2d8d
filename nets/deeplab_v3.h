// DeepLab v3 (Chen, Papandreou, Schroff, Adam, "Rethinking Atrous Convolution for Semantic Image
// Segmentation", 2017): a ResNet-101 whose last strides are traded for atrous rates (output
// stride 16, or 8 for evaluation), multi-grid rates (1, 2, 4) in its last block, the improved
// ASPP (nets/aspp.h) on top, a 1×1 conv to class scores and a bilinear upsample to the input.
//
//   images (N, 3, H, W) → ResNet-101 at output stride os, layer4 rates d·(1, 2, 4)
//     → (N, 2048, H/os, W/os) → ASPP (rates 6, 12, 18 at os 16; 12, 24, 36 at os 8)
//     → (N, 256, H/os, W/os) → 1×1 logits → (N, C, H/os, W/os) → bilinear → (N, C, H, W)
//
// Output stride is one knob: DeepLabV3Config::at_output_stride(os) sets the backbone's stride
// (its strides become dilations) and the ASPP rates follow from the rate schedule. The paper
// trains at 16 and evaluates at 8 with the same weights: DeepLabV3::at_output_stride builds the
// net again at the new stride and copies every parameter and buffer in, as TF DeepLab does (it
// rebuilds the graph at eval_output_stride and restores the checkpoint) — names and shapes do
// not depend on the stride, only the dilations (and the maps' sizes) change.
//
// Heads (DeepLabV3Head):
//   aspp         the paper (and TF DeepLab): ASPP → 1×1 logits
//   torchvision  torchvision's deeplabv3_resnet101: ASPP with dropout 0.5, then an extra 3×3 conv
//                256 + BN + ReLU before the logits; torchvision also builds it at output stride
//                8 (rates 12, 24, 36) without multi-grid, and adds an FCN auxiliary head on
//                layer3 (not built here). DeepLabV3Config::torchvision() is that net, whose
//                parameters load from torchvision's state_dict by name.
//   cascade      the paper's Sec. 3.2, "going deeper with atrous convolution": no ASPP; blocks
//                5, 6, 7 (copies of layer4, stride 1) follow layer4 with rates doubling per block
//                (2, 4, 8, 16 for blocks 4–7 at output stride 16), times the multi-grid factors.
//
// Parameter names are torchvision's (torchvision/models/segmentation/deeplabv3.py): backbone.*
// (conv1, layer1.0.conv1, …), classifier.0.* the ASPP (convs.0 … convs.4, project), then
// classifier.1 the logits (aspp), classifier.1/.2/.4 the 3×3 conv, its BN and the logits
// (torchvision; index 3 is its ReLU), or classifier.0…2 blocks 5–7 and classifier.3 the logits
// (cascade). Upsampling is align_corners = false, as torchvision (TF uses true).
//
// The image-pooling branch's batch norm sees one value per channel and image: training at batch
// 1 is a pg::Error naming ASPP image pooling; freeze_batch_norm() (the paper's fine-tuning step)
// or eval() lifts it.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/rng.h"
#include "layers/conv2d.h"
#include "layers/relu.h"
#include "layers/sequential.h"
#include "nets/aspp.h"
#include "nets/backbones/resnet.h"
#include "nets/segmentation_net.h"

namespace pg {

enum class DeepLabV3Head { aspp, torchvision, cascade };

// ResNet-101 at `output_stride` with DeepLab v3's multi-grid (1, 2, 4) in layer4.
ResNetConfig deeplab_resnet101(int output_stride);
// ResNetConfig::tiny with a third layer4 unit so that multi-grid (1, 2, 4) is kept.
ResNetConfig deeplab_resnet_tiny(int output_stride);

struct DeepLabV3Config {
  int num_classes = 21;
  ResNetConfig backbone = deeplab_resnet101(16);  // its output_stride is the knob
  AsppRateSchedule aspp_rates = AsppRateSchedule::deeplab_v3();
  int64_t aspp_channels = 256;
  float dropout = 0.1f;  // after ASPP's projection
  DeepLabV3Head head = DeepLabV3Head::aspp;
  int cascade_blocks = 3;  // head cascade: blocks 5, 6, 7

  static DeepLabV3Config full(int num_classes);  // ResNet-101, OS 16, multi-grid, rates 6, 12, 18
  static DeepLabV3Config tiny(int num_classes);  // tiny ResNet, OS 8, multi-grid, rates 1, 2, 3, width 32
  static DeepLabV3Config torchvision(int num_classes);  // torchvision's deeplabv3_resnet101 without aux head

  int output_stride() const { return backbone.output_stride; }
  // The same net at another output stride: backbone strides ↔ dilations, ASPP rates scaled.
  DeepLabV3Config at_output_stride(int output_stride) const;
  // The ASPP rates at this output stride.
  std::vector<int> rates() const { return aspp_rates_for_output_stride(output_stride(), aspp_rates); }
};

class DeepLabV3 : public SegmentationNet {
 public:
  DeepLabV3(const DeepLabV3Config& config, Rng& rng);

  // images: (N, 3, H, W), any H, W ≥ 1 → logits (N, num_classes, H, W)
  Tensor forward(const Tensor& images) override;
  // images → the backbone's last map, what ASPP sees: (N, 4·widths[3], ceil(H/os), ceil(W/os))
  Tensor encoder_features(const Tensor& images);

  int num_classes() const override { return config_.num_classes; }
  const DeepLabV3Config& config() const { return config_; }
  const ResNet& backbone() const { return *backbone_; }
  const Aspp* aspp() const { return aspp_.get(); }  // null for the cascade head
  // The 3×3 rate of each unit of cascade block b (0 = block5), multi-grid included.
  std::vector<int> cascade_unit_dilations(int block) const;

  // This net, trained, at another output stride: same parameters and buffers (copied), new
  // dilations and ASPP rates. The paper's "train at 16, evaluate at 8".
  std::shared_ptr<DeepLabV3> at_output_stride(int output_stride) const;

  // Every batch norm (backbone, ASPP, head) uses and keeps its running statistics.
  void freeze_batch_norm(bool freeze_affine = true);

 private:
  DeepLabV3Config config_;
  std::shared_ptr<ResNet> backbone_;
  std::shared_ptr<Aspp> aspp_;                        // heads aspp, torchvision
  std::shared_ptr<Conv2d> head_conv_;                 // head torchvision: 3×3 256 → 256
  std::shared_ptr<BatchNorm2d> head_bn_;              // head torchvision
  std::shared_ptr<ReLU> head_relu_;                   // head torchvision
  std::vector<std::shared_ptr<Sequential>> cascade_;  // head cascade: blocks 5, 6, …
  std::vector<std::vector<int>> cascade_dilations_;   // [block][unit]
  std::shared_ptr<Conv2d> logits_;                    // 1×1 → num_classes, with bias
};

std::shared_ptr<DeepLabV3> make_deeplab_v3(const DeepLabV3Config& config, uint64_t seed);

// Copies every parameter and buffer of `source` into `destination` by name, checking that both
// have the same names and shapes (for moving weights between output strides).
void copy_state(const Module& source, Module& destination);
// Freezes every BatchNorm2d under `module` (see BatchNorm2d::freeze).
void freeze_every_batch_norm(Module& module, bool freeze_affine);

}  // namespace pg
