// DeepLab v3+ (Chen, Zhu, Papandreou, Schroff, Adam, "Encoder-Decoder with Atrous Separable
// Convolution for Semantic Image Segmentation", ECCV 2018): DeepLab v3 as the encoder and a small
// decoder that brings back the boundaries from the backbone's stride-4 features (Fig. 2).
//
//   images (N, 3, H, W) → backbone → low-level (N, Cl, H/4, W/4), high-level (N, Ch, H/os, W/os)
//   encoder: high-level → ASPP (rates 6, 12, 18 at os 16; 12, 24, 36 at os 8) → (N, 256, H/os, W/os)
//   decoder: low-level → 1×1 conv 48 + BN + ReLU                          → (N, 48, H/4, W/4)
//            encoder output → bilinear to H/4 × W/4 (×4 at os 16)         → (N, 256, H/4, W/4)
//            concatenate → two 3×3 convs 256 (+ BN + ReLU each)           → (N, 256, H/4, W/4)
//            → 1×1 logits → bilinear ×4 to the input                      → (N, C, H, W)
//
// The backbone is a swappable part (DeepLabV3PlusBackbone): anything that gives the two maps.
// ResNetV3PlusBackbone is ResNet-101 (layer1 → low-level, 256 channels; layer4 → high-level,
// 2048); the aligned Xception-65 form (nets/backbones/xception.h) plugs in the same way. With
// `separable` the ASPP's 3×3 branches and the decoder's two 3×3 convs are atrous separable
// convs (depthwise → BN → ReLU → pointwise → BN → ReLU), the paper's Xception form.
//
// Follows TF DeepLab (tensorflow/models research/deeplab, model.py: refine_by_decoder), the
// paper's code: the encoder output is resized to the low-level map's size (×4 at output stride
// 16, ×2 at 8), concatenated before the projected low-level features, bilinear upsampling with
// align_corners = true. TF's ResNet puts each stage's stride on its last unit and takes the
// low-level features inside block1 (block1/unit_2/…/conv3); our torchvision-style ResNet takes
// layer1's output, the same stride 4 (as the common PyTorch ports do).
//
// Parameter names (TF's scopes in brackets): backbone.*; aspp.* (nets/aspp.h: convs.0…4,
// project) [aspp0…3, image_pooling, concat_projection]; decoder.feature_projection.0/.1
// [decoder/feature_projection0]; decoder.conv0, decoder.conv1 (.0 conv / .1 BN, or a
// SeparableConv2d's depthwise, depthwise_bn, pointwise, pointwise_bn) [decoder/decoder_conv0, 1];
// classifier [logits/semantic].
//
// Output stride is one knob, as in DeepLab v3: the backbone's stride sets the ASPP rates through
// the rate schedule, and DeepLabV3Plus::at_output_stride moves a trained net to another stride.
#pragma once
#include <cstdint>
#include <memory>

#include "core/rng.h"
#include "layers/conv2d.h"
#include "nets/aspp.h"
#include "nets/backbones/resnet.h"
#include "nets/segmentation_net.h"

namespace pg {

struct DeepLabV3PlusFeatures {
  Tensor low_level;   // (N, low_level_channels(), ceil(H/4), ceil(W/4)): where the decoder finds boundaries
  Tensor high_level;  // (N, high_level_channels(), ceil(H/os), ceil(W/os)): what ASPP sees
};

// What DeepLab v3+ needs of a backbone. The module is registered as the net's "backbone", so its
// parameters are named backbone.<its own names>.
class DeepLabV3PlusBackbone {
 public:
  virtual ~DeepLabV3PlusBackbone() = default;
  virtual std::shared_ptr<Module> module() const = 0;
  // images: (N, 3, H, W) → the two maps
  virtual DeepLabV3PlusFeatures features(const Tensor& images) = 0;
  virtual int64_t low_level_channels() const = 0;
  virtual int64_t high_level_channels() const = 0;
  virtual int output_stride() const = 0;
  // The same backbone at another output stride, with fresh weights (at_output_stride copies them).
  virtual std::unique_ptr<DeepLabV3PlusBackbone> at_output_stride(int output_stride, Rng& rng) const = 0;
};

// ResNet as v3+'s backbone: layer1 (stride 4) and layer4 (the output stride).
class ResNetV3PlusBackbone : public DeepLabV3PlusBackbone {
 public:
  ResNetV3PlusBackbone(const ResNetConfig& config, Rng& rng);

  std::shared_ptr<Module> module() const override { return resnet_; }
  DeepLabV3PlusFeatures features(const Tensor& images) override;
  int64_t low_level_channels() const override { return resnet_->out_channels(1); }
  int64_t high_level_channels() const override { return resnet_->out_channels(4); }
  int output_stride() const override { return resnet_->config().output_stride; }
  std::unique_ptr<DeepLabV3PlusBackbone> at_output_stride(int output_stride, Rng& rng) const override;
  const ResNet& resnet() const { return *resnet_; }

 private:
  std::shared_ptr<ResNet> resnet_;
};

struct DeepLabV3PlusConfig {
  int num_classes = 21;
  AsppRateSchedule aspp_rates = AsppRateSchedule::deeplab_v3();
  int64_t aspp_channels = 256;
  float dropout = 0.1f;               // after ASPP's projection (TF: keep_prob 0.9)
  int64_t low_level_projection = 48;  // the decoder's 1×1 on the low-level features
  int64_t decoder_channels = 256;     // of its two 3×3 convs
  bool separable = false;             // atrous separable ASPP and decoder convs (the Xception form)
  BatchNorm2dOptions bn = {};         // of ASPP's and the decoder's batch norms

  static DeepLabV3PlusConfig full(int num_classes);  // 256 / 48 / 256, rates 6, 12, 18 at OS 16
  static DeepLabV3PlusConfig tiny(int num_classes);  // 32 / 8 / 32, rates 1, 2, 3 at OS 8
};

// The decoder: project the low-level map, upsample the encoder output to it, concatenate, two
// 3×3 convs. Children feature_projection (.0 conv, .1 BN), conv0, conv1.
class DeepLabV3PlusDecoder : public Module {
 public:
  DeepLabV3PlusDecoder(int64_t encoder_channels, int64_t low_level_channels,
                       const DeepLabV3PlusConfig& config, Rng& rng);

  // encoder_output: (N, E, h, w), low_level: (N, L, h4, w4) → (N, decoder_channels, h4, w4)
  Tensor forward(const Tensor& encoder_output, const Tensor& low_level);

 private:
  std::shared_ptr<AsppConv> feature_projection_;  // 1×1 → BN → ReLU
  std::shared_ptr<Module> conv0_;                 // AsppConv 3×3 or SeparableConv2d
  std::shared_ptr<Module> conv1_;
};

class DeepLabV3Plus : public SegmentationNet {
 public:
  DeepLabV3Plus(const DeepLabV3PlusConfig& config, std::unique_ptr<DeepLabV3PlusBackbone> backbone, Rng& rng);

  // images: (N, 3, H, W), any H, W ≥ 1 → logits (N, num_classes, H, W)
  Tensor forward(const Tensor& images) override;

  int num_classes() const override { return config_.num_classes; }
  const DeepLabV3PlusConfig& config() const { return config_; }
  const DeepLabV3PlusBackbone& backbone() const { return *backbone_; }
  const Aspp& aspp() const { return *aspp_; }

  // This net, trained, at another output stride: same parameters and buffers (copied), new
  // dilations and ASPP rates; the decoder still works at stride 4.
  std::shared_ptr<DeepLabV3Plus> at_output_stride(int output_stride) const;
  // Every batch norm (backbone, ASPP, decoder) uses and keeps its running statistics.
  void freeze_batch_norm(bool freeze_affine = true);

 private:
  DeepLabV3PlusConfig config_;
  std::unique_ptr<DeepLabV3PlusBackbone> backbone_;
  std::shared_ptr<Aspp> aspp_;
  std::shared_ptr<DeepLabV3PlusDecoder> decoder_;
  std::shared_ptr<Conv2d> classifier_;  // 1×1 → num_classes, with bias
};

// DeepLab v3+ on ResNet: full = DeepLabV3PlusConfig::full with deeplab_resnet101(16)
// (nets/deeplab_v3.h), tiny = tiny with deeplab_resnet_tiny(8).
std::shared_ptr<DeepLabV3Plus> make_deeplab_v3plus_resnet(const DeepLabV3PlusConfig& config,
                                                          const ResNetConfig& resnet, uint64_t seed);

}  // namespace pg
