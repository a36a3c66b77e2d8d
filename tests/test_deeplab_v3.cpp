// DeepLab v3 (nets/deeplab_v3.h): parameter counts against the twin and torchvision, one golden
// training step per head, the output-stride knob (a trained net moved from the coarse stride to
// the fine one keeps every parameter, doubles its map and its rates), the cascade's growing rates,
// the image-pooling batch-1 error, bad input, and a micro net overfitting one batch.
#include <gtest/gtest.h>

#include "nets/deeplab_v3.h"
#include "nets/registry.h"
#include "tests/golden_net.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

// The twin's micro(): ResNet stem 4, width 2, one unit per stage and three in layer4 (multi-grid
// 1, 2, 4), output stride 8, ASPP width 3 at rates 1, 2, 3, no dropout, 3 classes.
DeepLabV3Config micro(DeepLabV3Head head) {
  return {.num_classes = 3,
          .backbone = {.blocks = {1, 1, 1, 3},
                       .widths = {2, 2, 2, 2},
                       .stem_channels = 4,
                       .output_stride = 8,
                       .multi_grid = {1, 2, 4}},
          .aspp_rates = AsppRateSchedule::tiny(),
          .aspp_channels = 3,
          .dropout = 0.0f,
          .head = head,
          .cascade_blocks = 2};
}

Shape spatial(const Tensor& t) {
  return {t.size(2), t.size(3)};
}

}  // namespace

TEST(DeepLabV3, FullParameterCountsMatchTwinAndTorchvision) {
  // tools/reference/deeplab_v3.py: 58,040,661 = ResNet-101 without fc (42,500,160) + ASPP
  // (15,535,104) + 1×1 logits 256 → 21 (5,397). The paper gives no count.
  EXPECT_EQ(make_deeplab_v3(DeepLabV3Config::full(21), 1)->parameter_count(), 58040661);
  // The torchvision head adds a 3×3 conv 256 → 256 and its BN (590,336): 58,630,997, which is
  // torchvision's deeplabv3_resnet101(aux_loss=False) as counted by the twin; its documented
  // 60,996,202 (DeepLabV3_ResNet101_Weights meta) includes the 2,365,205 of the FCN aux head on
  // layer3, which we do not build.
  EXPECT_EQ(make_deeplab_v3(DeepLabV3Config::torchvision(21), 1)->parameter_count(), 58630997);
  // tiny, 6 classes (the twin's tiny()).
  EXPECT_EQ(make_deeplab_v3(DeepLabV3Config::tiny(6), 1)->parameter_count(), 535982);
}

TEST(DeepLabV3, MatchesPyTorchTwin) {
  auto net = make_deeplab_v3(micro(DeepLabV3Head::aspp), 1);
  test::expect_net_matches_golden(*net, "tests/golden/deeplab_v3.safetensors");
}

TEST(DeepLabV3, TorchvisionHeadMatchesPyTorchTwin) {
  auto net = make_deeplab_v3(micro(DeepLabV3Head::torchvision), 1);
  test::expect_net_matches_golden(*net, "tests/golden/deeplab_v3_torchvision.safetensors");
}

TEST(DeepLabV3, CascadeHeadMatchesPyTorchTwin) {
  auto net = make_deeplab_v3(micro(DeepLabV3Head::cascade), 1);
  test::expect_net_matches_golden(*net, "tests/golden/deeplab_v3_cascade.safetensors");
}

TEST(DeepLabV3, OutputStrideKnobHalvesTheStrideAndDoublesTheRates) {
  const DeepLabV3Config os16 = DeepLabV3Config::full(21);
  const DeepLabV3Config os8 = os16.at_output_stride(8);
  EXPECT_EQ(os16.output_stride(), 16);
  EXPECT_EQ(os8.output_stride(), 8);
  EXPECT_EQ(os16.rates(), (std::vector<int>{6, 12, 18}));
  EXPECT_EQ(os8.rates(), (std::vector<int>{12, 24, 36}));
  const DeepLabV3Config tiny = DeepLabV3Config::tiny(6);
  EXPECT_EQ(tiny.rates(), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(tiny.at_output_stride(4).rates(), (std::vector<int>{2, 4, 6}));
  test::expect_error_containing(
      [&] { make_deeplab_v3(tiny.at_output_stride(16), 1); },
      "rate 1 at output stride 8 becomes 8/16 at output stride 16, not a whole number");
}

TEST(DeepLabV3, TrainedAtCoarseStrideEvaluatesAtFineStride) {
  // Train a micro net a few steps at output stride 8, then move it to 4: every parameter and
  // running statistic keeps its name, shape and value; the backbone's map doubles (4×4 → 8×8 at
  // 32×32), layer4's and ASPP's rates double, and the logits change (new dilations).
  // Widths grow stage to stage, as in every real ResNet: with equal widths, layer2's first unit
  // would need its shortcut conv at stride 2 but not at stride 1 (torchvision's rule, in ≠ out
  // or stride ≠ 1), and the two strides would not share a state dict.
  DeepLabV3Config c = micro(DeepLabV3Head::aspp);
  c.backbone.widths = {2, 3, 4, 5};
  auto coarse = make_deeplab_v3(c, 3);
  Rng rng(4);
  Batch batch;
  batch.images = test::random_tensor({2, 3, 32, 32}, rng);
  batch.labels = test::block_labels(2, 32, 32, 3, 8);
  test::train_steps(*coarse, batch, 2);
  coarse->eval();
  auto fine = coarse->at_output_stride(4);
  EXPECT_FALSE(fine->is_training());
  EXPECT_EQ(fine->config().output_stride(), 4);

  test::expect_same_state(*fine, *coarse);

  EXPECT_EQ(coarse->aspp()->rates(), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(fine->aspp()->rates(), (std::vector<int>{2, 4, 6}));
  EXPECT_EQ(coarse->backbone().unit_dilations(4), (std::vector<int>{4, 8, 16}));  // 4 · (1, 2, 4)
  EXPECT_EQ(fine->backbone().unit_dilations(4), (std::vector<int>{8, 16, 32}));
  EXPECT_EQ(coarse->backbone().geometry()[1].stride, 2);
  EXPECT_EQ(fine->backbone().geometry()[1].stride, 1);  // layer2 gives up its stride for rate 2
  EXPECT_EQ(fine->backbone().geometry()[1].dilation, 2);

  Tensor images = test::random_tensor({1, 3, 32, 32}, rng);
  EXPECT_EQ(spatial(coarse->encoder_features(images)), (Shape{4, 4}));
  EXPECT_EQ(spatial(fine->encoder_features(images)), (Shape{8, 8}));
  Tensor a = coarse->forward(images), b = fine->forward(images);
  ASSERT_EQ(a.shape(), (Shape{1, 3, 32, 32}));
  ASSERT_EQ(b.shape(), a.shape());
  float difference = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    difference = std::max(difference, std::abs(a.data()[i] - b.data()[i]));
  EXPECT_GT(difference, 1e-4f);
}

TEST(DeepLabV3, CascadeBlocksDoubleTheRatePerBlock) {
  // The paper's Fig. 3 at output stride 16: layer4 (block4) at rate 2, blocks 5, 6, 7 at 4, 8,
  // 16, each unit times its multi-grid factor (1, 2, 4). Micro widths, full depth of layer4.
  DeepLabV3Config c = micro(DeepLabV3Head::cascade);
  c.backbone.output_stride = 16;
  c.cascade_blocks = 3;
  auto net = make_deeplab_v3(c, 1);
  EXPECT_EQ(net->backbone().unit_dilations(4), (std::vector<int>{2, 4, 8}));
  EXPECT_EQ(net->cascade_unit_dilations(0), (std::vector<int>{4, 8, 16}));
  EXPECT_EQ(net->cascade_unit_dilations(1), (std::vector<int>{8, 16, 32}));
  EXPECT_EQ(net->cascade_unit_dilations(2), (std::vector<int>{16, 32, 64}));
  EXPECT_EQ(net->aspp(), nullptr);
  Rng rng(2);
  EXPECT_EQ(net->forward(test::random_tensor({2, 3, 32, 32}, rng)).shape(), (Shape{2, 3, 32, 32}));
  test::expect_error_containing([&] { net->cascade_unit_dilations(3); }, "cascade block 3 does not exist");
}

TEST(DeepLabV3, ImagePoolingAtBatchOneIsAClearError) {
  auto net = make_net("deeplabv3-tiny");
  Rng rng(5);
  Tensor one = test::random_tensor({1, 3, 64, 64}, rng);
  test::expect_error_containing(
      [&] { net->forward(one); },
      "ASPP image pooling: its batch norm in train mode sees one value per channel");
  test::expect_error_containing([&] { net->forward(one); }, "got input (1, 256, 8, 8)");
  // The paper's fine-tuning step: frozen batch norms train at any batch.
  auto deeplab = std::dynamic_pointer_cast<DeepLabV3>(net);
  ASSERT_NE(deeplab, nullptr);
  deeplab->freeze_batch_norm();
  EXPECT_EQ(net->forward(one).shape(), (Shape{1, kToyClasses, 64, 64}));
  EXPECT_TRUE(net->is_training());
}

TEST(DeepLabV3, TinyFromTheRegistryAndBadInput) {
  auto net = make_net("deeplabv3-tiny");
  EXPECT_EQ(net->num_classes(), kToyClasses);
  Rng rng(6);
  EXPECT_EQ(net->forward(test::random_tensor({2, 3, 64, 64}, rng)).shape(), (Shape{2, kToyClasses, 64, 64}));
  // Any size: the maps round up (ceil(60/8) = 8) and the logits are resized to the input.
  EXPECT_EQ(net->forward(test::random_tensor({2, 3, 60, 50}, rng)).shape(), (Shape{2, kToyClasses, 60, 50}));
  test::expect_error_containing(
      [&] {
        net->forward(test::random_tensor({2, 1, 64, 64}, rng));
      },
      "DeepLab v3: expected images (N, 3, H, W), got (2, 1, 64, 64)");
  DeepLabV3Config bad = DeepLabV3Config::tiny(6);
  bad.head = DeepLabV3Head::cascade;
  bad.cascade_blocks = 0;
  test::expect_error_containing([&] { make_deeplab_v3(bad, 1); },
                                "DeepLab v3: the cascade head needs ≥ 1 block");
}

TEST(DeepLabV3, MicroNetOverfitsOneBatch) {
  DeepLabV3Config c = micro(DeepLabV3Head::aspp);
  c.backbone.widths = {4, 4, 8, 8};
  c.aspp_channels = 16;
  auto net = make_deeplab_v3(c, 7);
  Rng rng(8);
  Batch batch;
  batch.images = test::random_tensor({2, 3, 16, 16}, rng);
  batch.labels = test::block_labels(2, 16, 16, 3, 8);  // 2×2 blocks: what an output stride 8 map can hold
  test::expect_net_overfits(*net, batch, 40, 3e-2f);
}
