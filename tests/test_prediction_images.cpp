// Prediction pictures: the VOC palette's colours, colourised label maps, overlays that leave the
// background untouched, and a prediction for an image whose size the net cannot take directly.
#include <gtest/gtest.h>

#include "nets/registry.h"
#include "tools/prediction_images.h"

using namespace pg;

TEST(PredictionImages, VocPaletteColours) {
  // The VOC devkit's colour map: 1 aeroplane (128, 0, 0), 2 (0, 128, 0), 15 person (192, 128, 128),
  // 255 void (224, 224, 192).
  EXPECT_EQ(label_colour(0), (std::array<uint8_t, 3>{0, 0, 0}));
  EXPECT_EQ(label_colour(1), (std::array<uint8_t, 3>{128, 0, 0}));
  EXPECT_EQ(label_colour(2), (std::array<uint8_t, 3>{0, 128, 0}));
  EXPECT_EQ(label_colour(15), (std::array<uint8_t, 3>{192, 128, 128}));
  EXPECT_EQ(label_colour(255), (std::array<uint8_t, 3>{224, 224, 192}));
}

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
