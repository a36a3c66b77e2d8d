// DeepLab v1 LargeFOV: the dense VGG-16, the large-field-of-view classifier, the shrunk-label
// loss, the release's lr multipliers, and the upsampled logits.
#include "nets/deeplab_v1.h"

#include <string>

#include "core/init.h"
#include "core/ops/activation.h"
#include "core/ops/resize_bilinear.h"
#include "nets/label_shrink.h"

namespace pg {

LargeFovClassifier::LargeFovClassifier(const LargeFovOptions& o, Rng& rng) {
  check(o.in_channels >= 1 && o.width >= 1 && o.rate >= 1 && o.num_classes >= 1,
        "LargeFOV classifier: in_channels, width, rate and num_classes must be ≥ 1, got ", o.in_channels,
        ", ", o.width, ", ", o.rate, ", ", o.num_classes);
  fc6 = std::make_shared<Conv2d>(Conv2dOptions{.in_channels = o.in_channels,
                                               .out_channels = o.width,
                                               .kernel = 3,
                                               .pad = o.rate,
                                               .dilation = o.rate},
                                 rng);
  fc7 = std::make_shared<Conv2d>(Conv2dOptions{.in_channels = o.width, .out_channels = o.width, .kernel = 1},
                                 rng);
  fc8 = std::make_shared<Conv2d>(
      Conv2dOptions{.in_channels = o.width, .out_channels = o.num_classes, .kernel = 1}, rng);
  drop6 = std::make_shared<Dropout>(o.dropout, rng);
  drop7 = std::make_shared<Dropout>(o.dropout, rng);
  // The release starts fc6/fc7 from VGG's (subsampled) fully connected layers; from scratch we
  // give them VGG's own start. fc8: the release's Gaussian, std 0.01, bias 0.
  for (const auto& conv : {fc6, fc7}) {
    init::kaiming_normal(conv->weight(), rng, init::FanMode::fan_out);
    init::zeros(conv->bias());
  }
  init::normal(fc8->weight(), 0.0f, 0.01f, rng);
  init::zeros(fc8->bias());
}

Tensor LargeFovClassifier::forward(const Tensor& features) const {
  Tensor x = drop6->forward(relu(fc6->forward(features)));  // (N, width, h, w)
  x = drop7->forward(relu(fc7->forward(x)));                // (N, width, h, w)
  return fc8->forward(x);                                   // (N, C, h, w)
}

std::vector<ParamGroup> deeplab_parameter_groups(const NamedTensors& body, const NamedTensors& classifier) {
  auto group = [](float lr_multiplier, float weight_decay) {
    ParamGroup g;
    g.lr_multiplier = lr_multiplier;
    g.weight_decay = weight_decay;  // < 0: the optimizer's own
    return g;
  };
  ParamGroup body_weights = group(1.0f, -1.0f), body_biases = group(2.0f, 0.0f);
  ParamGroup head_weights = group(10.0f, -1.0f), head_biases = group(20.0f, 0.0f);
  auto sort = [](const NamedTensors& params, ParamGroup& weights, ParamGroup& biases) {
    for (const auto& [name, p] : params) {
      if (!p.requires_grad()) continue;
      (name.ends_with("bias") ? biases : weights).params.push_back(p);
    }
  };
  sort(body, body_weights, body_biases);
  sort(classifier, head_weights, head_biases);
  return {body_weights, body_biases, head_weights, head_biases};
}

DeepLabV1Config DeepLabV1Config::full(int num_classes) {
  return {.num_classes = num_classes};
}

DeepLabV1Config DeepLabV1Config::tiny(int num_classes) {
  return {.num_classes = num_classes,
          .vgg = Vgg16Config::deeplab_largefov().tiny(),
          .fc_width = 64,
          .fc6_rate = 3,
          .dropout = 0.5f};
}

DeepLabV1::DeepLabV1(const DeepLabV1Config& config, Rng& rng) : config_(config) {
  check(config.vgg.output_stride() == 8, "DeepLab v1: the VGG form must have output stride 8 (3×3 pools, ",
        "pool4/pool5 at stride 1), got ", config.vgg.output_stride());
  backbone_ = register_module("backbone", std::make_shared<Vgg16>(config.vgg, rng));
  classifier_ = std::make_unique<LargeFovClassifier>(LargeFovOptions{.in_channels = backbone_->out_channels(),
                                                                     .width = config.fc_width,
                                                                     .rate = config.fc6_rate,
                                                                     .num_classes = config.num_classes,
                                                                     .dropout = config.dropout},
                                                     rng);
  register_module("fc6", classifier_->fc6);
  register_module("drop6", classifier_->drop6);
  register_module("fc7", classifier_->fc7);
  register_module("drop7", classifier_->drop7);
  register_module("fc8", classifier_->fc8);
}

Tensor DeepLabV1::score_map(const Tensor& images) {
  check(images.defined() && images.dim() == 4 && images.size(1) == 3,
        "DeepLab v1: expected images (N, 3, H, W), got ",
        images.defined() ? shape_str(images.shape()) : "an undefined tensor");
  Tensor pool5 = backbone_->forward(images);  // (N, 512, ceil(H/8), ceil(W/8)), conv5 dilated by 2
  return classifier_->forward(pool5);         // fc6 (rate 12) → fc7 → fc8: (N, C, ceil(H/8), ceil(W/8))
}

Tensor DeepLabV1::forward(const Tensor& images) {
  Tensor scores = score_map(images);
  return resize_bilinear(scores, static_cast<int>(images.size(2)), static_cast<int>(images.size(3)),
                         /*align_corners=*/true);  // (N, C, H, W)
}

Tensor DeepLabV1::training_loss(const Batch& batch, const CrossEntropyParams& loss) {
  check_labels_match_images("DeepLab v1", batch.images, batch.labels);
  Tensor scores = score_map(batch.images);  // (N, C, h, w)
  return cross_entropy(scores, shrink_labels(batch.labels, scores.size(2), scores.size(3)), loss);
}

std::vector<ParamGroup> DeepLabV1::parameter_groups() const {
  NamedTensors body, classifier;
  for (const auto& [name, p] : named_parameters())
    (name.starts_with("fc8.") ? classifier : body).push_back({name, p});
  return deeplab_parameter_groups(body, classifier);
}

Tensor DeepLabV1::predict(const Tensor& images) {
  return refine_logits(refiner_.get(), images, forward(images));
}

std::shared_ptr<DeepLabV1> make_deeplab_v1(const DeepLabV1Config& config, uint64_t seed) {
  Rng rng(seed);
  return std::make_shared<DeepLabV1>(config, rng);
}

}  // namespace pg
