// UperNet (nets/upernet.h): parameter counts against the twin, golden training steps (single-task;
// multi-task with every head's loss), the heads' outputs and sizes, the reference's loss weights,
// the part loss counted inside objects only, the per-source switching of heads (only the labelled
// heads get gradients; the texture source leaves the rest of the net untouched), errors, overfit.
#include <gtest/gtest.h>

#include <cmath>

#include "core/autograd.h"
#include "nets/registry.h"
#include "nets/upernet.h"
#include "tests/golden_net.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

// The golden files' micro nets (tools/reference/upernet.py): one unit per stage of width 2 (stage
// outputs 8), stem 4, width 4, 3 classes, no dropout; multi-task: 3 scenes, 2 parts, 3 materials,
// 3 textures on four 3×3 convs of 3 channels.
UperNetConfig micro_config(bool multitask) {
  UperNetConfig c = UperNetConfig::tiny(3);
  c.backbone.blocks = {1, 1, 1, 1};
  c.backbone.widths = {2, 2, 2, 2};
  c.backbone.stem_channels = 4;
  c.channels = 4;
  c.dropout = 0.0f;
  if (multitask)
    c.num_scenes = 3, c.num_parts = 2, c.num_materials = 3, c.num_textures = 3, c.texture_channels = 3;
  return c;
}

// A batch of n images h×w with every multi-task label: objects in blocks, parts = upper/lower
// half of each block (255 on background), materials in other blocks, scene and texture ids.
Batch full_batch(int64_t n, int64_t h, int64_t w, uint64_t seed, int64_t block = 4) {
  Rng rng(seed);
  Batch b;
  b.images = test::random_tensor({n, 3, h, w}, rng);
  b.labels = test::block_labels(n, h, w, 3, block);
  b.parts = LabelMap({n, h, w});
  b.materials = test::block_labels(n, h, w, 3, 2 * block);
  for (int64_t i = 0; i < b.labels.numel(); ++i) {
    const int64_t y = (i / w) % h;
    b.parts.data()[i] = b.labels.data()[i] == 0 ? 255 : static_cast<int32_t>((y % block) / (block / 2));
  }
  b.scenes = IntTensor::from_vector({n}, std::vector<int32_t>(n, 0));
  b.textures = IntTensor::from_vector({n}, std::vector<int32_t>(n, 0));
  for (int64_t i = 0; i < n; ++i)
    b.scenes.data()[i] = static_cast<int32_t>(i % 3),
    b.textures.data()[i] = static_cast<int32_t>((i + 1) % 3);
  return b;
}

bool any_grad_under(const UperNet& net, const std::string& prefix) {
  for (const auto& [name, p] : net.named_parameters())
    if (name.starts_with(prefix) && p.grad().defined()) return true;
  return false;
}

bool every_grad_under(const UperNet& net, const std::string& prefix) {
  bool any = false;
  for (const auto& [name, p] : net.named_parameters())
    if (name.starts_with(prefix)) {
      if (!p.grad().defined()) return false;
      any = true;
    }
  return any;
}

}  // namespace

TEST(UperNet, FullParameterCountMatchesTwin) {
  // tools/reference/upernet.py: 64,032,341 single-task (ResNet-50 23,508,032 + mmseg's UPerHead
  // at width 512, 21 classes) and 72,430,626 with the Broden+ heads (365 scenes, 152 parts, 25
  // materials, 47 textures). mmseg's upernet_r50 differs by its ResNetV1c deep stem (+19,232) and
  // its auxiliary FCN head on layer3 (+2,364,005 at 21 classes): by the twin's sum 66,416,778 at 21
  // classes, 66,516,108 at ADE20K's 150 (and 85,508,236 for upernet_r101, which the Swin paper's
  // Table 3 lists as 86M) — figures derived with the twin, not measured from mmseg.
  auto net = make_upernet(UperNetConfig::multitask_full(21), 1);
  int64_t multitask_heads = 0;
  for (const auto& [name, p] : net->named_parameters())
    if (name.starts_with("decode_head.scene_head.") || name.starts_with("decode_head.part_head.") ||
        name.starts_with("decode_head.material_head.") || name.starts_with("texture_head."))
      multitask_heads += p.numel();
  EXPECT_EQ(net->parameter_count(), 72430626);
  EXPECT_EQ(net->parameter_count() - multitask_heads, 64032341);  // = UperNetConfig::full(21)
}

TEST(UperNet, TinyParameterCountsMatchTwin) {
  EXPECT_EQ(make_net("upernet-tiny")->parameter_count(), 438318);  // tools/reference/upernet.py
  EXPECT_EQ(make_net("upernet-multitask-tiny")->parameter_count(), 482845);
}

TEST(UperNet, MatchesPyTorchTwin) {
  // 20×20: C2…C5 are 5, 3, 2, 1 wide (non-integer upsampling ratios; bins 2, 3, 6 repeat a pixel).
  auto net = make_upernet(micro_config(false), 1);
  test::expect_net_matches_golden(*net, "tests/golden/upernet.safetensors");
}

TEST(UperNet, MultiTaskMatchesPyTorchTwin) {
  // Every label in the batch: object + 0.5 part (inside objects) + 0.25 scene + material + texture.
  auto net = make_upernet(micro_config(true), 1);
  test::expect_net_matches_golden(*net, "tests/golden/upernet_multitask.safetensors");
}

TEST(UperNet, TinyHeadsHaveTheirSizes) {
  auto net = make_upernet(UperNetConfig::multitask_tiny(kToyClasses), 2);
  net->eval();  // one image: the 1×1 pyramid bin's batch norm uses its running statistics
  Rng rng(3);
  UperNetOutputs out = net->forward_all(test::random_tensor({1, 3, 64, 48}, rng));
  EXPECT_EQ(out.object.shape(), (Shape{1, kToyClasses, 64, 48}));
  EXPECT_EQ(out.part.shape(), (Shape{1, 2, 64, 48}));
  EXPECT_EQ(out.material.shape(), (Shape{1, 5, 64, 48}));
  EXPECT_EQ(out.scene.shape(), (Shape{1, 4}));
  EXPECT_EQ(out.texture.shape(), (Shape{1, 4}));
  EXPECT_EQ(out.texture_map.shape(), (Shape{1, 4, 8, 6}));  // C3: 1/8
  Tensor images = test::random_tensor({1, 3, 64, 48}, rng);
  test::expect_close(net->forward(images), net->forward_all(images).object, 0.0f, 0.0f,
                     "forward = object head");
  auto single = make_net("upernet-tiny");
  single->eval();
  UperNetOutputs plain = dynamic_cast<UperNet&>(*single).forward_all(images);
  EXPECT_FALSE(plain.part.defined() || plain.material.defined() || plain.scene.defined() ||
               plain.texture.defined());
}

TEST(UperNet, LossWeightsAreTheReferences) {
  // Every classifier zeroed: each head's softmax is uniform and its cross-entropy log(classes), so
  // the training loss is 1·log 3 + 0.5·log 2 + 0.25·log 3 + 1·log 3 + 1·log 3.
  auto net = make_upernet(micro_config(true), 4);
  for (const auto& [name, p] : net->named_parameters())
    if (name.starts_with("decode_head.conv_seg.") || name.starts_with("decode_head.part_head.1.") ||
        name.starts_with("decode_head.material_head.1.") || name.starts_with("decode_head.scene_head.2.") ||
        name.starts_with("texture_head.4."))
      std::fill(p.data(), p.data() + p.numel(), 0.0f);
  const Batch batch = full_batch(2, 16, 16, 5);
  const float l2 = std::log(2.0f), l3 = std::log(3.0f);
  EXPECT_NEAR(net->training_loss(batch, {}).item(), l3 + 0.5f * l2 + 0.25f * l3 + l3 + l3, 1e-5f);
  Batch objects_only = batch;
  objects_only.parts = {}, objects_only.materials = {}, objects_only.scenes = {}, objects_only.textures = {};
  EXPECT_NEAR(net->training_loss(objects_only, {}).item(), l3, 1e-5f);
}

TEST(UperNet, PartLossCountsOnlyInsideObjects) {
  LabelMap parts = LabelMap::from_vector({1, 2, 3}, {0, 1, 0, 1, 1, 255});
  LabelMap objects = LabelMap::from_vector({1, 2, 3}, {0, 2, 255, 1, 3, 1});
  LabelMap inside = part_targets_inside_objects(parts, objects);
  EXPECT_EQ(std::vector<int32_t>(inside.data(), inside.data() + 6),
            (std::vector<int32_t>{255, 1, 255, 1, 1, 255}));

  // Part labels on background (object 0) pixels do not change the loss.
  auto net = make_upernet(micro_config(true), 6);
  Batch batch = full_batch(2, 16, 16, 7);
  batch.materials = {}, batch.scenes = {}, batch.textures = {};
  const float before = net->training_loss(batch, {}).item();
  for (int64_t i = 0; i < batch.parts.numel(); ++i)
    if (batch.labels.data()[i] == 0) batch.parts.data()[i] = static_cast<int32_t>(i % 2);
  EXPECT_FLOAT_EQ(net->training_loss(batch, {}).item(), before);
  // Inside objects they do.
  for (int64_t i = 0; i < batch.parts.numel(); ++i)
    if (batch.labels.data()[i] != 0) batch.parts.data()[i] = 1 - batch.parts.data()[i];
  EXPECT_NE(net->training_loss(batch, {}).item(), before);
}

TEST(UperNet, EachSourceSwitchesOnOnlyItsHeads) {
  auto net = make_upernet(micro_config(true), 8);
  const Batch all = full_batch(2, 16, 16, 9);

  // Object + part + scene source (ADE20K-like): no gradient reaches the material or texture heads.
  Batch scene_parsing = all;
  scene_parsing.materials = {}, scene_parsing.textures = {};
  net->zero_grad();
  net->training_loss(scene_parsing, {}).backward();
  EXPECT_TRUE(every_grad_under(*net, "decode_head.conv_seg.") &&
              every_grad_under(*net, "decode_head.part_head.") &&
              every_grad_under(*net, "decode_head.scene_head.") && every_grad_under(*net, "backbone."));
  EXPECT_FALSE(any_grad_under(*net, "decode_head.material_head.") || any_grad_under(*net, "texture_head."));

  // Material source (OpenSurfaces-like, no object labels): the material head on P2 and what lies
  // under it; not the fusion, the object, part or scene heads.
  Batch surfaces;
  surfaces.images = all.images;
  surfaces.materials = all.materials;
  net->zero_grad();
  net->training_loss(surfaces, {}).backward();
  EXPECT_TRUE(every_grad_under(*net, "decode_head.material_head.") &&
              every_grad_under(*net, "decode_head.fpn_convs.0.") && every_grad_under(*net, "backbone."));
  EXPECT_FALSE(any_grad_under(*net, "decode_head.fpn_bottleneck.") ||
               any_grad_under(*net, "decode_head.conv_seg.") ||
               any_grad_under(*net, "decode_head.part_head.") ||
               any_grad_under(*net, "decode_head.scene_head.") || any_grad_under(*net, "texture_head."));

  // Texture source (DTD-like), trained last: only the texture head learns; the backbone's batch
  // norm statistics do not move either.
  Batch textures;
  textures.images = all.images;
  textures.textures = all.textures;
  const NamedTensors buffers = net->named_buffers();
  std::vector<std::vector<float>> before;
  for (const auto& [name, b] : buffers) before.emplace_back(b.data(), b.data() + b.numel());
  net->zero_grad();
  net->training_loss(textures, {}).backward();
  EXPECT_TRUE(every_grad_under(*net, "texture_head."));
  EXPECT_FALSE(any_grad_under(*net, "backbone.") || any_grad_under(*net, "decode_head."));
  for (size_t i = 0; i < buffers.size(); ++i) {
    if (!buffers[i].first.starts_with("backbone.")) continue;
    EXPECT_EQ(
        std::vector<float>(buffers[i].second.data(), buffers[i].second.data() + buffers[i].second.numel()),
        before[i])
        << buffers[i].first;
  }
  EXPECT_TRUE(net->is_training());
}

TEST(UperNet, TextureReadsC3DetachedInAJointBatch) {
  // With every label at once the texture loss still stops at C3: the backbone's gradient is that
  // of the other heads alone.
  auto net = make_upernet(micro_config(true), 10);
  Batch all = full_batch(2, 16, 16, 11);
  Batch without_texture = all;
  without_texture.textures = {};
  net->zero_grad();
  net->training_loss(without_texture, {}).backward();
  const Tensor expected = net->named_parameters()[0].second.grad().clone();  // backbone.conv1.weight
  net->zero_grad();
  net->training_loss(all, {}).backward();
  test::expect_close(net->named_parameters()[0].second.grad(), expected, 1e-6f, 1e-7f, "backbone.conv1 grad");
}

TEST(UperNet, ErrorsNameTheNet) {
  auto net = make_upernet(micro_config(true), 12);
  Rng rng(13);
  test::expect_error_containing([&] { net->forward(test::random_tensor({1, 4, 16, 16}, rng)); }, "UperNet");
  Batch nothing;
  nothing.images = test::random_tensor({2, 3, 16, 16}, rng);
  test::expect_error_containing([&] { net->training_loss(nothing, {}); }, "no labels for any head");
  UperNetConfig dilated = micro_config(false);
  dilated.backbone.output_stride = 8;
  test::expect_error_containing([&] { make_upernet(dilated, 1); }, "output stride 32");
  Batch parts_alone;
  parts_alone.images = nothing.images;
  parts_alone.parts = full_batch(2, 16, 16, 1).parts;
  test::expect_error_containing([&] { net->training_loss(parts_alone, {}); }, "object labels");
}

TEST(UperNet, MicroNetOverfitsOneBatchWithEveryHead) {
  // 8×8 object blocks (the bilinear ×4 blur at block edges is the floor): measured 3.92 → 0.50 in
  // 30 steps.
  auto net = make_upernet(micro_config(true), 14);
  test::expect_net_overfits(*net, full_batch(2, 16, 16, 15, 8), 40, 3e-2f, 5.0f);
}
