// Augmentation keeps image and labels aligned (a synthetic image whose label is a function of its
// colour in big blocks), pads crops with 0 / 255, flips, resizes labels by nearest neighbour only,
// and normalises per channel.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/rng.h"
#include "data/augment.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

// Four colours; block (by, bx) has class (by + 2·bx + by·bx) % 4 and that class's colour.
constexpr float kColours[4][3] = {
    {0.1f, 0.2f, 0.9f}, {0.9f, 0.1f, 0.1f}, {0.2f, 0.8f, 0.3f}, {0.9f, 0.9f, 0.2f}};

// (3, H, W) blocks of `block` pixels; part = class + 10 and material = class + 20, so every map
// can be checked against the image alone.
Sample block_sample(int height, int width, int block) {
  Sample s;
  s.image = Tensor::empty({3, height, width});
  s.label = LabelMap({height, width});
  s.part = LabelMap({height, width});
  s.material = LabelMap({height, width});
  s.scene = 2, s.texture = 1, s.name = "blocks";
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const int by = y / block, bx = x / block, cls = (by + 2 * bx + by * bx) % 4;
      const int64_t i = static_cast<int64_t>(y) * width + x;
      for (int c = 0; c < 3; ++c) s.image.data()[c * height * width + i] = kColours[cls][c];
      s.label.data()[i] = cls, s.part.data()[i] = cls + 10, s.material.data()[i] = cls + 20;
    }
  return s;
}

int32_t at(const LabelMap& m, int64_t y, int64_t x) {
  return m.data()[y * m.size(1) + x];
}
float pixel(const Tensor& image, int c, int64_t y, int64_t x) {
  return image.data()[(c * image.size(1) + y) * image.size(2) + x];
}

}  // namespace

// After random scale, crop and flip, every labelled pixel inside a block (its 3×3 neighbourhood has
// one label) shows exactly its class's colour, and part/material still equal label + 10 / + 20.
TEST(Augment, ImageAndEveryLabelMapStayAligned) {
  const Sample source = block_sample(48, 64, 8);
  AugmentOptions options;
  Rng rng(4);
  for (int trial = 0; trial < 30; ++trial) {
    Sample s = augment_sample(source, options, 40, 40, rng);
    ASSERT_EQ(s.image.shape(), (Shape{3, 40, 40}));
    ASSERT_EQ(s.label.shape(), (Shape{40, 40}));
    EXPECT_EQ(s.scene, 2);
    EXPECT_EQ(s.texture, 1);
    int64_t interior = 0;
    for (int y = 0; y < 40; ++y)
      for (int x = 0; x < 40; ++x) {
        const int32_t label = at(s.label, y, x);
        ASSERT_EQ(at(s.part, y, x), label == 255 ? 255 : label + 10);
        ASSERT_EQ(at(s.material, y, x), label == 255 ? 255 : label + 20);
        if (label == 255) {
          for (int c = 0; c < 3; ++c) ASSERT_EQ(pixel(s.image, c, y, x), 0.0f) << "padding must be 0";
          continue;
        }
        bool inside_block = y > 0 && x > 0 && y < 39 && x < 39;
        for (int dy = -1; dy <= 1 && inside_block; ++dy)
          for (int dx = -1; dx <= 1; ++dx) inside_block &= at(s.label, y + dy, x + dx) == label;
        if (!inside_block) continue;
        ++interior;
        for (int c = 0; c < 3; ++c)
          ASSERT_NEAR(pixel(s.image, c, y, x), kColours[label][c], 1e-5f)
              << "trial " << trial << " pixel (" << x << ", " << y << ") label " << label;
      }
    EXPECT_GT(interior, 100) << "trial " << trial;
  }
}

// A window reaching past every side: the outside is image 0 and labels 255, the inside a copy.
TEST(Augment, CropPadsImageWithZeroAndLabelsWith255) {
  const Sample source = block_sample(6, 5, 2);
  Sample s = crop_sample(source, -2, -1, 10, 8);
  ASSERT_EQ(s.image.shape(), (Shape{3, 10, 8}));
  for (int y = 0; y < 10; ++y)
    for (int x = 0; x < 8; ++x) {
      const int sy = y - 2, sx = x - 1;
      const bool inside = sy >= 0 && sy < 6 && sx >= 0 && sx < 5;
      EXPECT_EQ(at(s.label, y, x), inside ? at(source.label, sy, sx) : 255);
      EXPECT_EQ(at(s.part, y, x), inside ? at(source.part, sy, sx) : 255);
      EXPECT_EQ(at(s.material, y, x), inside ? at(source.material, sy, sx) : 255);
      for (int c = 0; c < 3; ++c)
        EXPECT_EQ(pixel(s.image, c, y, x), inside ? pixel(source.image, c, sy, sx) : 0.0f);
    }
  Sample inner = crop_sample(source, 1, 2, 3, 2);
  EXPECT_EQ(at(inner.label, 0, 0), at(source.label, 1, 2));
  EXPECT_EQ(at(inner.label, 2, 1), at(source.label, 3, 3));
}

// Random crops of an image smaller than the crop: every output is 255 outside the image, and the
// image is placed at varying offsets.
TEST(Augment, SmallImagesArePaddedUpToTheCrop) {
  const Sample source = block_sample(10, 10, 5);
  AugmentOptions options{.scale_min = 1.0f, .scale_max = 1.0f, .flip = false};
  Rng rng(8);
  std::set<int> first_rows;
  for (int trial = 0; trial < 20; ++trial) {
    Sample s = augment_sample(source, options, 16, 16, rng);
    const int64_t labelled =
        std::count_if(s.label.data(), s.label.data() + 256, [](int32_t v) { return v != 255; });
    EXPECT_EQ(labelled, 100);
    for (int y = 0; y < 16; ++y)
      if (at(s.label, y, 8) != 255 || at(s.label, y, 7) != 255) {
        first_rows.insert(y);
        break;
      }
  }
  EXPECT_GT(first_rows.size(), 2u);
}

TEST(Augment, FlipMirrorsEveryMapAndTwiceIsIdentity) {
  const Sample source = block_sample(4, 6, 1);
  Sample s = flip_sample(source);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 6; ++x) {
      EXPECT_EQ(at(s.label, y, x), at(source.label, y, 5 - x));
      EXPECT_EQ(at(s.part, y, x), at(source.part, y, 5 - x));
      EXPECT_EQ(at(s.material, y, x), at(source.material, y, 5 - x));
      for (int c = 0; c < 3; ++c) EXPECT_EQ(pixel(s.image, c, y, x), pixel(source.image, c, y, 5 - x));
    }
  Sample twice = flip_sample(s);
  EXPECT_TRUE(std::equal(twice.image.data(), twice.image.data() + 72, source.image.data()));
  EXPECT_TRUE(std::equal(twice.label.data(), twice.label.data() + 24, source.label.data()));
}

// Labels take the nearest source pixel, never a blend: 2×2 → 4×4 repeats each value in a 2×2
// block; 4×4 → 2×2 takes the pixel whose span holds the destination centre; 3 → 2 takes 0 and 2.
TEST(Augment, ResizeTakesNearestLabelsAndBilinearImage) {
  Sample s;
  s.image = Tensor::from_vector({3, 2, 2}, {0, 1, 2, 3, 0, 0, 0, 0, 1, 1, 1, 1});
  s.label = LabelMap::from_vector({2, 2}, {1, 2, 3, 4});
  Sample up = resize_sample(s, 4, 4);
  EXPECT_EQ(std::vector<int32_t>(up.label.data(), up.label.data() + 16),
            (std::vector<int32_t>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
  EXPECT_FALSE(up.part.defined());
  // bilinear, half-pixel centres: output (0, 1) samples x = 0.25 → 0.75·0 + 0.25·1
  EXPECT_NEAR(pixel(up.image, 0, 0, 1), 0.25f, 1e-6f);
  EXPECT_NEAR(pixel(up.image, 0, 0, 0), 0.0f, 1e-6f);
  Sample big;
  big.image = Tensor::zeros({3, 3, 4});
  big.label = LabelMap::from_vector({3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  Sample down = resize_sample(big, 2, 2);
  EXPECT_EQ(std::vector<int32_t>(down.label.data(), down.label.data() + 4),
            (std::vector<int32_t>{1, 3, 9, 11}));
}

TEST(Augment, NoScaleNoFlipAndFullCropIsIdentity) {
  const Sample source = block_sample(12, 12, 3);
  AugmentOptions options{.scale_min = 1.0f, .scale_max = 1.0f, .flip = false};
  Rng rng(1);
  Sample s = augment_sample(source, options, 12, 12, rng);
  EXPECT_TRUE(std::equal(s.image.data(), s.image.data() + s.image.numel(), source.image.data()));
  EXPECT_TRUE(std::equal(s.label.data(), s.label.data() + s.label.numel(), source.label.data()));
}

TEST(Augment, NormaliseSubtractsMeanAndDividesByStd) {
  Tensor image = Tensor::from_vector({3, 1, 2}, {0.0f, 1.0f, 0.5f, 0.5f, 0.2f, 0.8f});
  Normalisation n{.mean = {0.5f, 0.5f, 0.5f}, .std = {0.5f, 0.25f, 0.1f}};
  Tensor out = normalise(image, n);
  test::expect_close(out, Tensor::from_vector({3, 1, 2}, {-1.0f, 1.0f, 0.0f, 0.0f, -3.0f, 3.0f}), 1e-6f,
                     1e-6f, "normalise");
  Tensor batch = normalise(image.reshape({1, 3, 1, 2}), Normalisation{});  // ImageNet's
  EXPECT_NEAR(batch.data()[0], (0.0f - 0.485f) / 0.229f, 1e-5f);
  EXPECT_NEAR(batch.data()[5], (0.8f - 0.406f) / 0.225f, 1e-5f);
  test::expect_error_containing(
      [&] {
        normalise(image, Normalisation{.std = {1, 0, 1}});
      },
      "std of channel 1");
  test::expect_error_containing([&] { normalise(Tensor::zeros({2, 4, 4}), n); }, "expected a (3, H, W)");
}

TEST(Augment, BadInputsAreErrors) {
  Sample s = block_sample(4, 4, 2);
  Rng rng(1);
  test::expect_error_containing([&] { crop_sample(s, 0, 0, 0, 3); }, "crop size must be positive");
  test::expect_error_containing(
      [&] { augment_sample(s, AugmentOptions{.scale_min = 2.0f, .scale_max = 1.0f}, 4, 4, rng); },
      "scale_min");
  Sample mismatched = s;
  mismatched.part = LabelMap({3, 4});
  test::expect_error_containing([&] { flip_sample(mismatched); }, "does not match image");
}
