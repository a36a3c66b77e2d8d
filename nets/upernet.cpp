// UperNet (Xiao et al. 2018): ResNet C2…C5 → PPM on C5 → FPN top-down → fusion at 1/4 →
// classifier, and the Unified Perceptual Parsing heads with their per-source losses.
#include "nets/upernet.h"

#include "core/autograd.h"
#include "core/init.h"
#include "core/ops/arithmetic.h"
#include "core/ops/pool2d.h"
#include "core/ops/resize_bilinear.h"
#include "core/ops/shape_ops.h"
#include "layers/adaptive_avg_pool2d.h"

namespace pg {

UperNetConfig UperNetConfig::full(int num_classes) {
  return {.num_classes = num_classes, .backbone = ResNetConfig::resnet50(32)};
}

UperNetConfig UperNetConfig::tiny(int num_classes) {
  return {
      .num_classes = num_classes, .backbone = ResNetConfig::tiny(32), .channels = 32, .texture_channels = 16};
}

UperNetConfig UperNetConfig::multitask_full(int num_classes) {
  UperNetConfig c = full(num_classes);
  c.num_scenes = 365, c.num_parts = 152, c.num_materials = 25, c.num_textures = 47;  // Broden+
  return c;
}

UperNetConfig UperNetConfig::multitask_tiny(int num_classes) {
  UperNetConfig c = tiny(num_classes);
  c.num_scenes = 4, c.num_parts = 2, c.num_materials = 5, c.num_textures = 4;  // data/toy_dataset.h
  return c;
}

namespace {

// A 1×1 classifier: weight ~ N(0, 0.01²), bias 0 (mmseg's DecodeHead.init_weights).
std::shared_ptr<Conv2d> make_classifier(int64_t in_channels, int classes, Rng& rng) {
  auto conv = std::make_shared<Conv2d>(
      Conv2dOptions{.in_channels = in_channels, .out_channels = classes, .kernel = 1}, rng);
  init::normal(conv->weight(), 0.0f, 0.01f, rng);
  init::zeros(conv->bias());
  return conv;
}

std::shared_ptr<ConvBnRelu> conv_bn_relu(int64_t in, int64_t out, int kernel, Rng& rng) {
  return std::make_shared<ConvBnRelu>(
      ConvBnReluOptions{.in_channels = in, .out_channels = out, .kernel = kernel}, rng);
}

// CSAIL's segmentation heads: 3×3 ConvBnRelu ("0") → 1×1 classifier ("1").
std::shared_ptr<Sequential> make_pixel_head(int64_t channels, int classes, Rng& rng) {
  auto head = std::make_shared<Sequential>();
  head->add(conv_bn_relu(channels, channels, 3, rng));
  head->add(make_classifier(channels, classes, rng));
  return head;
}

// Bilinear to the size of `like`, corners not aligned (mmseg's and the CSAIL code's convention).
Tensor resize_like(const Tensor& x, const Tensor& like) {
  return resize_bilinear(x, static_cast<int>(like.size(2)), static_cast<int>(like.size(3)), false);
}

}  // namespace

UperHead::UperHead(const std::vector<int64_t>& in, const UperNetConfig& c, Rng& rng) {
  const int64_t ch = c.channels;
  psp_modules_ = register_module(
      "psp_modules",
      std::make_shared<PyramidPooling>(
          PyramidPoolingOptions{
              .in_channels = in[3], .branch_channels = ch, .bins = c.bins, .align_corners = false},
          rng));
  bottleneck_ = register_module("bottleneck", conv_bn_relu(psp_modules_->out_channels(), ch, 3, rng));
  auto laterals = register_module("lateral_convs", std::make_shared<Sequential>());
  for (int level = 0; level < 3; ++level)
    lateral_convs_.push_back(laterals->add(conv_bn_relu(in[level], ch, 1, rng)));
  auto fpn = register_module("fpn_convs", std::make_shared<Sequential>());
  for (int level = 0; level < 3; ++level) fpn_convs_.push_back(fpn->add(conv_bn_relu(ch, ch, 3, rng)));
  fpn_bottleneck_ = register_module("fpn_bottleneck", conv_bn_relu(4 * ch, ch, 3, rng));
  dropout_ = register_module("dropout", std::make_shared<Dropout2d>(c.dropout, rng));
  conv_seg_ = register_module("conv_seg", make_classifier(ch, c.num_classes, rng));
  if (c.num_scenes > 0) {
    scene_head_ = register_module("scene_head", std::make_shared<Sequential>());
    scene_head_->add(conv_bn_relu(ch, ch, 3, rng));
    scene_head_->add(std::make_shared<AdaptiveAvgPool2d>(1));
    scene_head_->add(make_classifier(ch, c.num_scenes, rng));
  }
  if (c.num_parts > 0) part_head_ = register_module("part_head", make_pixel_head(ch, c.num_parts, rng));
  if (c.num_materials > 0)
    material_head_ = register_module("material_head", make_pixel_head(ch, c.num_materials, rng));
}

UperHead::Pyramid UperHead::pyramid(const Tensor& c2, const Tensor& c3, const Tensor& c4, const Tensor& c5) {
  Tensor p5 = bottleneck_->forward(psp_modules_->forward(c5));  // (N, ch, H/32, W/32)
  // Top-down: each lateral plus the merged level above, upsampled (before that level's 3×3 conv).
  Tensor m4 = add(lateral_convs_[2]->forward(c4), resize_like(p5, c4));  // (N, ch, H/16, W/16)
  Tensor m3 = add(lateral_convs_[1]->forward(c3), resize_like(m4, c3));  // (N, ch, H/8, W/8)
  Tensor m2 = add(lateral_convs_[0]->forward(c2), resize_like(m3, c2));  // (N, ch, H/4, W/4)
  return {.p2 = fpn_convs_[0]->forward(m2),
          .p3 = fpn_convs_[1]->forward(m3),
          .p4 = fpn_convs_[2]->forward(m4),
          .p5 = p5};
}

Tensor UperHead::fuse(const Pyramid& p) {
  Tensor levels = concat({p.p2, resize_like(p.p3, p.p2), resize_like(p.p4, p.p2), resize_like(p.p5, p.p2)},
                         1);                // (N, 4·ch, H/4, W/4)
  return fpn_bottleneck_->forward(levels);  // (N, ch, H/4, W/4)
}

Tensor UperHead::object_logits(const Tensor& fused) {
  return conv_seg_->forward(dropout_->forward(fused));
}

Tensor UperHead::part_logits(const Tensor& fused) {
  check(part_head_ != nullptr, "UperNet: this net has no part head (num_parts = 0)");
  return part_head_->forward(fused);
}

Tensor UperHead::material_logits(const Pyramid& p) {
  check(material_head_ != nullptr, "UperNet: this net has no material head (num_materials = 0)");
  return material_head_->forward(p.p2);
}

Tensor UperHead::scene_logits(const Pyramid& p) {
  check(scene_head_ != nullptr, "UperNet: this net has no scene head (num_scenes = 0)");
  Tensor scores = scene_head_->forward(p.p5);               // (N, scenes, 1, 1)
  return scores.reshape({scores.size(0), scores.size(1)});  // (N, scenes)
}

Tensor UperHead::forward(const Tensor&) {
  throw Error("UperHead: reads C2…C5 at once; call pyramid(c2, c3, c4, c5), then fuse() and the heads");
}

UperNet::UperNet(const UperNetConfig& config, Rng& rng) : config_(config) {
  const UperNetConfig& c = config_;
  check(c.num_classes >= 1, "UperNet: num_classes must be ≥ 1, got ", c.num_classes);
  check(c.channels >= 1, "UperNet: channels must be ≥ 1, got ", c.channels);
  check(c.backbone.output_stride == 32,
        "UperNet: the FPN needs the plain ResNet's strides 4, 8, 16, 32 (output "
        "stride 32), got output stride ",
        c.backbone.output_stride);
  check(c.num_scenes >= 0 && c.num_parts >= 0 && c.num_materials >= 0 && c.num_textures >= 0,
        "UperNet: head class counts must be ≥ 0 (0: no such head)");
  check(c.num_textures == 0 || (c.texture_channels >= 1 && c.texture_convs >= 1),
        "UperNet: the texture head needs texture_channels ≥ 1 and texture_convs ≥ 1");
  backbone_ = register_module("backbone", std::make_shared<ResNet>(c.backbone, rng));
  const std::vector<int64_t> in = {backbone_->out_channels(1), backbone_->out_channels(2),
                                   backbone_->out_channels(3), backbone_->out_channels(4)};
  decode_head_ = register_module("decode_head", std::make_shared<UperHead>(in, c, rng));
  if (c.num_textures > 0) {
    texture_head_ = register_module("texture_head", std::make_shared<Sequential>());
    int64_t channels = in[1];  // C3
    for (int i = 0; i < c.texture_convs; ++i, channels = c.texture_channels)
      texture_head_->add(conv_bn_relu(channels, c.texture_channels, 3, rng));
    texture_head_->add(make_classifier(c.texture_channels, c.num_textures, rng));
  }
}

void UperNet::check_input(const Tensor& images) const {
  check(images.defined() && images.dim() == 4 && images.size(1) == 3 && images.size(2) >= 1 &&
            images.size(3) >= 1,
        "UperNet: expected images (N, 3, H, W), got ",
        images.defined() ? shape_str(images.shape()) : "an undefined tensor");
}

Tensor UperNet::upsample(const Tensor& logits, const Tensor& images) const {
  return resize_like(logits, images);
}

Tensor UperNet::forward(const Tensor& images) {
  check_input(images);
  ResNetFeatures f = backbone_->features(images);  // C2…C5 at 1/4, 1/8, 1/16, 1/32
  UperHead::Pyramid p = decode_head_->pyramid(f.layer1, f.layer2, f.layer3, f.layer4);
  Tensor fused = decode_head_->fuse(p);                         // (N, ch, H/4, W/4)
  return upsample(decode_head_->object_logits(fused), images);  // (N, C, H, W)
}

UperNetOutputs UperNet::forward_all(const Tensor& images) {
  check_input(images);
  UperNetOutputs out;
  ResNetFeatures f = backbone_->features(images);
  UperHead::Pyramid p = decode_head_->pyramid(f.layer1, f.layer2, f.layer3, f.layer4);
  Tensor fused = decode_head_->fuse(p);
  out.object = upsample(decode_head_->object_logits(fused), images);
  if (config_.num_parts > 0) out.part = upsample(decode_head_->part_logits(fused), images);
  if (config_.num_materials > 0) out.material = upsample(decode_head_->material_logits(p), images);
  if (config_.num_scenes > 0) out.scene = decode_head_->scene_logits(p);
  if (texture_head_) {
    out.texture_map = texture_head_->forward(f.layer2.detach());  // (N, T, H/8, W/8)
    out.texture = global_avg_pool(out.texture_map).reshape({images.size(0), config_.num_textures});
  }
  return out;
}

LabelMap part_targets_inside_objects(const LabelMap& parts, const LabelMap& objects) {
  check(parts.defined() && objects.defined() && parts.shape() == objects.shape(), "UperNet: part labels ",
        parts.defined() ? shape_str(parts.shape()) : "undefined",
        " must come with object labels of the same shape, got ",
        objects.defined() ? shape_str(objects.shape()) : "undefined");
  LabelMap targets(parts.shape(), 255);
  for (int64_t i = 0; i < parts.numel(); ++i) {
    const int32_t object = objects.data()[i];
    if (object != 0 && object != 255) targets.data()[i] = parts.data()[i];
  }
  return targets;
}

namespace {

// The texture id of image n on every pixel of an (N, h, w) map.
LabelMap broadcast_image_labels(const IntTensor& ids, int64_t h, int64_t w) {
  const int64_t n = ids.numel();
  LabelMap map({n, h, w});
  for (int64_t i = 0; i < n; ++i) std::fill_n(map.data() + i * h * w, h * w, ids.data()[i]);
  return map;
}

}  // namespace

Tensor UperNet::training_loss(const Batch& batch, const CrossEntropyParams& loss) {
  check_input(batch.images);
  const UperNetConfig& c = config_;
  const UperNetLossWeights& weight = c.weights;
  const bool object_on = batch.labels.defined();
  const bool part_on = c.num_parts > 0 && batch.parts.defined();
  const bool scene_on = c.num_scenes > 0 && batch.scenes.defined();
  const bool material_on = c.num_materials > 0 && batch.materials.defined();
  const bool texture_on = c.num_textures > 0 && batch.textures.defined();
  check(object_on || part_on || scene_on || material_on || texture_on,
        "UperNet: the batch has no labels for any head of this net (object labels, or parts, scenes, "
        "materials, textures where the net has those heads)");
  const CrossEntropyParams plain{.ignore_index = loss.ignore_index, .reduction = loss.reduction};
  const Tensor& images = batch.images;
  std::vector<Tensor> terms;

  // A texture-only batch (the texture source, trained last): the rest of the net is fixed, so the
  // backbone runs in eval mode without recording: C3 is a constant to the texture head.
  const bool texture_only = texture_on && !(object_on || part_on || scene_on || material_on);
  ResNetFeatures f;
  if (texture_only) {
    NoGradGuard no_grad;
    const bool training = backbone_->is_training();
    backbone_->eval();
    f = backbone_->features(images);
    backbone_->train(training);
  } else {
    f = backbone_->features(images);  // C2…C5
  }

  if (object_on || part_on || scene_on || material_on) {
    UperHead::Pyramid p = decode_head_->pyramid(f.layer1, f.layer2, f.layer3, f.layer4);
    if (scene_on)
      terms.push_back(scale(cross_entropy(decode_head_->scene_logits(p), batch.scenes, plain), weight.scene));
    if (material_on)
      terms.push_back(
          scale(cross_entropy(upsample(decode_head_->material_logits(p), images), batch.materials, plain),
                weight.material));
    if (object_on || part_on) {
      Tensor fused = decode_head_->fuse(p);  // (N, ch, H/4, W/4)
      if (object_on)
        terms.push_back(
            scale(cross_entropy(upsample(decode_head_->object_logits(fused), images), batch.labels, loss),
                  weight.object));
      if (part_on) {
        check(object_on, "UperNet: part labels need the object labels (the part loss counts inside objects)");
        terms.push_back(scale(cross_entropy(upsample(decode_head_->part_logits(fused), images),
                                            part_targets_inside_objects(batch.parts, batch.labels), plain),
                              weight.part));
      }
    }
  }
  if (texture_on) {
    Tensor texture_map = texture_head_->forward(f.layer2.detach());  // (N, T, H/8, W/8)
    LabelMap targets = broadcast_image_labels(batch.textures, texture_map.size(2), texture_map.size(3));
    terms.push_back(scale(cross_entropy(texture_map, targets, plain), weight.texture));
  }
  return sum_of(terms);
}

std::shared_ptr<UperNet> make_upernet(const UperNetConfig& config, uint64_t seed) {
  Rng rng(seed);
  return std::make_shared<UperNet>(config, rng);
}

}  // namespace pg
