// DeepLab v2: the backbone at output stride 8, ASPP with summed branches, multi-scale inputs, the
// shrunk-label losses and the release's lr multipliers.
#include "nets/deeplab_v2.h"

#include <string>

#include "core/init.h"
#include "core/ops/arithmetic.h"
#include "core/ops/resize_bilinear.h"
#include "nets/label_shrink.h"
#include "nets/multi_scale.h"

namespace pg {

DeepLabV2Config DeepLabV2Config::vgg_full(int num_classes) {
  return {.num_classes = num_classes};
}

DeepLabV2Config DeepLabV2Config::vgg_tiny(int num_classes) {
  DeepLabV2Config c{.num_classes = num_classes, .rates = {1, 2, 3, 4}};
  c.vgg = Vgg16Config::deeplab_largefov().tiny();
  c.fc_width = 64;
  return c;
}

DeepLabV2Config DeepLabV2Config::resnet_full(int num_classes) {
  return {.num_classes = num_classes, .backbone = DeepLabV2Backbone::resnet101};
}

DeepLabV2Config DeepLabV2Config::resnet_tiny(int num_classes) {
  DeepLabV2Config c{
      .num_classes = num_classes, .backbone = DeepLabV2Backbone::resnet101, .rates = {1, 2, 3, 4}};
  c.resnet = ResNetConfig::tiny(8);
  return c;
}

DeepLabV2Config DeepLabV2Config::with_multi_scale() const {
  DeepLabV2Config c = *this;
  c.scales = {1.0f, 0.75f, 0.5f};
  return c;
}

DeepLabV2::DeepLabV2(const DeepLabV2Config& config, Rng& rng) : config_(config) {
  const DeepLabV2Config& c = config_;
  check(c.num_classes >= 1, "DeepLab v2: num_classes must be ≥ 1, got ", c.num_classes);
  check(!c.rates.empty(), "DeepLab v2: ASPP needs at least one rate");
  for (int r : c.rates) check(r >= 1, "DeepLab v2: every ASPP rate must be ≥ 1, got ", r);
  check_scales("DeepLab v2", c.scales);
  if (c.backbone == DeepLabV2Backbone::vgg16) {
    check(c.vgg.output_stride() == 8, "DeepLab v2: the VGG form must have output stride 8, got ",
          c.vgg.output_stride());
    auto vgg = register_module("backbone", std::make_shared<Vgg16>(c.vgg, rng));
    backbone_ = vgg;
    for (size_t i = 0; i < c.rates.size(); ++i) {
      auto branch = std::make_unique<LargeFovClassifier>(LargeFovOptions{.in_channels = vgg->out_channels(),
                                                                         .width = c.fc_width,
                                                                         .rate = c.rates[i],
                                                                         .num_classes = c.num_classes,
                                                                         .dropout = c.dropout},
                                                         rng);
      const std::string n = std::to_string(i + 1);  // Caffe's fc6_1 … fc8_4
      register_module("fc6_" + n, branch->fc6);
      register_module("drop6_" + n, branch->drop6);
      register_module("fc7_" + n, branch->fc7);
      register_module("drop7_" + n, branch->drop7);
      register_module("fc8_" + n, branch->fc8);
      vgg_branches_.push_back(std::move(branch));
    }
  } else {
    check(c.resnet.output_stride == 8, "DeepLab v2: the ResNet form runs at output stride 8, got ",
          c.resnet.output_stride);
    auto resnet = register_module("backbone", std::make_shared<ResNet>(c.resnet, rng));
    if (c.freeze_batch_norm) resnet->freeze_batch_norm(c.freeze_batch_norm_affine);
    backbone_ = resnet;
    for (size_t i = 0; i < c.rates.size(); ++i) {
      const int r = c.rates[i];
      auto conv = std::make_shared<Conv2d>(Conv2dOptions{.in_channels = resnet->out_channels(4),
                                                         .out_channels = c.num_classes,
                                                         .kernel = 3,
                                                         .pad = r,
                                                         .dilation = r},
                                           rng);
      init::normal(conv->weight(), 0.0f, 0.01f, rng);  // the release's Gaussian filler, bias 0
      init::zeros(conv->bias());
      resnet_branches_.push_back(
          register_module("fc1_c" + std::to_string(i), conv));  // Caffe's fc1_voc12_c<i>
    }
  }
}

Tensor DeepLabV2::aspp(const Tensor& features) {
  std::vector<Tensor> class_maps;  // one (N, C, h, w) per rate
  for (const auto& branch : vgg_branches_) class_maps.push_back(branch->forward(features));
  for (const auto& branch : resnet_branches_) class_maps.push_back(branch->forward(features));
  return sum_of(class_maps);  // (N, C, h, w)
}

Tensor DeepLabV2::score_map(const Tensor& images) {
  check(images.defined() && images.dim() == 4 && images.size(1) == 3,
        "DeepLab v2: expected images (N, 3, H, W), got ",
        images.defined() ? shape_str(images.shape()) : "an undefined tensor");
  Tensor features = backbone_->forward(images);  // VGG pool5 (N, 512, h, w) or ResNet layer4 (N, 2048, h, w)
  return aspp(features);                         // (N, C, h, w), h = ceil(H/8)
}

Tensor DeepLabV2::forward(const Tensor& images) {
  auto net = [this](const Tensor& x) { return score_map(x); };
  Tensor fused = multi_scale_score_maps(images, config_.scales, net).fused;  // (N, C, h, w)
  return resize_bilinear(fused, static_cast<int>(images.size(2)), static_cast<int>(images.size(3)),
                         /*align_corners=*/true);  // (N, C, H, W)
}

Tensor DeepLabV2::training_loss(const Batch& batch, const CrossEntropyParams& loss) {
  check_labels_match_images("DeepLab v2", batch.images, batch.labels);
  auto net = [this](const Tensor& x) { return score_map(x); };
  return multi_scale_loss(multi_scale_score_maps(batch.images, config_.scales, net), batch.labels, loss);
}

bool DeepLabV2::is_classifier(const std::string& name) const {
  return name.starts_with(config_.backbone == DeepLabV2Backbone::vgg16 ? "fc8_" : "fc1_c");
}

std::vector<ParamGroup> DeepLabV2::parameter_groups() const {
  NamedTensors body, classifier;
  for (const auto& [name, p] : named_parameters())
    (is_classifier(name) ? classifier : body).push_back({name, p});
  return deeplab_parameter_groups(body, classifier);
}

Tensor DeepLabV2::predict(const Tensor& images) {
  return refine_logits(refiner_.get(), images, forward(images));
}

std::shared_ptr<DeepLabV2> make_deeplab_v2(const DeepLabV2Config& config, uint64_t seed) {
  Rng rng(seed);
  return std::make_shared<DeepLabV2>(config, rng);
}

}  // namespace pg
