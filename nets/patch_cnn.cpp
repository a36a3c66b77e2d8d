// The patch classification baseline (Ciresan et al. 2012): the patch classifier, its per-pixel
// inference, the convolutionalised dense inference with dilated ("à trous") pools, and the
// sampled-pixel training loss.
#include "nets/patch_cnn.h"

#include <utility>

#include "core/autograd.h"
#include "core/ops/activation.h"
#include "core/ops/conv2d.h"
#include "core/ops/pool2d.h"
#include "core/ops/shape_ops.h"

namespace pg {

PatchCnnConfig PatchCnnConfig::full(int num_classes) {
  return {.num_classes = num_classes,
          .patch_size = 95,
          .conv_channels = {48, 48, 48, 48},
          .conv_kernels = {4, 5, 4, 4},
          .hidden_features = {200}};
}

PatchCnnConfig PatchCnnConfig::tiny(int num_classes) {
  return {.num_classes = num_classes,
          .patch_size = 17,
          .conv_channels = {16, 32},
          .conv_kernels = {4, 4},
          .hidden_features = {64}};
}

PatchCnn::PatchCnn(const PatchCnnConfig& config, Rng& rng)
    : config_(config), pool_({.kernel = 2, .stride = 2}), sampling_rng_(rng.next_u32()) {
  const PatchCnnConfig& c = config_;
  check(c.num_classes >= 1 && c.in_channels >= 1 && c.pixels_per_image >= 0,
        "patch CNN: num_classes and in_channels must be ≥ 1 and pixels_per_image ≥ 0, got ", c.num_classes,
        ", ", c.in_channels, ", ", c.pixels_per_image);
  check(c.patch_size >= 1 && c.patch_size % 2 == 1,
        "patch CNN: the patch side must be odd (centred on its pixel), got ", c.patch_size);
  check(!c.conv_channels.empty() && c.conv_channels.size() == c.conv_kernels.size(),
        "patch CNN: conv_channels and conv_kernels must have one entry per conv (at least one), got ",
        c.conv_channels.size(), " and ", c.conv_kernels.size());
  // The map side inside one patch: each valid conv k trims k − 1, each pool halves and needs an
  // even side (an odd one would drop a row, and the dense net would not see the same windows).
  int64_t side = c.patch_size, in = c.in_channels;
  auto convs = register_module("convs", std::make_shared<Sequential>());
  for (size_t i = 0; i < c.conv_channels.size(); ++i) {
    const int64_t conv_side = side - (c.conv_kernels[i] - 1);
    check(c.conv_kernels[i] >= 1 && conv_side >= 2 && conv_side % 2 == 0, "patch CNN: conv ", i, " (kernel ",
          c.conv_kernels[i], ") turns the ", side, "×", side, " map into ", conv_side, "×", conv_side,
          "; its 2×2 pool needs an even side ≥ 2 (choose the patch side and kernels to fit)");
    convs_.push_back(convs->add(std::make_shared<Conv2d>(
        Conv2dOptions{.in_channels = in, .out_channels = c.conv_channels[i], .kernel = c.conv_kernels[i]},
        rng)));
    side = conv_side / 2;
    in = c.conv_channels[i];
  }
  final_side_ = side;
  auto fcs = register_module("fcs", std::make_shared<Sequential>());
  int64_t features = in * side * side;
  for (int64_t hidden : c.hidden_features) {
    fcs_.push_back(fcs->add(std::make_shared<Linear>(features, hidden, rng)));
    features = hidden;
  }
  fcs_.push_back(fcs->add(std::make_shared<Linear>(features, c.num_classes, rng)));
}

void PatchCnn::check_images(const char* who, const Tensor& images) const {
  check(images.defined() && images.dim() == 4 && images.size(1) == config_.in_channels, "patch CNN ", who,
        ": expected images (N, ", config_.in_channels, ", H, W), got ",
        images.defined() ? shape_str(images.shape()) : "an undefined tensor");
}

Tensor PatchCnn::classify_patches(const Tensor& patches) {
  const int p = config_.patch_size;
  check(patches.defined() && patches.dim() == 4 && patches.size(1) == config_.in_channels &&
            patches.size(2) == p && patches.size(3) == p,
        "patch CNN: expected patches (M, ", config_.in_channels, ", ", p, ", ", p, "), got ",
        patches.defined() ? shape_str(patches.shape()) : "an undefined tensor");
  // x: (M, c_i, s_i, s_i), the map shrinking by the conv and halving at the pool.
  Tensor x = patches;
  for (const auto& conv : convs_) x = pool_.forward(relu(conv->forward(x)));
  x = x.reshape({patches.size(0), -1});  // (M, c_last · s · s), row-major (c, y, x)
  for (size_t i = 0; i < fcs_.size(); ++i) {
    x = fcs_[i]->forward(x);
    if (i + 1 < fcs_.size()) x = relu(x);
  }
  return x;  // (M, C)
}

Tensor PatchCnn::forward(const Tensor& images) {
  check_images("forward", images);
  const int r = config_.patch_size / 2;
  // Zero padding by the patch radius, as the patches of the border pixels are padded.
  Tensor x = pad2d(images, r, r, r, r);  // (N, in, H + P − 1, W + P − 1)
  // The same convs, now over the whole image. After each pool, one step in the patch net's map is
  // `dilation` pixels here, so later kernels and pool windows are spread that far apart. The pool
  // is the 2×2 window with stride 1 and its taps `dilation` apart, (N, C, H, W) → (N, C, H − d, W − d):
  // where the patch net pools every other position, this pools every position, so the maps of all
  // the patch positions stay interleaved in one map.
  int dilation = 1;
  for (const auto& conv : convs_) {
    x = relu(conv2d(x, conv->weight(), conv->bias(), {.dilation = dilation}));
    x = max_pool2d(x, {.kernel = 2, .stride = 1, .dilation = dilation});
    dilation *= 2;
  }
  // The first fully connected layer, its weight (out, c·s·s) viewed as a (out, c, s, s) kernel:
  // a conv over the s×s window the patch net flattened. The rest are 1×1 convs.
  const Tensor& w0 = fcs_[0]->weight();
  const int64_t c_last = convs_.back()->options().out_channels;
  x = conv2d(x, w0.reshape({w0.size(0), c_last, final_side_, final_side_}), fcs_[0]->bias(),
             {.dilation = dilation});
  for (size_t i = 1; i < fcs_.size(); ++i) {
    x = relu(x);
    const Tensor& w = fcs_[i]->weight();
    x = conv2d(x, w.reshape({w.size(0), w.size(1), 1, 1}), fcs_[i]->bias(), {});
  }
  return x;  // (N, C, H, W)
}

Tensor PatchCnn::forward_per_pixel(const Tensor& images) {
  check_images("forward_per_pixel", images);
  NoGradGuard no_grad;
  const int p = config_.patch_size, r = p / 2;
  const int64_t n_images = images.size(0), h = images.size(2), w = images.size(3),
                classes = config_.num_classes;
  const Tensor padded = pad2d(images, r, r, r, r);
  Tensor logits = Tensor::empty({n_images, classes, h, w});
  for (int64_t n = 0; n < n_images; ++n) {
    const Tensor image = slice(padded, 0, n, n + 1);  // (1, in, H + P − 1, W + P − 1)
    for (int64_t y = 0; y < h; ++y) {
      // The W patches of row y: (W, in, P, P) → (W, C).
      std::vector<Tensor> row;
      for (int64_t x = 0; x < w; ++x)
        row.push_back(crop2d(image, static_cast<int>(y), static_cast<int>(x), p, p));
      const Tensor row_logits = classify_patches(concat(row, 0));
      for (int64_t x = 0; x < w; ++x)
        for (int64_t c = 0; c < classes; ++c)
          logits.data()[((n * classes + c) * h + y) * w + x] = row_logits.data()[x * classes + c];
    }
  }
  return logits;
}

Tensor PatchCnn::training_loss(const Batch& batch, const CrossEntropyParams& loss) {
  const Tensor& images = batch.images;
  check_images("training_loss", images);
  const int64_t n_images = images.size(0), h = images.size(2), w = images.size(3);
  check(batch.labels.defined() && batch.labels.shape() == Shape({n_images, h, w}),
        "patch CNN training_loss: expected labels (N, H, W) = ", shape_str({n_images, h, w}), ", got ",
        batch.labels.defined() ? shape_str(batch.labels.shape()) : "none");
  const int p = config_.patch_size, r = p / 2;
  const Tensor padded = pad2d(images, r, r, r, r);
  std::vector<Tensor> patches;
  std::vector<int32_t> targets;
  for (int64_t n = 0; n < n_images; ++n) {
    const int32_t* label = batch.labels.data() + n * h * w;
    std::vector<int64_t> pixels;  // flat positions y·W + x of the labelled pixels
    for (int64_t i = 0; i < h * w; ++i)
      if (label[i] != loss.ignore_index) pixels.push_back(i);
    const int64_t k = config_.pixels_per_image;
    if (k > 0 && static_cast<int64_t>(pixels.size()) > k) {
      // The first k of a partial Fisher–Yates shuffle: k pixels without replacement.
      for (int64_t i = 0; i < k; ++i)
        std::swap(pixels[i], pixels[i + sampling_rng_.below(static_cast<int64_t>(pixels.size()) - i)]);
      pixels.resize(k);
    }
    const Tensor image = slice(padded, 0, n, n + 1);
    for (int64_t i : pixels) {
      patches.push_back(crop2d(image, static_cast<int>(i / w), static_cast<int>(i % w), p, p));
      targets.push_back(label[i]);
    }
  }
  if (patches.empty()) {
    // Nothing labelled in the whole batch: one ignored patch gives the loss 0 (and zero
    // gradients) through the same graph, as cross-entropy over an all-ignored map does.
    patches.push_back(crop2d(slice(padded, 0, 0, 1), 0, 0, p, p));
    targets.push_back(loss.ignore_index);
  }
  const int64_t m = static_cast<int64_t>(targets.size());
  return cross_entropy(classify_patches(concat(patches, 0)), IntTensor::from_vector({m}, targets), loss);
}

std::shared_ptr<PatchCnn> make_patch_cnn(const PatchCnnConfig& config, uint64_t seed) {
  Rng rng(seed);
  return std::make_shared<PatchCnn>(config, rng);
}

}  // namespace pg
