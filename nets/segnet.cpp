// SegNet (Badrinarayanan et al. 2017): the VGG-16 encoder whose pools keep their argmax indices
// and the mirrored decoder that max-unpools with them.
#include "nets/segnet.h"

#include "core/ops/activation.h"
#include "core/ops/pool2d.h"

namespace pg {

SegNetConfig SegNetConfig::full(int num_classes) {
  return {.num_classes = num_classes,
          .stage_channels = {64, 128, 256, 512, 512},
          .convs_per_stage = {2, 2, 3, 3, 3}};
}

SegNetConfig SegNetConfig::tiny(int num_classes) {
  return {.num_classes = num_classes, .stage_channels = {16, 32, 64}, .convs_per_stage = {2, 2, 2}};
}

SegNetConvBnRelu::SegNetConvBnRelu(int64_t in_channels, int64_t out_channels, Rng& rng) {
  conv_ = register_module(
      "conv",
      std::make_shared<Conv2d>(
          Conv2dOptions{.in_channels = in_channels, .out_channels = out_channels, .kernel = 3, .pad = 1},
          rng));
  bn_ = register_module("bn", std::make_shared<BatchNorm2d>(out_channels));
}

Tensor SegNetConvBnRelu::forward(const Tensor& x) {
  return relu(bn_->forward(conv_->forward(x)));
}

SegNet::SegNet(const SegNetConfig& config, Rng& rng) : config_(config), pool_({.kernel = 2, .stride = 2}) {
  const SegNetConfig& c = config_;
  const size_t stages = c.stage_channels.size();
  check(stages >= 1 && c.convs_per_stage.size() == stages, "SegNet: stage_channels and convs_per_stage must ",
        "have one entry per stage, got ", stages, " and ", c.convs_per_stage.size());
  check(c.num_classes >= 1 && c.in_channels >= 1, "SegNet: num_classes and in_channels must be ≥ 1, got ",
        c.num_classes, " and ", c.in_channels);
  for (size_t s = 0; s < stages; ++s)
    check(c.stage_channels[s] >= 1 && c.convs_per_stage[s] >= 1, "SegNet: stage ", s,
          " needs ≥ 1 channel and ≥ 1 conv, got ", c.stage_channels[s], " and ", c.convs_per_stage[s]);

  auto encoder = register_module("encoder", std::make_shared<Sequential>());
  int64_t in = c.in_channels;
  for (size_t s = 0; s < stages; ++s) {
    auto stage = encoder->add(std::make_shared<Sequential>());
    for (int i = 0; i < c.convs_per_stage[s]; ++i, in = c.stage_channels[s])
      stage->add(std::make_shared<SegNetConvBnRelu>(in, c.stage_channels[s], rng));
    encoder_.push_back(stage);
  }
  // Built in stage order so that the names mirror the encoder's (decoder.s ↔ encoder.s); run
  // from the deepest stage up.
  auto decoder = register_module("decoder", std::make_shared<Sequential>());
  for (size_t s = 0; s < stages; ++s) {
    auto stage = decoder->add(std::make_shared<Sequential>());
    const int64_t channels = c.stage_channels[s];
    const int64_t out = s == 0 ? channels : c.stage_channels[s - 1];
    const int convs =
        s == 0 ? c.convs_per_stage[s] - 1 : c.convs_per_stage[s];  // stage 0 ends in the classifier
    for (int i = 0; i < convs; ++i)
      stage->add(std::make_shared<SegNetConvBnRelu>(channels, i == convs - 1 ? out : channels, rng));
    decoder_.push_back(stage);
  }
  classifier_ = register_module(
      "classifier",
      std::make_shared<Conv2d>(
          Conv2dOptions{
              .in_channels = c.stage_channels[0], .out_channels = c.num_classes, .kernel = 3, .pad = 1},
          rng));
}

Tensor SegNet::forward(const Tensor& images) {
  const size_t stages = config_.stage_channels.size();
  check(images.defined() && images.dim() == 4 && images.size(1) == config_.in_channels,
        "SegNet: expected images (N, ", config_.in_channels, ", H, W), got ",
        images.defined() ? shape_str(images.shape()) : "an undefined tensor");
  const int64_t multiple = int64_t{1} << stages;
  check(images.size(2) % multiple == 0 && images.size(3) % multiple == 0, "SegNet: input ", images.size(2),
        "×", images.size(3), ": with ", stages, " pools H and W must be divisible by 2^", stages, " = ",
        multiple);

  // Encoder: x: (N, c_s, H/2^s, W/2^s) entering stage s. Each pool remembers, per pooled value,
  // the flat position of its maximum in the (H_s, W_s) map it pooled.
  std::vector<IntTensor> indices;
  std::vector<std::pair<int64_t, int64_t>> sizes;
  Tensor x = images;
  for (size_t s = 0; s < stages; ++s) {
    x = encoder_[s]->forward(x);
    sizes.push_back({x.size(2), x.size(3)});
    MaxPoolResult pooled = pool_.forward_with_indices(x);
    indices.push_back(pooled.indices);
    x = pooled.out;
  }
  // Decoder: unpool each stage's values back to their argmax positions (zeros elsewhere), then
  // densify the sparse map with the mirrored convs.
  for (size_t s = stages; s-- > 0;) {
    x = max_unpool2d(x, indices[s], static_cast<int>(sizes[s].first), static_cast<int>(sizes[s].second));
    x = decoder_[s]->forward(x);
  }
  return classifier_->forward(x);  // (N, C, H, W)
}

std::shared_ptr<SegNet> make_segnet(const SegNetConfig& config, uint64_t seed) {
  Rng rng(seed);
  return std::make_shared<SegNet>(config, rng);
}

}  // namespace pg
