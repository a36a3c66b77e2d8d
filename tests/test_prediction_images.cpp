// Prediction pictures: colourised label maps, overlays that leave the
// background untouched, and a prediction for an image whose size the net cannot take directly.
#include <gtest/gtest.h>

#include "nets/registry.h"
#include "tools/prediction_images.h"

using namespace pg;

TEST(PredictionImages, ColouriseAndOverlay) {
  const LabelMap label = LabelMap::from_vector({1, 2}, {0, 1});
  const Image8 colours = colourise(label);
  ASSERT_EQ(colours.pixels.size(), 6u);
  EXPECT_EQ(colours.at(0, 1, 0), 128);
  const Tensor image = Tensor::full({3, 1, 2}, 1.0f);  // white
  const Image8 blended = overlay(image, label, 0.5f);
  EXPECT_EQ(blended.at(0, 0, 0), 255);  // background: the image as it is
  EXPECT_EQ(blended.at(0, 1, 0), 192);  // (255 + 128) / 2, rounded
  EXPECT_EQ(blended.at(0, 1, 1), 128);  // (255 + 0) / 2, rounded
}

TEST(PredictionImages, PredictionKeepsTheImageSize) {
  std::shared_ptr<SegmentationNet> net = make_net("unet-tiny");
  const Tensor image = Tensor::full({3, 13, 10}, 0.5f);  // padded to 16 × 16 for the net, cropped back
  const LabelMap predicted = predict_labels(*net, image, 8);
  EXPECT_EQ(predicted.shape(), (Shape{13, 10}));
  for (int64_t i = 0; i < predicted.numel(); ++i) EXPECT_LT(predicted.data()[i], net->num_classes());
}
