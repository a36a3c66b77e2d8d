// U-Net (nets/unet.h): parameter counts of the full and the paper's net, one golden training step
// against the PyTorch twin in both forms, the unpadded form's size arithmetic (572 → 388) and
// label crop, the input-size errors, and a micro net overfitting one batch.
#include <gtest/gtest.h>

#include "nets/registry.h"
#include "nets/unet.h"
#include "tests/golden_net.h"
#include "tests/test_util.h"

using namespace pg;

TEST(UNet, FullParameterCountMatchesTwinAndPaper) {
  // tools/reference/unet.py prints 31,038,933 for the full configuration (3 → 21 classes, padded,
  // batch norm, convs without bias before BN).
  EXPECT_EQ(make_unet(UNetConfig::full(21), 1)->parameter_count(), 31038933);
  // The paper's net (Fig. 1: 1 input channel, 2 classes, valid convs with bias, no batch norm):
  // 31,030,658 by the twin and by hand (Σ 9·c_in·c_out + c_out over the 18 3×3 convs, 4·c_in·c_out
  // + c_out over the 4 up-convolutions, 64·2 + 2 for the classifier); with one output map it is
  // the often quoted 31,030,593.
  UNetConfig paper = UNetConfig::paper(2);
  paper.in_channels = 1;
  EXPECT_EQ(make_unet(paper, 1)->parameter_count(), 31030658);
}

TEST(UNet, MatchesPyTorchTwinPadded) {
  UNetConfig micro = UNetConfig::tiny(3);
  micro.base_channels = 2;
  micro.depth = 2;
  auto net = make_unet(micro, 1);
  test::expect_net_matches_golden(*net, "tests/golden/unet.safetensors");
}

TEST(UNet, MatchesPyTorchTwinUnpadded) {
  UNetConfig micro = UNetConfig::paper(3);
  micro.base_channels = 2;
  micro.depth = 2;
  auto net = make_unet(micro, 1);
  test::expect_net_matches_golden(*net, "tests/golden/unet_unpadded.safetensors");
}

TEST(UNet, UnpaddedSizeArithmetic) {
  // The paper's Fig. 1: a 572×572 tile gives a 388×388 map (568 → 284 → 280 → 140 → 136 → 68 →
  // 64 → 32 → 28 → 56 → 52 → 104 → 100 → 200 → 196 → 392 → 388).
  EXPECT_EQ(unet_unpadded_output_size(572, 4), 388);
  EXPECT_EQ(unet_unpadded_output_size(44, 2), 4);
  EXPECT_EQ(unet_unpadded_output_size(570, 4), -1);  // 566 → 283: the second pool meets an odd side
  EXPECT_EQ(unet_unpadded_output_size(60, 4), -1);   // sizes run out before the bottom

  // The same through a real forward at the paper's depth (one channel wide, to stay fast).
  UNetConfig thin = UNetConfig::paper(2);
  thin.base_channels = 1;
  auto net = make_unet(thin, 3);
  Rng rng(5);
  Tensor logits = net->forward(test::random_tensor({1, 3, 572, 572}, rng));
  EXPECT_EQ(logits.shape(), (Shape{1, 2, 388, 388}));
}

TEST(UNet, UnpaddedLossUsesTheLabelsCentre) {
  // Labels ignored (255) everywhere but a 4×4 centre of class 1: the loss sees only that centre.
  // Outside the centre, class 0 labels would change the loss if the crop were wrong.
  UNetConfig micro = UNetConfig::paper(2);
  micro.base_channels = 2;
  micro.depth = 2;
  auto net = make_unet(micro, 4);
  Rng rng(6);
  Batch batch;
  batch.images = test::random_tensor({1, 3, 44, 44}, rng);
  batch.labels = LabelMap({1, 44, 44}, 0);
  for (int y = 20; y < 24; ++y)
    for (int x = 20; x < 24; ++x) batch.labels.data()[y * 44 + x] = 1;
  const Tensor logits = net->forward(batch.images);
  ASSERT_EQ(logits.shape(), (Shape{1, 2, 4, 4}));
  const float loss = net->training_loss(batch, {}).item();
  EXPECT_NEAR(loss, cross_entropy(logits, LabelMap({1, 4, 4}, 1)).item(), 1e-5f);
}

TEST(UNet, RejectsSizesItCannotTake) {
  auto tiny = make_unet(UNetConfig::tiny(6), 1);
  Rng rng(1);
  test::expect_error_containing(
      [&] {
        tiny->forward(test::random_tensor({1, 3, 60, 64}, rng));
      },
      "U-Net: input 60×64: with 3 pools the padded form needs H and W divisible by 2^3 = 8");
  test::expect_error_containing(
      [&] {
        tiny->forward(test::random_tensor({1, 1, 64, 64}, rng));
      },
      "U-Net: expected images (N, 3, H, W), got (1, 1, 64, 64)");
  UNetConfig micro = UNetConfig::paper(2);
  micro.base_channels = 1;
  micro.depth = 2;
  auto unpadded = make_unet(micro, 1);
  test::expect_error_containing(
      [&] {
        unpadded->forward(test::random_tensor({1, 3, 42, 44}, rng));
      },
      "side 42 gives no valid output");
  test::expect_error_containing(
      [&] {
        unpadded->forward(test::random_tensor({1, 3, 42, 44}, rng));
      },
      "the next valid side is 44 (output 4)");
}

TEST(UNet, TinyFromTheRegistry) {
  auto net = make_net("unet-tiny");
  EXPECT_EQ(net->num_classes(), kToyClasses);
  Rng rng(2);
  Tensor logits = net->forward(test::random_tensor({2, 3, 64, 64}, rng));
  EXPECT_EQ(logits.shape(), (Shape{2, kToyClasses, 64, 64}));
}

TEST(UNet, MicroNetOverfitsOneBatch) {
  UNetConfig micro = UNetConfig::tiny(3);
  micro.base_channels = 8;
  micro.depth = 2;
  auto net = make_unet(micro, 11);
  Rng rng(12);
  Batch batch;
  batch.images = test::random_tensor({2, 3, 16, 16}, rng);
  batch.labels = test::block_labels(2, 16, 16, 3);
  test::expect_net_overfits(*net, batch, 60);
}
