// RefineNet (Lin et al. 2017) and light-weight RefineNet (Nekrasov et al. 2018): a ResNet's four
// levels refined coarse to fine by cascaded RefineNet blocks, classified at 1/4, upsampled ×4.
#include "nets/refinenet.h"

#include <utility>

#include "core/error.h"
#include "core/ops/resize_bilinear.h"

namespace pg {

RefineNetConfig RefineNetConfig::full(int num_classes) {
  return {.num_classes = num_classes};
}

RefineNetConfig RefineNetConfig::light_weight(int num_classes, ResNetConfig backbone) {
  return {.num_classes = num_classes,
          .backbone = std::move(backbone),
          .conv_kernel = 1,
          .adapt_rcus = 0,
          .output_rcus = 0,
          .dropout = 0.0f};
}

RefineNetConfig RefineNetConfig::tiny(int num_classes) {
  return {.num_classes = num_classes, .backbone = ResNetConfig::tiny(), .top_channels = 32, .channels = 16};
}

RefineNetConfig RefineNetConfig::tiny_light_weight(int num_classes) {
  RefineNetConfig c = light_weight(num_classes, ResNetConfig::tiny());
  c.top_channels = 32;
  c.channels = 16;
  return c;
}

RefineNet::RefineNet(const RefineNetConfig& config, Rng& rng) : config_(config) {
  check(config_.num_classes >= 1, "RefineNet: num_classes must be ≥ 1, got ", config_.num_classes);
  check(config_.backbone.output_stride == 32,
        "RefineNet: the backbone must run at output stride 32 (no dilation), got ",
        config_.backbone.output_stride);
  check(config_.top_channels >= 1 && config_.channels >= 1,
        "RefineNet: top_channels and channels must be ≥ 1, got ", config_.top_channels, " and ",
        config_.channels);
  check(config_.classifier_kernel % 2 == 1, "RefineNet: classifier_kernel must be odd, got ",
        config_.classifier_kernel);
  backbone_ = register_module("backbone", std::make_shared<ResNet>(config_.backbone, rng));
  auto block = [&](int stage, int64_t coarse_channels, int64_t channels) {
    return std::make_shared<RefineNetBlock>(
        RefineNetBlockOptions{.in_channels = backbone_->out_channels(stage),
                              .coarse_channels = coarse_channels,
                              .channels = channels,
                              .conv_kernel = config_.conv_kernel,
                              .adapt_rcus = config_.adapt_rcus,
                              .crp_blocks = config_.crp_blocks,
                              .output_rcus = config_.output_rcus},
        rng);
  };
  const int64_t top = config_.top_channels, width = config_.channels;
  refine4_ = register_module("refine4", block(4, 0, top));
  refine3_ = register_module("refine3", block(3, top, width));
  refine2_ = register_module("refine2", block(2, width, width));
  refine1_ = register_module("refine1", block(1, width, width));
  dropout_ = register_module("dropout", std::make_shared<Dropout>(config_.dropout, rng));
  classifier_ = register_module("classifier",
                                std::make_shared<Conv2d>(Conv2dOptions{.in_channels = width,
                                                                       .out_channels = config_.num_classes,
                                                                       .kernel = config_.classifier_kernel,
                                                                       .pad = config_.classifier_kernel / 2},
                                                         rng));
}

void RefineNet::check_input(const Tensor& images) const {
  check(images.defined() && images.dim() == 4 && images.size(1) == 3,
        "RefineNet: expected images (N, 3, H, W), got ",
        images.defined() ? shape_str(images.shape()) : "an undefined tensor");
  const int64_t h = images.size(2), w = images.size(3);
  check(h % 32 == 0 && w % 32 == 0, "RefineNet: input ", h, "×", w,
        ": H and W must be multiples of 32 (the 1/32 level of the four it refines; e.g. ",
        32 * ((h + 31) / 32), "×", 32 * ((w + 31) / 32), ")");
}

Tensor RefineNet::forward(const Tensor& images) {
  check_input(images);
  const int h = static_cast<int>(images.size(2)), w = static_cast<int>(images.size(3));
  ResNetFeatures f = backbone_->features(images);                  // layer1…layer4: 1/4 … 1/32
  Tensor r4 = refine4_->forward(dropout_->forward(f.layer4));      // (N, 512, H/32, W/32)
  Tensor r3 = refine3_->forward(dropout_->forward(f.layer3), r4);  // (N, 256, H/16, W/16)
  Tensor r2 = refine2_->forward(f.layer2, r3);                     // (N, 256, H/8, W/8)
  Tensor r1 = refine1_->forward(f.layer1, r2);                     // (N, 256, H/4, W/4)
  Tensor logits = classifier_->forward(dropout_->forward(r1));     // (N, C, H/4, W/4)
  return resize_bilinear(logits, h, w, /*align_corners=*/false);   // (N, C, H, W)
}

std::vector<ParamGroup> RefineNet::parameter_groups() const {
  ParamGroup backbone{.params = backbone_->parameters(), .lr_multiplier = config_.backbone_lr_multiplier};
  ParamGroup rest;
  for (const auto& [name, p] : named_parameters())
    if (!name.starts_with("backbone.")) rest.params.push_back(p);
  return {backbone, rest};
}

std::shared_ptr<RefineNet> make_refinenet(const RefineNetConfig& config, uint64_t seed) {
  Rng rng(seed);
  return std::make_shared<RefineNet>(config, rng);
}

}  // namespace pg
