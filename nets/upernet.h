// UperNet (Xiao, Liu, Zhou, Jiang, Sun, "Unified Perceptual Parsing for Scene Understanding",
// ECCV 2018, Fig. 3): a plain ResNet (output stride 32, no dilation) gives C2…C5 at 1/4…1/32; the
// pyramid pooling module on C5 (nets/pyramid_pooling.h, bins 1, 2, 3, 6, 512 channels each) and a
// 3×3 conv make the top of a feature pyramid (FPN: lateral 1×1 on C2–C4, top-down bilinear
// upsampling and addition, a 3×3 conv on each merged level); every level is upsampled to 1/4,
// concatenated and fused by a 3×3 conv; a 1×1 classifier and bilinear upsampling give the input's
// size. Every conv is a ConvBnRelu (mmseg's ConvModule).
//
// Unified Perceptual Parsing adds heads for the other levels of a scene (all optional, on when
// their class count is > 0): scene (image-level) on the PPM output: 3×3 conv → global average
// pool → 1×1; part on the fused map and material on the finest FPN level: 3×3 conv → 1×1 each;
// texture on C3 (layer2, 1/8), detached: four 3×3 convs of 128 → 1×1, a per-pixel texture map.
// training_loss switches on the heads whose labels the batch carries (the reference trains one
// data source per iteration: object+part+scene from ADE20K/Pascal, material from OpenSurfaces,
// texture from DTD; tools/upp_training.h draws the toy equivalents) and weights them as the
// reference: object 1, part 0.5, scene 0.25, material 1; texture 1 (its own phase, trained last).
//
// References followed. Single-task: mmsegmentation's UPerHead (configs/_base_/models/
// upernet_r50.py), for its names (decode_head.psp_modules, bottleneck, lateral_convs, fpn_convs,
// fpn_bottleneck, conv_seg), its PPM (1×1 conv at the pooled size, then upsampling), dropout 0.1
// and align_corners = false. Multi-task: CSAILVision/unifiedparsing models/models.py, for the
// heads (scene_head, part_head, material_head), the loss weights and the part loss (counted only
// where the ground-truth object is present, normalised by those pixels). Differences, on purpose:
//   - torchvision's 7×7 stem (our ResNet), not mmseg's ResNetV1c deep stem (19,232 more there);
//     no auxiliary FCN head (mmseg's config has one on layer3; the paper's UperNet has none);
//   - the object head is conv_seg on the fused map (mmseg), not the CSAIL code's extra 3×3 conv;
//   - one softmax over all parts (the toy's parts, upper/lower half, are shared by every object;
//     the reference has one softmax per object's own part list); parts count on every pixel whose
//     object is not background (0) nor ignore (255);
//   - losses at the input's size (logits upsampled; the reference downsamples labels to 1/4), and
//     background is a class (the reference's object and material losses ignore label 0,
//     Broden's "unlabelled");
//   - texture: the reference code has no texture head; the paper puts it on an early stage with
//     its gradient stopped, trained after the others. Here: C3 detached, the loss per pixel with
//     the image's texture id everywhere (the paper: DTD images are one texture all over).
#pragma once
#include <memory>
#include <vector>

#include "core/rng.h"
#include "layers/conv2d.h"
#include "layers/dropout.h"
#include "layers/sequential.h"
#include "nets/backbones/resnet.h"
#include "nets/conv_bn_relu.h"
#include "nets/pyramid_pooling.h"
#include "nets/segmentation_net.h"

namespace pg {

struct UperNetLossWeights {
  float object = 1.0f;
  float part = 0.5f;
  float scene = 0.25f;
  float material = 1.0f;
  float texture = 1.0f;
};

struct UperNetConfig {
  int num_classes = 21;  // objects
  ResNetConfig backbone = ResNetConfig::resnet50(32);
  std::vector<int> bins = {1, 2, 3, 6};
  int64_t channels = 512;  // PPM branches, every FPN level, the fusion and the heads' 3×3 convs
  float dropout = 0.1f;    // Dropout2d before conv_seg
  // Unified Perceptual Parsing heads: 0 = no such head (all 0: the single-task UperNet).
  int num_scenes = 0;
  int num_parts = 0;
  int num_materials = 0;
  int num_textures = 0;
  int64_t texture_channels = 128;
  int texture_convs = 4;
  UperNetLossWeights weights{};

  // mmseg's upernet_r50 decode head on our ResNet-50: 64,032,341 parameters at 21 classes (mmseg's
  // config, with its deep stem and auxiliary head: 66,416,778; tests/test_upernet.cpp).
  static UperNetConfig full(int num_classes);
  // ResNetConfig::tiny() (C5 2×2 at 64 px: bins 3 and 6 repeat its pixels), width 32.
  static UperNetConfig tiny(int num_classes);
  // With every head at Broden+'s sizes: 365 scenes, 152 parts, 25 materials, 47 textures (72,430,626).
  static UperNetConfig multitask_full(int num_classes);
  // With every head at the toy dataset's sizes: 4 scenes, 2 parts, 5 materials, 4 textures.
  static UperNetConfig multitask_tiny(int num_classes);
};

// Every head's output. object, part, material: (N, classes, H, W) at the input's size; scene and
// texture: (N, classes) image-level scores (texture: its per-pixel map averaged); texture_map:
// (N, textures, H/8, W/8). A head that is absent (or not asked for) stays undefined.
struct UperNetOutputs {
  Tensor object, part, material, scene, texture, texture_map;
};

// decode_head: PPM + FPN + fusion + conv_seg, and the multi-task heads that read its maps.
class UperHead : public Module {
 public:
  UperHead(const std::vector<int64_t>& in_channels, const UperNetConfig& config, Rng& rng);

  // The FPN's outputs P2…P5, each (N, channels, ·): P5 = the PPM's 3×3 bottleneck at 1/32 (the
  // scene head's input), P4…P2 the merged levels after their 3×3 convs (P2 at 1/4: material's).
  struct Pyramid {
    Tensor p2, p3, p4, p5;
  };
  // c2…c5: the backbone's layer1…layer4 → the pyramid.
  Pyramid pyramid(const Tensor& c2, const Tensor& c3, const Tensor& c4, const Tensor& c5);
  // Every level upsampled to P2's size, concatenated, 3×3 conv: (N, channels, H/4, W/4).
  Tensor fuse(const Pyramid& p);
  Tensor object_logits(const Tensor& fused);  // (N, classes, H/4, W/4)
  Tensor part_logits(const Tensor& fused);    // (N, parts, H/4, W/4)
  Tensor material_logits(const Pyramid& p);   // (N, materials, H/4, W/4)
  Tensor scene_logits(const Pyramid& p);      // (N, scenes)
  Tensor forward(const Tensor& x) override;   // a pg::Error: the head reads four maps (pyramid())

 private:
  std::shared_ptr<PyramidPooling> psp_modules_;
  std::shared_ptr<ConvBnRelu> bottleneck_;
  std::vector<std::shared_ptr<ConvBnRelu>> lateral_convs_;  // C2, C3, C4 → channels (1×1)
  std::vector<std::shared_ptr<ConvBnRelu>> fpn_convs_;      // 3×3 on each merged level
  std::shared_ptr<ConvBnRelu> fpn_bottleneck_;              // the fusion: 4·channels → channels
  std::shared_ptr<Dropout2d> dropout_;
  std::shared_ptr<Conv2d> conv_seg_;
  std::shared_ptr<Sequential> scene_head_, part_head_, material_head_;  // undefined when absent
};

class UperNet : public SegmentationNet {
 public:
  UperNet(const UperNetConfig& config, Rng& rng);

  // images: (N, 3, H, W) → object logits (N, C, H, W). Any H, W ≥ 1 (stages round up).
  Tensor forward(const Tensor& images) override;
  // Every head the net has, from one pass through the backbone.
  UperNetOutputs forward_all(const Tensor& images);
  // The weighted sum of the losses of the heads whose labels the batch carries: object (labels),
  // part (parts, inside the objects of labels), scene (scenes), material (materials), texture
  // (textures). batch.labels may be undefined (a material- or texture-only source). A batch with
  // no label for any head of the net is a pg::Error. Only the switched-on heads run, so only
  // their parameters (and what lies under them) get gradients.
  Tensor training_loss(const Batch& batch, const CrossEntropyParams& loss) override;
  int num_classes() const override { return config_.num_classes; }
  const UperNetConfig& config() const { return config_; }

 private:
  void check_input(const Tensor& images) const;
  Tensor upsample(const Tensor& logits, const Tensor& images) const;  // to the images' H, W

  UperNetConfig config_;
  std::shared_ptr<ResNet> backbone_;
  std::shared_ptr<UperHead> decode_head_;
  std::shared_ptr<Sequential> texture_head_;  // undefined when num_textures == 0
};

// The part targets that count: parts where the object label is a real object (not background 0,
// not ignore), 255 elsewhere. parts, objects: (N, H, W).
LabelMap part_targets_inside_objects(const LabelMap& parts, const LabelMap& objects);

std::shared_ptr<UperNet> make_upernet(const UperNetConfig& config, uint64_t seed);

}  // namespace pg
