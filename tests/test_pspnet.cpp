// PSPNet (nets/pspnet.h): the full nets' parameter counts, golden training steps against the PyTorch
// twin under both corner conventions (the auxiliary loss inside), the auxiliary head's part (not in
// forward, weight 0.4 in the training loss, absent in eval), the tiny net's 8×8 map, 8k+1 inputs,
// clear errors, and a micro net overfitting one batch.
#include <gtest/gtest.h>

#include <cmath>

#include "core/adam.h"
#include "core/autograd.h"
#include "core/ops/cross_entropy.h"
#include "nets/pspnet.h"
#include "nets/registry.h"
#include "tests/golden_net.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

// The golden files' micro net (tools/reference/pspnet.py): one unit per stage of width 2 (stage
// outputs 8), stem 4, 4 bins of 2 channels, bottleneck 4, aux 3, 3 classes, no dropout.
PSPNetConfig micro_config(bool align_corners) {
  PSPNetConfig config = PSPNetConfig::tiny(3);
  config.backbone.blocks = {1, 1, 1, 1};
  config.backbone.widths = {2, 2, 2, 2};
  config.backbone.stem_channels = 4;
  config.channels = 4;
  config.aux_channels = 3;
  config.dropout = 0.0f;
  config.align_corners = align_corners;
  return config;
}

int64_t auxiliary_parameter_count(const PSPNet& net) {
  int64_t count = 0;
  for (const auto& [name, p] : net.named_parameters())
    if (name.starts_with("auxiliary_head.")) count += p.numel();
  return count;
}

}  // namespace

TEST(PSPNet, FullParameterCountMatchesTwin) {
  // tools/reference/pspnet.py: 48,957,802 (ResNet-50-D8, 21 classes; 46,592,597 without the
  // auxiliary head) and 67,949,930 (ResNet-101-D8). By hand: ResNet-50 without fc 23,508,032
  // (torchvision's 25,557,032 − fc 2,049,000; ResNet-101: 42,500,160, both tested in test_resnet)
  // + a head that does not depend on the depth, 25,449,770: 4 pyramid branches
  // 4·(2048·512 + 2·512) = 4,198,400, bottleneck 3×3 (4096 → 512) + BN 18,875,392, conv_seg
  // 513·21 = 10,773, auxiliary 3×3 (1024 → 256) + BN 2,359,808 and its conv_seg 257·21 = 5,397.
  // mmseg's pspnet_r50-d8 has the V1c deep stem (3×3 convs 3→32→32→64 + BNs: 28,768 parameters
  // against the 7×7 conv + BN's 9,536), so by the same sum it holds 19,232 more, 48,977,034 at 21
  // classes: a figure derived here, not measured from mmseg. (ResNet-101 is not built here: 68M
  // parameters take seconds to initialise.)
  auto r50 = make_pspnet(PSPNetConfig::full(21), 1);
  int64_t backbone = 0;
  for (const auto& [name, p] : r50->named_parameters())
    if (name.starts_with("backbone.")) backbone += p.numel();
  EXPECT_EQ(r50->parameter_count(), 48957802);
  EXPECT_EQ(backbone, 23508032);
  EXPECT_EQ(r50->parameter_count() - backbone, 67949930 - 42500160);  // the heads on ResNet-101 too
  EXPECT_EQ(r50->parameter_count() - auxiliary_parameter_count(*r50), 46592597);  // the inference net
}

TEST(PSPNet, TinyParameterCountMatchesTwin) {
  auto tiny = make_pspnet(PSPNetConfig::tiny(6), 1);
  EXPECT_EQ(tiny->parameter_count(), 620916);  // tools/reference/pspnet.py
  EXPECT_EQ(tiny->parameter_count() - auxiliary_parameter_count(*tiny), 583790);
}

TEST(PSPNet, MatchesPyTorchTwin) {
  // 16×16 → a 2×2 map (3 and 6 bins repeat pixels); loss = main + 0.4 · auxiliary.
  auto net = make_pspnet(micro_config(false), 1);
  test::expect_net_matches_golden(*net, "tests/golden/pspnet.safetensors");
}

TEST(PSPNet, MatchesPyTorchTwinWithAlignedCorners) {
  // 17×17 (8·2 + 1) → a 3×3 map (2 bins overlap, 6 repeat), every resize with corners aligned.
  auto net = make_pspnet(micro_config(true), 1);
  test::expect_net_matches_golden(*net, "tests/golden/pspnet_align_corners.safetensors");
}

TEST(PSPNet, TinyHasAnEightByEightMapAndPredictsAtInputSize) {
  const PSPNetConfig tiny = PSPNetConfig::tiny(kToyClasses);
  Rng rng(2);
  ResNet backbone(tiny.backbone, rng);
  backbone.eval();
  EXPECT_EQ(backbone.forward(test::random_tensor({1, 3, 64, 64}, rng)).shape(), (Shape{1, 256, 8, 8}));
  auto net = make_net("pspnet-tiny");
  net->eval();  // one image is fine in eval: the 1×1 bin's batch norm uses its running statistics
  EXPECT_EQ(net->forward(test::random_tensor({1, 3, 64, 48}, rng)).shape(), (Shape{1, kToyClasses, 64, 48}));
}

TEST(PSPNet, AuxiliaryHeadIsNotPartOfForward) {
  PSPNetConfig config = micro_config(false);
  auto net = make_pspnet(config, 3);
  Rng rng(4);
  Tensor images = test::random_tensor({2, 3, 16, 16}, rng);
  for (bool training : {true, false}) {
    net->train(training);
    Tensor before = net->forward(images);
    for (const auto& [name, p] : net->named_parameters())
      if (name.starts_with("auxiliary_head."))
        for (int64_t i = 0; i < p.numel(); ++i) p.data()[i] += 1.0f;
    test::expect_close(net->forward(images), before, 0.0f, 0.0f, training ? "train forward" : "eval forward");
  }
  // Its gradient comes from the training loss only.
  net->train();
  net->zero_grad();
  Batch batch;
  batch.images = images;
  batch.labels = test::block_labels(2, 16, 16, 3, 8);
  cross_entropy(net->forward(images), batch.labels).backward();
  for (const auto& [name, p] : net->named_parameters())
    if (name.starts_with("auxiliary_head.")) {
      EXPECT_FALSE(p.grad().defined()) << name;
    }
  net->training_loss(batch, {}).backward();
  for (const auto& [name, p] : net->named_parameters()) EXPECT_TRUE(p.grad().defined()) << name;
}

TEST(PSPNet, TrainingLossAddsPointFourOfTheAuxiliaryLoss) {
  // With the auxiliary classifier zeroed its logits are 0: a uniform softmax whose cross-entropy is
  // log C at every pixel. The training loss is then the main loss + 0.4 · log 3; in eval, the main
  // loss alone.
  auto net = make_pspnet(micro_config(false), 5);
  for (const auto& [name, p] : net->named_parameters())
    if (name.starts_with("auxiliary_head.conv_seg.")) std::fill(p.data(), p.data() + p.numel(), 0.0f);
  Rng rng(6);
  Batch batch;
  batch.images = test::random_tensor({2, 3, 16, 16}, rng);
  batch.labels = test::block_labels(2, 16, 16, 3, 8);
  batch.labels.data()[0] = 255;
  const float main = cross_entropy(net->forward(batch.images), batch.labels).item();
  EXPECT_NEAR(net->training_loss(batch, {}).item(), main + 0.4f * std::log(3.0f), 1e-5f);
  net->eval();
  const float main_eval = cross_entropy(net->forward(batch.images), batch.labels).item();
  EXPECT_NEAR(net->training_loss(batch, {}).item(), main_eval, 1e-6f);
}

TEST(PSPNet, CornerConventionChangesTheOutputAndEightKPlusOneWorks) {
  auto loose = make_pspnet(micro_config(false), 7),
       aligned = make_pspnet(micro_config(true), 7);  // same weights
  Rng rng(8);
  Batch batch;
  batch.images = test::random_tensor({2, 3, 65, 65}, rng);  // 8·8 + 1: a 9×9 map
  batch.labels = test::block_labels(2, 65, 65, 3, 8);
  EXPECT_TRUE(std::isfinite(aligned->training_loss(batch, {}).item()));
  loose->eval();
  aligned->eval();
  Tensor a = loose->forward(batch.images), b = aligned->forward(batch.images);
  ASSERT_EQ(b.shape(), (Shape{2, 3, 65, 65}));
  double difference = 0;
  for (int64_t i = 0; i < a.numel(); ++i) difference += std::abs(a.data()[i] - b.data()[i]);
  EXPECT_GT(difference / a.numel(), 1e-4) << "align_corners true and false gave the same logits";
}

TEST(PSPNet, ClearErrors) {
  auto net = make_pspnet(micro_config(false), 9);
  Rng rng(10);
  test::expect_error_containing(
      [&] {
        net->forward(test::random_tensor({1, 1, 16, 16}, rng));
      },
      "PSPNet: expected images (N, 3, H, W), got (1, 1, 16, 16)");
  auto aligned = make_pspnet(micro_config(true), 9);
  test::expect_error_containing(
      [&] {
        aligned->forward(test::random_tensor({2, 3, 64, 65}, rng));
      },
      "PSPNet: input 64×65: with align_corners = true the sides must be 8k+1 (e.g. 57 or 65 instead of 64)");
  test::expect_error_containing(
      [&] {
        aligned->forward(test::random_tensor({2, 3, 17, 20}, rng));
      },
      "(e.g. 17 or 25 instead of 20)");
  PSPNetConfig three_bins = micro_config(false);
  three_bins.bins = {1, 2, 3};
  test::expect_error_containing([&] { make_pspnet(three_bins, 1); },
                                "PSPNet: the pyramid's 3 bins must divide the backbone's 8 channels");
}

TEST(PSPNet, MicroNetOverfitsOneBatch) {
  // Labels in 8×8 blocks, the net's output stride; the loss includes the auxiliary term. Measured:
  // 1.53 → 0.20 in 60 steps; the floor is the blur of the ×8 bilinear upsampling at the blocks'
  // edges (a 2×2 map for a 16×16 image), hence a factor 5, not 10.
  PSPNetConfig micro = micro_config(false);
  micro.backbone.widths = {4, 4, 8, 8};
  micro.backbone.stem_channels = 8;
  micro.channels = 16;
  micro.aux_channels = 8;
  auto net = make_pspnet(micro, 11);
  Rng rng(12);
  Batch batch;
  batch.images = test::random_tensor({2, 3, 16, 16}, rng);
  batch.labels = test::block_labels(2, 16, 16, 3, 8);
  test::expect_net_overfits(*net, batch, 60, 1e-2f, 5.0f);
}
