// FCN-32s / 16s / 8s (Long, Shelhamer, Darrell 2015): the configurations, the crop offsets from
// the layers' coordinate maps, the net (fc6, fc7, score_fr, skips, bilinear deconvs, crops) and
// the staged initialisation.
#include "nets/fcn.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include "core/init.h"
#include "core/ops/activation.h"
#include "core/ops/arithmetic.h"
#include "core/ops/shape_ops.h"

namespace pg {

FcnConfig FcnConfig::full(FcnVariant variant, int num_classes) {
  return {.variant = variant, .num_classes = num_classes};
}

FcnConfig FcnConfig::tiny(FcnVariant variant, int num_classes) {
  FcnConfig c{.variant = variant,
              .num_classes = num_classes,
              .backbone = Vgg16Config::fcn().tiny(),
              .padding = FcnPadding::same,
              .fc_channels = 64,
              .fc6_kernel = 3};
  c.backbone.conv1_1_pad = 1;
  return c;
}

std::string fcn_variant_name(FcnVariant variant) {
  switch (variant) {
    case FcnVariant::fcn32s:
      return "FCN-32s";
    case FcnVariant::fcn16s:
      return "FCN-16s";
    case FcnVariant::fcn8s:
      return "FCN-8s";
  }
  return "FCN";
}

namespace {

// Where a position of a layer's input lands in its output: x_out = scale · x_in + shift, along
// either axis (Caffe's coord_map.py). A conv or pool (kernel k, stride s, pad p, dilation d) maps
// the centre of its window: x_out = (x_in + p − d(k − 1)/2) / s; a deconv the other way round:
// x_out = s · x_in + (k − 1)/2 − p. All the values here are exact binary fractions.
struct CoordMap {
  double scale = 1.0;
  double shift = 0.0;
  CoordMap then(const CoordMap& next) const { return {next.scale * scale, next.scale * shift + next.shift}; }
};

CoordMap conv_map(int kernel, int stride, int pad, int dilation = 1) {
  return {1.0 / stride, (pad - dilation * (kernel - 1) / 2.0) / stride};
}

CoordMap deconv_map(const ConvTranspose2dOptions& o) {
  return {static_cast<double>(o.stride), (o.kernel - 1) / 2.0 - o.pad};
}

int fc6_pad(const FcnConfig& c) {
  return c.padding == FcnPadding::reference ? 0 : c.fc6_kernel / 2;
}

// The deconv upsampling by `factor`, bilinear, no bias: the reference's kernel 2·factor unpadded,
// or the "same" form whose output is exactly factor × its input.
ConvTranspose2dOptions upscore_options(const FcnConfig& c, int factor) {
  if (c.padding == FcnPadding::same) return bilinear_upsampling_options(c.num_classes, factor);
  return ConvTranspose2dOptions{.in_channels = c.num_classes,
                                .out_channels = c.num_classes,
                                .kernel = 2 * factor,
                                .stride = factor,
                                .pad = 0,
                                .bias = false,
                                .bilinear_init = true};
}

// The offset at which the map `larger` is cropped so that its pixel (o + j) lies where pixel j of
// `reference` does: the difference of their shifts, which must be a whole number ≥ 0.
int crop_offset(const FcnConfig& c, const CoordMap& larger, const CoordMap& reference, const char* what) {
  const double offset = larger.shift - reference.shift;
  check(larger.scale == reference.scale && offset >= 0 && offset == std::round(offset),
        fcn_variant_name(c.variant), ": ", what, " does not align with the map it is fused with (strides 1/",
        1.0 / larger.scale, " and 1/", 1.0 / reference.scale, ", offset ", offset,
        "); the geometry needs whole-pixel offsets ≥ 0");
  return static_cast<int>(offset);
}

}  // namespace

FcnCropOffsets fcn_crop_offsets(const FcnConfig& c) {
  // The image → every pool's map, then → score_fr (fc6; fc7 and score_fr are 1×1).
  CoordMap map;
  std::array<CoordMap, 5> to_pool;
  for (int b = 0; b < 5; ++b) {
    const int d = c.backbone.dilations[b];
    for (int i = 0; i < c.backbone.convs_per_block[b]; ++i)
      map = map.then(conv_map(3, 1, b == 0 && i == 0 ? c.backbone.conv1_1_pad : d, d));
    if (const auto& pool = c.backbone.pools[b])
      map = map.then(conv_map(pool->kernel, pool->stride, pool->pad));
    to_pool[b] = map;
  }
  const CoordMap to_score_fr = to_pool[4].then(conv_map(c.fc6_kernel, 1, fc6_pad(c)));
  const CoordMap image;  // the identity

  FcnCropOffsets offsets;
  if (c.variant == FcnVariant::fcn32s) {
    offsets.output = crop_offset(c, to_score_fr.then(deconv_map(upscore_options(c, 32))), image, "upscore");
    return offsets;
  }
  const CoordMap to_upscore2 = to_score_fr.then(deconv_map(upscore_options(c, 2)));
  offsets.score_pool4 = crop_offset(c, to_pool[3], to_upscore2, "score_pool4");
  if (c.variant == FcnVariant::fcn16s) {
    offsets.output = crop_offset(c, to_upscore2.then(deconv_map(upscore_options(c, 16))), image, "upscore16");
    return offsets;
  }
  const CoordMap to_upscore_pool4 = to_upscore2.then(deconv_map(upscore_options(c, 2)));
  offsets.score_pool3 = crop_offset(c, to_pool[2], to_upscore_pool4, "score_pool3");
  offsets.output =
      crop_offset(c, to_upscore_pool4.then(deconv_map(upscore_options(c, 8))), image, "upscore8");
  return offsets;
}

Fcn::Fcn(const FcnConfig& config, Rng& rng) : config_(config) {
  const FcnConfig& c = config_;
  check(c.num_classes >= 1 && c.fc_channels >= 1 && c.fc6_kernel >= 1, name(),
        ": num_classes, fc_channels and fc6_kernel must be ≥ 1, got ", c.num_classes, ", ", c.fc_channels,
        ", ", c.fc6_kernel);
  check(c.backbone.output_stride() == 32, name(),
        ": the skips fuse at strides 32, 16 and 8, so the backbone ",
        "needs five stride-2 pools; this one has output stride ", c.backbone.output_stride());
  check(!c.at_once || c.variant != FcnVariant::fcn32s, name(),
        ": at_once scales the skips, FCN-32s has none");
  offsets_ = fcn_crop_offsets(c);

  backbone_ = register_module("backbone", std::make_shared<Vgg16>(c.backbone, rng));
  // fc6 and fc7 keep Conv2d's (PyTorch's) default initialisation; the reference copies them from
  // VGG-16's ImageNet classifier, reshaped into convolutions.
  fc6_ =
      register_module("fc6", std::make_shared<Conv2d>(Conv2dOptions{.in_channels = backbone_->out_channels(),
                                                                    .out_channels = c.fc_channels,
                                                                    .kernel = c.fc6_kernel,
                                                                    .pad = fc6_pad(c)},
                                                      rng));
  fc7_ = register_module(
      "fc7",
      std::make_shared<Conv2d>(
          Conv2dOptions{.in_channels = c.fc_channels, .out_channels = c.fc_channels, .kernel = 1}, rng));
  drop6_ = register_module("drop6", std::make_shared<Dropout>(c.dropout, rng));
  drop7_ = register_module("drop7", std::make_shared<Dropout>(c.dropout, rng));
  score_fr_ = make_score("score_fr", c.fc_channels, rng);

  switch (c.variant) {
    case FcnVariant::fcn32s:
      upscore_ = make_upscore("upscore", 32, rng);
      break;
    case FcnVariant::fcn16s:
      score_pool4_ = make_score("score_pool4", c.backbone.widths[3], rng);
      upscore2_ = make_upscore("upscore2", 2, rng);
      upscore16_ = make_upscore("upscore16", 16, rng);
      break;
    case FcnVariant::fcn8s:
      score_pool4_ = make_score("score_pool4", c.backbone.widths[3], rng);
      score_pool3_ = make_score("score_pool3", c.backbone.widths[2], rng);
      upscore2_ = make_upscore("upscore2", 2, rng);
      upscore_pool4_ = make_upscore("upscore_pool4", 2, rng);
      upscore8_ = make_upscore("upscore8", 8, rng);
      break;
  }
}

// A 1×1 class-score conv, zero weights and bias: the reference's score layers have no filler.
std::shared_ptr<Conv2d> Fcn::make_score(const std::string& layer, int64_t in_channels, Rng& rng) {
  auto score = register_module(
      layer,
      std::make_shared<Conv2d>(
          Conv2dOptions{.in_channels = in_channels, .out_channels = config_.num_classes, .kernel = 1}, rng));
  init::zeros(score->weight());
  init::zeros(score->bias());
  return score;
}

std::shared_ptr<ConvTranspose2d> Fcn::make_upscore(const std::string& layer, int factor, Rng& rng) {
  auto up = register_module(layer, std::make_shared<ConvTranspose2d>(upscore_options(config_, factor), rng));
  Tensor weight = up->weight();
  weight.set_requires_grad(config_.learn_upsampling);  // frozen: still a parameter, never a gradient
  return up;
}

std::vector<ParamGroup> Fcn::parameter_groups() const {
  ParamGroup group;
  for (const Tensor& p : parameters())
    if (p.requires_grad()) group.params.push_back(p);
  return {group};
}

Tensor Fcn::crop_like(const Tensor& x, int offset, const Tensor& like, const char* what) const {
  const int64_t h = like.size(2), w = like.size(3);
  check(x.size(2) >= offset + h && x.size(3) >= offset + w, name(), ": ", what, " is ", x.size(2), "×",
        x.size(3), ", too small for its ", h, "×", w, " crop at offset ", offset);
  return crop2d(x, offset, offset, static_cast<int>(h), static_cast<int>(w));
}

Tensor Fcn::score_fr(const Tensor& pool5) {
  // pool5: (N, 512, h, w) → fc6 (N, 4096, h − 6, w − 6) → fc7 (N, 4096, ·, ·) → (N, C, ·, ·)
  Tensor x = drop6_->forward(relu(fc6_->forward(pool5)));
  x = drop7_->forward(relu(fc7_->forward(x)));
  return score_fr_->forward(x);
}

Tensor Fcn::forward(const Tensor& images) {
  check(images.defined() && images.dim() == 4 && images.size(1) == 3, name(),
        ": expected images (N, 3, H, W), got ",
        images.defined() ? shape_str(images.shape()) : "an undefined tensor");
  check(config_.padding == FcnPadding::reference || (images.size(2) % 32 == 0 && images.size(3) % 32 == 0),
        name(), ": input ", images.size(2), "×", images.size(3),
        ": with \"same\" padding H and W must be divisible by 32");
  const FcnVariant variant = config_.variant;

  Vgg16Features features = backbone_->features(images);  // pool3 at 1/8, pool4 at 1/16, pool5 at 1/32
  Tensor scores = score_fr(features.pool5());            // (N, C, h, w): the coarse prediction
  if (variant == FcnVariant::fcn32s)
    return crop_like(upscore_->forward(scores), offsets_.output, images, "upscore");  // (N, C, H, W)

  // 1/16: twice the coarse scores + the pool4 scores (zero at the start).
  Tensor upscore2 = upscore2_->forward(scores);
  Tensor pool4 = config_.at_once ? scale(features.pool4(), 0.01f) : features.pool4();
  Tensor score_pool4c =
      crop_like(score_pool4_->forward(pool4), offsets_.score_pool4, upscore2, "score_pool4");
  Tensor fuse_pool4 = add(upscore2, score_pool4c);
  if (variant == FcnVariant::fcn16s)
    return crop_like(upscore16_->forward(fuse_pool4), offsets_.output, images, "upscore16");

  // 1/8: twice that + the pool3 scores.
  Tensor upscore_pool4 = upscore_pool4_->forward(fuse_pool4);
  Tensor pool3 = config_.at_once ? scale(features.pool3(), 0.0001f) : features.pool3();
  Tensor score_pool3c =
      crop_like(score_pool3_->forward(pool3), offsets_.score_pool3, upscore_pool4, "score_pool3");
  Tensor fuse_pool3 = add(upscore_pool4, score_pool3c);
  return crop_like(upscore8_->forward(fuse_pool3), offsets_.output, images, "upscore8");
}

std::shared_ptr<Fcn> make_fcn(const FcnConfig& config, uint64_t seed) {
  Rng rng(seed);
  return std::make_shared<Fcn>(config, rng);
}

void fcn_init_from_stage(Fcn& net, const NamedTensors& previous) {
  // Every check before the first copy: a wrong file leaves the net as it was.
  std::vector<std::pair<const Tensor*, Tensor>> copies;  // (previous stage's tensor, this net's)
  for (const auto& [name, tensor] : net.state_dict()) {
    if (name.starts_with("upscore")) continue;  // the deconvs keep their bilinear start
    const Tensor* source = nullptr;
    for (const auto& [previous_name, t] : previous)
      if (previous_name == name) source = &t;
    if (source == nullptr) {
      check(name.starts_with("score_pool"), net.name(), " staged init: the previous stage has no '", name,
            "'; it takes the state of a trained FCN of the same configuration (FCN-32s for a 16s, 16s for an "
            "8s)");
      continue;  // a skip new at this stage: stays zero
    }
    check(source->shape() == tensor.shape(), net.name(), " staged init: '", name, "' is ",
          shape_str(source->shape()), " in the previous stage, ", shape_str(tensor.shape()), " here");
    copies.emplace_back(source, tensor);
  }
  for (const auto& [source, tensor] : copies)
    std::copy(source->data(), source->data() + source->numel(), tensor.data());
}

}  // namespace pg
