// The patch classification baseline (nets/patch_cnn.h): the full net's parameter count, one golden
// step against the PyTorch twin (dense logits, patch-sampled loss), the dense convolutionalised
// net equal to classifying every pixel's patch, and their multiply-add counts, the sampled loss
// drawing labelled pixels only, configuration errors, and a small net overfitting one batch.
#include <gtest/gtest.h>

#include <cmath>

#include "core/mac_counter.h"
#include "nets/patch_cnn.h"
#include "nets/registry.h"
#include "tests/golden_net.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

PatchCnnConfig micro_config() {  // the twin's golden net: patch 9, convs 2@2×2 and 3@3×3, fc 4, 3 classes
  return {.num_classes = 3,
          .patch_size = 9,
          .conv_channels = {2, 3},
          .conv_kernels = {2, 3},
          .hidden_features = {4},
          .pixels_per_image = 0};
}

}  // namespace

TEST(PatchCnn, FullParameterCountMatchesTwin) {
  // tools/reference/patch_cnn.py: 220,826 for Ciresan et al.'s N4 on 3 channels, 2 classes. On
  // their grey images, 219,290 = 816 + 57,648 + 36,912 + 36,912 (convs 48@4, 48@5, 48@4, 48@4 with
  // bias) + 86,600 (fc 3·3·48 → 200) + 402 (fc 200 → 2), from the layer table of the paper (which
  // gives no total).
  EXPECT_EQ(make_patch_cnn(PatchCnnConfig::full(2), 1)->parameter_count(), 220826);
  PatchCnnConfig grey = PatchCnnConfig::full(2);
  grey.in_channels = 1;
  EXPECT_EQ(make_patch_cnn(grey, 1)->parameter_count(), 219290);
}

TEST(PatchCnn, MatchesPyTorchTwin) {
  // Logits from the dense (convolutionalised, dilated) net; the loss and the gradients from the
  // patch classifier over every labelled pixel.
  auto net = make_patch_cnn(micro_config(), 1);
  test::expect_net_matches_golden(*net, "tests/golden/patch_cnn.safetensors");
}

TEST(PatchCnn, DenseNetEqualsPerPixelClassificationAtAFractionOfTheCost) {
  auto net = make_patch_cnn(PatchCnnConfig::tiny(6), 7);
  Rng rng(8);
  const Tensor images = test::random_tensor({1, 3, 20, 23}, rng);
  int64_t dense_macs = 0, per_pixel_macs = 0;
  Tensor dense, per_pixel;
  {
    MacCounter counter;
    dense = net->forward(images);
    dense_macs = counter.macs();
  }
  {
    MacCounter counter;
    per_pixel = net->forward_per_pixel(images);
    per_pixel_macs = counter.macs();
  }
  ASSERT_EQ(dense.shape(), (Shape{1, 6, 20, 23}));
  test::expect_close(dense, per_pixel, 1e-4f, 1e-5f, "dense vs per-pixel logits");

  // Per patch (17×17): conv 3→16 4×4 at 14×14, conv 16→32 4×4 at 4×4, fc 128→64, fc 64→6.
  const int64_t per_patch = 16 * 3 * 16 * 14 * 14 + 32 * 16 * 16 * 4 * 4 + 64 * 128 + 6 * 64;
  EXPECT_EQ(per_pixel_macs, 20 * 23 * per_patch);
  // Dense on the 36×39 padded image: conv1 at 33×36; its dilated pool → 32×35; conv2 (dilation 2,
  // extent 7) at 26×29; pool (dilation 2) → 24×27; fc1 as a 2×2 conv of dilation 4 at 20×23; fc2 1×1.
  const int64_t expected_dense =
      16 * 3 * 16 * 33 * 36 + 32 * 16 * 16 * 26 * 29 + 64 * 32 * 4 * 20 * 23 + 6 * 64 * 20 * 23;
  EXPECT_EQ(dense_macs, expected_dense);
  EXPECT_GT(per_pixel_macs, 12 * dense_macs);  // 133.5M vs 11.0M multiply-adds here
}

TEST(PatchCnn, LossSamplesLabelledPixelsOnly) {
  // One 7×6 image with five labelled pixels, everything else ignored. Drawing two pixels, the loss
  // must be the mean cross-entropy of two of those five (never of an ignored one); drawing five or
  // more, of all five — both read off the dense logits.
  PatchCnnConfig config = micro_config();
  config.pixels_per_image = 2;
  auto net = make_patch_cnn(config, 3);
  Rng rng(4);
  Batch batch;
  batch.images = test::random_tensor({1, 3, 7, 6}, rng);
  batch.labels = LabelMap({1, 7, 6}, 255);
  const std::vector<std::pair<int, int>> labelled = {{0, 0}, {2, 3}, {3, 5}, {6, 1}, {5, 5}};
  for (size_t i = 0; i < labelled.size(); ++i)
    batch.labels.data()[labelled[i].first * 6 + labelled[i].second] = static_cast<int32_t>(i % 3);
  const Tensor logits = net->forward(batch.images);
  std::vector<double> pixel_losses;  // −log softmax at the labelled pixels
  for (size_t i = 0; i < labelled.size(); ++i) {
    const int at = labelled[i].first * 6 + labelled[i].second;
    double norm = 0;
    for (int c = 0; c < 3; ++c) norm += std::exp(double{logits.data()[c * 42 + at]});
    pixel_losses.push_back(std::log(norm) - logits.data()[(i % 3) * 42 + at]);
  }
  for (int trial = 0; trial < 5; ++trial) {
    const double loss = net->training_loss(batch, {}).item();
    bool is_a_pair = false;
    for (size_t a = 0; a < labelled.size(); ++a)
      for (size_t b = a + 1; b < labelled.size(); ++b)
        is_a_pair |= std::abs(loss - 0.5 * (pixel_losses[a] + pixel_losses[b])) < 1e-5;
    EXPECT_TRUE(is_a_pair) << "trial " << trial << ": loss " << loss << " is no pair of labelled pixels";
  }
  config.pixels_per_image = 5;
  auto all = make_patch_cnn(config, 3);
  double mean = 0;
  for (double l : pixel_losses) mean += l / 5;
  EXPECT_NEAR(all->training_loss(batch, {}).item(), mean, 1e-5);
}

TEST(PatchCnn, RejectsConfigurationsThatDoNotFit) {
  PatchCnnConfig even = PatchCnnConfig::tiny(2);
  even.patch_size = 16;
  test::expect_error_containing([&] { make_patch_cnn(even, 1); }, "the patch side must be odd");
  PatchCnnConfig odd_pool = PatchCnnConfig::tiny(2);
  odd_pool.conv_kernels = {3, 4};  // 17 → 15: the first pool would meet an odd side
  test::expect_error_containing(
      [&] { make_patch_cnn(odd_pool, 1); },
      "conv 0 (kernel 3) turns the 17×17 map into 15×15; its 2×2 pool needs an even side");
  auto net = make_patch_cnn(PatchCnnConfig::tiny(2), 1);
  Rng rng(1);
  test::expect_error_containing(
      [&] {
        net->forward(test::random_tensor({1, 4, 8, 8}, rng));
      },
      "patch CNN forward: expected images (N, 3, H, W), got (1, 4, 8, 8)");
}

TEST(PatchCnn, TinyFromTheRegistryTakesAnySize) {
  auto net = make_net("patch-cnn-tiny");
  Rng rng(2);
  EXPECT_EQ(net->forward(test::random_tensor({2, 3, 13, 7}, rng)).shape(), (Shape{2, kToyClasses, 13, 7}));
}

TEST(PatchCnn, SmallNetOverfitsOneBatch) {
  PatchCnnConfig config = PatchCnnConfig::tiny(3);
  config.pixels_per_image = 0;
  auto net = make_patch_cnn(config, 31);
  Rng rng(32);
  Batch batch;
  batch.images = test::random_tensor({2, 3, 6, 6}, rng);
  batch.labels = test::block_labels(2, 6, 6, 3, 2);
  test::expect_net_overfits(*net, batch, 40);
}
