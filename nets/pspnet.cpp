// PSPNet (Zhao et al. 2017): dilated ResNet → pyramid pooling head at 1/8, the auxiliary FCN head
// on layer3 for training, bilinear upsampling of both to the input.
#include "nets/pspnet.h"

#include "core/init.h"
#include "core/ops/arithmetic.h"
#include "core/ops/resize_bilinear.h"

namespace pg {

PSPNetConfig PSPNetConfig::full(int num_classes) {
  return {.num_classes = num_classes, .backbone = ResNetConfig::resnet50(8)};
}

PSPNetConfig PSPNetConfig::full_resnet101(int num_classes) {
  return {.num_classes = num_classes, .backbone = ResNetConfig::resnet101(8)};
}

PSPNetConfig PSPNetConfig::tiny(int num_classes) {
  return {.num_classes = num_classes, .backbone = ResNetConfig::tiny(8), .channels = 64, .aux_channels = 32};
}

namespace {

// The 1×1 classifier of a head: weight ~ N(0, 0.01²), bias 0 (mmseg's DecodeHead.init_weights).
std::shared_ptr<Conv2d> make_classifier(int64_t in_channels, int num_classes, Rng& rng) {
  auto conv = std::make_shared<Conv2d>(
      Conv2dOptions{.in_channels = in_channels, .out_channels = num_classes, .kernel = 1}, rng);
  init::normal(conv->weight(), 0.0f, 0.01f, rng);
  init::zeros(conv->bias());
  return conv;
}

}  // namespace

PSPHead::PSPHead(int64_t in_channels, const PSPNetConfig& c, Rng& rng) {
  const int64_t bins = static_cast<int64_t>(c.bins.size());
  check(bins >= 1 && in_channels % bins == 0, "PSPNet: the pyramid's ", bins,
        " bins must divide the backbone's ", in_channels, " channels (each branch keeps 1/", bins, ")");
  psp_modules_ = register_module(
      "psp_modules",
      std::make_shared<PyramidPooling>(PyramidPoolingOptions{.in_channels = in_channels,
                                                             .branch_channels = in_channels / bins,
                                                             .bins = c.bins,
                                                             .align_corners = c.align_corners},
                                       rng));
  bottleneck_ = register_module(
      "bottleneck",
      std::make_shared<ConvBnRelu>(
          ConvBnReluOptions{
              .in_channels = psp_modules_->out_channels(), .out_channels = c.channels, .kernel = 3},
          rng));
  dropout_ = register_module("dropout", std::make_shared<Dropout2d>(c.dropout, rng));
  conv_seg_ = register_module("conv_seg", make_classifier(c.channels, c.num_classes, rng));
}

Tensor PSPHead::forward(const Tensor& x) {
  Tensor context = psp_modules_->forward(x);            // (N, 2·in, h, w): x and its 4 pooled contexts
  Tensor fused = bottleneck_->forward(context);         // (N, channels, h, w)
  return conv_seg_->forward(dropout_->forward(fused));  // (N, C, h, w)
}

PSPAuxHead::PSPAuxHead(int64_t in_channels, const PSPNetConfig& c, Rng& rng) {
  convs_ = register_module("convs", std::make_shared<Sequential>());
  convs_->add(std::make_shared<ConvBnRelu>(
      ConvBnReluOptions{.in_channels = in_channels, .out_channels = c.aux_channels, .kernel = 3}, rng));
  dropout_ = register_module("dropout", std::make_shared<Dropout2d>(c.dropout, rng));
  conv_seg_ = register_module("conv_seg", make_classifier(c.aux_channels, c.num_classes, rng));
}

Tensor PSPAuxHead::forward(const Tensor& x) {
  Tensor features = convs_->forward(x);                    // (N, aux_channels, h, w)
  return conv_seg_->forward(dropout_->forward(features));  // (N, C, h, w)
}

PSPNet::PSPNet(const PSPNetConfig& config, Rng& rng) : config_(config) {
  check(config_.num_classes >= 1, "PSPNet: num_classes must be ≥ 1, got ", config_.num_classes);
  check(config_.channels >= 1 && config_.aux_channels >= 1,
        "PSPNet: channels and aux_channels must be ≥ 1, got ", config_.channels, " and ",
        config_.aux_channels);
  check(config_.aux_weight >= 0.0f, "PSPNet: aux_weight must be ≥ 0, got ", config_.aux_weight);
  backbone_ = register_module("backbone", std::make_shared<ResNet>(config_.backbone, rng));
  decode_head_ =
      register_module("decode_head", std::make_shared<PSPHead>(backbone_->out_channels(4), config_, rng));
  auxiliary_head_ = register_module("auxiliary_head",
                                    std::make_shared<PSPAuxHead>(backbone_->out_channels(3), config_, rng));
}

void PSPNet::check_input(const Tensor& images) const {
  check(images.defined() && images.dim() == 4 && images.size(1) == 3,
        "PSPNet: expected images (N, 3, H, W), got ",
        images.defined() ? shape_str(images.shape()) : "an undefined tensor");
  if (!config_.align_corners) return;
  const int64_t stride = config_.backbone.output_stride, h = images.size(2), w = images.size(3);
  for (int64_t side : {h, w})
    check((side - 1) % stride == 0, "PSPNet: input ", h, "×", w,
          ": with align_corners = true the sides must be ", stride, "k+1 (e.g. ",
          stride * ((side - 1) / stride) + 1, " or ", stride * ((side - 1) / stride + 1) + 1, " instead of ",
          side, "), so that the corner pixels of the image and of its 1/", stride,
          " feature map coincide (the author's 473, 713); or use align_corners = false");
}

Tensor PSPNet::forward(const Tensor& images) {
  check_input(images);
  const int h = static_cast<int>(images.size(2)), w = static_cast<int>(images.size(3));
  ResNetFeatures f = backbone_->features(images);               // layer4: (N, 2048, H/8, W/8)
  Tensor logits = decode_head_->forward(f.layer4);              // (N, C, H/8, W/8)
  return resize_bilinear(logits, h, w, config_.align_corners);  // (N, C, H, W)
}

Tensor PSPNet::training_loss(const Batch& batch, const CrossEntropyParams& loss) {
  if (!is_training()) return SegmentationNet::training_loss(batch, loss);
  check_input(batch.images);
  const int h = static_cast<int>(batch.images.size(2)), w = static_cast<int>(batch.images.size(3));
  const bool corners = config_.align_corners;
  ResNetFeatures f = backbone_->features(batch.images);    // layer3, layer4: both at 1/8
  Tensor logits = decode_head_->forward(f.layer4);         // (N, C, H/8, W/8)
  Tensor aux_logits = auxiliary_head_->forward(f.layer3);  // (N, C, H/8, W/8)
  Tensor main_loss = cross_entropy(resize_bilinear(logits, h, w, corners), batch.labels, loss);
  Tensor aux_loss = cross_entropy(resize_bilinear(aux_logits, h, w, corners), batch.labels, loss);
  return add(main_loss, scale(aux_loss, config_.aux_weight));  // main + 0.4 · auxiliary
}

std::shared_ptr<PSPNet> make_pspnet(const PSPNetConfig& config, uint64_t seed) {
  Rng rng(seed);
  return std::make_shared<PSPNet>(config, rng);
}

}  // namespace pg
