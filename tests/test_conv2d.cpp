// conv2d: the output-size arithmetic, im2col/col2im, the im2col + GEMM kernels against the
// nested-loop reference over a grid of geometries (all three passes), hand-computed outputs,
// the adjoint identity, finite-difference gradients through the op, and the error messages.
#include <gtest/gtest.h>
#include <omp.h>

#include <array>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/ops/conv2d.h"
#include "kernels/cpu/conv.h"
#include "kernels/cpu/im2col.h"
#include "tests/test_util.h"

using namespace pg;
using kernels::ConvGeometry;

namespace {

std::string describe(const ConvGeometry& g) {
  return str("N", g.batch, " C", g.in_channels, " ", g.in_h, "x", g.in_w, " K", g.out_channels, " k",
             g.kernel_h, "x", g.kernel_w, " s", g.stride, " d", g.dilation, " groups", g.groups, " pad ",
             g.pad_top, ",", g.pad_left, ",", g.pad_bottom, ",", g.pad_right, " → ", g.out_h, "x", g.out_w);
}

// The grid of the fast-vs-reference tests: odd sizes, stride 1/2, dilation 1/2/4, padding valid /
// "same" / asymmetric, groups 1/2/C (C = 4, K = 8 so groups = C is grouped, not depthwise),
// kernels 1×1, 3×3, 5×5, batch 1 and 3 (alternating, so both thread paths run). Groups and batch
// cycle along the grid rather than multiplying it, to keep the test fast.
std::vector<ConvGeometry> conv_grid() {
  std::vector<ConvGeometry> grid;
  const int sizes[][2] = {{7, 9}, {13, 11}};
  int index = 0;
  for (const auto& size : sizes)
    for (int kernel : {1, 3, 5})
      for (int stride : {1, 2})
        for (int dilation : {1, 2, 4})
          for (int padding = 0; padding < 3; ++padding) {  // valid, same, same + extra at the end
            if (kernel == 1 && dilation > 1) continue;     // dilation does nothing to a 1×1
            // Groups cycle so that every padding mode, and every batch size, meets each of 1, 2, C.
            const int groups = std::array{1, 2, 4}[(index + index / 3) % 3];
            const int same = dilation * (kernel - 1) / 2;
            const int pad = padding == 0 ? 0 : same;
            const int extra = padding == 2 ? 1 : 0;
            ConvGeometry g = kernels::with_output_size({.batch = index % 2 ? 3 : 1,
                                                        .in_channels = 4,
                                                        .in_h = size[0],
                                                        .in_w = size[1],
                                                        .out_channels = 8,
                                                        .kernel_h = kernel,
                                                        .kernel_w = kernel,
                                                        .stride = stride,
                                                        .dilation = dilation,
                                                        .groups = groups,
                                                        .pad_top = pad,
                                                        .pad_left = pad,
                                                        .pad_bottom = pad + extra,
                                                        .pad_right = pad + extra});
            ++index;
            if (g.out_h >= 1 && g.out_w >= 1) grid.push_back(g);
          }
  // A 1×1 stride-2 conv (ResNet's projection shortcut) and a non-square kernel.
  grid.push_back(kernels::with_output_size(
      {.batch = 3, .in_channels = 6, .in_h = 9, .in_w = 7, .out_channels = 5, .stride = 2}));
  grid.push_back(kernels::with_output_size({.batch = 1,
                                            .in_channels = 3,
                                            .in_h = 8,
                                            .in_w = 9,
                                            .out_channels = 2,
                                            .kernel_h = 3,
                                            .kernel_w = 1,
                                            .pad_top = 1,
                                            .pad_left = 0,
                                            .pad_bottom = 1,
                                            .pad_right = 0}));
  return grid;
}

// Runs the three fast passes and the three reference passes on the same random buffers.
void expect_conv_matches_reference(const ConvGeometry& g, int64_t max_column_floats, Rng& rng) {
  const std::string what = describe(g);
  std::vector<float> x = test::random_vector(g.x_count(), rng);
  std::vector<float> weight = test::random_vector(g.weight_count(), rng);
  std::vector<float> bias = test::random_vector(g.out_channels, rng);
  std::vector<float> dy = test::random_vector(g.y_count(), rng);

  std::vector<float> y(g.y_count()), y_ref(g.y_count());
  kernels::conv2d_forward(g, x.data(), weight.data(), bias.data(), y.data());
  kernels::conv2d_forward_reference(g, x.data(), weight.data(), bias.data(), y_ref.data());
  test::expect_close(y.data(), y_ref.data(), y.size(), 1e-4f, 1e-4f, "forward " + what);

  // Both backwards accumulate: start from the same non-zero values.
  std::vector<float> dx = test::random_vector(g.x_count(), rng), dx_ref = dx;
  kernels::conv2d_backward_data(g, dy.data(), weight.data(), dx.data(), max_column_floats);
  kernels::conv2d_backward_data_reference(g, dy.data(), weight.data(), dx_ref.data());
  test::expect_close(dx.data(), dx_ref.data(), dx.size(), 1e-4f, 1e-4f, "backward data " + what);

  std::vector<float> dweight = test::random_vector(g.weight_count(), rng), dweight_ref = dweight;
  std::vector<float> dbias = test::random_vector(g.out_channels, rng), dbias_ref = dbias;
  kernels::conv2d_backward_weight(g, x.data(), dy.data(), dweight.data(), dbias.data());
  kernels::conv2d_backward_weight_reference(g, x.data(), dy.data(), dweight_ref.data(), dbias_ref.data());
  test::expect_close(dweight.data(), dweight_ref.data(), dweight.size(), 1e-4f, 2e-4f,
                     "backward weight " + what);
  test::expect_close(dbias.data(), dbias_ref.data(), dbias.size(), 1e-4f, 2e-4f, "backward bias " + what);
}

}  // namespace

// ---- output-size arithmetic ----

TEST(ConvGeometry, OutputSizeByHand) {
  EXPECT_EQ(kernels::conv_out_size(7, 3, 1, 0, 1), 5);      // valid 3×3
  EXPECT_EQ(kernels::conv_out_size(7, 3, 2, 1, 1), 4);      // (7 + 2 − 3) / 2 + 1
  EXPECT_EQ(kernels::conv_out_size(224, 7, 2, 3, 1), 112);  // ResNet stem
  EXPECT_EQ(kernels::conv_out_size(9, 3, 1, 0, 4), 1);      // dilated span 9 fits exactly once
  EXPECT_EQ(kernels::conv_out_size(8, 3, 1, 0, 4), 0);      // span 9 does not fit in 8
  EXPECT_EQ(kernels::conv_out_size(8, 1, 2, 0, 1), 4);      // 1×1 stride 2
  // TF "SAME" at stride 2 on an even size: 0 before, 1 after → ceil(8 / 2).
  EXPECT_EQ(kernels::conv_out_size(8, 3, 2, 0, 1, 1), 4);
  EXPECT_EQ(kernels::conv_out_size(8, 3, 2, 0, 0, 1), 3);
  // Floor division also when the numerator is negative: no output at all.
  EXPECT_LE(kernels::conv_out_size(2, 5, 2, 0, 1), 0);
}

TEST(ConvGeometry, SamePaddingKeepsTheSize) {
  for (int in : {1, 5, 8, 13})
    for (int kernel : {1, 3, 5, 7})
      for (int dilation : {1, 2, 4, 12})
        EXPECT_EQ(kernels::conv_out_size(in, kernel, 1, dilation * (kernel - 1) / 2, dilation), in)
            << "in " << in << " kernel " << kernel << " dilation " << dilation;
}

TEST(ConvGeometry, TransposedOutputSize) {
  EXPECT_EQ(kernels::conv_transpose_out_size(4, 4, 2, 1, 1, 0), 8);    // ×2 upsampling deconv
  EXPECT_EQ(kernels::conv_transpose_out_size(4, 3, 2, 1, 1, 1), 8);    // (4−1)·2 − 2 + 2 + 1 + 1
  EXPECT_EQ(kernels::conv_transpose_out_size(5, 3, 1, 0, 2, 0), 9);    // (5−1) + 2·2 + 1
  EXPECT_EQ(kernels::conv_transpose_out_size(3, 16, 8, 4, 1, 0), 24);  // FCN-8s ×8 head
  // The transposed size maps back to the input size through the conv formula (output_pad < stride).
  for (int in : {1, 4, 7})
    for (int kernel : {1, 2, 3, 4})
      for (int stride : {1, 2, 3})
        for (int dilation : {1, 2})
          for (int output_pad = 0; output_pad < stride; ++output_pad) {
            const int pad = (dilation * (kernel - 1)) / 2;
            const int out = kernels::conv_transpose_out_size(in, kernel, stride, pad, dilation, output_pad);
            if (out < 1) continue;
            EXPECT_EQ(kernels::conv_out_size(out, kernel, stride, pad, dilation), in)
                << "in " << in << " kernel " << kernel << " stride " << stride << " dilation " << dilation;
          }
}

TEST(ConvGeometry, WithOutputSizeUsesBothPads) {
  ConvGeometry g = kernels::with_output_size({.in_h = 7,
                                              .in_w = 9,
                                              .kernel_h = 3,
                                              .kernel_w = 5,
                                              .stride = 2,
                                              .pad_top = 1,
                                              .pad_left = 2,
                                              .pad_bottom = 2,
                                              .pad_right = 0});
  EXPECT_EQ(g.out_h, (7 + 1 + 2 - 3) / 2 + 1);
  EXPECT_EQ(g.out_w, (9 + 2 + 0 - 5) / 2 + 1);
}

TEST(ConvGeometry, ValidOutputRangeMatchesTheDefinition) {
  for (int offset = -7; offset <= 7; ++offset)
    for (int stride : {1, 2, 3})
      for (int in_size : {1, 4, 9})
        for (int out_size : {1, 3, 8}) {
          kernels::IndexRange run = kernels::valid_output_range(offset, stride, in_size, out_size);
          for (int j = 0; j < out_size; ++j) {
            const int at = j * stride + offset;
            EXPECT_EQ(j >= run.begin && j < run.end, at >= 0 && at < in_size)
                << "offset " << offset << " stride " << stride << " in " << in_size << " j " << j;
          }
          EXPECT_LE(run.begin, run.end);
        }
}

// ---- im2col / col2im ----

TEST(Im2col, Col2imMatchesReferenceOnTiles) {
  Rng rng(11);
  for (const ConvGeometry& g : conv_grid()) {
    const int cg = g.in_channels_per_group();
    const size_t image_count = static_cast<size_t>(cg) * g.in_plane();
    // The whole image, and a middle band of output rows (as the tiled conv asks for).
    const int bands[][2] = {{0, g.out_h}, {g.out_h / 3, g.out_h / 3 + (g.out_h + 1) / 2}};
    for (const auto& band : bands) {
      const size_t count = static_cast<size_t>(g.column_rows()) * (band[1] - band[0]) * g.out_w;
      std::vector<float> column_grad = test::random_vector(count, rng);
      std::vector<float> image_grad = test::random_vector(image_count, rng), image_grad_ref = image_grad;
      kernels::col2im(g, column_grad.data(), image_grad.data(), band[0], band[1]);
      kernels::col2im_reference(g, column_grad.data(), image_grad_ref.data(), band[0], band[1]);
      test::expect_close(image_grad.data(), image_grad_ref.data(), image_count, 1e-6f, 1e-6f,
                         "col2im " + describe(g));
    }
  }
}

TEST(Im2col, Col2imIsTheAdjoint) {
  // <im2col(x), c> = <x, col2im(c)> for every geometry: col2im is exactly im2col's transpose.
  Rng rng(12);
  for (const ConvGeometry& g : conv_grid()) {
    std::vector<float> image =
        test::random_vector(static_cast<size_t>(g.in_channels_per_group()) * g.in_plane(), rng);
    const size_t count = static_cast<size_t>(g.column_rows()) * g.out_plane();
    std::vector<float> columns(count), column_grad = test::random_vector(count, rng);
    std::vector<float> image_grad(image.size(), 0.0f);
    kernels::im2col_reference(g, image.data(), columns.data(), 0, g.out_h);
    kernels::col2im(g, column_grad.data(), image_grad.data(), 0, g.out_h);
    EXPECT_NEAR(test::dot(columns, column_grad), test::dot(image, image_grad),
                1e-4 * (1.0 + std::abs(test::dot(image, image_grad))))
        << describe(g);
  }
}

TEST(Im2col, PaddedImageHoldsEveryColumnEntry) {
  // columns[(c, u, v), (i, j)] = padded[c, i·s + u·d, j·s + v·d]: the read the packed forward does.
  Rng rng(13);
  for (const ConvGeometry& g : conv_grid()) {
    const int cg = g.in_channels_per_group();
    std::vector<float> image = test::random_vector(static_cast<size_t>(cg) * g.in_plane(), rng);
    std::vector<float> columns(static_cast<size_t>(g.column_rows()) * g.out_plane());
    kernels::im2col_reference(g, image.data(), columns.data(), 0, g.out_h);
    const kernels::PaddedSize size = kernels::padded_size(g);
    std::vector<float> padded(static_cast<size_t>(cg) * size.plane(), -7.0f);
    kernels::pad_image(g, image.data(), padded.data());
    int mismatches = 0;
    for (int c = 0; c < cg; ++c)
      for (int u = 0; u < g.kernel_h; ++u)
        for (int v = 0; v < g.kernel_w; ++v)
          for (int i = 0; i < g.out_h; ++i)
            for (int j = 0; j < g.out_w; ++j) {
              const int row = (c * g.kernel_h + u) * g.kernel_w + v;
              const float expected = columns[static_cast<size_t>(row) * g.out_plane() + i * g.out_w + j];
              const int p = i * g.stride + u * g.dilation, q = j * g.stride + v * g.dilation;
              mismatches += padded[(static_cast<size_t>(c) * size.h + p) * size.w + q] != expected;
            }
    EXPECT_EQ(mismatches, 0) << describe(g);
  }
}

// ---- the im2col + GEMM kernels ----

TEST(Conv2dKernels, MatchReferenceOverTheGrid) {
  Rng rng(21);
  for (const ConvGeometry& g : conv_grid()) expect_conv_matches_reference(g, kernels::kMaxColumnFloats, rng);
}

TEST(Conv2dKernels, MatchReferenceWithTiledColumns) {
  // A cap of 200 floats forces the col2im backward-data pass into tiles of one or a few output rows
  // (and one row when even that is over); the other passes hold no column buffer.
  Rng rng(22);
  std::vector<ConvGeometry> grid = conv_grid();
  for (size_t i = 0; i < grid.size(); i += 3) expect_conv_matches_reference(grid[i], 200, rng);
}

TEST(Conv2dKernels, MatchReferenceWhenTheGemmTakesSeveralBlocks) {
  // The packed forward and weight gradient gather the column matrix block by block for the GEMM:
  // Cg·kh·kw = 432 rows (two K blocks of the forward) and 23·29 = 667 output pixels at stride 1
  // (two column blocks of the forward, two K blocks of the weight gradient, panels and 8×8
  // transposes that straddle output rows, a last panel cut short), also at stride 2, dilation 2
  // and 4, and groups.
  Rng rng(25);
  for (int stride : {1, 2})
    for (int dilation : {1, 2, 4})
      for (int groups : {1, 2}) {
        const int pad = dilation + (stride == 2 ? 1 : 0);
        ConvGeometry g = kernels::with_output_size({.batch = 1,
                                                    .in_channels = 48 * groups,
                                                    .in_h = 23,
                                                    .in_w = 29,
                                                    .out_channels = 3 * groups,
                                                    .kernel_h = 3,
                                                    .kernel_w = 3,
                                                    .stride = stride,
                                                    .dilation = dilation,
                                                    .groups = groups,
                                                    .pad_top = pad,
                                                    .pad_left = pad - 1,
                                                    .pad_bottom = pad,
                                                    .pad_right = pad + 1});
        expect_conv_matches_reference(g, kernels::kMaxColumnFloats, rng);
      }
}

TEST(Conv2dKernels, ResultDoesNotDependOnThreadCount) {
  Rng rng(23);
  ConvGeometry g = kernels::with_output_size({.batch = 4,
                                              .in_channels = 4,
                                              .in_h = 9,
                                              .in_w = 7,
                                              .out_channels = 5,
                                              .kernel_h = 3,
                                              .kernel_w = 3,
                                              .pad_top = 1,
                                              .pad_left = 1,
                                              .pad_bottom = 1,
                                              .pad_right = 1});
  std::vector<float> x = test::random_vector(g.x_count(), rng), dy = test::random_vector(g.y_count(), rng);
  std::vector<float> weight = test::random_vector(g.weight_count(), rng);
  const int saved_threads = omp_get_max_threads();
  std::vector<std::vector<float>> dweights;
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    std::vector<float> dweight(g.weight_count(), 0.0f);
    kernels::conv2d_backward_weight(g, x.data(), dy.data(), dweight.data(), nullptr);
    dweights.push_back(dweight);
  }
  omp_set_num_threads(saved_threads);
  test::expect_close(dweights[1].data(), dweights[0].data(), g.weight_count(), 1e-5f, 1e-5f,
                     "2 threads vs 1");
  test::expect_close(dweights[2].data(), dweights[0].data(), g.weight_count(), 1e-5f, 1e-5f,
                     "3 threads vs 1");
}

TEST(Conv2dKernels, BackwardDataIsTheAdjointOfForward) {
  // <conv(x), y> = <x, conv_backward_data(y)> (no bias): the backward is the transpose of the forward.
  Rng rng(24);
  for (const ConvGeometry& g : conv_grid()) {
    std::vector<float> x = test::random_vector(g.x_count(), rng), y = test::random_vector(g.y_count(), rng);
    std::vector<float> weight = test::random_vector(g.weight_count(), rng);
    std::vector<float> conv_x(g.y_count()), adjoint_y(g.x_count(), 0.0f);
    kernels::conv2d_forward(g, x.data(), weight.data(), nullptr, conv_x.data());
    kernels::conv2d_backward_data(g, y.data(), weight.data(), adjoint_y.data());
    const double lhs = test::dot(conv_x, y), rhs = test::dot(x, adjoint_y);
    EXPECT_NEAR(lhs, rhs, 1e-4 * (1.0 + std::abs(lhs))) << describe(g);
  }
}

// ---- the op ----

TEST(Conv2d, OutputShapes) {
  Rng rng(31);
  Tensor x = test::random_tensor({2, 6, 13, 11}, rng);
  EXPECT_EQ(conv2d(x, test::random_tensor({8, 6, 3, 3}, rng), Tensor(), {}).shape(), (Shape{2, 8, 11, 9}));
  EXPECT_EQ(conv2d(x, test::random_tensor({8, 6, 3, 3}, rng), Tensor(), {.pad = 1}).shape(),
            (Shape{2, 8, 13, 11}));
  EXPECT_EQ(conv2d(x, test::random_tensor({8, 3, 3, 3}, rng), Tensor(), {.stride = 2, .pad = 1, .groups = 2})
                .shape(),
            (Shape{2, 8, 7, 6}));
  EXPECT_EQ(conv2d(x, test::random_tensor({4, 6, 3, 3}, rng), Tensor(), {.pad = 4, .dilation = 4}).shape(),
            (Shape{2, 4, 13, 11}));
  EXPECT_EQ(
      conv2d(x, test::random_tensor({4, 6, 3, 3}, rng), Tensor(), {.stride = 2, .pad_end_extra = 1}).shape(),
      (Shape{2, 4, 6, 5}));
  EXPECT_EQ(conv2d(x, test::random_tensor({6, 1, 3, 3}, rng), Tensor(), {.pad = 1, .groups = 6}).shape(),
            (Shape{2, 6, 13, 11}));
  EXPECT_EQ(conv2d(x, test::random_tensor({5, 6, 1, 1}, rng), Tensor(), {.stride = 2}).shape(),
            (Shape{2, 5, 7, 6}));
}

TEST(Conv2d, HandComputedOutputs) {
  // x = [[1 2 3], [4 5 6], [7 8 9]].
  Tensor x = Tensor::from_vector({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  // Kernel [[1 2], [3 4]], bias 0.5, valid: y[0,0] = 1·1 + 2·2 + 3·4 + 4·5 + 0.5, ...
  Tensor y = conv2d(x, Tensor::from_vector({1, 1, 2, 2}, {1, 2, 3, 4}), Tensor::from_vector({1}, {0.5f}), {});
  EXPECT_EQ(y.to_vector(), (std::vector<float>{37.5f, 47.5f, 67.5f, 77.5f}));
  // 3×3 box filter, pad 1, stride 2: sums of the 2×2 corners of x.
  y = conv2d(x, Tensor::full({1, 1, 3, 3}, 1.0f), Tensor(), {.stride = 2, .pad = 1});
  EXPECT_EQ(y.to_vector(), (std::vector<float>{12, 16, 24, 28}));
  // Dilation 2 on a 5×5 ramp 0..24: one output, the sum of the nine taps at even rows and columns.
  std::vector<float> ramp(25);
  for (int i = 0; i < 25; ++i) ramp[i] = static_cast<float>(i);
  y = conv2d(Tensor::from_vector({1, 1, 5, 5}, ramp), Tensor::full({1, 1, 3, 3}, 1.0f), Tensor(),
             {.dilation = 2});
  EXPECT_EQ(y.to_vector(), (std::vector<float>{0 + 2 + 4 + 10 + 12 + 14 + 20 + 22 + 24}));
  // Two groups: each output channel sees only its own input channel (x and 10·x).
  std::vector<float> two_channels(18);
  for (int i = 0; i < 9; ++i) two_channels[i] = i + 1.0f, two_channels[9 + i] = 10.0f * (i + 1);
  y = conv2d(Tensor::from_vector({1, 2, 3, 3}, two_channels), Tensor::from_vector({2, 1, 1, 1}, {1, -1}),
             Tensor(), {.stride = 2, .groups = 2});
  EXPECT_EQ(y.to_vector(), (std::vector<float>{1, 3, 7, 9, -10, -30, -70, -90}));
}

TEST(Conv2d, DepthwiseDispatchMatchesReference) {
  Rng rng(32);
  Tensor x = test::random_tensor({2, 5, 9, 7}, rng), weight = test::random_tensor({5, 1, 3, 3}, rng);
  Tensor bias = test::random_tensor({5}, rng);
  Tensor y = conv2d(x, weight, bias, {.stride = 2, .pad = 2, .dilation = 2, .groups = 5});
  ConvGeometry g = kernels::with_output_size({.batch = 2,
                                              .in_channels = 5,
                                              .in_h = 9,
                                              .in_w = 7,
                                              .out_channels = 5,
                                              .kernel_h = 3,
                                              .kernel_w = 3,
                                              .stride = 2,
                                              .dilation = 2,
                                              .groups = 5,
                                              .pad_top = 2,
                                              .pad_left = 2,
                                              .pad_bottom = 2,
                                              .pad_right = 2});
  Tensor expected = Tensor::empty(y.shape());
  kernels::conv2d_forward_reference(g, x.data(), weight.data(), bias.data(), expected.data());
  test::expect_close(y, expected, 1e-5f, 1e-5f, "depthwise through conv2d");
}

TEST(Conv2d, AdjointThroughAutograd) {
  // With y = conv2d(x) and a seed r, x.grad = convᵀ r, so <conv(x), r> = <x, x.grad>.
  Rng rng(33);
  Tensor x = test::random_tensor({2, 4, 7, 9}, rng).set_requires_grad(true);
  Tensor weight = test::random_tensor({6, 2, 3, 3}, rng);
  Tensor y =
      conv2d(x, weight, Tensor(), {.stride = 2, .pad = 2, .dilation = 2, .groups = 2, .pad_end_extra = 1});
  Tensor seed = test::random_tensor(y.shape(), rng);
  y.backward(seed);
  double lhs = 0.0, rhs = 0.0;
  for (int64_t i = 0; i < y.numel(); ++i) lhs += static_cast<double>(y.data()[i]) * seed.data()[i];
  for (int64_t i = 0; i < x.numel(); ++i) rhs += static_cast<double>(x.data()[i]) * x.grad().data()[i];
  EXPECT_NEAR(lhs, rhs, 1e-4 * (1.0 + std::abs(lhs)));
}

TEST(Conv2d, GradientsMatchFiniteDifferences) {
  Rng rng(34);
  struct Case {
    Shape x, weight;
    Conv2dParams params;
  };
  const Case cases[] = {
      {{2, 3, 7, 9}, {4, 3, 3, 3}, {.pad = 1}},
      {{1, 4, 9, 7}, {4, 2, 3, 3}, {.stride = 2, .pad = 1, .groups = 2}},
      {{2, 2, 9, 9}, {3, 2, 3, 3}, {.pad = 4, .dilation = 4}},
      {{1, 3, 8, 8}, {2, 3, 3, 3}, {.stride = 2, .pad_end_extra = 1}},
      {{3, 4, 5, 7}, {4, 1, 3, 3}, {.stride = 2, .pad = 2, .dilation = 2, .groups = 4}},  // depthwise
      {{2, 4, 5, 5}, {3, 4, 1, 1}, {}},                                                   // pointwise
      {{1, 3, 7, 5}, {2, 3, 1, 1}, {.stride = 2}},
  };
  for (const Case& c : cases) {
    Tensor x = test::random_tensor(c.x, rng).set_requires_grad(true);
    Tensor weight = test::random_tensor(c.weight, rng).set_requires_grad(true);
    Tensor bias = test::random_tensor({c.weight[0]}, rng).set_requires_grad(true);
    SCOPED_TRACE(str("x ", shape_str(c.x), " weight ", shape_str(c.weight), " stride ", c.params.stride,
                     " pad ", c.params.pad, " dilation ", c.params.dilation, " groups ", c.params.groups));
    const Conv2dParams params = c.params;
    test::expect_gradients_match(
        [params](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], params); },
        {x, weight, bias});
  }
}

TEST(Conv2d, BackwardSkipsInputsThatNeedNoGrad) {
  Rng rng(35);
  Tensor x = test::random_tensor({1, 2, 5, 5}, rng);
  Tensor weight = test::random_tensor({3, 2, 3, 3}, rng);
  Tensor bias = test::random_tensor({3}, rng).set_requires_grad(true);
  Tensor y = conv2d(x, weight, bias, {});
  y.backward(Tensor::full(y.shape(), 1.0f));
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(weight.grad().defined());
  for (float g : bias.grad().to_vector()) EXPECT_FLOAT_EQ(g, 9.0f);  // 3×3 outputs per channel, dy = 1
  Tensor no_bias = conv2d(x, weight.set_requires_grad(true), Tensor(), {});
  no_bias.backward(Tensor::full(no_bias.shape(), 1.0f));
  EXPECT_TRUE(weight.grad().defined());
}

TEST(Conv2d, BadInputsThrow) {
  Rng rng(36);
  Tensor x = test::random_tensor({1, 4, 7, 7}, rng);
  Tensor w = test::random_tensor({6, 4, 3, 3}, rng);
  EXPECT_THROW(conv2d(test::random_tensor({4, 7, 7}, rng), w, Tensor(), {}), Error);     // 3-D input
  EXPECT_THROW(conv2d(x, test::random_tensor({6, 4, 3}, rng), Tensor(), {}), Error);     // 3-D weight
  EXPECT_THROW(conv2d(x, test::random_tensor({6, 3, 3, 3}, rng), Tensor(), {}), Error);  // C mismatch
  EXPECT_THROW(conv2d(x, w, Tensor(), {.groups = 3}), Error);                            // C % groups
  EXPECT_THROW(conv2d(x, test::random_tensor({5, 2, 3, 3}, rng), Tensor(), {.groups = 2}),
               Error);                                                   // K % groups
  EXPECT_THROW(conv2d(x, w, test::random_tensor({5}, rng), {}), Error);  // bias size
  EXPECT_THROW(conv2d(x, w, Tensor(), {.stride = 0}), Error);
  EXPECT_THROW(conv2d(x, w, Tensor(), {.dilation = 0}), Error);
  EXPECT_THROW(conv2d(x, w, Tensor(), {.pad = -1}), Error);
  EXPECT_THROW(conv2d(x, w, Tensor(), {.groups = 0}), Error);
  EXPECT_THROW(conv2d(x, w, Tensor(), {.pad_end_extra = -1}), Error);
  EXPECT_THROW(conv2d(x, w, Tensor(), {.dilation = 4}), Error);  // span 9 > 7: no output
  EXPECT_THROW(conv2d(x, test::random_tensor({6, 4, 0, 3}, rng), Tensor(), {}), Error);
  // Empty inputs: zero channels once divided by zero in the column-tile size; a zero-sized
  // image or batch is rejected the same way, with the shape in the message.
  const Tensor no_channels = Tensor::empty({1, 0, 7, 7});
  test::expect_error_containing(
      [&] {
        conv2d(no_channels, Tensor::empty({6, 0, 3, 3}), Tensor(), {});
      },
      "(1, 0, 7, 7)");
  EXPECT_THROW(conv2d(Tensor::empty({0, 4, 7, 7}), w, Tensor(), {}), Error);
  EXPECT_THROW(conv2d(Tensor::empty({1, 4, 0, 7}), w, Tensor(), {.pad = 1}), Error);
  EXPECT_THROW(conv2d(x, Tensor::empty({0, 4, 3, 3}), Tensor(), {}), Error);

  try {
    conv2d(x, test::random_tensor({8, 4, 3, 3}, rng), Tensor(), {.groups = 2});
    FAIL() << "expected pg::Error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("conv2d"), std::string::npos) << message;
    EXPECT_NE(message.find("(8, 2, 3, 3)"), std::string::npos) << message;  // expected
    EXPECT_NE(message.find("(8, 4, 3, 3)"), std::string::npos) << message;  // got
  }
}
