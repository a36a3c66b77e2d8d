// DeepLab v3+ (nets/deeplab_v3plus.h) on ResNet: the full parameter count against the twin, golden
// training steps (output stride 16 with the ×4 decoder upsample; output stride 8 with atrous
// separable ASPP and decoder), the backbone's two maps, a non-ResNet backbone plugged in through
// the interface, the output-stride switch of a trained net, the batch-1 error, bad input, and a
// micro net overfitting one batch.
#include <gtest/gtest.h>

#include "nets/deeplab_v3.h"
#include "nets/deeplab_v3plus.h"
#include "nets/registry.h"
#include "tests/golden_net.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

// The twin's micro(): deeplab_v3.py's micro ResNet (stem 4, width 2, layer4 multi-grid 1, 2, 4),
// ASPP width 3 at rates 1, 2, 3 at the given output stride, projection 2, decoder width 3.
DeepLabV3PlusConfig micro_head(int output_stride, bool separable) {
  return {.num_classes = 3,
          .aspp_rates = {output_stride, {1, 2, 3}},
          .aspp_channels = 3,
          .dropout = 0.0f,
          .low_level_projection = 2,
          .decoder_channels = 3,
          .separable = separable};
}

ResNetConfig micro_resnet(int output_stride) {
  return {.blocks = {1, 1, 1, 3},
          .widths = {2, 2, 2, 2},
          .stem_channels = 4,
          .output_stride = output_stride,
          .multi_grid = {1, 2, 4}};
}

// A backbone that is not a ResNet: two strided convs (stride 4, then 4 more), to show that
// anything giving the two maps plugs in.
class TwoConvBackbone : public DeepLabV3PlusBackbone {
 public:
  explicit TwoConvBackbone(Rng& rng) : module_(std::make_shared<Sequential>()) {
    low_ = module_->add(std::make_shared<Conv2d>(
        Conv2dOptions{.in_channels = 3, .out_channels = 5, .kernel = 4, .stride = 4}, rng));
    high_ = module_->add(std::make_shared<Conv2d>(
        Conv2dOptions{.in_channels = 5, .out_channels = 7, .kernel = 4, .stride = 4}, rng));
  }
  std::shared_ptr<Module> module() const override { return module_; }
  DeepLabV3PlusFeatures features(const Tensor& images) override {
    Tensor low = low_->forward(images);
    return {.low_level = low, .high_level = high_->forward(low)};
  }
  int64_t low_level_channels() const override { return 5; }
  int64_t high_level_channels() const override { return 7; }
  int output_stride() const override { return 16; }
  std::unique_ptr<DeepLabV3PlusBackbone> at_output_stride(int, Rng&) const override {
    throw Error("TwoConvBackbone: one output stride only");
  }

 private:
  std::shared_ptr<Sequential> module_;
  std::shared_ptr<Conv2d> low_, high_;
};

}  // namespace

TEST(DeepLabV3Plus, FullParameterCountMatchesTwin) {
  // tools/reference/deeplab_v3plus.py: 59,344,309 = ResNet-101 (42,500,160) + ASPP (15,535,104)
  // + decoder: 1×1 256 → 48 + BN (12,384), 3×3 304 → 256 + BN (700,928), 3×3 256 → 256 + BN
  // (590,336) + logits 256 → 21 (5,397). Neither the paper nor TF DeepLab gives a count for the
  // ResNet-101 form; it is DeepLab v3's 58,040,661 plus the decoder's 1,303,648.
  EXPECT_EQ(
      make_deeplab_v3plus_resnet(DeepLabV3PlusConfig::full(21), deeplab_resnet101(16), 1)->parameter_count(),
      59344309);
  EXPECT_EQ(
      make_deeplab_v3plus_resnet(DeepLabV3PlusConfig::tiny(6), deeplab_resnet_tiny(8), 1)->parameter_count(),
      557118);
}

TEST(DeepLabV3Plus, MatchesPyTorchTwinAtOutputStride16) {
  auto net = make_deeplab_v3plus_resnet(micro_head(16, false), micro_resnet(16), 1);
  test::expect_net_matches_golden(*net, "tests/golden/deeplab_v3plus.safetensors");
}

TEST(DeepLabV3Plus, SeparableMatchesPyTorchTwinAtOutputStride8) {
  auto net = make_deeplab_v3plus_resnet(micro_head(8, true), micro_resnet(8), 1);
  test::expect_net_matches_golden(*net, "tests/golden/deeplab_v3plus_separable.safetensors");
}

TEST(DeepLabV3Plus, ResNetBackboneGivesStrideFourAndTheOutputStride) {
  Rng rng(1);
  ResNetV3PlusBackbone backbone(deeplab_resnet_tiny(8), rng);
  DeepLabV3PlusFeatures f = backbone.features(test::random_tensor({1, 3, 32, 40}, rng));
  EXPECT_EQ(f.low_level.shape(), (Shape{1, 32, 8, 10}));   // layer1: 4 · 8 channels, stride 4
  EXPECT_EQ(f.high_level.shape(), (Shape{1, 256, 4, 5}));  // layer4: 4 · 64 channels, stride 8
  EXPECT_EQ(backbone.low_level_channels(), 32);
  EXPECT_EQ(backbone.high_level_channels(), 256);
  EXPECT_EQ(backbone.output_stride(), 8);
}

TEST(DeepLabV3Plus, AnyBackboneGivingTheTwoMapsPlugsIn) {
  Rng rng(2);
  DeepLabV3PlusConfig head = micro_head(16, false);
  DeepLabV3Plus net(head, std::make_unique<TwoConvBackbone>(rng), rng);
  EXPECT_EQ(net.aspp().rates(), (std::vector<int>{1, 2, 3}));
  const NamedTensors params = net.named_parameters();
  EXPECT_EQ(params[0].first, "backbone.0.weight");
  EXPECT_EQ(params[2].first, "backbone.1.weight");
  EXPECT_EQ(net.forward(test::random_tensor({2, 3, 32, 48}, rng)).shape(), (Shape{2, 3, 32, 48}));
  test::expect_error_containing([&] { net.at_output_stride(8); }, "TwoConvBackbone: one output stride only");
}

TEST(DeepLabV3Plus, TrainedNetMovesToAnotherOutputStride) {
  // Widths grow stage to stage so that layer2's shortcut conv exists at both strides (see the
  // DeepLab v3 test). 16 → 8: same state, ASPP rates doubled, the high-level map doubled, the
  // decoder still at stride 4.
  ResNetConfig resnet = micro_resnet(16);
  resnet.widths = {2, 3, 4, 5};
  auto coarse = make_deeplab_v3plus_resnet(micro_head(16, false), resnet, 3);
  Rng rng(4);
  Batch batch;
  batch.images = test::random_tensor({2, 3, 32, 32}, rng);
  batch.labels = test::block_labels(2, 32, 32, 3, 8);
  test::train_steps(*coarse, batch, 2);
  auto fine = coarse->at_output_stride(8);
  EXPECT_TRUE(fine->is_training());
  test::expect_same_state(*fine, *coarse);
  EXPECT_EQ(coarse->aspp().rates(), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(fine->aspp().rates(), (std::vector<int>{2, 4, 6}));
  EXPECT_EQ(fine->backbone().output_stride(), 8);
  Rng probe(5);
  Tensor images = test::random_tensor({2, 3, 32, 32}, probe);
  auto* coarse_backbone = dynamic_cast<const ResNetV3PlusBackbone*>(&coarse->backbone());
  auto* fine_backbone = dynamic_cast<const ResNetV3PlusBackbone*>(&fine->backbone());
  ASSERT_NE(coarse_backbone, nullptr);
  ASSERT_NE(fine_backbone, nullptr);
  EXPECT_EQ(fine_backbone->resnet().unit_dilations(4), (std::vector<int>{4, 8, 16}));  // was 2 · (1, 2, 4)
  EXPECT_EQ(coarse_backbone->resnet().unit_dilations(4), (std::vector<int>{2, 4, 8}));
  EXPECT_EQ(fine->forward(images).shape(), (Shape{2, 3, 32, 32}));
}

TEST(DeepLabV3Plus, ImagePoolingAtBatchOneAndBadInput) {
  auto net = make_net("deeplabv3plus-tiny");
  Rng rng(6);
  EXPECT_EQ(net->forward(test::random_tensor({2, 3, 64, 64}, rng)).shape(), (Shape{2, kToyClasses, 64, 64}));
  EXPECT_EQ(net->forward(test::random_tensor({2, 3, 52, 60}, rng)).shape(), (Shape{2, kToyClasses, 52, 60}));
  test::expect_error_containing(
      [&] {
        net->forward(test::random_tensor({1, 3, 64, 64}, rng));
      },
      "ASPP image pooling: its batch norm in train mode sees one value per channel");
  test::expect_error_containing(
      [&] {
        net->forward(test::random_tensor({2, 4, 64, 64}, rng));
      },
      "DeepLab v3+: expected images (N, 3, H, W), got (2, 4, 64, 64)");
  auto plus = std::dynamic_pointer_cast<DeepLabV3Plus>(net);
  ASSERT_NE(plus, nullptr);
  plus->freeze_batch_norm();
  EXPECT_EQ(net->forward(test::random_tensor({1, 3, 64, 64}, rng)).shape(), (Shape{1, kToyClasses, 64, 64}));
}

TEST(DeepLabV3Plus, MicroNetOverfitsOneBatch) {
  DeepLabV3PlusConfig head = micro_head(8, false);
  head.aspp_channels = 16;
  head.low_level_projection = 4;
  head.decoder_channels = 16;
  ResNetConfig resnet = micro_resnet(8);
  resnet.widths = {4, 4, 8, 8};
  auto net = make_deeplab_v3plus_resnet(head, resnet, 7);
  Rng rng(8);
  Batch batch;
  batch.images = test::random_tensor({2, 3, 16, 16}, rng);
  batch.labels = test::block_labels(2, 16, 16, 3, 4);  // 4×4 blocks: the decoder's stride-4 map holds them
  test::expect_net_overfits(*net, batch, 80, 3e-2f);
}
