// DeepLab v3: the configurations and the output-stride knob, construction of the three heads,
// the forward, and the rebuild at another output stride.
#include "nets/deeplab_v3.h"

#include "core/init.h"
#include "core/ops/resize_bilinear.h"
#include "core/safetensors.h"

namespace pg {

ResNetConfig deeplab_resnet101(int output_stride) {
  ResNetConfig c = ResNetConfig::resnet101(output_stride);
  c.multi_grid = {1, 2, 4};
  return c;
}

ResNetConfig deeplab_resnet_tiny(int output_stride) {
  ResNetConfig c = ResNetConfig::tiny(output_stride);
  c.blocks[3] = 3;
  c.multi_grid = {1, 2, 4};
  return c;
}

DeepLabV3Config DeepLabV3Config::full(int num_classes) {
  return {.num_classes = num_classes};
}

DeepLabV3Config DeepLabV3Config::tiny(int num_classes) {
  return {.num_classes = num_classes,
          .backbone = deeplab_resnet_tiny(8),
          .aspp_rates = AsppRateSchedule::tiny(),
          .aspp_channels = 32};
}

DeepLabV3Config DeepLabV3Config::torchvision(int num_classes) {
  return {.num_classes = num_classes,
          .backbone = ResNetConfig::resnet101(8),
          .dropout = 0.5f,
          .head = DeepLabV3Head::torchvision};
}

DeepLabV3Config DeepLabV3Config::at_output_stride(int output_stride) const {
  DeepLabV3Config c = *this;
  c.backbone.output_stride = output_stride;
  return c;
}

DeepLabV3::DeepLabV3(const DeepLabV3Config& config, Rng& rng) : config_(config) {
  const DeepLabV3Config& c = config_;
  check(c.num_classes >= 1, "DeepLab v3: num_classes must be ≥ 1, got ", c.num_classes);
  check(c.aspp_channels >= 1, "DeepLab v3: aspp_channels must be ≥ 1, got ", c.aspp_channels);
  check(c.head != DeepLabV3Head::cascade || c.cascade_blocks >= 1,
        "DeepLab v3: the cascade head needs ≥ 1 block, got ", c.cascade_blocks);

  backbone_ = register_module("backbone", std::make_shared<ResNet>(c.backbone, rng));
  const int64_t features = backbone_->out_channels(4);
  auto classifier = register_module("classifier", std::make_shared<Sequential>());
  int64_t head_channels = c.aspp_channels;
  if (c.head == DeepLabV3Head::cascade) {
    // Blocks 5, 6, …: layer4's units again, stride 1, the base rate doubling per block.
    int rate = backbone_->geometry()[3].dilation;
    for (int b = 0; b < c.cascade_blocks; ++b) {
      rate *= 2;
      auto block = classifier->add(std::make_shared<Sequential>());
      std::vector<int> dilations;
      for (int u = 0; u < c.backbone.blocks[3]; ++u) {
        const int unit_rate = rate * (c.backbone.multi_grid.empty() ? 1 : c.backbone.multi_grid[u]);
        block->add(std::make_shared<Bottleneck>(
            BottleneckOptions{
                .in_channels = features, .width = c.backbone.widths[3], .stride = 1, .dilation = unit_rate},
            rng));
        dilations.push_back(unit_rate);
      }
      cascade_.push_back(block);
      cascade_dilations_.push_back(dilations);
    }
    head_channels = features;
  } else {
    aspp_ = classifier->add(std::make_shared<Aspp>(
        AsppOptions{
            .in_channels = features, .channels = c.aspp_channels, .rates = c.rates(), .dropout = c.dropout},
        rng));
  }
  if (c.head == DeepLabV3Head::torchvision) {
    head_conv_ = classifier->add(std::make_shared<Conv2d>(Conv2dOptions{.in_channels = c.aspp_channels,
                                                                        .out_channels = c.aspp_channels,
                                                                        .kernel = 3,
                                                                        .pad = 1,
                                                                        .bias = false},
                                                          rng));
    init::kaiming_normal(head_conv_->weight(), rng, init::FanMode::fan_out);
    head_bn_ = classifier->add(std::make_shared<BatchNorm2d>(c.aspp_channels));
    head_relu_ = classifier->add(std::make_shared<ReLU>());  // index 3, as torchvision's nn.Sequential
  }
  logits_ = classifier->add(std::make_shared<Conv2d>(
      Conv2dOptions{.in_channels = head_channels, .out_channels = c.num_classes, .kernel = 1}, rng));
}

std::vector<int> DeepLabV3::cascade_unit_dilations(int block) const {
  check(block >= 0 && block < static_cast<int>(cascade_.size()), "DeepLab v3: cascade block ", block,
        " does not exist (this net has ", cascade_.size(), ")");
  return cascade_dilations_[block];
}

Tensor DeepLabV3::encoder_features(const Tensor& images) {
  check(images.defined() && images.dim() == 4 && images.size(1) == 3,
        "DeepLab v3: expected images (N, 3, H, W), got ",
        images.defined() ? shape_str(images.shape()) : "an undefined tensor");
  return backbone_->forward(images);  // (N, 2048, H/os, W/os)
}

Tensor DeepLabV3::forward(const Tensor& images) {
  Tensor x = encoder_features(images);  // (N, 2048, h, w), h = ceil(H/os)
  if (aspp_) x = aspp_->forward(x);     // (N, 256, h, w)
  if (head_conv_) x = head_relu_->forward(head_bn_->forward(head_conv_->forward(x)));  // torchvision's 3×3
  for (const auto& block : cascade_) x = block->forward(x);  // (N, 2048, h, w), rate ×2 each
  Tensor logits = logits_->forward(x);                       // (N, C, h, w)
  return resize_bilinear(logits, static_cast<int>(images.size(2)), static_cast<int>(images.size(3)),
                         /*align_corners=*/false);  // (N, C, H, W)
}

std::shared_ptr<DeepLabV3> DeepLabV3::at_output_stride(int output_stride) const {
  Rng unused(0);  // the new net's initial weights are overwritten
  auto net = std::make_shared<DeepLabV3>(config_.at_output_stride(output_stride), unused);
  copy_state(*this, *net);
  net->train(is_training());
  return net;
}

void DeepLabV3::freeze_batch_norm(bool freeze_affine) {
  freeze_every_batch_norm(*this, freeze_affine);
}

std::shared_ptr<DeepLabV3> make_deeplab_v3(const DeepLabV3Config& config, uint64_t seed) {
  Rng rng(seed);
  return std::make_shared<DeepLabV3>(config, rng);
}

void copy_state(const Module& source, Module& destination) {
  SafetensorsContents from;
  from.tensors = source.state_dict();
  from.path = "copy_state (the source module)";
  load_named_tensors(destination.state_dict(), from, /*strict=*/true);
}

void freeze_every_batch_norm(Module& module, bool freeze_affine) {
  if (auto* bn = dynamic_cast<BatchNorm2d*>(&module)) bn->freeze(freeze_affine);
  for (const auto& [name, child] : module.children()) freeze_every_batch_norm(*child, freeze_affine);
}

}  // namespace pg
