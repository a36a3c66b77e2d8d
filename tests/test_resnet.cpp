// ResNet backbone: the stride → dilation rewrite (output stride 16 → 8 halves layer3's stride and
// doubles the rates after it), feature shapes of every stage at output strides 32/16/8, multi-grid
// rates, torchvision's parameter names and counts (ResNet-50/101 without fc), frozen batch norm,
// and clear errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "nets/backbones/output_stride.h"
#include "nets/backbones/resnet.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

const std::vector<int> kResNetStrides = {1, 2, 2, 2};

Shape spatial(const Tensor& t) {
  return {t.size(2), t.size(3)};
}

}  // namespace

TEST(OutputStride, StridesThirtyTwoKeepEveryStride) {
  std::vector<StageGeometry> g = dilate_for_output_stride(kResNetStrides, 4, 32);
  ASSERT_EQ(g.size(), 4u);
  for (int s = 0; s < 4; ++s) {
    EXPECT_EQ(g[s].stride, kResNetStrides[s]);
    EXPECT_EQ(g[s].first_dilation, 1);
    EXPECT_EQ(g[s].dilation, 1);
  }
}

TEST(OutputStride, SixteenToEightHalvesTheStrideAndDoublesTheDilation) {
  std::vector<StageGeometry> os16 = dilate_for_output_stride(kResNetStrides, 4, 16);
  std::vector<StageGeometry> os8 = dilate_for_output_stride(kResNetStrides, 4, 8);
  // OS 16: layer4 at stride 1, rate 2 (its first unit keeps rate 1, torchvision's convention).
  EXPECT_EQ(os16[2].stride, 2);
  EXPECT_EQ(os16[3].stride, 1);
  EXPECT_EQ(os16[3].first_dilation, 1);
  EXPECT_EQ(os16[3].dilation, 2);
  // OS 8: layer3 gives up its stride 2 → 1 and every rate from there on doubles.
  EXPECT_EQ(os8[2].stride, os16[2].stride / 2);
  EXPECT_EQ(os8[2].dilation, 2 * os16[2].dilation);
  EXPECT_EQ(os8[3].dilation, 2 * os16[3].dilation);
  EXPECT_EQ(os8[3].first_dilation, 2 * os16[3].first_dilation);
  // layer1 and layer2 are untouched.
  for (int s = 0; s < 2; ++s) {
    EXPECT_EQ(os8[s].stride, os16[s].stride);
    EXPECT_EQ(os8[s].dilation, 1);
  }
  // OS 4 (DeepLab v3's tiny setting) dilates layer2 too: rates 2, 4, 8.
  std::vector<StageGeometry> os4 = dilate_for_output_stride(kResNetStrides, 4, 4);
  EXPECT_EQ(os4[1].stride, 1);
  EXPECT_EQ(os4[1].dilation, 2);
  EXPECT_EQ(os4[2].dilation, 4);
  EXPECT_EQ(os4[3].dilation, 8);
  EXPECT_EQ(os4[3].first_dilation, 4);
}

TEST(OutputStride, UnreachableStrideIsAnError) {
  test::expect_error_containing([] { dilate_for_output_stride(kResNetStrides, 4, 12); },
                                "output stride 12 is not reachable; this backbone offers 4, 8, 16, 32");
  test::expect_error_containing([] { dilate_for_output_stride(kResNetStrides, 4, 2); }, "not reachable");
  test::expect_error_containing([] { dilate_for_output_stride(kResNetStrides, 4, 64); }, "not reachable");
}

TEST(ResNet, FeatureShapesAtEachOutputStride) {
  Rng rng(1);
  Tensor images = test::random_tensor({2, 3, 64, 64}, rng);
  struct Case {
    int output_stride;
    int64_t layer3, layer4;
  };
  for (Case c : {Case{32, 4, 2}, Case{16, 4, 4}, Case{8, 8, 8}}) {
    Rng init(2);
    ResNet net(ResNetConfig::tiny(c.output_stride), init);
    ResNetFeatures f = net.features(images);
    EXPECT_EQ(f.stem.shape(), (Shape{2, 8, 32, 32}));
    EXPECT_EQ(f.layer1.shape(), (Shape{2, 32, 16, 16}));
    EXPECT_EQ(f.layer2.shape(), (Shape{2, 64, 8, 8}));
    EXPECT_EQ(f.layer3.shape(), (Shape{2, 128, c.layer3, c.layer3})) << "OS " << c.output_stride;
    EXPECT_EQ(f.layer4.shape(), (Shape{2, 256, c.layer4, c.layer4})) << "OS " << c.output_stride;
    EXPECT_EQ(net.forward(images).shape(), f.layer4.shape());
  }
}

TEST(ResNet, OddSizesRoundUp) {
  Rng rng(3);
  ResNet net(ResNetConfig::tiny(8), rng);
  ResNetFeatures f = net.features(test::random_tensor({1, 3, 33, 41}, rng));
  EXPECT_EQ(spatial(f.stem), (Shape{17, 21}));
  EXPECT_EQ(spatial(f.layer1), (Shape{9, 11}));
  EXPECT_EQ(spatial(f.layer4), (Shape{5, 6}));
}

TEST(ResNet, UnitDilationsFollowTorchvisionAndMultiGrid) {
  Rng rng(4);
  ResNetConfig config = ResNetConfig::tiny(8);
  config.blocks = {1, 1, 3, 3};
  ResNet os8(config, rng);
  EXPECT_EQ(os8.unit_dilations(3), (std::vector<int>{1, 2, 2}));
  EXPECT_EQ(os8.unit_dilations(4), (std::vector<int>{2, 4, 4}));
  // Multi-grid (1, 2, 4) on the stage rate, the first unit included: OS 16 → 2, 4, 8; OS 8 → 4, 8, 16.
  config.multi_grid = {1, 2, 4};
  config.output_stride = 16;
  EXPECT_EQ(ResNet(config, rng).unit_dilations(4), (std::vector<int>{2, 4, 8}));
  config.output_stride = 8;
  ResNet grid8(config, rng);
  EXPECT_EQ(grid8.unit_dilations(4), (std::vector<int>{4, 8, 16}));
  EXPECT_EQ(grid8.unit_dilations(3), (std::vector<int>{1, 2, 2}));
  // The rates reach the convs: layer4.2.conv2 is the 3×3 at rate 16, padded to keep the size.
  EXPECT_EQ(grid8.forward(test::random_tensor({1, 3, 32, 32}, rng)).shape(), (Shape{1, 256, 4, 4}));
}

TEST(ResNet, TorchvisionNamesAndOrder) {
  Rng rng(5);
  ResNet net(ResNetConfig::tiny(), rng);
  NamedTensors state = net.state_dict();
  std::vector<std::string> names;
  for (const auto& [name, t] : state) names.push_back(name);
  ASSERT_GE(names.size(), 10u);
  const std::vector<std::string> first = {"conv1.weight",          "bn1.weight",          "bn1.bias",
                                          "layer1.0.conv1.weight", "layer1.0.bn1.weight", "layer1.0.bn1.bias",
                                          "layer1.0.conv2.weight", "layer1.0.bn2.weight", "layer1.0.bn2.bias",
                                          "layer1.0.conv3.weight"};
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + 10), first);
  auto has = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  EXPECT_TRUE(has("layer1.0.downsample.0.weight"));
  EXPECT_TRUE(has("layer1.0.downsample.1.running_var"));
  EXPECT_TRUE(has("layer4.1.bn3.running_mean"));
  EXPECT_FALSE(has("layer1.1.downsample.0.weight"));  // same shape in and out: identity shortcut
  EXPECT_FALSE(has("fc.weight"));
}

// torchvision's model cards: resnet50 25,557,032 and resnet101 44,549,160 parameters, fc
// (2048 × 1000 + 1000 = 2,049,000) included; the backbone is those minus fc. 53 / 104 convs and
// as many batch norms: torchvision's state_dict has 320 / 626 entries, fc (2) and
// num_batches_tracked (53 / 104) dropped here.
TEST(ResNet, FullParameterCountsMatchTorchvision) {
  Rng rng(6);
  ResNet r50(ResNetConfig::resnet50(), rng);
  EXPECT_EQ(r50.parameter_count(), 25557032 - 2049000);  // 23,508,032
  EXPECT_EQ(r50.state_dict().size(), 320u - 2 - 53);
  ResNet r101(ResNetConfig::resnet101(8), rng);           // the output stride changes no parameter
  EXPECT_EQ(r101.parameter_count(), 44549160 - 2049000);  // 42,500,160
  EXPECT_EQ(r101.state_dict().size(), 626u - 2 - 104);
  EXPECT_EQ(r101.out_channels(0), 64);
  EXPECT_EQ(r101.out_channels(4), 2048);
}

TEST(ResNet, FrozenBatchNormKeepsRunningStatisticsAndMatchesEval) {
  Rng rng(7);
  ResNetConfig config = ResNetConfig::tiny(8);
  config.blocks = {1, 1, 1, 1};
  ResNet net(config, rng);
  Tensor images = test::random_tensor({2, 3, 32, 32}, rng);
  net.train();
  net.forward(images);  // moves the running statistics away from 0 / 1
  net.freeze_batch_norm();
  std::vector<float> before;
  for (const auto& [name, b] : net.named_buffers())
    for (float v : b.to_vector()) before.push_back(v);
  Tensor frozen = net.forward(images);
  std::vector<float> after;
  for (const auto& [name, b] : net.named_buffers())
    for (float v : b.to_vector()) after.push_back(v);
  EXPECT_EQ(before, after);
  net.eval();
  test::expect_close(frozen, net.forward(images), 1e-6f, 1e-6f, "frozen train vs eval");
  for (const auto& [name, p] : net.named_parameters()) {
    const bool is_batch_norm =
        name.find("bn") != std::string::npos || name.find("downsample.1") != std::string::npos;
    if (is_batch_norm) {
      EXPECT_FALSE(p.requires_grad()) << name;
    }
  }
}

TEST(ResNet, GradientsReachTheInputThroughDilatedStages) {
  Rng rng(8);
  ResNetConfig config{.blocks = {1, 1, 1, 1},
                      .widths = {2, 2, 2, 2},
                      .stem_channels = 2,
                      .output_stride = 8,
                      .multi_grid = {}};
  ResNet net(config, rng);
  net.eval();  // running statistics: a smooth function of the input for finite differences
  test::expect_gradients_match([&](const std::vector<Tensor>& in) { return net.forward(in[0]); },
                               {test::with_grad(test::random_tensor({1, 3, 12, 12}, rng))},
                               {.step = 1e-2f, .tolerance = 2e-2f, .max_points = 40});
}

TEST(ResNet, BadConfigsAndInputsAreErrors) {
  Rng rng(9);
  test::expect_error_containing([&] { ResNet(ResNetConfig::tiny(12), rng); },
                                "output_stride must be 4, 8, 16 or 32");
  ResNetConfig grid = ResNetConfig::tiny();
  grid.multi_grid = {1, 2, 4};
  test::expect_error_containing([&] { ResNet(grid, rng); },
                                "multi_grid needs one factor per layer4 unit (2)");
  ResNet net(ResNetConfig::tiny(), rng);
  test::expect_error_containing(
      [&] {
        net.forward(test::random_tensor({1, 1, 16, 16}, rng));
      },
      "ResNet: expected images (N, 3, H, W), got (1, 1, 16, 16)");
}
