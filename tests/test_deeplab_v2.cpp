// DeepLab v2 (nets/deeplab_v2.h) and multi-scale inputs (nets/multi_scale.h): the full nets'
// parameter counts, golden training steps against the PyTorch twin (VGG, ResNet, multi-scale),
// ASPP's summed class maps, ResNet at output stride 8 with frozen batch norm, the scaled sizes,
// max fusion and four losses, the release's lr multipliers, errors, and micro nets overfitting.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/ops/conv2d.h"
#include "core/ops/resize_bilinear.h"
#include "nets/deeplab_v2.h"
#include "nets/label_shrink.h"
#include "nets/multi_scale.h"
#include "nets/registry.h"
#include "tests/golden_net.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

DeepLabV2Config micro_vgg() {
  DeepLabV2Config c{.num_classes = 3, .rates = {1, 2, 3, 4}};
  c.vgg.widths = {2, 3, 4, 4, 4};
  c.vgg.convs_per_block = {1, 1, 1, 1, 1};
  c.fc_width = 5;
  c.dropout = 0.0f;  // its masks are random: the golden runs without
  return c;
}

DeepLabV2Config micro_resnet() {
  DeepLabV2Config c{.num_classes = 3, .backbone = DeepLabV2Backbone::resnet101, .rates = {1, 2, 3, 4}};
  c.resnet = ResNetConfig{.blocks = {1, 1, 1, 2},
                          .widths = {2, 2, 2, 2},
                          .stem_channels = 4,
                          .output_stride = 8,
                          .multi_grid = {}};
  c.freeze_batch_norm_affine =
      false;  // statistics frozen as the release; γ, β learn so the golden checks them
  return c;
}

Tensor parameter(const SegmentationNet& net, const std::string& name) {
  for (const auto& [n, p] : net.named_parameters())
    if (n == name) return p;
  throw Error("no parameter " + name);
}

}  // namespace

TEST(DeepLabV2, VggFullParameterCountMatchesTwin) {
  // tools/reference/deeplab_v2.py. VGG-16 (ASPP-L): 14,714,688 + 4 × (fc6_i 4,719,616 + fc7_i 1,049,600
  // + fc8_i 21,525) = 37,877,652, the layers of the release's deeplabv2_vgg16 train.prototxt.
  EXPECT_EQ(make_deeplab_v2(DeepLabV2Config::vgg_full(21), 1)->parameter_count(), 37877652);
}

TEST(DeepLabV2, ResNetFullParameterCountMatchesTwin) {
  // tools/reference/deeplab_v2.py. ResNet-101: torchvision's without fc, 42,500,160 (the ImageNet
  // ResNet-101's 44,549,160 less its 2,049,000 fc; the release's Caffe ResNet-101 has the same convs and
  // BN), + ASPP 4 × (2048·9·21 + 21) = 1,548,372 → 44,048,532. Multi-scale inputs share the weights.
  EXPECT_EQ(make_deeplab_v2(DeepLabV2Config::resnet_full(21).with_multi_scale(), 1)->parameter_count(),
            44048532);
}

TEST(DeepLabV2, VggMatchesPyTorchTwin) {
  auto net = make_deeplab_v2(micro_vgg(), 1);
  test::expect_net_matches_golden(*net, "tests/golden/deeplab_v2_vgg.safetensors");
}

TEST(DeepLabV2, ResNetMatchesPyTorchTwin) {
  auto net = make_deeplab_v2(micro_resnet(), 1);
  test::expect_net_matches_golden(*net, "tests/golden/deeplab_v2_resnet.safetensors");
}

TEST(DeepLabV2, MultiScaleMatchesPyTorchTwin) {
  // The ResNet micro net on 17×20, 13×15 and 9×10 inputs; max-fused; four losses.
  auto net = make_deeplab_v2(micro_resnet().with_multi_scale(), 1);
  test::expect_net_matches_golden(*net, "tests/golden/deeplab_v2_msc.safetensors");
}

TEST(DeepLabV2, AsppSumsTheBranchClassMaps) {
  // With every branch's weights zero, branch i contributes its bias b_i alone: the score map is
  // Σ_i b_i in every pixel — summed, C channels (not 4·C concatenated, nor averaged).
  auto net = make_deeplab_v2(micro_resnet(), 2);
  net->eval();
  for (int i = 0; i < 4; ++i) {
    Tensor w = parameter(*net, "fc1_c" + std::to_string(i) + ".weight");
    std::fill(w.data(), w.data() + w.numel(), 0.0f);
    Tensor b = parameter(*net, "fc1_c" + std::to_string(i) + ".bias");
    for (int c = 0; c < 3; ++c) b.data()[c] = static_cast<float>((i + 1) * (c + 1));  // Σ_i = 10·(c + 1)
  }
  Rng rng(3);
  Tensor scores = net->score_map(test::random_tensor({1, 3, 17, 20}, rng));
  ASSERT_EQ(scores.shape(), (Shape{1, 3, 3, 3}));
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t p = 0; p < 9; ++p)
      EXPECT_FLOAT_EQ(scores.data()[c * 9 + p], 10.0f * static_cast<float>(c + 1));
  // One branch alone: its 3×3 conv at its own rate on layer4 (rate 2 here: fc1_c1).
  Tensor w1 = parameter(*net, "fc1_c1.weight");
  for (int64_t i = 0; i < w1.numel(); ++i) w1.data()[i] = 0.01f * static_cast<float>(i % 7 - 3);
  Tensor images = test::random_tensor({1, 3, 17, 20}, rng);
  const Tensor layer4 = net->children()[0].second->forward(images);  // children()[0]: the backbone
  Tensor expected = conv2d(layer4, w1, Tensor::zeros({3}), Conv2dParams{.pad = 2, .dilation = 2});
  Tensor got = net->score_map(images);
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t p = 0; p < 9; ++p)
      EXPECT_NEAR(got.data()[c * 9 + p], expected.data()[c * 9 + p] + 10.0f * static_cast<float>(c + 1),
                  1e-4f);
}

TEST(DeepLabV2, ResNetAtOutputStrideEightWithFrozenBatchNorm) {
  auto net = make_net("deeplabv2-resnet-tiny");
  auto* v2 = dynamic_cast<DeepLabV2*>(net.get());
  ASSERT_NE(v2, nullptr);
  const auto& resnet = dynamic_cast<const ResNet&>(*net->children()[0].second);
  // layer3 at rate 2, layer4 at rate 4 (torchvision: each stage's first unit keeps the previous rate)
  EXPECT_EQ(resnet.unit_dilations(3), (std::vector<int>{1, 2}));
  EXPECT_EQ(resnet.unit_dilations(4), (std::vector<int>{2, 4}));
  Rng rng(4);
  Batch batch;
  batch.images = test::random_tensor({1, 3, 64, 64}, rng);
  batch.labels = test::block_labels(1, 64, 64, kToyClasses, 8);
  EXPECT_EQ(v2->score_map(batch.images).shape(), (Shape{1, kToyClasses, 8, 8}));
  // Frozen as the release: a training step leaves the running statistics, and γ, β do not learn.
  std::vector<std::vector<float>> buffers;
  for (const auto& [name, b] : net->named_buffers()) buffers.push_back(b.to_vector());
  net->train();
  net->training_loss(batch, {}).backward();
  size_t i = 0;
  for (const auto& [name, b] : net->named_buffers()) EXPECT_EQ(b.to_vector(), buffers[i++]) << name;
  EXPECT_FALSE(parameter(*net, "backbone.bn1.weight").requires_grad());
  EXPECT_FALSE(parameter(*net, "backbone.layer4.1.bn3.bias").requires_grad());
  // The lr groups leave them out; the classifier ×10 group holds the four fc1_c<i> weights.
  std::vector<ParamGroup> groups = net->parameter_groups();
  ASSERT_EQ(groups.size(), 4u);
  EXPECT_EQ(groups[0].params.size(), 1u + 8 * 3 + 4);  // conv1, 8 units × 3 convs, 4 downsample convs
  EXPECT_EQ(groups[1].params.size(), 0u);              // no conv of the ResNet has a bias
  EXPECT_EQ(groups[2].params.size(), 4u);
  EXPECT_EQ(groups[3].params.size(), 4u);
  EXPECT_FLOAT_EQ(groups[2].lr_multiplier, 10.0f);
  EXPECT_EQ(groups[2].params[0].shape(), (Shape{kToyClasses, 256, 3, 3}));
}

TEST(DeepLabV2, VggBranchesAndLrGroups) {
  auto net = make_net("deeplabv2-tiny");
  std::vector<std::string> names;
  for (const auto& [name, p] : net->named_parameters()) names.push_back(name);
  ASSERT_EQ(names.size(), 2u * 10 + 4 * 6);
  EXPECT_EQ(names[20], "fc6_1.weight");
  EXPECT_EQ(names[43], "fc8_4.bias");
  EXPECT_EQ(parameter(*net, "fc6_3.weight").shape(), (Shape{64, 32, 3, 3}));
  std::vector<ParamGroup> groups = net->parameter_groups();
  EXPECT_EQ(groups[0].params.size(), 10u + 8);  // VGG convs, fc6_i, fc7_i: ×1
  EXPECT_EQ(groups[2].params.size(), 4u);       // fc8_i: ×10
  EXPECT_EQ(dynamic_cast<DeepLabV2&>(*net).config().rates, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(DeepLabV2Config::vgg_full(21).rates, (std::vector<int>{6, 12, 18, 24}));
  Rng rng(5);
  net->eval();
  EXPECT_EQ(net->forward(test::random_tensor({1, 3, 64, 64}, rng)).shape(), (Shape{1, kToyClasses, 64, 64}));
}

TEST(MultiScale, ScaledSizesOnTheInterpGrid) {
  EXPECT_EQ(scaled_size(321, 0.75f), 241);  // the release's data075 and data05
  EXPECT_EQ(scaled_size(321, 0.5f), 161);
  EXPECT_EQ(scaled_size(64, 0.75f), 48);
  EXPECT_EQ(scaled_size(64, 0.5f), 32);
  EXPECT_EQ(scaled_size(64, 1.0f), 64);
}

TEST(MultiScale, MaxFusionAndFourLosses) {
  auto net = make_deeplab_v2(micro_resnet().with_multi_scale(), 6);
  net->eval();
  Rng rng(7);
  Batch batch;
  batch.images = test::random_tensor({1, 3, 64, 64}, rng);
  batch.labels = test::block_labels(1, 64, 64, 3, 8);
  auto score_map = [&](const Tensor& x) { return net->score_map(x); };
  MultiScaleScores scores = multi_scale_score_maps(batch.images, {1.0f, 0.75f, 0.5f}, score_map);
  ASSERT_EQ(scores.per_scale.size(), 3u);
  EXPECT_EQ(scores.per_scale[0].shape(), (Shape{1, 3, 8, 8}));  // 64
  EXPECT_EQ(scores.per_scale[1].shape(), (Shape{1, 3, 6, 6}));  // 48
  EXPECT_EQ(scores.per_scale[2].shape(), (Shape{1, 3, 4, 4}));  // 32
  // fused = max(scale 1, up(scale 0.75), up(scale 0.5)) element by element
  std::vector<float> a = scores.per_scale[0].to_vector();
  std::vector<float> b = resize_bilinear(scores.per_scale[1], 8, 8, true).to_vector();
  std::vector<float> c = resize_bilinear(scores.per_scale[2], 8, 8, true).to_vector();
  std::vector<float> fused = scores.fused.to_vector();
  int from_smaller = 0;
  for (size_t i = 0; i < fused.size(); ++i) {
    EXPECT_FLOAT_EQ(fused[i], std::max({a[i], b[i], c[i]}));
    from_smaller += fused[i] != a[i];
  }
  EXPECT_GT(from_smaller, 0);  // the smaller scales do win somewhere
  // The loss: one cross-entropy per scale against its shrunk labels, plus the fused map's.
  float expected = 0;
  for (const Tensor& map : scores.per_scale)
    expected += cross_entropy(map, shrink_labels(batch.labels, map.size(2), map.size(3))).item();
  expected += cross_entropy(scores.fused, shrink_labels(batch.labels, 8, 8)).item();
  EXPECT_NEAR(net->training_loss(batch, {}).item(), expected, 1e-5f);
  // forward() is the fused map upsampled to the input.
  test::expect_close(net->forward(batch.images), resize_bilinear(scores.fused, 64, 64, true), 1e-6f, 1e-6f,
                     "forward = up(fused)");
}

TEST(DeepLabV2, BadInputAndConfigurationsAreErrors) {
  auto net = make_deeplab_v2(micro_vgg(), 8);
  Rng rng(9);
  test::expect_error_containing(
      [&] {
        net->forward(test::random_tensor({1, 1, 17, 17}, rng));
      },
      "DeepLab v2: expected images (N, 3, H, W), got (1, 1, 17, 17)");
  Batch batch;
  batch.images = test::random_tensor({2, 3, 17, 17}, rng);
  batch.labels = LabelMap({1, 17, 17});
  test::expect_error_containing([&] { net->training_loss(batch, {}); },
                                "DeepLab v2: expected labels (2, 17, 17)");
  DeepLabV2Config scales = micro_vgg();
  scales.scales = {0.75f, 0.5f};
  test::expect_error_containing([&] { make_deeplab_v2(scales, 1); }, "the input scales must start with 1");
  scales.scales = {1.0f, 1.5f};
  test::expect_error_containing([&] { make_deeplab_v2(scales, 1); },
                                "every input scale must lie in (0, 1], got 1.5");
  DeepLabV2Config os16 = micro_resnet();
  os16.resnet.output_stride = 16;
  test::expect_error_containing([&] { make_deeplab_v2(os16, 1); }, "runs at output stride 8, got 16");
  DeepLabV2Config no_rates = micro_vgg();
  no_rates.rates = {};
  test::expect_error_containing([&] { make_deeplab_v2(no_rates, 1); }, "ASPP needs at least one rate");
}

TEST(DeepLabV2, MicroNetsOverfitOneBatch) {
  Rng rng(10);
  Batch batch;
  batch.images = test::random_tensor({2, 3, 33, 33}, rng);
  batch.labels = test::block_labels(2, 33, 33, 3, 8);
  DeepLabV2Config vgg = micro_vgg();
  vgg.vgg.widths = {8, 8, 16, 16, 16};
  vgg.fc_width = 16;
  auto vgg_net = make_deeplab_v2(vgg, 11);
  test::expect_net_overfits(*vgg_net, batch, 40);
  DeepLabV2Config resnet = micro_resnet().with_multi_scale();
  resnet.resnet.widths = {4, 4, 8, 8};
  resnet.resnet.stem_channels = 8;
  resnet.freeze_batch_norm_affine = true;  // the release's frozen batch norm, from scratch
  auto resnet_net = make_deeplab_v2(resnet, 12);
  test::expect_net_overfits(*resnet_net, batch, 40);
}
