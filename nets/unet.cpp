// U-Net (Ronneberger et al. 2015): the contracting and expanding paths, the centre crop of the
// unpadded form's skips and labels, and the input-size checks.
#include "nets/unet.h"

#include "core/ops/activation.h"
#include "core/ops/shape_ops.h"

namespace pg {

UNetConfig UNetConfig::full(int num_classes) {
  return {.num_classes = num_classes, .base_channels = 64, .depth = 4, .padded = true, .batch_norm = true};
}

UNetConfig UNetConfig::paper(int num_classes) {
  return {.num_classes = num_classes, .base_channels = 64, .depth = 4, .padded = false, .batch_norm = false};
}

UNetConfig UNetConfig::tiny(int num_classes) {
  return {.num_classes = num_classes, .base_channels = 8, .depth = 3, .padded = true, .batch_norm = true};
}

int64_t unet_unpadded_output_size(int64_t input, int depth) {
  // Down: two valid 3×3 convs (−4), then a 2×2 pool that needs an even side. Bottom: −4.
  // Up: ×2 by the up-convolution, then −4 per level.
  int64_t side = input;
  for (int level = 0; level < depth; ++level) {
    side -= 4;
    if (side < 2 || side % 2 != 0) return -1;
    side /= 2;
  }
  side -= 4;
  if (side < 1) return -1;
  for (int level = 0; level < depth; ++level) side = 2 * side - 4;
  return side >= 1 ? side : -1;
}

UNetDoubleConv::UNetDoubleConv(int64_t in_channels, int64_t out_channels, const UNetConfig& config,
                               Rng& rng) {
  const int pad = config.padded ? 1 : 0;
  const bool bias = !config.batch_norm;  // a bias before batch norm is cancelled by its mean
  conv1_ = register_module("conv1", std::make_shared<Conv2d>(Conv2dOptions{.in_channels = in_channels,
                                                                           .out_channels = out_channels,
                                                                           .kernel = 3,
                                                                           .pad = pad,
                                                                           .bias = bias},
                                                             rng));
  if (config.batch_norm) bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(out_channels));
  conv2_ = register_module("conv2", std::make_shared<Conv2d>(Conv2dOptions{.in_channels = out_channels,
                                                                           .out_channels = out_channels,
                                                                           .kernel = 3,
                                                                           .pad = pad,
                                                                           .bias = bias},
                                                             rng));
  if (config.batch_norm) bn2_ = register_module("bn2", std::make_shared<BatchNorm2d>(out_channels));
}

Tensor UNetDoubleConv::forward(const Tensor& x) {
  // With batch norm, BN and ReLU run as one fused op (BatchNorm2d::forward_relu).
  Tensor y = conv1_->forward(x);
  y = bn1_ ? bn1_->forward_relu(y) : relu(y);
  y = conv2_->forward(y);
  return bn2_ ? bn2_->forward_relu(y) : relu(y);
}

UNetUpBlock::UNetUpBlock(int64_t in_channels, const UNetConfig& config, Rng& rng) {
  const int64_t out_channels = in_channels / 2;
  up_ = register_module(
      "up", std::make_shared<ConvTranspose2d>(
                ConvTranspose2dOptions{
                    .in_channels = in_channels, .out_channels = out_channels, .kernel = 2, .stride = 2},
                rng));
  // After the concatenation: out_channels from the skip + out_channels from the up-convolution.
  convs_ = register_module("convs", std::make_shared<UNetDoubleConv>(in_channels, out_channels, config, rng));
}

Tensor UNetUpBlock::forward(const Tensor& x, const Tensor& skip) {
  Tensor up = up_->forward(x);  // (N, in/2, 2h, 2w)
  // Unpadded, the skip is larger (its level lost fewer pixels): take its centre. The difference is
  // even (every conv trims one pixel per side), so the crop is symmetric.
  const int64_t top = (skip.size(2) - up.size(2)) / 2, left = (skip.size(3) - up.size(3)) / 2;
  Tensor skip_centre = top == 0 && left == 0
                           ? skip
                           : crop2d(skip, static_cast<int>(top), static_cast<int>(left),
                                    static_cast<int>(up.size(2)), static_cast<int>(up.size(3)));
  return convs_->forward(concat({skip_centre, up}, 1));  // (N, in, 2h, 2w) → (N, in/2, ...)
}

UNet::UNet(const UNetConfig& config, Rng& rng) : config_(config), pool_({.kernel = 2, .stride = 2}) {
  const UNetConfig& c = config_;
  check(c.num_classes >= 1 && c.in_channels >= 1 && c.base_channels >= 1 && c.depth >= 1,
        "U-Net: num_classes, in_channels, base_channels and depth must be ≥ 1, got ", c.num_classes, ", ",
        c.in_channels, ", ", c.base_channels, ", ", c.depth);
  auto contract = register_module("contract", std::make_shared<Sequential>());
  int64_t channels = c.base_channels;
  contract_.push_back(contract->add(std::make_shared<UNetDoubleConv>(c.in_channels, channels, c, rng)));
  for (int level = 1; level <= c.depth; ++level, channels *= 2)
    contract_.push_back(contract->add(std::make_shared<UNetDoubleConv>(channels, 2 * channels, c, rng)));
  auto expand = register_module("expand", std::make_shared<Sequential>());
  for (int level = 0; level < c.depth; ++level, channels /= 2)
    expand_.push_back(expand->add(std::make_shared<UNetUpBlock>(channels, c, rng)));
  classifier_ = register_module(
      "classifier",
      std::make_shared<Conv2d>(
          Conv2dOptions{.in_channels = c.base_channels, .out_channels = c.num_classes, .kernel = 1}, rng));
}

void UNet::check_input(const Tensor& images) const {
  check(images.defined() && images.dim() == 4 && images.size(1) == config_.in_channels,
        "U-Net: expected images (N, ", config_.in_channels, ", H, W), got ",
        images.defined() ? shape_str(images.shape()) : "an undefined tensor");
  const int64_t h = images.size(2), w = images.size(3);
  if (config_.padded) {
    const int64_t multiple = int64_t{1} << config_.depth;
    check(h % multiple == 0 && w % multiple == 0, "U-Net: input ", h, "×", w, ": with ", config_.depth,
          " pools the padded form needs H and W divisible by 2^", config_.depth, " = ", multiple);
    return;
  }
  for (int64_t side : {h, w}) {
    if (unet_unpadded_output_size(side, config_.depth) > 0) continue;
    int64_t next = side + 1;
    while (unet_unpadded_output_size(next, config_.depth) < 0) ++next;
    throw Error(str("U-Net (unpadded, ", config_.depth, " pools): input ", h, "×", w, ": side ", side,
                    " gives no valid output (every 2×2 pool must meet an even side); the next valid side is ",
                    next, " (output ", unet_unpadded_output_size(next, config_.depth), ")"));
  }
}

Tensor UNet::forward(const Tensor& images) {
  check_input(images);
  // Contracting path: x: (N, base·2^l, H/2^l, W/2^l) at level l; each level's features are kept
  // for the expanding path before the pool halves them.
  std::vector<Tensor> skips;
  Tensor x = images;
  for (int level = 0; level < config_.depth; ++level) {
    x = contract_[level]->forward(x);
    skips.push_back(x);
    x = pool_.forward(x);
  }
  x = contract_[config_.depth]->forward(x);  // the bottom: (N, base·2^depth, H/2^depth, W/2^depth)
  // Expanding path: back up one level at a time, joining the features of the same level.
  for (int level = config_.depth - 1, block = 0; level >= 0; --level, ++block)
    x = expand_[block]->forward(x, skips[level]);
  return classifier_->forward(x);  // (N, C, H, W)
}

namespace {

// labels: (N, H, W) → (N, height, width), the centre window.
LabelMap crop_labels_centre(const LabelMap& labels, int64_t height, int64_t width) {
  const int64_t n = labels.size(0), h = labels.size(1), w = labels.size(2);
  if (height == h && width == w) return labels;
  const int64_t top = (h - height) / 2, left = (w - width) / 2;
  LabelMap out({n, height, width});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t y = 0; y < height; ++y)
      for (int64_t x = 0; x < width; ++x)
        out.data()[(i * height + y) * width + x] = labels.data()[(i * h + top + y) * w + left + x];
  return out;
}

}  // namespace

Tensor UNet::training_loss(const Batch& batch, const CrossEntropyParams& loss) {
  Tensor logits = forward(batch.images);
  check(batch.labels.defined() && batch.labels.dim() == 3 && batch.labels.size(0) == batch.images.size(0) &&
            batch.labels.size(1) == batch.images.size(2) && batch.labels.size(2) == batch.images.size(3),
        "U-Net training_loss: expected labels (N, H, W) matching the images ",
        shape_str(batch.images.shape()), ", got ",
        batch.labels.defined() ? shape_str(batch.labels.shape()) : "none");
  return cross_entropy(logits, crop_labels_centre(batch.labels, logits.size(2), logits.size(3)), loss);
}

std::shared_ptr<UNet> make_unet(const UNetConfig& config, uint64_t seed) {
  Rng rng(seed);
  return std::make_shared<UNet>(config, rng);
}

}  // namespace pg
