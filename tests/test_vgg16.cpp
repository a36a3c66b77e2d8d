// VGG-16 backbone: the parameter count against torchvision's, Caffe layer names, the feature
// shapes and output strides of the FCN, DeepLab LargeFOV and dilation front-end forms, gradients
// through the overlapping and stride-1 pools of the DeepLab form, and clear input errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/rng.h"
#include "nets/backbones/vgg16.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

Shape spatial(const Tensor& t) {
  return {t.size(2), t.size(3)};
}

Vgg16Config micro(Vgg16Config c) {
  c.widths = {2, 2, 3, 3, 3};
  c.convs_per_block = {1, 1, 1, 1, 1};
  return c;
}

}  // namespace

TEST(Vgg16, FullConvLayersHaveTorchvisionsParameterCount) {
  // torchvision.models.vgg16().features holds 14,714,688 parameters: the 13 convs. The whole
  // torchvision vgg16 (138,357,544) adds fc6 25088·4096 + 4096 = 102,764,544, fc7 16,781,312 and
  // the ImageNet fc8 4,097,000; fc6/fc7 live in each net here (nets/fcn.h, nets/dilated_context.h).
  Rng rng(1);
  for (const Vgg16Config& config :
       {Vgg16Config::fcn(), Vgg16Config::deeplab_largefov(), Vgg16Config::dilation_frontend()}) {
    Vgg16 vgg(config, rng);
    EXPECT_EQ(vgg.parameter_count(), 14714688);
  }
}

TEST(Vgg16, ParametersCarryCaffeLayerNames) {
  Rng rng(1);
  Vgg16 vgg(Vgg16Config::fcn(), rng);
  const NamedTensors params = vgg.named_parameters();
  ASSERT_EQ(params.size(), 26u);
  EXPECT_EQ(params[0].first, "conv1_1.weight");
  EXPECT_EQ(params[1].first, "conv1_1.bias");
  EXPECT_EQ(params[4].first, "conv2_1.weight");
  EXPECT_EQ(params[25].first, "conv5_3.bias");
  EXPECT_EQ(params[24].second.shape(), (Shape{512, 512, 3, 3}));
  EXPECT_EQ(vgg.conv(1, 1).options().pad, 100);
  EXPECT_EQ(vgg.conv(1, 2).options().pad, 1);
}

TEST(Vgg16, FcnFormWithPad100PoolsWithCaffesCeilRounding) {
  // 64 + 2·100 − 2 = 262 after conv1_1 (conv1_2 keeps it), then each 2×2 pool rounds up:
  // 131, 66, 33, 17, 9 (floor rounding would give 16 and 8 after pool4 and pool5).
  Rng rng(2);
  Vgg16 vgg(Vgg16Config::fcn().tiny(), rng);
  EXPECT_EQ(vgg.config().output_stride(), 32);
  const Vgg16Features f = vgg.features(test::random_tensor({1, 3, 64, 64}, rng));
  const std::vector<Shape> expected = {{131, 131}, {66, 66}, {33, 33}, {17, 17}, {9, 9}};
  for (int b = 0; b < 5; ++b) EXPECT_EQ(spatial(f.pool[b]), expected[b]) << "pool" << b + 1;
  EXPECT_EQ(f.pool3().size(1), 32);
  EXPECT_EQ(f.pool5().size(1), 32);
}

TEST(Vgg16, SamePaddedFcnFormHalvesTheMapAtEveryPool) {
  Vgg16Config config = Vgg16Config::fcn().tiny();
  config.conv1_1_pad = 1;
  Rng rng(3);
  Vgg16 vgg(config, rng);
  const Vgg16Features f = vgg.features(test::random_tensor({2, 3, 64, 48}, rng));
  const std::vector<Shape> expected = {{32, 24}, {16, 12}, {8, 6}, {4, 3}, {2, 2}};
  for (int b = 0; b < 5; ++b) EXPECT_EQ(spatial(f.pool[b]), expected[b]) << "pool" << b + 1;
  EXPECT_EQ(f.pool[0].size(1), 8);
  EXPECT_EQ(f.pool[1].size(1), 16);
}

TEST(Vgg16, DeeplabLargeFovFormHasOutputStride8) {
  // pool1–3: 3×3 stride 2 pad 1 with ceil rounding, ceil((H − 1)/2) + 1: 64 → 33 → 17 → 9;
  // pool4/pool5 (3×3 stride 1 pad 1) keep 9 × 9; conv5 is dilated by 2.
  Rng rng(4);
  Vgg16 vgg(Vgg16Config::deeplab_largefov().tiny(), rng);
  EXPECT_EQ(vgg.config().output_stride(), 8);
  EXPECT_EQ(vgg.conv(5, 1).options().dilation, 2);
  EXPECT_EQ(vgg.conv(5, 2).options().pad, 2);
  EXPECT_EQ(vgg.conv(4, 1).options().dilation, 1);
  const Vgg16Features f = vgg.features(test::random_tensor({1, 3, 64, 64}, rng));
  const std::vector<Shape> expected = {{33, 33}, {17, 17}, {9, 9}, {9, 9}, {9, 9}};
  for (int b = 0; b < 5; ++b) EXPECT_EQ(spatial(f.pool[b]), expected[b]) << "pool" << b + 1;
}

TEST(Vgg16, DilationFrontendDropsPool4AndPool5) {
  Rng rng(5);
  Vgg16 vgg(Vgg16Config::dilation_frontend().tiny(), rng);
  EXPECT_EQ(vgg.config().output_stride(), 8);
  EXPECT_FALSE(vgg.config().pools[3].has_value());
  EXPECT_EQ(vgg.conv(5, 2).options().dilation, 2);
  const Vgg16Features f = vgg.features(test::random_tensor({1, 3, 64, 64}, rng));
  const std::vector<Shape> expected = {{32, 32}, {16, 16}, {8, 8}, {8, 8}, {8, 8}};
  for (int b = 0; b < 5; ++b) EXPECT_EQ(spatial(f.pool[b]), expected[b]) << "pool" << b + 1;
}

TEST(Vgg16, GradientsThroughTheDeeplabFormMatchFiniteDifferences) {
  // The overlapping 3×3 pools and dilated conv5 are what the FCN golden files do not cover.
  Rng rng(6);
  Vgg16 vgg(micro(Vgg16Config::deeplab_largefov()), rng);
  const Tensor conv5_weight = vgg.conv(5, 1).weight();
  test::expect_gradients_match([&](const std::vector<Tensor>& in) { return vgg.features(in[0]).pool5(); },
                               {test::with_grad(test::random_tensor({1, 3, 12, 12}, rng)), conv5_weight});
}

TEST(Vgg16, BadInputsNameTheBackbone) {
  Rng rng(7);
  Vgg16 vgg(micro(Vgg16Config::fcn()), rng);
  test::expect_error_containing(
      [&] {
        vgg.features(test::random_tensor({1, 4, 8, 8}, rng));
      },
      "VGG-16: expected images (N, 3, H, W)");
  Vgg16Config bad = micro(Vgg16Config::fcn());
  bad.widths[2] = 0;
  test::expect_error_containing([&] { Vgg16 v(bad, rng); }, "VGG-16: block 3");
  test::expect_error_containing([&] { vgg.conv(5, 2); }, "no conv5_2");
}
