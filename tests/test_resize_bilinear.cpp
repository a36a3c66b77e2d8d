// Bilinear resize: hand-computed values in both conventions, the scale-factor form (ratio 1/scale),
// the adjoint identity <A x, y> = <x, Aᵀ y> for the backward, fast vs reference kernels over a grid
// of sizes, finite-difference gradients through the op, and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/ops/resize_bilinear.h"
#include "kernels/cpu/resize_bilinear.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

kernels::ResizeBilinearParams params(int planes, int in_h, int in_w, int out_h, int out_w,
                                     bool align_corners) {
  kernels::ResizeBilinearParams p;
  p.planes = planes, p.in_h = in_h, p.in_w = in_w, p.out_h = out_h, p.out_w = out_w;
  p.align_corners = align_corners;
  p.ratio_h = kernels::bilinear_source_ratio(in_h, out_h, align_corners);
  p.ratio_w = kernels::bilinear_source_ratio(in_w, out_w, align_corners);
  return p;
}

// x[h][w] = w for an h×w plane: resizing it along W reads the source column coordinate directly.
Tensor column_ramp(int h, int w) {
  std::vector<float> v(static_cast<size_t>(h) * w);
  for (int i = 0; i < h; ++i)
    for (int j = 0; j < w; ++j) v[i * w + j] = static_cast<float>(j);
  return Tensor::from_vector({1, 1, h, w}, v);
}

}  // namespace

TEST(ResizeBilinear, AlignCornersTwoByTwoToFiveByFive) {
  // Source coordinates 0, 1/4, 1/2, 3/4, 1 on both axes; the input is the plane 1 + 2r + c.
  Tensor x = Tensor::from_vector({1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor y = resize_bilinear(x, 5, 5, /*align_corners=*/true);
  Tensor expected = Tensor::from_vector({1, 1, 5, 5}, {1.0f, 1.25f, 1.5f, 1.75f, 2.0f,  //
                                                       1.5f, 1.75f, 2.0f, 2.25f, 2.5f,  //
                                                       2.0f, 2.25f, 2.5f, 2.75f, 3.0f,  //
                                                       2.5f, 2.75f, 3.0f, 3.25f, 3.5f,  //
                                                       3.0f, 3.25f, 3.5f, 3.75f, 4.0f});
  test::expect_close(y, expected, 0, 1e-6f, "align_corners 2x2 -> 5x5");
}

TEST(ResizeBilinear, HalfPixelTwoByTwoToFourByFour) {
  // ratio 1/2: src = (d + 0.5)/2 − 0.5 = −0.25 → 0, 0.25, 0.75, 1.25 (i0 = i1 = 1) on both axes.
  Tensor x = Tensor::from_vector({1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor y = resize_bilinear(x, 4, 4, /*align_corners=*/false);
  Tensor expected = Tensor::from_vector({1, 1, 4, 4}, {1.0f, 1.25f, 1.75f, 2.0f,  //
                                                       1.5f, 1.75f, 2.25f, 2.5f,  //
                                                       2.5f, 2.75f, 3.25f, 3.5f,  //
                                                       3.0f, 3.25f, 3.75f, 4.0f});
  test::expect_close(y, expected, 0, 1e-6f, "half-pixel 2x2 -> 4x4");
}

TEST(ResizeBilinear, HalfPixelDownsampleAndSingleOutput) {
  // 4 → 2, ratio 2: src = 0.5 and 2.5, halfway between neighbours.
  Tensor x = Tensor::from_vector({1, 1, 1, 4}, {0, 10, 20, 40});
  test::expect_close(resize_bilinear(x, 1, 2, false), Tensor::from_vector({1, 1, 1, 2}, {5, 30}), 0, 1e-6f,
                     "4 -> 2");
  // 4 → 1, ratio 4: src = 1.5. With aligned corners out = 1 reads index 0.
  test::expect_close(resize_bilinear(x, 1, 1, false), Tensor::from_vector({1, 1, 1, 1}, {15}), 0, 1e-6f,
                     "4 -> 1");
  test::expect_close(resize_bilinear(x, 1, 1, true), Tensor::from_vector({1, 1, 1, 1}, {0}), 0, 1e-6f,
                     "4 -> 1 aligned");
  // in = 1: every output reads the one pixel, in both conventions.
  Tensor one = Tensor::from_vector({1, 1, 1, 1}, {7});
  for (bool align : {false, true})
    test::expect_close(resize_bilinear(one, 3, 2, align), Tensor::full({1, 1, 3, 2}, 7), 0, 0, "1 -> 3x2");
}

TEST(ResizeBilinear, ScaleFormUsesOneOverScale) {
  // 7 × scale 2 → 14 (ratio 1/2 = 7/14).
  Rng rng(5);
  Tensor x7 = test::random_tensor({2, 3, 7, 7}, rng);
  Tensor y14 = resize_bilinear_scale(x7, 2.0f, false);
  EXPECT_EQ(y14.shape(), (Shape{2, 3, 14, 14}));
  test::expect_close(y14, resize_bilinear(x7, 14, 14, false), 0, 1e-6f, "scale 2 = size 14");

  // 5 × scale 0.5 → 2 with ratio 2 (not 5/2): src = 0.5, 2.5 on both axes of x = 10r + c.
  std::vector<float> v(25);
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < 5; ++c) v[r * 5 + c] = static_cast<float>(10 * r + c);
  Tensor x5 = Tensor::from_vector({1, 1, 5, 5}, v);
  Tensor y2 = resize_bilinear_scale(x5, 0.5f, false);
  test::expect_close(y2, Tensor::from_vector({1, 1, 2, 2}, {5.5f, 7.5f, 25.5f, 27.5f}), 0, 1e-5f, "5 x 0.5");
  // The size form uses ratio 5/2: src = 0.75, 3.25.
  test::expect_close(resize_bilinear(x5, 2, 2, false),
                     Tensor::from_vector({1, 1, 2, 2}, {8.25f, 10.75f, 33.25f, 35.75f}), 0, 1e-5f,
                     "5 -> 2 by size");
  // Aligned corners ignore the scale: ratio (5 − 1)/(2 − 1) = 4, src = 0, 4.
  test::expect_close(resize_bilinear_scale(x5, 0.5f, true), Tensor::from_vector({1, 1, 2, 2}, {0, 4, 40, 44}),
                     0, 1e-5f, "5 x 0.5 aligned");

  // 5 × 1.5 → floor(7.5) = 7 with ratio 2/3: src = (d + 0.5)·2/3 − 0.5 = 0 (clamped), 1/2, 7/6, 11/6,
  // 5/2, 19/6, 23/6 — where 5/7 would give other values.
  Tensor y7 = resize_bilinear_scale(column_ramp(2, 5), 1.5f, false);
  ASSERT_EQ(y7.shape(), (Shape{1, 1, 3, 7}));
  const std::vector<float> row = {0, 0.5f, 7 / 6.0f, 11 / 6.0f, 2.5f, 19 / 6.0f, 23 / 6.0f};
  for (int r = 0; r < 3; ++r) test::expect_close(y7.data() + r * 7, row.data(), 7, 0, 1e-5f, "5 x 1.5");
}

TEST(ResizeBilinear, BackwardIsTheAdjoint) {
  // <A x, y> = <x, Aᵀ y> for the fast and the reference kernels, both modes, up and down.
  Rng rng(11);
  const int sizes[][4] = {{3, 5, 7, 11},    {7, 11, 3, 5}, {5, 4, 13, 37},
                          {16, 16, 64, 64}, {1, 6, 4, 1},  {9, 9, 1, 1}};
  for (bool align : {false, true})
    for (const auto& s : sizes) {
      const auto p = params(2, s[0], s[1], s[2], s[3], align);
      std::vector<float> x = test::random_vector(2 * s[0] * s[1], rng);
      std::vector<float> y = test::random_vector(2 * s[2] * s[3], rng);
      std::vector<float> ax(y.size()), aty(x.size(), 0.0f), aty_ref(x.size(), 0.0f);
      kernels::resize_bilinear_forward(x.data(), ax.data(), p);
      kernels::resize_bilinear_backward(y.data(), aty.data(), p);
      kernels::resize_bilinear_backward_reference(y.data(), aty_ref.data(), p);
      const double lhs = test::dot(ax, y);
      EXPECT_NEAR(lhs, test::dot(x, aty), 1e-4 * (1 + std::abs(lhs)))
          << s[0] << "x" << s[1] << " -> " << s[2] << "x" << s[3] << " align " << align;
      EXPECT_NEAR(lhs, test::dot(x, aty_ref), 1e-4 * (1 + std::abs(lhs))) << "reference";
    }
}

TEST(ResizeBilinear, FastMatchesReference) {
  Rng rng(3);
  const int ins[] = {1, 2, 5, 16, 23};  // rows of ≤ 16 and > 16 take different SIMD paths
  const int outs[] = {1, 3, 8, 17, 40};
  for (bool align : {false, true})
    for (int in_h : ins)
      for (int in_w : ins)
        for (int out_h : outs)
          for (int out_w : outs) {
            const auto p = params(3, in_h, in_w, out_h, out_w, align);
            const std::string what = std::to_string(in_h) + "x" + std::to_string(in_w) + " -> " +
                                     std::to_string(out_h) + "x" + std::to_string(out_w) +
                                     (align ? " aligned" : "");
            std::vector<float> x = test::random_vector(3 * in_h * in_w, rng);
            std::vector<float> y(3 * out_h * out_w), y_ref(y.size());
            kernels::resize_bilinear_forward(x.data(), y.data(), p);
            kernels::resize_bilinear_forward_reference(x.data(), y_ref.data(), p);
            test::expect_close(y.data(), y_ref.data(), y.size(), 1e-5f, 1e-6f, "forward " + what);
            // The backward adds: start both from the same non-zero gradient.
            std::vector<float> dy = test::random_vector(y.size(), rng);
            std::vector<float> dx = test::random_vector(x.size(), rng), dx_ref = dx;
            kernels::resize_bilinear_backward(dy.data(), dx.data(), p);
            kernels::resize_bilinear_backward_reference(dy.data(), dx_ref.data(), p);
            test::expect_close(dx.data(), dx_ref.data(), dx.size(), 1e-5f, 1e-5f, "backward " + what);
          }
}

TEST(ResizeBilinear, FastMatchesReferenceWithThreads) {
  // Large enough (8 planes 16×16 → 64×64) for the kernels to use their OpenMP team.
  Rng rng(6);
  for (bool align : {false, true}) {
    const auto p = params(8, 16, 16, 64, 64, align);
    std::vector<float> x = test::random_vector(8 * 16 * 16, rng), dy = test::random_vector(8 * 64 * 64, rng);
    std::vector<float> y(dy.size()), y_ref(dy.size()), dx(x.size(), 0.0f), dx_ref(x.size(), 0.0f);
    kernels::resize_bilinear_forward(x.data(), y.data(), p);
    kernels::resize_bilinear_forward_reference(x.data(), y_ref.data(), p);
    test::expect_close(y.data(), y_ref.data(), y.size(), 1e-5f, 1e-6f, "forward x4");
    kernels::resize_bilinear_backward(dy.data(), dx.data(), p);
    kernels::resize_bilinear_backward_reference(dy.data(), dx_ref.data(), p);
    test::expect_close(dx.data(), dx_ref.data(), dx.size(), 1e-5f, 1e-5f, "backward x4");
  }
}

TEST(ResizeBilinear, ScaleRatioFastMatchesReference) {
  // Explicit ratios 1/scale that differ from in/out.
  Rng rng(4);
  for (float scale : {0.3f, 0.5f, 1.5f, 2.5f}) {
    const int in = 13, out = static_cast<int>(in * scale);
    kernels::ResizeBilinearParams p = params(2, in, in, out, out, false);
    p.ratio_h = p.ratio_w = 1.0f / scale;
    std::vector<float> x = test::random_vector(2 * in * in, rng);
    std::vector<float> y(2 * out * out), y_ref(y.size());
    kernels::resize_bilinear_forward(x.data(), y.data(), p);
    kernels::resize_bilinear_forward_reference(x.data(), y_ref.data(), p);
    test::expect_close(y.data(), y_ref.data(), y.size(), 1e-5f, 1e-6f,
                       "forward scale " + std::to_string(scale));
    std::vector<float> dx(x.size(), 0.0f), dx_ref(x.size(), 0.0f);
    kernels::resize_bilinear_backward(y.data(), dx.data(), p);
    kernels::resize_bilinear_backward_reference(y.data(), dx_ref.data(), p);
    test::expect_close(dx.data(), dx_ref.data(), dx.size(), 1e-5f, 1e-5f,
                       "backward scale " + std::to_string(scale));
  }
}

TEST(ResizeBilinear, GradientsMatchFiniteDifferences) {
  Rng rng(7);
  for (bool align : {false, true}) {
    Tensor x = test::random_tensor({2, 2, 3, 4}, rng);
    x.set_requires_grad(true);
    test::expect_gradients_match(
        [align](const std::vector<Tensor>& in) { return resize_bilinear(in[0], 5, 7, align); }, {x});
    test::expect_gradients_match(
        [align](const std::vector<Tensor>& in) { return resize_bilinear(in[0], 2, 3, align); }, {x});
    test::expect_gradients_match(
        [align](const std::vector<Tensor>& in) { return resize_bilinear_scale(in[0], 1.5f, align); }, {x});
  }
}

TEST(ResizeBilinear, Errors) {
  Tensor x = Tensor::zeros({1, 2, 4, 4});
  EXPECT_THROW(resize_bilinear(Tensor::zeros({2, 4, 4}), 8, 8, false), Error);
  EXPECT_THROW(resize_bilinear(Tensor(), 8, 8, false), Error);
  EXPECT_THROW(resize_bilinear(x, 0, 8, false), Error);
  EXPECT_THROW(resize_bilinear(x, 8, -1, true), Error);
  EXPECT_THROW(resize_bilinear_scale(x, 0.0f, false), Error);
  EXPECT_THROW(resize_bilinear_scale(x, -2.0f, false), Error);
  EXPECT_THROW(resize_bilinear_scale(x, NAN, false), Error);
  EXPECT_THROW(resize_bilinear_scale(x, 0.2f, false), Error);  // floor(4 · 0.2) = 0
  test::expect_error_containing([&] { resize_bilinear(x, 0, 8, false); }, "resize_bilinear");
}
