// DeepLab v3+ on aligned Xception (nets/deeplab_v3plus_xception.h): the full and tiny parameter
// counts against the twin, one golden training step at output stride 16 (separable ASPP and
// decoder), the backbone's two maps, the registry entry, the output-stride switch of a trained
// net (Xception's dilations and ASPP rates double together), bad input, and overfitting one batch.
#include <gtest/gtest.h>

#include "nets/deeplab_v3plus_xception.h"
#include "nets/registry.h"
#include "tests/golden_net.h"
#include "tests/micro_xception.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

// The golden's heads: ASPP width 3 at rates 1, 2, 3 at the given output stride, projection 2,
// decoder width 3, no dropout, separable.
DeepLabV3PlusConfig micro_head(int output_stride) {
  return {.num_classes = 3,
          .aspp_rates = {output_stride, {1, 2, 3}},
          .aspp_channels = 3,
          .dropout = 0.0f,
          .low_level_projection = 2,
          .decoder_channels = 3,
          .separable = true};
}

}  // namespace

// tools/reference/deeplab_v3plus_xception.py: 41,055,413 = aligned Xception-65 (37,867,312; timm's
// xception65 39.9M less its fc, see tests/test_xception.cpp) + separable ASPP (3,019,776: 1×1
// 2048 → 256 + BN 524,800; three separable 2048 → 256 (18,432 + 4,096 + 524,288 + 512) 1,641,984;
// image pooling 524,800; projection 1280 → 256 + BN 328,192) + decoder (1×1 256 → 48 + BN 12,384;
// separable 304 → 256 81,680; separable 256 → 256 68,864) + logits 256 → 21 (5,397). Neither the
// paper nor TF DeepLab's model zoo lists a parameter count.
TEST(DeepLabV3PlusXception, FullParameterCountMatchesTwin) {
  auto full = make_net("deeplabv3plus-xception-full");
  EXPECT_EQ(full->parameter_count(), 41055413);
  EXPECT_EQ(make_net("deeplabv3plus-xception-tiny")->parameter_count(), 297686);
}

TEST(DeepLabV3PlusXception, MatchesPyTorchTwinAtOutputStride16) {
  auto net = make_deeplab_v3plus_xception(micro_head(16), test::micro_xception(16), 1);
  test::expect_net_matches_golden(*net, "tests/golden/deeplab_v3plus_xception.safetensors");
}

TEST(DeepLabV3PlusXception, BackboneGivesStrideFourAndTheOutputStride) {
  Rng rng(1);
  XceptionV3PlusBackbone backbone(XceptionConfig::tiny(8), rng);
  DeepLabV3PlusFeatures f = backbone.features(test::random_tensor({2, 3, 32, 40}, rng));
  EXPECT_EQ(f.low_level.shape(), (Shape{2, 32, 8, 10}));   // entry block 2's sepconv2, stride 4
  EXPECT_EQ(f.high_level.shape(), (Shape{2, 256, 4, 5}));  // exit flow, stride 8
  EXPECT_EQ(backbone.low_level_channels(), 32);
  EXPECT_EQ(backbone.high_level_channels(), 256);
  EXPECT_EQ(backbone.output_stride(), 8);
}

TEST(DeepLabV3PlusXception, RegistryTinyIsSeparableOnMiniXception) {
  auto net = std::dynamic_pointer_cast<DeepLabV3Plus>(make_net("deeplabv3plus-xception-tiny"));
  ASSERT_NE(net, nullptr);
  EXPECT_TRUE(net->config().separable);
  EXPECT_EQ(net->aspp().rates(), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(net->backbone().output_stride(), 8);
  EXPECT_EQ(net->named_parameters()[0].first, "backbone.entry_flow.conv1_1.weight");
  auto* backbone = dynamic_cast<const XceptionV3PlusBackbone*>(&net->backbone());
  ASSERT_NE(backbone, nullptr);
  EXPECT_EQ(backbone->xception().config().middle_units, 4);
  Rng rng(2);
  EXPECT_EQ(net->forward(test::random_tensor({2, 3, 64, 64}, rng)).shape(), (Shape{2, kToyClasses, 64, 64}));
  EXPECT_EQ(net->forward(test::random_tensor({2, 3, 50, 38}, rng)).shape(), (Shape{2, kToyClasses, 50, 38}));
}

TEST(DeepLabV3PlusXception, TrainedNetMovesToAnotherOutputStride) {
  // 16 → 8: same state; entry block 3 and exit block 1 give up their strides, the middle flow runs
  // at rate 2, exit block 2 at 4 (was 2), ASPP's rates double; the decoder stays at stride 4.
  auto coarse = make_deeplab_v3plus_xception(micro_head(16), test::micro_xception(16), 3);
  Rng rng(4);
  Batch batch;
  batch.images = test::random_tensor({2, 3, 32, 32}, rng);
  batch.labels = test::block_labels(2, 32, 32, 3, 8);
  test::train_steps(*coarse, batch, 2);
  auto fine = coarse->at_output_stride(8);
  test::expect_same_state(*fine, *coarse);
  EXPECT_EQ(fine->aspp().rates(), (std::vector<int>{2, 4, 6}));
  auto* coarse_backbone = dynamic_cast<const XceptionV3PlusBackbone*>(&coarse->backbone());
  auto* fine_backbone = dynamic_cast<const XceptionV3PlusBackbone*>(&fine->backbone());
  ASSERT_NE(coarse_backbone, nullptr);
  ASSERT_NE(fine_backbone, nullptr);
  const auto& coarse_units = coarse_backbone->xception().units();
  const auto& fine_units = fine_backbone->xception().units();
  EXPECT_EQ(coarse_units.back()->options().dilation, 2);
  EXPECT_EQ(fine_units.back()->options().dilation, 4);
  EXPECT_EQ(fine_units[2]->options().stride, 1);    // entry block 3
  EXPECT_EQ(fine_units[3]->options().dilation, 2);  // middle unit 1
  Rng probe(5);
  EXPECT_EQ(fine->forward(test::random_tensor({2, 3, 32, 32}, probe)).shape(), (Shape{2, 3, 32, 32}));
}

TEST(DeepLabV3PlusXception, BadInput) {
  auto net = make_deeplab_v3plus_xception(micro_head(16), test::micro_xception(16), 6);
  Rng rng(6);
  test::expect_error_containing(
      [&] {
        net->forward(test::random_tensor({2, 1, 32, 32}, rng));
      },
      "DeepLab v3+: expected images (N, 3, H, W), got (2, 1, 32, 32)");
  test::expect_error_containing(
      [&] {
        net->forward(test::random_tensor({1, 3, 32, 32}, rng));
      },
      "ASPP image pooling: its batch norm in train mode sees one value per channel");
  test::expect_error_containing(
      [&] { make_deeplab_v3plus_xception(micro_head(16), test::micro_xception(12), 6); },
      "Xception: output_stride must be 4, 8, 16 or 32, got 12");
}

TEST(DeepLabV3PlusXception, MicroNetOverfitsOneBatch) {
  DeepLabV3PlusConfig head = micro_head(8);
  head.aspp_channels = 16;
  head.low_level_projection = 4;
  head.decoder_channels = 16;
  XceptionConfig backbone = test::micro_xception(8);
  backbone.entry_blocks = {8, 8, 16};
  backbone.exit_block1 = {16, 16, 16};
  backbone.exit_block2 = {16, 16, 16};
  auto net = make_deeplab_v3plus_xception(head, backbone, 7);
  Rng rng(8);
  Batch batch;
  batch.images = test::random_tensor({2, 3, 16, 16}, rng);
  batch.labels = test::block_labels(2, 16, 16, 3, 4);
  test::expect_net_overfits(*net, batch, 100, 3e-2f);
}
