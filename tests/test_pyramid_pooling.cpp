// Pyramid pooling module (nets/pyramid_pooling.h) and ConvBnRelu (nets/conv_bn_relu.h): the
// adaptive windows of bins 1, 2, 3, 6 on an 8×8 map (overlapping) and of 6 bins on a 4×4 map
// (more bins than pixels), written out by hand; the concatenation order; both corner conventions;
// mmseg's parameter names; gradients by finite differences; clear errors.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "core/ops/resize_bilinear.h"
#include "core/ops/shape_ops.h"
#include "nets/pyramid_pooling.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

using Window = std::array<int, 2>;  // [begin, end) along one axis

// Mean of x[0, c, rows, cols].
float window_mean(const Tensor& x, int c, Window rows, Window cols) {
  const int64_t h = x.size(2), w = x.size(3);
  double sum = 0;
  for (int r = rows[0]; r < rows[1]; ++r)
    for (int q = cols[0]; q < cols[1]; ++q) sum += x.data()[(c * h + r) * w + q];
  return static_cast<float>(sum / ((rows[1] - rows[0]) * (cols[1] - cols[0])));
}

// Every 1×1 conv the identity (branch_channels = in_channels) and the net in eval mode, where
// batch norm is x / sqrt(1 + eps) with its fresh running statistics: each branch then outputs its
// pooled map (times that factor) for a positive input.
void make_branches_pass_through(PyramidPooling& ppm) {
  for (const auto& [name, p] : ppm.named_parameters()) {
    if (!name.ends_with("conv.weight")) continue;
    const int64_t channels = p.size(0);
    for (int64_t o = 0; o < channels; ++o)
      for (int64_t i = 0; i < channels; ++i) p.data()[o * channels + i] = o == i ? 1.0f : 0.0f;
  }
  ppm.eval();
}

// The expected output of a pass-through module: x, then each bin's hand-listed windows (the same
// on both axes), upsampled by the resize op.
Tensor expected_output(const Tensor& x, const std::vector<std::vector<Window>>& windows_per_bin,
                       bool align_corners) {
  const int channels = static_cast<int>(x.size(1)), h = static_cast<int>(x.size(2));
  const float bn_scale = 1.0f / std::sqrt(1.0f + 1e-5f);
  std::vector<Tensor> maps = {x};
  for (const std::vector<Window>& windows : windows_per_bin) {
    const int b = static_cast<int>(windows.size());
    Tensor pooled = Tensor::zeros({1, channels, b, b});
    for (int c = 0; c < channels; ++c)
      for (int i = 0; i < b; ++i)
        for (int j = 0; j < b; ++j)
          pooled.data()[(c * b + i) * b + j] = bn_scale * window_mean(x, c, windows[i], windows[j]);
    maps.push_back(resize_bilinear(pooled, h, h, align_corners));
  }
  return concat(maps, 1);
}

}  // namespace

TEST(PyramidPooling, OverlappingWindowsOfSixBinsOnAnEightWideMap) {
  // Bin i of b over 8 spans [floor(8i/b), ceil(8(i+1)/b)): thirds overlap by one row (2 and 5),
  // sixths put rows 1, 2, 5 and 6 in two bins each, as PyTorch's AdaptiveAvgPool2d — the tiny
  // PSPNet's map.
  const std::vector<std::vector<Window>> windows = {
      {{0, 8}},
      {{0, 4}, {4, 8}},
      {{0, 3}, {2, 6}, {5, 8}},
      {{0, 2}, {1, 3}, {2, 4}, {4, 6}, {5, 7}, {6, 8}},
  };
  for (bool align_corners : {false, true}) {
    Rng rng(1);
    PyramidPooling ppm(
        {.in_channels = 2, .branch_channels = 2, .bins = {1, 2, 3, 6}, .align_corners = align_corners}, rng);
    make_branches_pass_through(ppm);
    Tensor x = test::random_tensor({1, 2, 8, 8}, rng, 0.1f, 1.0f);
    Tensor y = ppm.forward(x);
    ASSERT_EQ(y.shape(), (Shape{1, 2 + 4 * 2, 8, 8}));
    EXPECT_EQ(ppm.out_channels(), 10);
    test::expect_close(y, expected_output(x, windows, align_corners), 1e-5f, 1e-6f,
                       align_corners ? "bins 1,2,3,6 on 8×8, corners aligned" : "bins 1,2,3,6 on 8×8");
  }
}

TEST(PyramidPooling, MoreBinsThanPixelsRepeatWindows) {
  // 6 bins over 4: [0,1) [0,2) [1,2) [2,3) [2,4) [3,4) — single pixels and pairs, each pixel in
  // two bins. 3 bins over 2 (ARCHITECTURES.md's (2, 3) case) on a 2×2 map: [0,1) [0,2) [1,2).
  struct Case {
    int side;
    std::vector<std::vector<Window>> windows;
  };
  for (const Case& c :
       {Case{4, {{{0, 1}, {0, 2}, {1, 2}, {2, 3}, {2, 4}, {3, 4}}}}, Case{2, {{{0, 1}, {0, 2}, {1, 2}}}}}) {
    Rng rng(2);
    const int bins = static_cast<int>(c.windows[0].size());
    PyramidPooling ppm({.in_channels = 3, .branch_channels = 3, .bins = {bins}}, rng);
    make_branches_pass_through(ppm);
    Tensor x = test::random_tensor({1, 3, c.side, c.side}, rng, 0.1f, 1.0f);
    test::expect_close(
        ppm.forward(x), expected_output(x, c.windows, false), 1e-5f, 1e-6f,
        std::to_string(bins) + " bins on " + std::to_string(c.side) + "×" + std::to_string(c.side));
  }
}

TEST(PyramidPooling, InputComesFirstAndCornerConventionMatters) {
  Rng rng(3);
  Tensor x = test::random_tensor({2, 4, 7, 5}, rng);
  Rng init_a(4), init_b(4);
  PyramidPooling loose({.in_channels = 4, .branch_channels = 1}, init_a);
  PyramidPooling aligned({.in_channels = 4, .branch_channels = 1, .align_corners = true}, init_b);
  Tensor a = loose.forward(x), b = aligned.forward(x);
  ASSERT_EQ(a.shape(), (Shape{2, 8, 7, 5}));  // non-square maps work: the bins pool each axis
  test::expect_close(slice(a, 1, 0, 4), x, 0.0f, 0.0f, "the input's channels come first, untouched");
  // Same weights (same seed): the 1×1 branch is a constant map either way; the 2×2, 3×3 and 6×6
  // branches are interpolated at other points.
  test::expect_close(slice(a, 1, 4, 5), slice(b, 1, 4, 5), 1e-6f, 1e-6f, "bin 1 under both conventions");
  double difference = 0;
  for (int64_t i = 0; i < a.numel(); ++i) difference += std::abs(a.data()[i] - b.data()[i]);
  EXPECT_GT(difference, 1e-2) << "align_corners true and false gave the same output";
}

TEST(PyramidPooling, NamesAsMmsegPpm) {
  Rng rng(5);
  PyramidPooling ppm({.in_channels = 8, .branch_channels = 2, .bins = {1, 3}}, rng);
  std::vector<std::string> names;
  for (const auto& [name, t] : ppm.state_dict()) names.push_back(name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"0.1.conv.weight", "0.1.bn.weight", "0.1.bn.bias", "1.1.conv.weight",
                                      "1.1.bn.weight", "1.1.bn.bias", "0.1.bn.running_mean",
                                      "0.1.bn.running_var", "1.1.bn.running_mean", "1.1.bn.running_var"}));
  EXPECT_EQ(ppm.parameter_count(), 2 * (8 * 2 + 2 * 2));
}

TEST(PyramidPooling, GradientsByFiniteDifferences) {
  // Eval mode (batch norm an affine map), so the function of x is fixed; a 5×5 map with bins 2, 3, 6
  // exercises overlapping and repeated windows in the backward.
  Rng rng(6);
  PyramidPooling ppm({.in_channels = 2, .branch_channels = 2, .bins = {2, 3, 6}, .align_corners = true}, rng);
  ppm.eval();
  test::expect_gradients_match([&](const std::vector<Tensor>& in) { return ppm.forward(in[0]); },
                               {test::with_grad(test::random_tensor({1, 2, 5, 5}, rng))});
}

TEST(PyramidPooling, ClearErrors) {
  Rng rng(7);
  PyramidPooling ppm({.in_channels = 4, .branch_channels = 1}, rng);
  test::expect_error_containing(
      [&] {
        ppm.forward(test::random_tensor({1, 3, 8, 8}, rng));
      },
      "PyramidPooling: expected a feature map (N, 4, H, W), got (1, 3, 8, 8)");
  test::expect_error_containing(
      [&] {
        PyramidPooling({.in_channels = 4, .branch_channels = 1, .bins = {1, 0}}, rng);
      },
      "PyramidPooling: every bin must be ≥ 1, got 0");
  test::expect_error_containing([&] { PyramidPooling({.in_channels = 4, .branch_channels = 0}, rng); },
                                "branch_channels must be ≥ 1");
  // The 1×1 bin's batch norm sees one value per channel at batch 1 in training: an error, as in PyTorch.
  test::expect_error_containing(
      [&] {
        ppm.forward(test::random_tensor({1, 4, 8, 8}, rng));
      },
      "training needs more than one value per channel, got input (1, 1, 1, 1)");
}
