// conv_transpose2d: output sizes (with output_pad), the op against a direct scatter loop written
// here over a grid (stride, dilation, pad, output_pad, groups, depthwise), hand-computed cases,
// the bilinear-initialised deconv reproducing bilinear upsampling, adjointness with conv2d,
// finite-difference gradients and the error messages.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/ops/conv2d.h"
#include "core/ops/conv_transpose2d.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

// The definition, as a scatter: every input pixel x[n, c, i, j] adds w[c, k', u, v] · x into
// y[n, group(c)·Kg + k', i·s − p + u·d, j·s − p + v·d], then the bias. Written independently of
// the conv kernels.
Tensor conv_transpose_by_scatter(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                 const ConvTranspose2dParams& p) {
  const int64_t n_count = x.size(0), channels = x.size(1), in_h = x.size(2), in_w = x.size(3);
  const int64_t kg = weight.size(1), kh = weight.size(2), kw = weight.size(3);
  const int64_t out_channels = kg * p.groups, cg = channels / p.groups;
  const int64_t out_h = (in_h - 1) * p.stride - 2 * p.pad + p.dilation * (kh - 1) + p.output_pad + 1;
  const int64_t out_w = (in_w - 1) * p.stride - 2 * p.pad + p.dilation * (kw - 1) + p.output_pad + 1;
  std::vector<double> y(n_count * out_channels * out_h * out_w, 0.0);
  for (int64_t n = 0; n < n_count; ++n)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < in_h; ++i)
        for (int64_t j = 0; j < in_w; ++j) {
          const double value = x.data()[((n * channels + c) * in_h + i) * in_w + j];
          for (int64_t k = 0; k < kg; ++k)
            for (int64_t u = 0; u < kh; ++u)
              for (int64_t v = 0; v < kw; ++v) {
                const int64_t h = i * p.stride - p.pad + u * p.dilation,
                              w = j * p.stride - p.pad + v * p.dilation;
                if (h < 0 || h >= out_h || w < 0 || w >= out_w) continue;
                const int64_t out_channel = (c / cg) * kg + k;
                y[((n * out_channels + out_channel) * out_h + h) * out_w + w] +=
                    value * weight.data()[((c * kg + k) * kh + u) * kw + v];
              }
        }
  Tensor result = Tensor::empty({n_count, out_channels, out_h, out_w});
  for (int64_t at = 0; at < result.numel(); ++at) {
    const int64_t k = (at / (out_h * out_w)) % out_channels;
    result.data()[at] = static_cast<float>(y[at] + (bias.defined() ? bias.data()[k] : 0.0));
  }
  return result;
}

std::string describe(const Shape& x, const Shape& weight, const ConvTranspose2dParams& p) {
  return str("x ", shape_str(x), " weight ", shape_str(weight), " stride ", p.stride, " pad ", p.pad,
             " output_pad ", p.output_pad, " dilation ", p.dilation, " groups ", p.groups);
}

}  // namespace

TEST(ConvTranspose2d, OutputShapes) {
  Rng rng(51);
  Tensor x = test::random_tensor({2, 4, 5, 7}, rng);
  Tensor w = test::random_tensor({4, 3, 4, 4}, rng);
  EXPECT_EQ(conv_transpose2d(x, w, Tensor(), {.stride = 2, .pad = 1}).shape(), (Shape{2, 3, 10, 14}));
  EXPECT_EQ(conv_transpose2d(x, test::random_tensor({4, 3, 3, 3}, rng), Tensor(),
                             {.stride = 2, .pad = 1, .output_pad = 1})
                .shape(),
            (Shape{2, 3, 10, 14}));
  EXPECT_EQ(
      conv_transpose2d(x, test::random_tensor({4, 3, 3, 3}, rng), Tensor(), {.dilation = 2, .groups = 2})
          .shape(),
      (Shape{2, 6, 9, 11}));
  EXPECT_EQ(conv_transpose2d(x, test::random_tensor({4, 1, 16, 16}, rng), Tensor(),
                             {.stride = 8, .pad = 4, .groups = 4})
                .shape(),
            (Shape{2, 4, 40, 56}));
  // output_pad ≥ stride is allowed when it is below the dilation.
  EXPECT_EQ(
      conv_transpose2d(x, test::random_tensor({4, 2, 3, 3}, rng), Tensor(), {.output_pad = 1, .dilation = 2})
          .shape(),
      (Shape{2, 2, 10, 12}));
}

TEST(ConvTranspose2d, MatchesScatterDefinitionOverGrid) {
  Rng rng(52);
  int index = 0;
  for (int stride : {1, 2, 3})
    for (int dilation : {1, 2})
      for (int kernel : {1, 2, 3, 4})
        for (int groups : {1, 2, 4})
          for (int output_pad = 0; output_pad < std::max(stride, dilation); ++output_pad) {
            const int pad = (index++ % 3 == 0) ? 0 : (kernel - 1) / 2;
            // groups = 4 = C with one output channel per group is the depthwise path.
            const int64_t kg = groups == 4 ? 1 : 3;
            const Shape x_shape{index % 2 ? 3 : 1, 4, 5, 3}, w_shape{4, kg, kernel, kernel};
            const ConvTranspose2dParams p{.stride = stride,
                                          .pad = pad,
                                          .output_pad = output_pad,
                                          .dilation = dilation,
                                          .groups = groups};
            if ((x_shape[3] - 1) * stride - 2 * pad + dilation * (kernel - 1) + output_pad + 1 < 1) continue;
            Tensor x = test::random_tensor(x_shape, rng), w = test::random_tensor(w_shape, rng);
            Tensor bias = test::random_tensor({kg * groups}, rng);
            test::expect_close(conv_transpose2d(x, w, bias, p), conv_transpose_by_scatter(x, w, bias, p),
                               1e-5f, 1e-5f, describe(x_shape, w_shape, p));
          }
}

TEST(ConvTranspose2d, HandComputedOutputs) {
  // Stride 2 with a 2×2 ones kernel copies each input pixel into its own 2×2 block.
  Tensor y = conv_transpose2d(Tensor::from_vector({1, 1, 2, 2}, {1, 2, 3, 4}),
                              Tensor::full({1, 1, 2, 2}, 1.0f), Tensor(), {.stride = 2});
  EXPECT_EQ(y.to_vector(), (std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
  // One pixel of value 2 stamps 2·kernel; bias 1.
  y = conv_transpose2d(Tensor::from_vector({1, 1, 1, 1}, {2}),
                       Tensor::from_vector({1, 1, 2, 2}, {1, 2, 3, 4}), Tensor::from_vector({1}, {1}), {});
  EXPECT_EQ(y.to_vector(), (std::vector<float>{3, 5, 7, 9}));
  // Stride 1 overlaps: [1 2] with kernel [1 1] → [1 3 2]; output_pad 1 at stride 2 adds a zero column.
  y = conv_transpose2d(Tensor::from_vector({1, 1, 1, 2}, {1, 2}), Tensor::full({1, 1, 1, 2}, 1.0f), Tensor(),
                       {});
  EXPECT_EQ(y.to_vector(), (std::vector<float>{1, 3, 2}));
  y = conv_transpose2d(Tensor::from_vector({1, 1, 1, 2}, {1, 2}), Tensor::full({1, 1, 1, 2}, 1.0f), Tensor(),
                       {.stride = 2, .output_pad = 1});
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 5}));  // the output_pad row and column get nothing
  EXPECT_EQ(y.to_vector(), (std::vector<float>{1, 1, 2, 2, 0, 0, 0, 0, 0, 0}));
}

TEST(ConvTranspose2d, BilinearKernelReproducesBilinearUpsampling) {
  // The FCN upsampling deconv: factor 2, kernel 4, stride 2, pad 1, per-channel kernel f(u)·f(v) with
  // f = (0.25, 0.75, 0.75, 0.25). Away from the borders it equals bilinear resizing (align_corners
  // false), which maps output o to source coordinate (o + 0.5)/2 − 0.5; on a linear image
  // x[h, w] = 3h + w − c the result is that linear function at the source coordinates.
  const float f[4] = {0.25f, 0.75f, 0.75f, 0.25f};
  const int channels = 2, size = 5;
  std::vector<float> kernel(channels * 16), image(channels * size * size);
  for (int c = 0; c < channels; ++c) {
    for (int u = 0; u < 4; ++u)
      for (int v = 0; v < 4; ++v) kernel[(c * 4 + u) * 4 + v] = f[u] * f[v];
    for (int h = 0; h < size; ++h)
      for (int w = 0; w < size; ++w) image[(c * size + h) * size + w] = 3.0f * h + w - c;
  }
  Tensor y = conv_transpose2d(Tensor::from_vector({1, channels, size, size}, image),
                              Tensor::from_vector({channels, 1, 4, 4}, kernel), Tensor(),
                              {.stride = 2, .pad = 1, .groups = channels});
  ASSERT_EQ(y.shape(), (Shape{1, channels, 2 * size, 2 * size}));
  for (int c = 0; c < channels; ++c)
    for (int oh = 1; oh < 2 * size - 1; ++oh)
      for (int ow = 1; ow < 2 * size - 1; ++ow) {
        const float sh = (oh + 0.5f) / 2 - 0.5f, sw = (ow + 0.5f) / 2 - 0.5f;
        EXPECT_NEAR(y.data()[(c * 2 * size + oh) * 2 * size + ow], 3.0f * sh + sw - c, 1e-5f)
            << "c " << c << " at " << oh << "," << ow;
      }
}

TEST(ConvTranspose2d, IsTheAdjointOfConv2d) {
  // <conv_transpose2d(x, w), y> = <x, conv2d(y, w)> for the same stride, pad, dilation and groups.
  Rng rng(53);
  struct Case {
    Shape x, weight;
    ConvTranspose2dParams p;
  };
  const Case cases[] = {{{2, 4, 5, 7}, {4, 3, 3, 3}, {.stride = 2, .pad = 1, .output_pad = 1}},
                        {{1, 4, 6, 5}, {4, 2, 3, 3}, {.stride = 1, .pad = 2, .dilation = 2, .groups = 2}},
                        {{3, 6, 4, 4}, {6, 1, 4, 4}, {.stride = 2, .pad = 1, .groups = 6}},
                        {{1, 3, 5, 5}, {3, 4, 1, 1}, {.stride = 2, .output_pad = 1}}};
  for (const Case& c : cases) {
    Tensor x = test::random_tensor(c.x, rng), w = test::random_tensor(c.weight, rng);
    Tensor transposed = conv_transpose2d(x, w, Tensor(), c.p);
    Tensor y = test::random_tensor(transposed.shape(), rng);
    Tensor conv =
        conv2d(y, w, Tensor(),
               {.stride = c.p.stride, .pad = c.p.pad, .dilation = c.p.dilation, .groups = c.p.groups});
    ASSERT_EQ(conv.shape(), x.shape()) << describe(c.x, c.weight, c.p);
    double lhs = 0.0, rhs = 0.0;
    for (int64_t i = 0; i < y.numel(); ++i) lhs += static_cast<double>(transposed.data()[i]) * y.data()[i];
    for (int64_t i = 0; i < x.numel(); ++i) rhs += static_cast<double>(x.data()[i]) * conv.data()[i];
    EXPECT_NEAR(lhs, rhs, 1e-4 * (1.0 + std::abs(lhs))) << describe(c.x, c.weight, c.p);
  }
}

TEST(ConvTranspose2d, GradientsMatchFiniteDifferences) {
  Rng rng(54);
  struct Case {
    Shape x, weight;
    ConvTranspose2dParams p;
  };
  const Case cases[] = {{{2, 3, 4, 5}, {3, 2, 4, 4}, {.stride = 2, .pad = 1}},
                        {{1, 4, 5, 4}, {4, 2, 3, 3}, {.stride = 2, .pad = 1, .output_pad = 1, .groups = 2}},
                        {{2, 2, 4, 4}, {2, 3, 3, 3}, {.pad = 2, .output_pad = 1, .dilation = 2}},
                        {{3, 3, 4, 3}, {3, 1, 3, 3}, {.stride = 2, .groups = 3}},  // depthwise
                        {{2, 3, 3, 4}, {3, 2, 1, 1}, {}}};                         // pointwise
  for (const Case& c : cases) {
    Tensor x = test::random_tensor(c.x, rng).set_requires_grad(true);
    Tensor w = test::random_tensor(c.weight, rng).set_requires_grad(true);
    Tensor bias = test::random_tensor({c.weight[1] * c.p.groups}, rng).set_requires_grad(true);
    SCOPED_TRACE(describe(c.x, c.weight, c.p));
    const ConvTranspose2dParams p = c.p;
    test::expect_gradients_match(
        [p](const std::vector<Tensor>& in) { return conv_transpose2d(in[0], in[1], in[2], p); },
        {x, w, bias});
  }
}

TEST(ConvTranspose2d, BadInputsThrow) {
  Rng rng(55);
  Tensor x = test::random_tensor({1, 4, 5, 5}, rng);
  Tensor w = test::random_tensor({4, 3, 3, 3}, rng);
  EXPECT_THROW(conv_transpose2d(test::random_tensor({4, 5, 5}, rng), w, Tensor(), {}), Error);
  EXPECT_THROW(conv_transpose2d(x, test::random_tensor({3, 3, 3, 3}, rng), Tensor(), {}),
               Error);                                                                        // C mismatch
  EXPECT_THROW(conv_transpose2d(x, w, Tensor(), {.groups = 3}), Error);                       // C % groups
  EXPECT_THROW(conv_transpose2d(x, w, test::random_tensor({4}, rng), {}), Error);             // bias (3)
  EXPECT_THROW(conv_transpose2d(x, w, test::random_tensor({3}, rng), {.groups = 2}), Error);  // bias (6)
  EXPECT_THROW(conv_transpose2d(x, w, Tensor(), {.stride = 0}), Error);
  EXPECT_THROW(conv_transpose2d(x, w, Tensor(), {.dilation = 0}), Error);
  EXPECT_THROW(conv_transpose2d(x, w, Tensor(), {.pad = -1}), Error);
  EXPECT_THROW(conv_transpose2d(x, w, Tensor(), {.output_pad = 2, .dilation = 2}),
               Error);  // ≥ stride and dilation
  EXPECT_THROW(conv_transpose2d(x, w, Tensor(), {.output_pad = -1}), Error);
  EXPECT_THROW(conv_transpose2d(test::random_tensor({1, 4, 1, 1}, rng), w, Tensor(), {.pad = 2}),
               Error);  // size ≤ 0
  const Tensor no_channels = Tensor::empty({1, 0, 5, 5});
  test::expect_error_containing(
      [&] {
        conv_transpose2d(no_channels, Tensor::empty({0, 3, 3, 3}), Tensor(), {});
      },
      "(1, 0, 5, 5)");
  EXPECT_THROW(conv_transpose2d(Tensor::empty({0, 4, 5, 5}), w, Tensor(), {}), Error);
  try {
    conv_transpose2d(x, test::random_tensor({2, 3, 3, 3}, rng), Tensor(), {});
    FAIL() << "expected pg::Error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("conv_transpose2d"), std::string::npos) << message;
    EXPECT_NE(message.find("(2, 3, 3, 3)"), std::string::npos) << message;
    EXPECT_NE(message.find("(4, K/groups"), std::string::npos) << message;
  }
}
