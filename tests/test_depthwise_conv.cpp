// Depthwise convolution (groups = C = K): the direct kernels against their reference and against
// the general conv reference over a grid, the adjoint identity, a hand-computed case, and
// finite-difference gradients through conv2d (which dispatches to these kernels).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/ops/conv2d.h"
#include "kernels/cpu/conv.h"
#include "kernels/cpu/depthwise_conv.h"
#include "tests/test_util.h"

using namespace pg;
using kernels::ConvGeometry;

namespace {

std::string describe(const ConvGeometry& g) {
  return str("N", g.batch, " C", g.in_channels, " ", g.in_h, "x", g.in_w, " k", g.kernel_h, "x", g.kernel_w,
             " s", g.stride, " d", g.dilation, " pad ", g.pad_top, ",", g.pad_left, ",", g.pad_bottom, ",",
             g.pad_right);
}

// Odd sizes, kernels 1/3/5, stride 1/2, dilation 1/2/4, padding valid / same / same + 1 at the end,
// batch 1 and 3 (alternating), 5 channels. 19×37 gives outputs wider than two 16-column blocks
// (full blocks written straight to the output, then a partial one) over an odd number of rows (the
// rows computed in pairs, then one alone).
std::vector<ConvGeometry> depthwise_grid() {
  std::vector<ConvGeometry> grid;
  const int sizes[][2] = {{7, 9}, {13, 11}, {19, 37}};
  int index = 0;
  for (const auto& size : sizes)
    for (int kernel : {1, 3, 5})
      for (int stride : {1, 2})
        for (int dilation : {1, 2, 4})
          for (int padding = 0; padding < 3; ++padding) {
            if (kernel == 1 && dilation > 1) continue;
            const int pad = padding == 0 ? 0 : dilation * (kernel - 1) / 2;
            const int extra = padding == 2 ? 1 : 0;
            ConvGeometry g = kernels::with_output_size({.batch = index++ % 2 ? 3 : 1,
                                                        .in_channels = 5,
                                                        .in_h = size[0],
                                                        .in_w = size[1],
                                                        .out_channels = 5,
                                                        .kernel_h = kernel,
                                                        .kernel_w = kernel,
                                                        .stride = stride,
                                                        .dilation = dilation,
                                                        .groups = 5,
                                                        .pad_top = pad,
                                                        .pad_left = pad,
                                                        .pad_bottom = pad + extra,
                                                        .pad_right = pad + extra});
            if (g.out_h >= 1 && g.out_w >= 1) grid.push_back(g);
          }
  // Padding wider than the dilated kernel reach (outputs that read only zeros and the bias).
  grid.push_back(kernels::with_output_size({.batch = 2,
                                            .in_channels = 3,
                                            .in_h = 5,
                                            .in_w = 6,
                                            .out_channels = 3,
                                            .kernel_h = 3,
                                            .kernel_w = 3,
                                            .groups = 3,
                                            .pad_top = 3,
                                            .pad_left = 4,
                                            .pad_bottom = 3,
                                            .pad_right = 2}));
  return grid;
}

}  // namespace

TEST(DepthwiseConv, MatchesReferenceOverTheGrid) {
  Rng rng(41);
  for (const ConvGeometry& g : depthwise_grid()) {
    ASSERT_TRUE(g.is_depthwise());
    const std::string what = describe(g);
    std::vector<float> x = test::random_vector(g.x_count(), rng), dy = test::random_vector(g.y_count(), rng);
    std::vector<float> weight = test::random_vector(g.weight_count(), rng);
    std::vector<float> bias = test::random_vector(g.out_channels, rng);

    std::vector<float> y(g.y_count()), y_ref(g.y_count());
    kernels::depthwise_conv2d_forward(g, x.data(), weight.data(), bias.data(), y.data());
    kernels::depthwise_conv2d_forward_reference(g, x.data(), weight.data(), bias.data(), y_ref.data());
    test::expect_close(y.data(), y_ref.data(), y.size(), 1e-5f, 1e-5f, "forward " + what);

    std::vector<float> dx = test::random_vector(g.x_count(), rng), dx_ref = dx;
    kernels::depthwise_conv2d_backward_data(g, dy.data(), weight.data(), dx.data());
    kernels::depthwise_conv2d_backward_data_reference(g, dy.data(), weight.data(), dx_ref.data());
    test::expect_close(dx.data(), dx_ref.data(), dx.size(), 1e-5f, 1e-5f, "backward data " + what);

    std::vector<float> dweight = test::random_vector(g.weight_count(), rng), dweight_ref = dweight;
    std::vector<float> dbias = test::random_vector(g.out_channels, rng), dbias_ref = dbias;
    kernels::depthwise_conv2d_backward_weight(g, x.data(), dy.data(), dweight.data(), dbias.data());
    kernels::depthwise_conv2d_backward_weight_reference(g, x.data(), dy.data(), dweight_ref.data(),
                                                        dbias_ref.data());
    test::expect_close(dweight.data(), dweight_ref.data(), dweight.size(), 1e-4f, 1e-4f,
                       "backward weight " + what);
    test::expect_close(dbias.data(), dbias_ref.data(), dbias.size(), 1e-4f, 1e-4f, "backward bias " + what);
  }
}

TEST(DepthwiseConv, ReferenceAgreesWithTheGeneralConvReference) {
  // Two independent references of the same definition: the depthwise loops and the grouped conv loops.
  Rng rng(42);
  std::vector<ConvGeometry> grid = depthwise_grid();
  for (size_t i = 0; i < grid.size(); i += 4) {
    const ConvGeometry& g = grid[i];
    std::vector<float> x = test::random_vector(g.x_count(), rng), dy = test::random_vector(g.y_count(), rng);
    std::vector<float> weight = test::random_vector(g.weight_count(), rng);
    std::vector<float> y(g.y_count()), y_general(g.y_count());
    kernels::depthwise_conv2d_forward_reference(g, x.data(), weight.data(), nullptr, y.data());
    kernels::conv2d_forward_reference(g, x.data(), weight.data(), nullptr, y_general.data());
    test::expect_close(y.data(), y_general.data(), y.size(), 1e-6f, 1e-6f, "forward " + describe(g));

    std::vector<float> dweight(g.weight_count(), 0.0f), dweight_general(g.weight_count(), 0.0f);
    kernels::depthwise_conv2d_backward_weight_reference(g, x.data(), dy.data(), dweight.data(), nullptr);
    kernels::conv2d_backward_weight_reference(g, x.data(), dy.data(), dweight_general.data(), nullptr);
    test::expect_close(dweight.data(), dweight_general.data(), dweight.size(), 1e-5f, 1e-5f,
                       "backward weight " + describe(g));
  }
}

TEST(DepthwiseConv, BackwardDataIsTheAdjointOfForward) {
  Rng rng(43);
  for (const ConvGeometry& g : depthwise_grid()) {
    std::vector<float> x = test::random_vector(g.x_count(), rng), y = test::random_vector(g.y_count(), rng);
    std::vector<float> weight = test::random_vector(g.weight_count(), rng);
    std::vector<float> conv_x(g.y_count()), adjoint_y(g.x_count(), 0.0f);
    kernels::depthwise_conv2d_forward(g, x.data(), weight.data(), nullptr, conv_x.data());
    kernels::depthwise_conv2d_backward_data(g, y.data(), weight.data(), adjoint_y.data());
    double lhs = 0.0, rhs = 0.0;
    for (size_t i = 0; i < y.size(); ++i) lhs += static_cast<double>(conv_x[i]) * y[i];
    for (size_t i = 0; i < x.size(); ++i) rhs += static_cast<double>(x[i]) * adjoint_y[i];
    EXPECT_NEAR(lhs, rhs, 1e-4 * (1.0 + std::abs(lhs))) << describe(g);
  }
}

TEST(DepthwiseConv, HandComputedCase) {
  // Channel 0: x = [[1 2 3], [4 5 6], [7 8 9]] with a Laplacian-like cross, pad 1: centre 4·5 − (2+4+6+8) =
  // 0, corner (0,0): 4·1 − (2 + 4) = −2. Channel 1: 10·x with the identity kernel scaled by 2, bias 1.
  std::vector<float> x{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 30, 40, 50, 60, 70, 80, 90};
  std::vector<float> weight{0, -1, 0, -1, 4, -1, 0, -1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0};
  Tensor y = conv2d(Tensor::from_vector({1, 2, 3, 3}, x), Tensor::from_vector({2, 1, 3, 3}, weight),
                    Tensor::from_vector({2}, {0, 1}), {.pad = 1, .groups = 2});
  const std::vector<float> expected{4 * 1 - 2 - 4,
                                    4 * 2 - 1 - 3 - 5,
                                    4 * 3 - 2 - 6,
                                    4 * 4 - 1 - 5 - 7,
                                    0,
                                    4 * 6 - 3 - 5 - 9,
                                    4 * 7 - 4 - 8,
                                    4 * 8 - 7 - 9 - 5,
                                    4 * 9 - 6 - 8,
                                    21,
                                    41,
                                    61,
                                    81,
                                    101,
                                    121,
                                    141,
                                    161,
                                    181};
  EXPECT_EQ(y.to_vector(), expected);
}

TEST(DepthwiseConv, GradientsMatchFiniteDifferences) {
  Rng rng(44);
  const Conv2dParams cases[] = {{.pad = 1, .groups = 3},
                                {.stride = 2, .pad = 2, .groups = 3, .pad_end_extra = 1},
                                {.pad = 4, .dilation = 4, .groups = 3}};
  for (const Conv2dParams& params : cases) {
    Tensor x = test::random_tensor({2, 3, 9, 7}, rng).set_requires_grad(true);
    Tensor weight = test::random_tensor({3, 1, 3, 3}, rng).set_requires_grad(true);
    Tensor bias = test::random_tensor({3}, rng).set_requires_grad(true);
    SCOPED_TRACE(str("stride ", params.stride, " pad ", params.pad, " dilation ", params.dilation));
    test::expect_gradients_match(
        [params](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], params); },
        {x, weight, bias});
  }
}
