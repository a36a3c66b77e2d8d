// DeepLab v3+: the ResNet backbone adapter, the decoder, and the encoder → decoder → logits
// forward.
#include "nets/deeplab_v3plus.h"

#include "core/ops/resize_bilinear.h"
#include "core/ops/shape_ops.h"
#include "layers/separable_conv2d.h"
#include "nets/deeplab_v3.h"

namespace pg {

namespace {
constexpr bool kAlignCorners = true;  // TF DeepLab's resize_bilinear
}  // namespace

ResNetV3PlusBackbone::ResNetV3PlusBackbone(const ResNetConfig& config, Rng& rng)
    : resnet_(std::make_shared<ResNet>(config, rng)) {}

DeepLabV3PlusFeatures ResNetV3PlusBackbone::features(const Tensor& images) {
  ResNetFeatures f = resnet_->features(images);
  return {.low_level = f.layer1, .high_level = f.layer4};
}

std::unique_ptr<DeepLabV3PlusBackbone> ResNetV3PlusBackbone::at_output_stride(int output_stride,
                                                                              Rng& rng) const {
  ResNetConfig config = resnet_->config();
  config.output_stride = output_stride;
  return std::make_unique<ResNetV3PlusBackbone>(config, rng);
}

DeepLabV3PlusConfig DeepLabV3PlusConfig::full(int num_classes) {
  return {.num_classes = num_classes};
}

DeepLabV3PlusConfig DeepLabV3PlusConfig::tiny(int num_classes) {
  return {.num_classes = num_classes,
          .aspp_rates = AsppRateSchedule::tiny(),
          .aspp_channels = 32,
          .low_level_projection = 8,
          .decoder_channels = 32};
}

namespace {

// A 3×3 conv → BN → ReLU of the decoder, plain or separable.
std::shared_ptr<Module> decoder_conv(int64_t in, int64_t out, const DeepLabV3PlusConfig& c, Rng& rng) {
  if (c.separable)
    return std::make_shared<SeparableConv2d>(
        SeparableConv2dOptions{.in_channels = in, .out_channels = out, .kernel = 3, .pad = 1, .bn = c.bn},
        rng);
  return std::make_shared<AsppConv>(in, out, 3, 1, c.bn, rng);
}

}  // namespace

DeepLabV3PlusDecoder::DeepLabV3PlusDecoder(int64_t encoder_channels, int64_t low_level_channels,
                                           const DeepLabV3PlusConfig& c, Rng& rng) {
  feature_projection_ = register_module(
      "feature_projection",
      std::make_shared<AsppConv>(low_level_channels, c.low_level_projection, 1, 1, c.bn, rng));
  conv0_ = register_module(
      "conv0", decoder_conv(encoder_channels + c.low_level_projection, c.decoder_channels, c, rng));
  conv1_ = register_module("conv1", decoder_conv(c.decoder_channels, c.decoder_channels, c, rng));
}

Tensor DeepLabV3PlusDecoder::forward(const Tensor& encoder_output, const Tensor& low_level) {
  const int h4 = static_cast<int>(low_level.size(2)), w4 = static_cast<int>(low_level.size(3));
  Tensor low = feature_projection_->forward(low_level);                // (N, 48, h4, w4)
  Tensor up = resize_bilinear(encoder_output, h4, w4, kAlignCorners);  // (N, 256, h4, w4)
  Tensor x = concat({up, low}, 1);                                     // (N, 256 + 48, h4, w4)
  x = conv0_->forward(x);                                              // (N, 256, h4, w4)
  return conv1_->forward(x);                                           // (N, 256, h4, w4)
}

DeepLabV3Plus::DeepLabV3Plus(const DeepLabV3PlusConfig& config,
                             std::unique_ptr<DeepLabV3PlusBackbone> backbone, Rng& rng)
    : config_(config), backbone_(std::move(backbone)) {
  const DeepLabV3PlusConfig& c = config_;
  check(backbone_ != nullptr, "DeepLab v3+: the backbone is null");
  check(c.num_classes >= 1 && c.aspp_channels >= 1 && c.low_level_projection >= 1 && c.decoder_channels >= 1,
        "DeepLab v3+: num_classes and every width must be ≥ 1, got num_classes ", c.num_classes,
        ", aspp_channels ", c.aspp_channels, ", low_level_projection ", c.low_level_projection,
        ", decoder_channels ", c.decoder_channels);
  register_module("backbone", backbone_->module());
  aspp_ = register_module(
      "aspp", std::make_shared<Aspp>(
                  AsppOptions{.in_channels = backbone_->high_level_channels(),
                              .channels = c.aspp_channels,
                              .rates = aspp_rates_for_output_stride(backbone_->output_stride(), c.aspp_rates),
                              .separable = c.separable,
                              .dropout = c.dropout,
                              .bn = c.bn},
                  rng));
  decoder_ = register_module("decoder", std::make_shared<DeepLabV3PlusDecoder>(
                                            c.aspp_channels, backbone_->low_level_channels(), c, rng));
  classifier_ = register_module(
      "classifier",
      std::make_shared<Conv2d>(
          Conv2dOptions{.in_channels = c.decoder_channels, .out_channels = c.num_classes, .kernel = 1}, rng));
}

Tensor DeepLabV3Plus::forward(const Tensor& images) {
  check(images.defined() && images.dim() == 4 && images.size(1) == 3,
        "DeepLab v3+: expected images (N, 3, H, W), got ",
        images.defined() ? shape_str(images.shape()) : "an undefined tensor");
  DeepLabV3PlusFeatures f =
      backbone_->features(images);          // low (N, 256, H/4, W/4), high (N, 2048, H/os, W/os)
  Tensor x = aspp_->forward(f.high_level);  // encoder: (N, 256, H/os, W/os)
  x = decoder_->forward(x, f.low_level);    // (N, 256, H/4, W/4)
  Tensor logits = classifier_->forward(x);  // (N, C, H/4, W/4)
  return resize_bilinear(logits, static_cast<int>(images.size(2)), static_cast<int>(images.size(3)),
                         kAlignCorners);  // (N, C, H, W)
}

std::shared_ptr<DeepLabV3Plus> DeepLabV3Plus::at_output_stride(int output_stride) const {
  Rng unused(0);  // the new net's initial weights are overwritten
  auto net =
      std::make_shared<DeepLabV3Plus>(config_, backbone_->at_output_stride(output_stride, unused), unused);
  copy_state(*this, *net);
  net->train(is_training());
  return net;
}

void DeepLabV3Plus::freeze_batch_norm(bool freeze_affine) {
  freeze_every_batch_norm(*this, freeze_affine);
}

std::shared_ptr<DeepLabV3Plus> make_deeplab_v3plus_resnet(const DeepLabV3PlusConfig& config,
                                                          const ResNetConfig& resnet, uint64_t seed) {
  Rng rng(seed);
  auto backbone = std::make_unique<ResNetV3PlusBackbone>(resnet, rng);
  return std::make_shared<DeepLabV3Plus>(config, std::move(backbone), rng);
}

}  // namespace pg
