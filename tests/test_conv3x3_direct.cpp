// The direct 3×3 same conv (kernels/cpu/conv3x3_direct.h): which geometries it takes, its forward
// and both backwards against the nested-loop references over odd sizes (partial column vectors and
// channel blocks, 1×1 maps), thread-count independence, and conv2d's dispatch to it, gradients
// included.
#include <gtest/gtest.h>
#include <omp.h>

#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/ops/conv2d.h"
#include "kernels/cpu/conv.h"
#include "kernels/cpu/conv3x3_direct.h"
#include "tests/test_util.h"

using namespace pg;
using kernels::ConvGeometry;

namespace {

ConvGeometry same3x3(int batch, int channels, int out_channels, int h, int w) {
  return kernels::with_output_size({.batch = batch,
                                    .in_channels = channels,
                                    .in_h = h,
                                    .in_w = w,
                                    .out_channels = out_channels,
                                    .kernel_h = 3,
                                    .kernel_w = 3,
                                    .pad_top = 1,
                                    .pad_left = 1,
                                    .pad_bottom = 1,
                                    .pad_right = 1});
}

std::string describe(const ConvGeometry& g) {
  return str("N", g.batch, " C", g.in_channels, " K", g.out_channels, " ", g.in_h, "x", g.in_w);
}

bool direct_kernels_built() {
  return kernels::conv3x3_direct_applies(same3x3(1, 4, 4, 8, 8));
}

}  // namespace

TEST(Conv3x3Direct, AppliesOnlyToFewChannel3x3SameConvs) {
  if (!direct_kernels_built()) GTEST_SKIP() << "built without AVX2: conv2d keeps im2col + GEMM";
  EXPECT_TRUE(kernels::conv3x3_direct_applies(same3x3(8, 16, 16, 64, 64)));
  EXPECT_TRUE(kernels::conv3x3_direct_applies(same3x3(1, 64, 64, 1, 1)));
  EXPECT_FALSE(kernels::conv3x3_direct_applies(same3x3(8, 65, 16, 16, 16)));  // too many channels
  EXPECT_FALSE(kernels::conv3x3_direct_applies(same3x3(8, 16, 128, 16, 16)));
  ConvGeometry g = same3x3(2, 4, 4, 9, 9);
  g.stride = 2;
  EXPECT_FALSE(kernels::conv3x3_direct_applies(kernels::with_output_size(g)));
  g = same3x3(2, 4, 4, 9, 9);
  g.dilation = 2, g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 2;
  EXPECT_FALSE(kernels::conv3x3_direct_applies(kernels::with_output_size(g)));
  g = same3x3(2, 4, 4, 9, 9);
  g.groups = 2;
  EXPECT_FALSE(kernels::conv3x3_direct_applies(g));
  g = same3x3(2, 4, 4, 9, 9);
  g.pad_bottom = g.pad_right = 2;  // asymmetric: the output grows to 10×10
  EXPECT_FALSE(kernels::conv3x3_direct_applies(kernels::with_output_size(g)));
  g = same3x3(2, 4, 4, 9, 9);
  g.kernel_w = 1, g.pad_left = g.pad_right = 0;
  EXPECT_FALSE(kernels::conv3x3_direct_applies(g));
}

TEST(Conv3x3Direct, MatchesReferenceOnOddSizes) {
  if (!direct_kernels_built()) GTEST_SKIP() << "built without AVX2: conv2d keeps im2col + GEMM";
  Rng rng(41);
  // Widths below, at and across the 8-column vectors and 24-column tiles; channel counts below,
  // at and across the 4-channel blocks; batch 1 and 3 (the tasks are image × channel block).
  const int sizes[][2] = {{1, 1}, {2, 3}, {5, 7}, {9, 8}, {13, 17}, {3, 24}, {17, 25}, {6, 33}, {4, 50}};
  int index = 0;
  for (const auto& size : sizes)
    for (int channels : {1, 3, 8})
      for (int out_channels : {1, 4, 5, 9}) {
        const ConvGeometry g = same3x3(index % 2 ? 3 : 1, channels, out_channels, size[0], size[1]);
        const bool with_bias = index++ % 3 != 0;
        ASSERT_TRUE(kernels::conv3x3_direct_applies(g)) << describe(g);
        std::vector<float> x = test::random_vector(g.x_count(), rng);
        std::vector<float> weight = test::random_vector(g.weight_count(), rng);
        std::vector<float> bias = test::random_vector(g.out_channels, rng);
        std::vector<float> dy = test::random_vector(g.y_count(), rng);
        const float* b = with_bias ? bias.data() : nullptr;

        std::vector<float> y(g.y_count(), 7.0f), y_ref(g.y_count());  // written, not accumulated
        kernels::conv3x3_direct_forward(g, x.data(), weight.data(), b, y.data());
        kernels::conv2d_forward_reference(g, x.data(), weight.data(), b, y_ref.data());
        test::expect_close(y.data(), y_ref.data(), y.size(), 1e-5f, 1e-5f, "forward " + describe(g));

        std::vector<float> dx = test::random_vector(g.x_count(), rng), dx_ref = dx;  // accumulated
        kernels::conv3x3_direct_backward_data(g, dy.data(), weight.data(), dx.data());
        kernels::conv2d_backward_data_reference(g, dy.data(), weight.data(), dx_ref.data());
        test::expect_close(dx.data(), dx_ref.data(), dx.size(), 1e-5f, 1e-5f, "backward data " + describe(g));

        std::vector<float> dweight = test::random_vector(g.weight_count(), rng), dweight_ref = dweight;
        std::vector<float> dbias = test::random_vector(g.out_channels, rng), dbias_ref = dbias;
        float* db = with_bias ? dbias.data() : nullptr;
        kernels::conv3x3_direct_backward_weight(g, x.data(), dy.data(), dweight.data(), db);
        kernels::conv2d_backward_weight_reference(g, x.data(), dy.data(), dweight_ref.data(),
                                                  with_bias ? dbias_ref.data() : nullptr);
        test::expect_close(dweight.data(), dweight_ref.data(), dweight.size(), 1e-5f, 1e-4f,
                           "backward weight " + describe(g));
        test::expect_close(dbias.data(), dbias_ref.data(), dbias.size(), 1e-5f, 1e-4f, "backward bias " + describe(g));
      }
}

TEST(Conv3x3Direct, ResultDoesNotDependOnThreadCount) {
  if (!direct_kernels_built()) GTEST_SKIP() << "built without AVX2: conv2d keeps im2col + GEMM";
  // Each output value and each weight gradient is summed by one task in a fixed order: bitwise
  // the same for any count.
  Rng rng(42);
  const ConvGeometry g = same3x3(3, 6, 10, 19, 27);
  std::vector<float> x = test::random_vector(g.x_count(), rng), weight = test::random_vector(g.weight_count(), rng);
  const int saved_threads = omp_get_max_threads();
  std::vector<std::vector<float>> outputs, dweights;
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    std::vector<float> y(g.y_count());
    kernels::conv3x3_direct_forward(g, x.data(), weight.data(), nullptr, y.data());
    outputs.push_back(y);
    std::vector<float> dweight(g.weight_count(), 0.0f);
    kernels::conv3x3_direct_backward_weight(g, x.data(), y.data(), dweight.data(), nullptr);
    dweights.push_back(dweight);
  }
  omp_set_num_threads(saved_threads);
  EXPECT_EQ(outputs[1], outputs[0]);
  EXPECT_EQ(outputs[2], outputs[0]);
  EXPECT_EQ(dweights[1], dweights[0]);
  EXPECT_EQ(dweights[2], dweights[0]);
}

TEST(Conv3x3Direct, Conv2dDispatchMatchesReferenceAndGradients) {
  Rng rng(43);
  Tensor x = test::random_tensor({2, 5, 7, 11}, rng), weight = test::random_tensor({6, 5, 3, 3}, rng);
  Tensor bias = test::random_tensor({6}, rng);
  const ConvGeometry g = same3x3(2, 5, 6, 7, 11);
  Tensor expected = Tensor::empty({2, 6, 7, 11});
  kernels::conv2d_forward_reference(g, x.data(), weight.data(), bias.data(), expected.data());
  test::expect_close(conv2d(x, weight, bias, {.pad = 1}), expected, 1e-5f, 1e-5f, "3×3 same through conv2d");

  // The weight gradient through autograd, against the reference.
  Tensor wide_x = test::random_tensor({2, 3, 3, 33}, rng), wide_w = test::random_tensor({5, 3, 3, 3}, rng);
  wide_w.set_requires_grad(true);
  const ConvGeometry wide = same3x3(2, 3, 5, 3, 33);
  Tensor dy = test::random_tensor({2, 5, 3, 33}, rng);
  conv2d(wide_x, wide_w, Tensor(), {.pad = 1}).backward(dy);
  std::vector<float> dweight_ref(wide.weight_count(), 0.0f);
  kernels::conv2d_backward_weight_reference(wide, wide_x.data(), dy.data(), dweight_ref.data(), nullptr);
  test::expect_close(wide_w.grad().data(), dweight_ref.data(), wide.weight_count(), 1e-5f, 1e-4f,
                     "weight gradient through conv2d");

  Tensor small_x = test::random_tensor({2, 3, 4, 5}, rng), small_w = test::random_tensor({4, 3, 3, 3}, rng);
  Tensor small_b = test::random_tensor({4}, rng);
  for (Tensor* t : {&small_x, &small_w, &small_b}) t->set_requires_grad(true);
  test::expect_gradients_match(
      [](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], {.pad = 1}); },
      {small_x, small_w, small_b});
}
