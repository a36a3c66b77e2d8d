// SegNet (nets/segnet.h) and median-frequency class weights (nets/class_weights.h): the full
// net's parameter count, one golden training step (with class weights) against the PyTorch twin,
// input-size errors, a micro net overfitting one batch, and the weights on a hand-made histogram.
#include <gtest/gtest.h>

#include "nets/class_weights.h"
#include "nets/registry.h"
#include "nets/segnet.h"
#include "tests/golden_net.h"
#include "tests/test_util.h"

using namespace pg;

TEST(SegNet, FullParameterCountMatchesTwin) {
  // tools/reference/segnet.py: 29,455,125 for VOC's 21 classes and 29,449,355 for CamVid's 11,
  // the paper's setting (its 29.5M trainable parameters). By hand: VGG-16's 13 convs with bias
  // (14,714,688) + their batch norms (8,448) + the mirrored decoder's 12 convs (14,712,448) + batch
  // norms (7,424) + the 3×3 classifier 64 → C (577·C).
  EXPECT_EQ(make_segnet(SegNetConfig::full(21), 1)->parameter_count(), 29455125);
  EXPECT_EQ(make_segnet(SegNetConfig::full(11), 1)->parameter_count(), 29449355);
}

TEST(SegNet, MatchesPyTorchTwin) {
  // Channels 2-3-4, convs 1-2-2 (stage 0's decoder is empty: its one conv is the classifier),
  // the loss weighted by the file's class weights.
  SegNetConfig micro{.num_classes = 3, .stage_channels = {2, 3, 4}, .convs_per_stage = {1, 2, 2}};
  auto net = make_segnet(micro, 1);
  test::expect_net_matches_golden(*net, "tests/golden/segnet.safetensors");
}

TEST(SegNet, TinyFromTheRegistryAndSizeErrors) {
  auto net = make_net("segnet-tiny");
  Rng rng(3);
  EXPECT_EQ(net->forward(test::random_tensor({1, 3, 64, 64}, rng)).shape(), (Shape{1, kToyClasses, 64, 64}));
  test::expect_error_containing(
      [&] {
        net->forward(test::random_tensor({1, 3, 60, 64}, rng));
      },
      "SegNet: input 60×64: with 3 pools H and W must be divisible by 2^3 = 8");
  auto full = make_segnet(SegNetConfig::full(21), 1);
  test::expect_error_containing(
      [&] {
        full->forward(test::random_tensor({1, 3, 48, 48}, rng));
      },
      "divisible by 2^5 = 32");
}

TEST(SegNet, MicroNetOverfitsOneBatch) {
  SegNetConfig micro{.num_classes = 3, .stage_channels = {8, 16}, .convs_per_stage = {2, 2}};
  auto net = make_segnet(micro, 21);
  Rng rng(22);
  Batch batch;
  batch.images = test::random_tensor({2, 3, 16, 16}, rng);
  batch.labels = test::block_labels(2, 16, 16, 3);
  test::expect_net_overfits(*net, batch, 60);
}

TEST(ClassWeights, MedianFrequencyOnAHandMadeHistogram) {
  // Three 2×2 images; class 3 never occurs.
  //   image 0: 0 0 0 1    image 1: 0 0 2 2    image 2: 0 255 1 1 (3 labelled pixels)
  // pixels of c:                    0: 6,  1: 3,  2: 2
  // pixels of the images holding c: 0: 4+4+3 = 11,  1: 4+3 = 7,  2: 4
  // freq: 6/11, 3/7, 1/2 → median 1/2 → weights 11/12, 7/6, 1, and 1 for the absent class.
  ClassHistogram histogram(4);
  histogram.add(LabelMap::from_vector({2, 2, 2}, {0, 0, 0, 1, 0, 0, 2, 2}));  // (N, H, W): two images
  histogram.add(LabelMap::from_vector({2, 2}, {0, 255, 1, 1}));               // (H, W): one image
  EXPECT_EQ(histogram.class_pixels(), (std::vector<int64_t>{6, 3, 2, 0}));
  EXPECT_EQ(histogram.present_image_pixels(), (std::vector<int64_t>{11, 7, 4, 0}));
  test::expect_close(median_frequency_weights(histogram),
                     Tensor::from_vector({4}, {11.0f / 12.0f, 7.0f / 6.0f, 1.0f, 1.0f}), 1e-6f, 0.0f,
                     "median-frequency weights");
}

TEST(ClassWeights, EvenCountMedianAndErrors) {
  // Two classes over four images: 0 0 0 0 | 1 · · · | · · · · | 0 0 0 1 (· = 255, ignored).
  // class 0: 7 pixels in images of 4 + 4 = 8 labelled pixels → 7/8; class 1: 2 in 1 + 4 → 2/5;
  // an ignored-only image counts for nobody. Median of two: (7/8 + 2/5)/2 = 0.6375.
  ClassHistogram histogram(2);
  histogram.add(LabelMap::from_vector({2, 2}, {0, 0, 0, 0}));
  histogram.add(LabelMap::from_vector({2, 2}, {1, 255, 255, 255}));
  histogram.add(LabelMap::from_vector({2, 2}, {255, 255, 255, 255}));
  histogram.add(LabelMap::from_vector({2, 2}, {0, 0, 0, 1}));
  EXPECT_EQ(histogram.class_pixels(), (std::vector<int64_t>{7, 2}));
  EXPECT_EQ(histogram.present_image_pixels(), (std::vector<int64_t>{8, 5}));
  test::expect_close(median_frequency_weights(histogram),
                     Tensor::from_vector({2}, {0.6375f / 0.875f, 0.6375f / 0.4f}), 1e-6f, 0.0f,
                     "even median");

  test::expect_error_containing(
      [&] {
        histogram.add(LabelMap::from_vector({1, 2}, {0, 7}));
      },
      "ClassHistogram::add: label 7 outside [0, 2)");
  ClassHistogram empty(3);
  empty.add(LabelMap({2, 2}, 255));
  test::expect_error_containing([&] { median_frequency_weights(empty); }, "no labelled pixel");
}
