// The toy generator: determinism from the seed (and across threads), labels that agree with each
// other, class decided by shape and never by colour, the size range, the border band, options.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <vector>

#include "core/error.h"
#include "data/toy_dataset.h"
#include "nets/registry.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

bool same_labels(const LabelMap& a, const LabelMap& b) {
  return a.shape() == b.shape() && std::equal(a.data(), a.data() + a.numel(), b.data());
}

bool same_sample(const Sample& a, const Sample& b) {
  return a.image.shape() == b.image.shape() &&
         std::equal(a.image.data(), a.image.data() + a.image.numel(), b.image.data()) &&
         same_labels(a.label, b.label) && same_labels(a.part, b.part) &&
         same_labels(a.material, b.material) && a.scene == b.scene && a.texture == b.texture &&
         a.name == b.name;
}

int32_t label_at(const Sample& s, int64_t y, int64_t x) {
  return s.label.data()[y * s.label.size(1) + x];
}

}  // namespace

TEST(ToyDataset, ClassCountMatchesTheRegistry) {
  EXPECT_EQ(kToyClassCount, kToyClasses);
  EXPECT_EQ(static_cast<int>(toy_class_names().size()), kToyClassCount);
  EXPECT_EQ(static_cast<int>(toy_scene_names().size()), kToySceneCount);
  EXPECT_EQ(static_cast<int>(toy_texture_names().size()), kToyTextureCount);
  EXPECT_EQ(static_cast<int>(toy_material_names().size()), kToyMaterialCount);
}

TEST(ToyDataset, SameSeedGivesIdenticalSamplesInAnyOrder) {
  ToyOptions options{.count = 20, .seed = 7};
  ToyDataset a(options), b(options);
  for (int64_t i = 19; i >= 0; --i) EXPECT_TRUE(same_sample(a.get(i), b.get(i))) << "sample " << i;
  EXPECT_TRUE(same_sample(a.get(3), a.get(3)));
}

TEST(ToyDataset, DifferentSeedsAndIndicesGiveDifferentSamples) {
  ToyDataset a(ToyOptions{.count = 10, .seed = 7}), b(ToyOptions{.count = 10, .seed = 8});
  for (int64_t i = 0; i < 10; ++i) {
    Sample x = a.get(i), y = b.get(i);
    EXPECT_FALSE(std::equal(x.image.data(), x.image.data() + x.image.numel(), y.image.data())) << i;
  }
  Sample first = a.get(0), second = a.get(1);
  EXPECT_FALSE(std::equal(first.image.data(), first.image.data() + first.image.numel(), second.image.data()));
}

TEST(ToyDataset, FirstIndexShiftsTheDrawAndTheName) {
  ToyDataset whole(ToyOptions{.count = 10, .seed = 3});
  ToyDataset tail(ToyOptions{.count = 4, .seed = 3, .first_index = 6});
  for (int64_t i = 0; i < 4; ++i) EXPECT_TRUE(same_sample(tail.get(i), whole.get(6 + i)));
  EXPECT_EQ(tail.get(0).name, "toy-6");
}

TEST(ToyDataset, ThreadsDrawTheSameSamples) {
  ToyDataset dataset(ToyOptions{.count = 16, .seed = 11});
  std::vector<Sample> serial, parallel(16);
  for (int64_t i = 0; i < 16; ++i) serial.push_back(dataset.get(i));
#pragma omp parallel for num_threads(4)
  for (int64_t i = 0; i < 16; ++i) parallel[i] = dataset.get(i);
  for (int64_t i = 0; i < 16; ++i) EXPECT_TRUE(same_sample(serial[i], parallel[i])) << i;
}

// Part and material exist exactly on object pixels; every value is in its documented range; over
// a few dozen images every class, scene, texture and material occurs.
TEST(ToyDataset, LabelsAgreeWithEachOtherAndCoverEveryKind) {
  ToyDataset dataset(ToyOptions{.count = 80, .seed = 5});
  std::set<int32_t> classes, materials, parts;
  std::set<int> scenes, textures;
  for (int64_t n = 0; n < dataset.size(); ++n) {
    Sample s = dataset.get(n);
    ASSERT_EQ(s.image.shape(), (Shape{3, 64, 64}));
    for (int64_t i = 0; i < s.image.numel(); ++i)
      ASSERT_TRUE(s.image.data()[i] >= 0.0f && s.image.data()[i] <= 1.0f);
    for (int64_t i = 0; i < s.label.numel(); ++i) {
      const int32_t label = s.label.data()[i], part = s.part.data()[i], material = s.material.data()[i];
      ASSERT_TRUE(label >= 0 && label < kToyClassCount) << label;
      ASSERT_EQ(part == kToyNoPart, label == 0) << "pixel " << i << " of " << s.name;
      ASSERT_EQ(material == 0, label == 0) << "pixel " << i << " of " << s.name;
      ASSERT_TRUE(material >= 0 && material < kToyMaterialCount);
      classes.insert(label), materials.insert(material), parts.insert(part);
    }
    scenes.insert(s.scene), textures.insert(s.texture);
  }
  EXPECT_EQ(classes.size(), 6u);
  EXPECT_EQ(materials.size(), 5u);
  EXPECT_EQ(parts, (std::set<int32_t>{0, 1, kToyNoPart}));
  EXPECT_EQ(scenes, (std::set<int>{0, 1, 2, 3}));
  EXPECT_EQ(textures, (std::set<int>{0, 1, 2, 3}));
}

// The part map splits each object at its centre row: upper above it, lower below.
TEST(ToyDataset, PartsSplitEachObjectAtItsCentre) {
  ToyOptions options{.count = 1};
  ToyLayout layout = toy_layout(options, 0);
  ToyObject object;
  object.shape = ToyClass::square;
  object.centre_x = 32, object.centre_y = 30, object.radius = 20, object.angle = 0;
  object.colour = {1, 0, 0};
  layout.objects = {object};
  Sample s = render_toy(layout, options);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x) {
      const int32_t part = s.part.data()[y * 64 + x];
      if (label_at(s, y, x) == 0) continue;
      EXPECT_EQ(part, y + 0.5f < 30 ? 0 : 1) << "(" << x << ", " << y << ")";
    }
}

// Colours are drawn without looking at the class: over thousands of objects, each class's mean
// colour equals the overall mean within sampling noise, and each class takes colours from every
// octant of the RGB cube.
TEST(ToyDataset, ColoursAreIndependentOfTheClass) {
  ToyOptions options{.count = 3000, .seed = 21};
  std::array<std::array<double, 3>, kToyClassCount> sum{};
  std::array<int, kToyClassCount> count{};
  std::array<std::set<int>, kToyClassCount> octants;
  std::array<double, 3> total{};
  int objects = 0;
  for (int64_t n = 0; n < options.count; ++n)
    for (const ToyObject& object : toy_layout(options, n).objects) {
      const int cls = static_cast<int>(object.shape);
      ASSERT_TRUE(cls >= 1 && cls < kToyClassCount);
      for (int k = 0; k < 3; ++k) sum[cls][k] += object.colour[k], total[k] += object.colour[k];
      octants[cls].insert((object.colour[0] > 0.5f) + 2 * (object.colour[1] > 0.5f) +
                          4 * (object.colour[2] > 0.5f));
      ++count[cls], ++objects;
    }
  for (int cls = 1; cls < kToyClassCount; ++cls) {
    ASSERT_GT(count[cls], 800) << toy_class_names()[cls];
    EXPECT_EQ(octants[cls].size(), 8u) << toy_class_names()[cls];
    // a channel's standard deviation is about 0.29: the mean of ≥ 800 has a standard error ≤ 0.01
    for (int k = 0; k < 3; ++k)
      EXPECT_NEAR(sum[cls][k] / count[cls], total[k] / objects, 0.04)
          << toy_class_names()[cls] << " channel " << k;
  }
}

// The label is the shape: repainting every object in other colours and patterns changes the image
// but not one label pixel; changing the shapes changes the labels.
TEST(ToyDataset, LabelsFollowShapesNotColours) {
  ToyOptions options{.count = 1};
  for (int64_t n = 0; n < 20; ++n) {
    ToyLayout layout = toy_layout(options, n);
    Sample original = render_toy(layout, options);
    ToyLayout repainted = layout;
    for (ToyObject& object : repainted.objects) {
      object.colour = {1.0f - object.colour[0], object.colour[2], object.colour[1]};
      object.material = ToyMaterial::solid;
    }
    repainted.background_a = {0.5f, 0.1f, 0.9f};
    Sample recoloured = render_toy(repainted, options);
    EXPECT_TRUE(same_labels(original.label, recoloured.label)) << n;
    EXPECT_FALSE(std::equal(original.image.data(), original.image.data() + original.image.numel(),
                            recoloured.image.data()));
    ToyLayout reshaped = layout;
    for (ToyObject& object : reshaped.objects)
      object.shape = static_cast<ToyClass>(1 + static_cast<int>(object.shape) % 5);
    EXPECT_FALSE(same_labels(original.label, render_toy(reshaped, options).label)) << n;
  }
}

// One object of each shape, big and unrotated, drawn alone: the label covers a region whose area
// matches the shape's geometry (circle πr², square (1.6r)², triangle, cross, ring) within a few %.
TEST(ToyDataset, EachShapeHasItsGeometry) {
  ToyOptions options{.height = 128, .width = 128, .count = 1};
  const float r = 40.0f;
  const float areas[] = {0,
                         3.14159f * r * r,
                         2.56f * r * r,
                         1.7182f * r * r /* (3√3/4)·1.15² */,
                         (4 * 0.6f - 0.36f) * r * r,
                         3.14159f * (1 - 0.3025f) * r * r};
  for (int cls = 1; cls < kToyClassCount; ++cls) {
    ToyLayout layout = toy_layout(options, 0);
    ToyObject object;
    object.shape = static_cast<ToyClass>(cls);
    object.centre_x = 64, object.centre_y = 64, object.radius = r, object.angle = 0;
    layout.objects = {object};
    Sample s = render_toy(layout, options);
    const int64_t pixels = std::count(s.label.data(), s.label.data() + s.label.numel(), cls);
    EXPECT_NEAR(pixels, areas[cls], 0.03f * areas[cls]) << toy_class_names()[cls];
    if (cls == static_cast<int>(ToyClass::ring))
      EXPECT_EQ(label_at(s, 64, 64), 0);  // the hole
    else
      EXPECT_EQ(label_at(s, 64, 64), cls);
  }
}

// Objects range from a few pixels to most of the image, and are drawn largest first.
TEST(ToyDataset, ObjectSizesSpanFewPixelsToMostOfTheImage) {
  ToyOptions options{.count = 500, .seed = 2};
  float smallest = 1e9f, largest = 0.0f;
  for (int64_t n = 0; n < options.count; ++n) {
    ToyLayout layout = toy_layout(options, n);
    ASSERT_GE(layout.objects.size(), 1u);
    ASSERT_LE(layout.objects.size(), 4u);
    for (size_t i = 0; i < layout.objects.size(); ++i) {
      smallest = std::min(smallest, 2 * layout.objects[i].radius);
      largest = std::max(largest, 2 * layout.objects[i].radius);
      if (i > 0) {
        EXPECT_LE(layout.objects[i].radius, layout.objects[i - 1].radius);
      }
    }
  }
  EXPECT_LT(smallest, 7.0f);
  EXPECT_GT(largest, 0.8f * 64);
}

// border_ignore = w: a pixel becomes 255 exactly when another class lies within distance w.
TEST(ToyDataset, BorderBandIsIgnoredAroundEveryEdge) {
  ToyDataset plain(ToyOptions{.count = 5, .seed = 9}),
      banded(ToyOptions{.count = 5, .seed = 9, .border_ignore = 2});
  for (int64_t n = 0; n < 5; ++n) {
    Sample a = plain.get(n), b = banded.get(n);
    int64_t band = 0;
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 64; ++x) {
        bool near_edge = false;
        for (int yy = std::max(0, y - 2); yy <= std::min(63, y + 2); ++yy)
          for (int xx = std::max(0, x - 2); xx <= std::min(63, x + 2); ++xx)
            near_edge |= label_at(a, yy, xx) != label_at(a, y, x);
        ASSERT_EQ(label_at(b, y, x), near_edge ? 255 : label_at(a, y, x)) << "(" << x << ", " << y << ")";
        band += near_edge;
      }
    EXPECT_GT(band, 0);
    EXPECT_TRUE(same_labels(a.part, b.part));  // the band is in the class label only
  }
}

TEST(ToyDataset, AnySizeCanBeDrawn) {
  ToyDataset dataset(ToyOptions{.height = 40, .width = 90, .count = 3, .max_objects = 6});
  Sample s = dataset.get(2);
  EXPECT_EQ(s.image.shape(), (Shape{3, 40, 90}));
  EXPECT_EQ(s.label.shape(), (Shape{40, 90}));
  EXPECT_EQ(s.name, "toy-2");
}

TEST(ToyDataset, BadOptionsAndIndicesAreErrors) {
  using test::expect_error_containing;
  expect_error_containing([] { ToyDataset(ToyOptions{.height = 0}); }, "image size must be positive");
  expect_error_containing([] { ToyDataset(ToyOptions{.min_objects = 3, .max_objects = 2}); }, "min_objects");
  expect_error_containing([] { ToyDataset(ToyOptions{.min_object_size = 0.5f}); }, "min_object_size");
  expect_error_containing([] { ToyDataset(ToyOptions{.border_ignore = -1}); }, "border_ignore");
  ToyDataset dataset(ToyOptions{.count = 3});
  expect_error_containing([&] { dataset.get(3); }, "index 3 out of range [0, 3)");
  expect_error_containing([&] { dataset.get(-1); }, "index -1 out of range");
}
