// Pooling: output sizes (ceil mode, padding), hand-computed max/avg values and indices, PyTorch's
// average divisors, adaptive bins for (L, b) = (8,6), (2,3), (33,6), the max-pool → max-unpool round
// trip, dilated max pool windows, fast vs reference max pool over a grid (dilation 1, 2, 4), adjoint identities, finite-difference gradients of
// every op, and the errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <numeric>
#include <set>
#include <vector>

#include "core/autograd.h"
#include "core/ops/pool2d.h"
#include "layers/avg_pool2d.h"
#include "kernels/cpu/pool.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

Pool2dParams pool(int kernel, int stride, int pad = 0, bool ceil_mode = false,
                  bool count_include_pad = true) {
  Pool2dParams p;
  p.kernel = kernel, p.stride = stride, p.pad = pad, p.ceil_mode = ceil_mode,
  p.count_include_pad = count_include_pad;
  return p;
}

Pool2dParams dilated_pool(int kernel, int stride, int pad, int dilation, bool ceil_mode = false) {
  Pool2dParams p = pool(kernel, stride, pad, ceil_mode);
  p.dilation = dilation;
  return p;
}

// Distinct values 0.1 apart in a shuffled order: max pool has no ties, and no kink lies within the
// finite-difference step.
Tensor distinct_tensor(const Shape& shape, Rng& rng) {
  Tensor t = Tensor::empty(shape);
  std::vector<int> order(t.numel());
  std::iota(order.begin(), order.end(), 0);
  for (int64_t i = t.numel() - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = 0.1f * static_cast<float>(order[i]) - 1.0f;
  return t;
}

// x[r][c] = 4r + c + 1 on a 4×4 plane.
Tensor counting_4x4() {
  std::vector<float> v(16);
  std::iota(v.begin(), v.end(), 1.0f);
  return Tensor::from_vector({1, 1, 4, 4}, v);
}

// Whether each window of g has a tap inside the input (a dilated window can lie all in the padding).
bool every_window_has_a_real_pixel(const kernels::Pool2dGeometry& g) {
  auto covered = [&](int in, int out) {
    for (int o = 0; o < out; ++o) {
      bool any = false;
      for (int k = 0; k < g.kernel; ++k) {
        const int position = o * g.stride - g.pad + k * g.dilation;
        any = any || (position >= 0 && position < in);
      }
      if (!any) return false;
    }
    return true;
  };
  return covered(g.in_h, g.out_h) && covered(g.in_w, g.out_w);
}

std::vector<int32_t> int_values(const IntTensor& t) {
  return std::vector<int32_t>(t.data(), t.data() + t.numel());
}

}  // namespace

TEST(PoolOutSize, FloorCeilAndDroppedLastWindow) {
  EXPECT_EQ(kernels::pool_out_size(7, 2, 2, 0, false), 3);
  EXPECT_EQ(kernels::pool_out_size(7, 2, 2, 0, true), 4);
  EXPECT_EQ(kernels::pool_out_size(8, 2, 2, 0, true), 4);
  EXPECT_EQ(kernels::pool_out_size(7, 3, 2, 1, false), 4);  // DeepLab's 3×3/2/1 pools
  EXPECT_EQ(kernels::pool_out_size(6, 3, 2, 1, false), 3);
  EXPECT_EQ(kernels::pool_out_size(6, 3, 2, 1, true), 4);  // last window starts at 5, inside
  // in 5, k 2, s 2, pad 1: windows start at −1, 1, 3; ceil would add one at 5 = in, in the right
  // padding, so it is dropped.
  EXPECT_EQ(kernels::pool_out_size(5, 2, 2, 1, true), 3);
  EXPECT_EQ(kernels::pool_out_size(3, 2, 2, 1, true), 2);
  EXPECT_EQ(kernels::pool_out_size(5, 5, 1, 2, false), 5);  // RefineNet's 5×5/1/2: same size
  EXPECT_EQ(kernels::pool_out_size(1, 1, 1, 0, true), 1);
  EXPECT_LE(kernels::pool_out_size(2, 3, 1, 0, false), 0);  // does not fit
}

TEST(MaxPool2d, Shapes) {
  Tensor x = Tensor::zeros({2, 3, 7, 9});
  EXPECT_EQ(max_pool2d(x, pool(2, 2)).shape(), (Shape{2, 3, 3, 4}));
  EXPECT_EQ(max_pool2d(x, pool(2, 2, 0, true)).shape(), (Shape{2, 3, 4, 5}));
  EXPECT_EQ(max_pool2d(x, pool(3, 2, 1)).shape(), (Shape{2, 3, 4, 5}));
  EXPECT_EQ(max_pool2d(x, pool(5, 1, 2)).shape(), (Shape{2, 3, 7, 9}));
  MaxPoolResult r = max_pool2d_with_indices(x, pool(3, 3));
  EXPECT_EQ(r.out.shape(), (Shape{2, 3, 2, 3}));
  EXPECT_EQ(r.indices.shape(), (Shape{2, 3, 2, 3}));
}

TEST(MaxPool2d, HandValuesIndicesAndTies) {
  Tensor x = Tensor::from_vector({1, 1, 4, 4}, {1, 3, 2, 2,  //
                                                3, 0, 2, 1,  //
                                                5, 6, 7, 8,  //
                                                6, 4, 8, 0});
  // 2×2/2: ties go to the first in scan order (row by row).
  MaxPoolResult r = max_pool2d_with_indices(x, pool(2, 2));
  EXPECT_EQ(r.out.to_vector(), (std::vector<float>{3, 2, 6, 8}));
  EXPECT_EQ(int_values(r.indices), (std::vector<int32_t>{1, 2, 9, 11}));
  // 3×3/2 pad 1: windows rows/cols [−1, 2) and [1, 4).
  r = max_pool2d_with_indices(x, pool(3, 2, 1));
  EXPECT_EQ(r.out.to_vector(), (std::vector<float>{3, 3, 6, 8}));
  EXPECT_EQ(int_values(r.indices), (std::vector<int32_t>{1, 1, 9, 11}));
  // Padding counts as −inf: an all-negative input keeps its values.
  Tensor negative = Tensor::full({1, 1, 3, 3}, -5.0f);
  EXPECT_EQ(max_pool2d(negative, pool(3, 2, 1)).to_vector(), (std::vector<float>{-5, -5, -5, -5}));
}

TEST(MaxPool2d, DilatedHandValues) {
  // 2×2 taps 2 apart, stride 1 (the patch CNN's dense pool): y[i, j] = max of x at (i, j),
  // (i, j+2), (i+2, j), (i+2, j+2), (N, C, 4, 4) → (N, C, 2, 2).
  Tensor x = Tensor::from_vector({1, 1, 4, 4}, {1, 0, 2, 9,  //
                                                0, 0, 0, 0,  //
                                                3, 7, 2, 0,  //
                                                0, 5, 0, 4});
  MaxPoolResult r = max_pool2d_with_indices(x, dilated_pool(2, 1, 0, 2));
  EXPECT_EQ(r.out.to_vector(), (std::vector<float>{3, 9, 0, 5}));
  EXPECT_EQ(int_values(r.indices), (std::vector<int32_t>{8, 3, 4, 13}));  // 0-ties: the first tap, (1, 0)
  // 3×3 taps 2 apart, stride 1, pad 1: window (i, j) has taps at rows i − 1, i + 1, i + 3 (and
  // likewise for columns), of which rows {1, 3} (i = 0) or {0, 2} (i = 1) are real.
  r = max_pool2d_with_indices(x, dilated_pool(3, 1, 1, 2));
  EXPECT_EQ(r.out.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(r.out.to_vector(), (std::vector<float>{5, 0, 9, 3}));
  EXPECT_EQ(int_values(r.indices), (std::vector<int32_t>{13, 4, 3, 8}));
}

TEST(MaxPool2d, FastMatchesReference) {
  // Values from a few integers, so ties are common and the tie rule is compared too.
  Rng rng(21);
  for (int in_h : {1, 5, 9, 64})  // 64 × 67 × 2 planes: large enough for the OpenMP team
    for (int in_w : {3, 19, 40, 67})
      for (int kernel : {1, 2, 3, 5})
        for (int stride : {1, 2, 3})
          for (int pad = 0; pad <= kernel / 2; ++pad)
            for (int dilation : {1, 2, 4})
              for (bool ceil_mode : {false, true}) {
                kernels::Pool2dGeometry g;
                g.planes = 2, g.in_h = in_h, g.in_w = in_w, g.kernel = kernel, g.stride = stride, g.pad = pad;
                g.dilation = dilation;
                g.out_h = kernels::pool_out_size(in_h, g.window_extent(), stride, pad, ceil_mode);
                g.out_w = kernels::pool_out_size(in_w, g.window_extent(), stride, pad, ceil_mode);
                if (g.out_h < 1 || g.out_w < 1) continue;
                if (!every_window_has_a_real_pixel(g)) continue;  // the op rejects these
                std::vector<float> x(2 * in_h * in_w);
                for (float& v : x) v = static_cast<float>(rng.below(5));
                const size_t n = 2 * g.out_h * g.out_w;
                std::vector<float> y(n), y_ref(n);
                std::vector<int32_t> idx(n), idx_ref(n);
                kernels::max_pool2d_forward(x.data(), y.data(), idx.data(), g);
                kernels::max_pool2d_forward_reference(x.data(), y_ref.data(), idx_ref.data(), g);
                const std::string what = std::to_string(in_h) + "x" + std::to_string(in_w) + " k" +
                                         std::to_string(kernel) + " s" + std::to_string(stride) + " p" +
                                         std::to_string(pad) + " d" + std::to_string(dilation) +
                                         (ceil_mode ? " ceil" : "");
                EXPECT_EQ(y, y_ref) << what;
                EXPECT_EQ(idx, idx_ref) << what;
              }
}

TEST(MaxPool2d, BackwardAddsAtEveryWinningWindow) {
  // The centre of a 3×3 plane wins all four 2×2/1 windows: its gradient is the sum of theirs.
  Tensor x = Tensor::from_vector({1, 1, 3, 3}, {0, 0, 0, 0, 9, 0, 0, 0, 0});
  x.set_requires_grad(true);
  Tensor y = max_pool2d(x, pool(2, 1));
  y.backward(Tensor::from_vector({1, 1, 2, 2}, {1, 2, 3, 4}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{0, 0, 0, 0, 10, 0, 0, 0, 0}));
}

TEST(MaxPool2d, GradientsMatchFiniteDifferences) {
  Rng rng(8);
  for (const Pool2dParams& p :
       {pool(2, 2), pool(3, 2, 1), pool(3, 2, 1, true), pool(2, 1), pool(3, 3, 0, true), dilated_pool(2, 1, 0, 2),
        dilated_pool(3, 2, 1, 2, true), dilated_pool(2, 1, 1, 3)}) {
    Tensor x = distinct_tensor({2, 2, 7, 6}, rng);
    x.set_requires_grad(true);
    test::expect_gradients_match([p](const std::vector<Tensor>& in) { return max_pool2d(in[0], p); }, {x});
  }
}

TEST(MaxUnpool2d, RoundTripWithMaxPoolIndices) {
  Rng rng(9);
  Tensor x = test::random_tensor({2, 3, 6, 6}, rng, 0.1f, 1.0f);  // positive: the zeros never win
  MaxPoolResult r = max_pool2d_with_indices(x, pool(2, 2));
  Tensor up = max_unpool2d(r.out, r.indices, 6, 6);
  ASSERT_EQ(up.shape(), x.shape());
  // Each plane keeps its maxima at their places and zeros elsewhere.
  for (int64_t plane = 0; plane < 6; ++plane) {
    std::set<int32_t> winners(r.indices.data() + plane * 9, r.indices.data() + (plane + 1) * 9);
    EXPECT_EQ(winners.size(), 9u);
    for (int32_t i = 0; i < 36; ++i)
      EXPECT_EQ(up.data()[plane * 36 + i], winners.count(i) ? x.data()[plane * 36 + i] : 0.0f)
          << plane << " " << i;
  }
  // Pooling the unpooled map gives back the same values and indices.
  MaxPoolResult again = max_pool2d_with_indices(up, pool(2, 2));
  EXPECT_EQ(again.out.to_vector(), r.out.to_vector());
  EXPECT_EQ(int_values(again.indices), int_values(r.indices));
}

TEST(MaxUnpool2d, BackwardGathersAndGradients) {
  Rng rng(10);
  Tensor x = distinct_tensor({1, 2, 5, 7}, rng);
  MaxPoolResult r = max_pool2d_with_indices(x, pool(2, 2));  // (1, 2, 2, 3)
  Tensor pooled = r.out.detach();
  pooled.set_requires_grad(true);
  Tensor dy = test::random_tensor({1, 2, 5, 7}, rng);
  max_unpool2d(pooled, r.indices, 5, 7).backward(dy);
  for (int64_t i = 0; i < 12; ++i)
    EXPECT_EQ(pooled.grad().data()[i], dy.data()[(i / 6) * 35 + r.indices.data()[i]]) << i;
  test::expect_gradients_match(
      [&](const std::vector<Tensor>& in) { return max_unpool2d(in[0], r.indices, 5, 7); }, {pooled});
}

TEST(MaxUnpool2d, Errors) {
  Tensor x = Tensor::zeros({1, 1, 2, 2});
  IntTensor idx = IntTensor::from_vector({1, 1, 2, 2}, {0, 3, 8, 36});
  try {
    max_unpool2d(x, idx, 6, 6);
    FAIL() << "index 36 on a 6x6 output was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("36"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("max_unpool2d"), std::string::npos) << e.what();
  }
  EXPECT_THROW(max_unpool2d(x, IntTensor::from_vector({1, 1, 2, 2}, {0, -1, 2, 3}), 6, 6), Error);
  EXPECT_THROW(max_unpool2d(x, IntTensor({1, 1, 2, 3}), 6, 6), Error);  // shape differs from x
  EXPECT_THROW(max_unpool2d(x, IntTensor(), 6, 6), Error);
  EXPECT_THROW(max_unpool2d(x, IntTensor({1, 1, 2, 2}), 0, 6), Error);
  EXPECT_THROW(max_unpool2d(Tensor::zeros({2, 2, 2}), IntTensor({2, 2, 2}), 4, 4), Error);
  EXPECT_NO_THROW(max_unpool2d(x, IntTensor::from_vector({1, 1, 2, 2}, {0, 3, 8, 35}), 6, 6));
}

TEST(AvgPool2d, CountIncludePadValues) {
  // 3×3/2 pad 1 on a 4×4 plane, ceil mode: windows [−1, 2), [1, 4), [3, 6) → the last clipped to
  // the padded input [3, 5) (extent 2, one real pixel). x[r][c] = 4r + c + 1.
  Tensor x = counting_4x4();
  Tensor with_pad = avg_pool2d(x, pool(3, 2, 1, true, true));
  Tensor without_pad = avg_pool2d(x, pool(3, 2, 1, true, false));
  ASSERT_EQ(with_pad.shape(), (Shape{1, 1, 3, 3}));
  test::expect_close(with_pad,
                     Tensor::from_vector({1, 1, 3, 3}, {14 / 9.0f, 30 / 9.0f, 12 / 6.0f,  //
                                                        57 / 9.0f, 99 / 9.0f, 36 / 6.0f,  //
                                                        27 / 6.0f, 45 / 6.0f, 16 / 4.0f}),
                     1e-6f, 1e-6f, "count_include_pad");
  test::expect_close(without_pad,
                     Tensor::from_vector({1, 1, 3, 3}, {14 / 4.0f, 30 / 6.0f, 12 / 2.0f,  //
                                                        57 / 6.0f, 99 / 9.0f, 36 / 3.0f,  //
                                                        27 / 2.0f, 45 / 3.0f, 16 / 1.0f}),
                     1e-6f, 1e-6f, "exclude pad");
}

TEST(AvgPool2d, CeilModeWindowPastTheInputDividesByItsClippedSize) {
  // 2×2/2 on 3×3, ceil: the last windows hold 2 or 1 pixels and divide by that, not by 4.
  Tensor x = Tensor::from_vector({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  for (bool include : {true, false})
    test::expect_close(avg_pool2d(x, pool(2, 2, 0, true, include)),
                       Tensor::from_vector({1, 1, 2, 2}, {3, 4.5f, 7.5f, 9}), 1e-6f, 1e-6f, "ceil 3x3");
  // pad 1, no ceil: corner windows hold one real pixel out of four.
  test::expect_close(avg_pool2d(x, pool(2, 2, 1, false, true)),
                     Tensor::from_vector({1, 1, 2, 2}, {0.25f, 1.25f, 2.75f, 7}), 1e-6f, 1e-6f,
                     "pad include");
  test::expect_close(avg_pool2d(x, pool(2, 2, 1, false, false)),
                     Tensor::from_vector({1, 1, 2, 2}, {1, 2.5f, 5.5f, 7}), 1e-6f, 1e-6f, "pad exclude");
}

TEST(AvgPool2d, BackwardIsTheAdjoint) {
  Rng rng(12);
  for (int kernel : {1, 2, 3})
    for (int stride : {1, 2})
      for (int pad = 0; pad <= kernel / 2; ++pad)
        for (bool ceil_mode : {false, true})
          for (bool include : {false, true}) {
            kernels::Pool2dGeometry g;
            g.planes = 2, g.in_h = 5, g.in_w = 8, g.kernel = kernel, g.stride = stride, g.pad = pad;
            g.count_include_pad = include;
            g.out_h = kernels::pool_out_size(5, kernel, stride, pad, ceil_mode);
            g.out_w = kernels::pool_out_size(8, kernel, stride, pad, ceil_mode);
            std::vector<float> x = test::random_vector(80, rng),
                               y = test::random_vector(2 * g.out_h * g.out_w, rng);
            std::vector<float> ax(y.size()), aty(x.size(), 0.0f);
            kernels::avg_pool2d_forward(x.data(), ax.data(), g);
            kernels::avg_pool2d_backward(y.data(), aty.data(), g);
            EXPECT_NEAR(test::dot(ax, y), test::dot(x, aty), 1e-5)
                << "k" << kernel << " s" << stride << " p" << pad;
          }
}

TEST(AvgPool2d, GradientsMatchFiniteDifferences) {
  Rng rng(13);
  for (const Pool2dParams& p : {pool(2, 2), pool(3, 2, 1, false, true), pool(3, 2, 1, true, false),
                                pool(3, 2, 1, true, true), pool(2, 1)}) {
    Tensor x = test::random_tensor({2, 2, 6, 5}, rng);
    x.set_requires_grad(true);
    test::expect_gradients_match([p](const std::vector<Tensor>& in) { return avg_pool2d(in[0], p); }, {x});
  }
}

TEST(AdaptiveAvgPool2d, BinsForTheSurveyCases) {
  auto bins = [](int length, int count) {
    std::vector<std::pair<int, int>> b;
    for (int i = 0; i < count; ++i)
      b.emplace_back(kernels::adaptive_bin_start(i, length, count),
                     kernels::adaptive_bin_end(i, length, count));
    return b;
  };
  using Bins = std::vector<std::pair<int, int>>;
  EXPECT_EQ(bins(8, 6), (Bins{{0, 2}, {1, 3}, {2, 4}, {4, 6}, {5, 7}, {6, 8}}));  // overlapping
  EXPECT_EQ(bins(2, 3), (Bins{{0, 1}, {0, 2}, {1, 2}}));                          // b > L: repeating
  EXPECT_EQ(bins(33, 6), (Bins{{0, 6}, {5, 11}, {11, 17}, {16, 22}, {22, 28}, {27, 33}}));
  EXPECT_EQ(bins(6, 3), (Bins{{0, 2}, {2, 4}, {4, 6}}));  // a multiple: plain tiling
}

TEST(AdaptiveAvgPool2d, ValuesForTheSurveyCases) {
  // On a ramp x[c] = c the mean of bin [s, e) is (s + e − 1)/2.
  auto ramp = [](int length) {
    std::vector<float> v(length);
    std::iota(v.begin(), v.end(), 0.0f);
    return Tensor::from_vector({1, 1, 1, length}, v);
  };
  test::expect_close(adaptive_avg_pool2d(ramp(8), 1, 6),
                     Tensor::from_vector({1, 1, 1, 6}, {0.5f, 1.5f, 2.5f, 4.5f, 5.5f, 6.5f}), 1e-6f, 1e-6f,
                     "(8, 6)");
  test::expect_close(adaptive_avg_pool2d(ramp(2), 1, 3), Tensor::from_vector({1, 1, 1, 3}, {0, 0.5f, 1}),
                     1e-6f, 1e-6f, "(2, 3)");
  test::expect_close(adaptive_avg_pool2d(ramp(33), 1, 6),
                     Tensor::from_vector({1, 1, 1, 6}, {2.5f, 7.5f, 13.5f, 18.5f, 24.5f, 29.5f}), 1e-6f,
                     1e-6f, "(33, 6)");
  // Both axes: x = 10r + c on 2×8 → 3×6; row-bin means 0, 0.5, 1.
  std::vector<float> v(16);
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 8; ++c) v[r * 8 + c] = static_cast<float>(10 * r + c);
  Tensor y = adaptive_avg_pool2d(Tensor::from_vector({1, 1, 2, 8}, v), 3, 6);
  const float row_means[] = {0, 0.5f, 1}, col_means[] = {0.5f, 1.5f, 2.5f, 4.5f, 5.5f, 6.5f};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 6; ++j)
      EXPECT_FLOAT_EQ(y.data()[i * 6 + j], 10 * row_means[i] + col_means[j]) << i << j;
}

TEST(AdaptiveAvgPool2d, BackwardIsTheAdjointAndGradients) {
  Rng rng(14);
  for (auto [h, w, oh, ow] :
       std::vector<std::array<int, 4>>{{8, 33, 6, 6}, {2, 3, 3, 3}, {5, 7, 1, 1}, {4, 4, 4, 4}}) {
    kernels::PlaneSizes s{2, h, w, oh, ow};
    std::vector<float> x = test::random_vector(2 * h * w, rng), y = test::random_vector(2 * oh * ow, rng);
    std::vector<float> ax(y.size()), aty(x.size(), 0.0f);
    kernels::adaptive_avg_pool2d_forward(x.data(), ax.data(), s);
    kernels::adaptive_avg_pool2d_backward(y.data(), aty.data(), s);
    EXPECT_NEAR(test::dot(ax, y), test::dot(x, aty), 1e-5) << h << "x" << w << " -> " << oh << "x" << ow;
  }
  Tensor x = test::random_tensor({2, 2, 8, 5}, rng);
  x.set_requires_grad(true);
  test::expect_gradients_match([](const std::vector<Tensor>& in) { return adaptive_avg_pool2d(in[0], 6, 3); },
                               {x});
  test::expect_gradients_match([](const std::vector<Tensor>& in) { return adaptive_avg_pool2d(in[0], 9, 7); },
                               {x});
}

TEST(GlobalAvgPool, ValuesAndGradients) {
  Tensor x = Tensor::from_vector({1, 2, 2, 2}, {1, 2, 3, 4, -1, -1, -1, 5});
  Tensor y = global_avg_pool(x);
  EXPECT_EQ(y.shape(), (Shape{1, 2, 1, 1}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{2.5f, 0.5f}));
  Rng rng(15);
  Tensor z = test::random_tensor({2, 3, 5, 4}, rng);
  z.set_requires_grad(true);
  test::expect_gradients_match([](const std::vector<Tensor>& in) { return global_avg_pool(in[0]); }, {z});
}

TEST(Pool2d, Errors) {
  Tensor x = Tensor::zeros({1, 2, 5, 5});
  for (auto op : {max_pool2d, avg_pool2d}) {
    EXPECT_THROW(op(Tensor::zeros({2, 5, 5}), pool(2, 2)), Error);
    EXPECT_THROW(op(Tensor(), pool(2, 2)), Error);
    EXPECT_THROW(op(x, pool(0, 2)), Error);
    EXPECT_THROW(op(x, pool(2, 0)), Error);
    EXPECT_THROW(op(x, pool(2, -1)), Error);
    EXPECT_THROW(op(x, pool(3, 2, 2)), Error);  // pad > kernel/2
    EXPECT_THROW(op(x, pool(2, 2, -1)), Error);
    EXPECT_THROW(op(Tensor::zeros({1, 1, 2, 5}), pool(3, 1)), Error);  // the window does not fit
    EXPECT_NO_THROW(op(x, pool(3, 2, 1, true)));
  }
  try {
    max_pool2d(x, pool(3, 2, 2));
    FAIL() << "pad 2 with kernel 3 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("max_pool2d"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("pad"), std::string::npos) << e.what();
  }
  EXPECT_THROW(max_pool2d(x, dilated_pool(2, 1, 0, 0)), Error);
  EXPECT_THROW(max_pool2d(x, dilated_pool(2, 1, 0, 5)), Error);  // extent 6 > 5
  EXPECT_NO_THROW(max_pool2d(x, dilated_pool(2, 1, 0, 4)));
  // Taps −1 and 2 of a 2-wide input: window 0 lies in the padding, nothing to point at.
  EXPECT_THROW(max_pool2d(Tensor::zeros({1, 1, 2, 2}), dilated_pool(2, 1, 1, 3)), Error);
  EXPECT_THROW(avg_pool2d(x, dilated_pool(2, 1, 0, 2)), Error);  // average pools have no dilation
  EXPECT_THROW(AvgPool2d(dilated_pool(2, 1, 0, 2)), Error);
  EXPECT_THROW(adaptive_avg_pool2d(x, 0, 3), Error);
  EXPECT_THROW(adaptive_avg_pool2d(Tensor::zeros({5, 5}), 2, 2), Error);
  EXPECT_THROW(global_avg_pool(Tensor::zeros({2, 5, 5})), Error);
}
