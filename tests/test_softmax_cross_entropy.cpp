// softmax, log_softmax and cross_entropy: the kernels against their references over a grid of
// geometries, values and gradients over any dimension, the hand-computed ignore-255 case (loss,
// divisor and gradient), class weights, sum vs mean, no valid pixel, and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <utility>
#include <vector>

#include "core/autograd.h"
#include "core/ops/cross_entropy.h"
#include "core/ops/reduce.h"
#include "core/ops/softmax.h"
#include "kernels/cpu/softmax.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

// Targets in [0, C) with about a fifth set to 255 (ignored).
IntTensor random_targets(const Shape& shape, int64_t classes, Rng& rng) {
  IntTensor t(shape);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data()[i] = rng.uniform() < 0.2f ? 255 : static_cast<int32_t>(rng.below(classes));
  return t;
}

}  // namespace

// ---- kernels: fast vs reference ----

TEST(SoftmaxKernel, FastMatchesReferenceOverGeometries) {
  const std::vector<kernels::SoftmaxGeometry> geometries = {
      {.outer = 1, .channels = 1, .inner = 1},
      {.outer = 3, .channels = 5, .inner = 1},
      {.outer = 2, .channels = 3, .inner = 7},
      {.outer = 2, .channels = 4, .inner = 300},
      {.outer = 1, .channels = 21, .inner = 513},
      {.outer = 2, .channels = 6, .inner = 2801}};  // the last: threaded
  Rng rng(1);
  for (const auto& g : geometries) {
    const int64_t n = g.outer * g.channels * g.inner;
    const std::string where = "outer " + std::to_string(g.outer) + " C " + std::to_string(g.channels) +
                              " inner " + std::to_string(g.inner);
    std::vector<float> x = test::random_vector(n, rng, -5.0f, 5.0f), dy = test::random_vector(n, rng);
    std::vector<float> y(n), y_ref(n), ly(n), ly_ref(n);
    kernels::softmax_forward(x.data(), y.data(), g);
    kernels::softmax_forward_reference(x.data(), y_ref.data(), g);
    test::expect_close(y.data(), y_ref.data(), n, 1e-5f, 1e-7f, "softmax " + where);
    kernels::log_softmax_forward(x.data(), ly.data(), g);
    kernels::log_softmax_forward_reference(x.data(), ly_ref.data(), g);
    test::expect_close(ly.data(), ly_ref.data(), n, 1e-5f, 1e-5f, "log_softmax " + where);

    std::vector<float> dx(n, 0.25f), dx_ref(n, 0.25f);  // the backwards accumulate
    kernels::softmax_backward(y_ref.data(), dy.data(), dx.data(), g);
    kernels::softmax_backward_reference(y_ref.data(), dy.data(), dx_ref.data(), g);
    test::expect_close(dx.data(), dx_ref.data(), n, 1e-5f, 1e-6f, "softmax backward " + where);
    std::vector<float> ldx(n, 0.25f), ldx_ref(n, 0.25f);
    kernels::log_softmax_backward(ly_ref.data(), dy.data(), ldx.data(), g);
    kernels::log_softmax_backward_reference(ly_ref.data(), dy.data(), ldx_ref.data(), g);
    test::expect_close(ldx.data(), ldx_ref.data(), n, 1e-5f, 1e-5f, "log_softmax backward " + where);
  }
}

TEST(CrossEntropyKernel, FastMatchesReferenceOverGeometries) {
  const std::vector<kernels::CrossEntropyGeometry> geometries = {
      {.batch = 1, .classes = 2, .inner = 1},
      {.batch = 5, .classes = 3, .inner = 1},
      {.batch = 2, .classes = 4, .inner = 37},
      {.batch = 3, .classes = 6, .inner = 300},
      {.batch = 2, .classes = 7, .inner = 2501}};  // the last: threaded
  Rng rng(2);
  for (const auto& g : geometries)
    for (bool weighted : {false, true}) {
      const int64_t n = g.batch * g.classes * g.inner;
      const std::string where = "N " + std::to_string(g.batch) + " C " + std::to_string(g.classes) +
                                " inner " + std::to_string(g.inner) + (weighted ? " weighted" : "");
      std::vector<float> z = test::random_vector(n, rng, -4.0f, 4.0f);
      std::vector<float> weights = test::random_vector(g.classes, rng, 0.2f, 2.0f);
      IntTensor target = random_targets({g.batch * g.inner}, g.classes, rng);
      const float* w = weighted ? weights.data() : nullptr;
      const auto sums = kernels::cross_entropy_forward(z.data(), target.data(), w, g);
      const auto sums_ref = kernels::cross_entropy_forward_reference(z.data(), target.data(), w, g);
      EXPECT_NEAR(sums.loss, sums_ref.loss, 1e-5 * (1 + std::fabs(sums_ref.loss))) << where;
      EXPECT_NEAR(sums.weight, sums_ref.weight, 1e-9 * (1 + sums_ref.weight)) << where;
      std::vector<float> dz(n, -0.5f), dz_ref(n, -0.5f);
      kernels::cross_entropy_backward(z.data(), target.data(), w, 0.7f, dz.data(), g);
      kernels::cross_entropy_backward_reference(z.data(), target.data(), w, 0.7f, dz_ref.data(), g);
      test::expect_close(dz.data(), dz_ref.data(), n, 1e-5f, 1e-6f, "cross_entropy backward " + where);
    }
}

// ---- softmax / log_softmax ----

TEST(SoftmaxOp, SumsToOneAlongItsDimAndAnyDimWorks) {
  Rng rng(3);
  Tensor x = test::random_tensor({2, 3, 4, 5}, rng, -3.0f, 3.0f);
  for (int dim : {0, 1, 2, 3, -1, -3}) {
    Tensor y = softmax(x, dim);
    ASSERT_EQ(y.shape(), x.shape());
    const int d = dim < 0 ? dim + 4 : dim;
    // Sum over dim d, position by position, with plain index arithmetic.
    int64_t stride = 1;
    for (int j = d + 1; j < 4; ++j) stride *= x.size(j);
    for (int64_t i = 0; i < x.numel(); ++i) {
      if ((i / stride) % x.size(d) != 0) continue;  // start of a line along d
      double total = 0;
      for (int64_t c = 0; c < x.size(d); ++c) total += y.data()[i + c * stride];
      EXPECT_NEAR(total, 1.0, 1e-5) << "dim " << dim << " line at " << i;
    }
  }
  EXPECT_EQ(softmax(x, -1).to_vector(), softmax(x, 3).to_vector());
  EXPECT_EQ(log_softmax(x, -3).to_vector(), log_softmax(x, 1).to_vector());
}

TEST(SoftmaxOp, HandValuesAndStabilityForLargeLogits) {
  // softmax(0, ln 3) = (1/4, 3/4); shifting by 1000 changes nothing and does not overflow.
  const float ln3 = std::log(3.0f);
  Tensor x = Tensor::from_vector({2, 2}, {0, ln3, 1000, 1000 + ln3});
  Tensor y = softmax(x, 1), ly = log_softmax(x, 1);
  const std::vector<double> expected = {0.25, 0.75, 0.25, 0.75};
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(y.data()[i], expected[i], 1e-4);
    EXPECT_NEAR(ly.data()[i], std::log(expected[i]), 1e-4);
  }
  EXPECT_FLOAT_EQ(softmax(Tensor::from_vector({1}, {-7}), 0).item(), 1.0f);
}

TEST(SoftmaxOp, Gradients) {
  Rng rng(4);
  Tensor x = test::with_grad(test::random_tensor({2, 4, 3, 3}, rng, -2.0f, 2.0f));
  for (int dim : {1, -1, 0}) {
    test::expect_gradients_match([dim](const std::vector<Tensor>& in) { return softmax(in[0], dim); }, {x});
    test::expect_gradients_match([dim](const std::vector<Tensor>& in) { return log_softmax(in[0], dim); },
                                 {x});
  }
}

TEST(SoftmaxOp, BadDimIsAnError) {
  Tensor x = Tensor::zeros({2, 3});
  test::expect_error_containing([&] { softmax(x, 2); },
                                "softmax: dim 2 is out of range for the 2-D input (2, 3)");
  test::expect_error_containing([&] { log_softmax(x, -3); }, "log_softmax: dim -3");
  test::expect_error_containing([&] { softmax(Tensor::scalar(1), 0); }, "scalar");
}

// ---- cross_entropy ----

TEST(CrossEntropyOp, IgnoredPixelsChangeNeitherLossNorDivisorAndGetNoGradient) {
  // Two classes, three pixels (N 1, H 1, W 3):
  //   pixel 0: z = (0, 0),      target 0 → loss ln 2, softmax (1/2, 1/2)
  //   pixel 1: z = (ln 3, 0),   target 1 → loss ln 4, softmax (3/4, 1/4)
  //   pixel 2: z = (5, −5),     target 255 (ignored)
  // mean = (ln 2 + ln 4) / 2 = 1.5 ln 2 (divided by 2 valid pixels, not 3); sum = 3 ln 2.
  // dz (mean) = (softmax − onehot) / 2: pixel 0 (−1/4, 1/4), pixel 1 (3/8, −3/8), pixel 2 (0, 0).
  const float ln3 = std::log(3.0f), ln2 = std::log(2.0f);
  // logits (1, 2, 1, 3): channel 0 then channel 1.
  Tensor z = test::with_grad(Tensor::from_vector({1, 2, 1, 3}, {0, ln3, 5, 0, 0, -5}));
  IntTensor t = IntTensor::from_vector({1, 1, 3}, {0, 1, 255});
  Tensor loss = cross_entropy(z, t);
  EXPECT_EQ(loss.shape(), Shape{});
  EXPECT_NEAR(loss.item(), 1.5 * ln2, 1e-6);
  loss.backward();
  const std::vector<float> dz = z.grad().to_vector();
  const std::vector<double> expected = {-0.25, 0.375, 0, 0.25, -0.375, 0};
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(dz[i], expected[i], 1e-6) << "dz[" << i << "]";
  EXPECT_NEAR(cross_entropy(z, t, {.reduction = Reduction::sum}).item(), 3 * ln2, 1e-6);
  // Changing the ignored pixel's logits changes nothing.
  Tensor z2 = Tensor::from_vector({1, 2, 1, 3}, {0, ln3, -40, 0, 0, 40});
  EXPECT_FLOAT_EQ(cross_entropy(z2, t).item(), loss.item());
}

TEST(CrossEntropyOp, ClassWeightsGiveTheWeightedMean) {
  // The same two valid pixels with w = (2, 0.5): (2·ln 2 + 0.5·ln 4) / (2 + 0.5) = 1.2 ln 2, as PyTorch.
  const float ln3 = std::log(3.0f), ln2 = std::log(2.0f);
  Tensor z = test::with_grad(Tensor::from_vector({1, 2, 1, 3}, {0, ln3, 5, 0, 0, -5}));
  IntTensor t = IntTensor::from_vector({1, 1, 3}, {0, 1, 255});
  CrossEntropyParams p{.class_weights = Tensor::from_vector({2}, {2.0f, 0.5f})};
  EXPECT_NEAR(cross_entropy(z, t, p).item(), 1.2 * ln2, 1e-6);
  p.reduction = Reduction::sum;
  EXPECT_NEAR(cross_entropy(z, t, p).item(), 3 * ln2, 1e-6);  // 2·ln 2 + 0.5·ln 4
  // Gradients with weights, ignore pixels and both reductions, (N, C, H, W) and (N, C).
  Rng rng(5);
  Tensor logits = test::with_grad(test::random_tensor({2, 4, 3, 5}, rng, -2.0f, 2.0f));
  IntTensor target = random_targets({2, 3, 5}, 4, rng);
  Tensor weights = test::random_tensor({4}, rng, 0.5f, 2.0f);
  for (Reduction r : {Reduction::mean, Reduction::sum}) {
    const CrossEntropyParams params{.reduction = r, .class_weights = weights};
    test::expect_gradients_match(
        [&](const std::vector<Tensor>& in) { return cross_entropy(in[0], target, params); }, {logits});
    test::expect_gradients_match(
        [&](const std::vector<Tensor>& in) { return cross_entropy(in[0], target, {.reduction = r}); },
        {logits});
  }
  Tensor flat = test::with_grad(test::random_tensor({5, 3}, rng));
  IntTensor labels = IntTensor::from_vector({5}, {0, 2, 255, 1, 2});
  test::expect_gradients_match([&](const std::vector<Tensor>& in) { return cross_entropy(in[0], labels); },
                               {flat});
}

TEST(CrossEntropyOp, SumIsMeanTimesValidCountAndMatchesLogSoftmax) {
  Rng rng(6);
  Tensor z = test::random_tensor({2, 3, 4, 5}, rng, -3.0f, 3.0f);
  IntTensor t = random_targets({2, 4, 5}, 3, rng);
  // −Σ log_softmax(z)[t] over valid pixels, by index arithmetic on log_softmax's output.
  Tensor lp = log_softmax(z, 1);
  double total = 0;
  int64_t valid = 0;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 20; ++i) {
      const int32_t label = t.data()[n * 20 + i];
      if (label == 255) continue;
      total -= lp.data()[(n * 3 + label) * 20 + i];
      ++valid;
    }
  ASSERT_GT(valid, 0);
  EXPECT_NEAR(cross_entropy(z, t, {.reduction = Reduction::sum}).item(), total, 1e-4);
  EXPECT_NEAR(cross_entropy(z, t).item(), total / valid, 1e-5);
}

TEST(CrossEntropyOp, NoValidPixelGivesZeroLossAndGradient) {
  Tensor z = test::with_grad(Tensor::from_vector({1, 2, 1, 2}, {1, 2, 3, 4}));
  IntTensor t = IntTensor::from_vector({1, 1, 2}, {255, 255});
  Tensor loss = cross_entropy(z, t);
  EXPECT_EQ(loss.item(), 0.0f);
  loss.backward();
  EXPECT_EQ(z.grad().to_vector(), std::vector<float>(4, 0.0f));
  // A custom ignore index: 0 here, and 255 is then an ordinary (out-of-range) value.
  EXPECT_NEAR(cross_entropy(z, IntTensor::from_vector({1, 1, 2}, {0, 1}), {.ignore_index = 0}).item(),
              std::log(1 + std::exp(-2.0)), 1e-6);  // pixel 1: z = (2, 4), target 1
}

TEST(CrossEntropyOp, BadInputsAreErrors) {
  Tensor z = Tensor::zeros({2, 3, 4, 5});
  IntTensor t({2, 4, 5}, 0);
  t.data()[1 * 20 + 2 * 5 + 3] = 7;  // (n 1, y 2, x 3)
  test::expect_error_containing([&] { cross_entropy(z, t); },
                                "cross_entropy: target value 7 at (n 1, y 2, x 3) is not a class in [0, 3)");
  t.data()[1 * 20 + 2 * 5 + 3] = -1;
  test::expect_error_containing([&] { cross_entropy(z, t); }, "target value -1");
  test::expect_error_containing(
      [&] {
        cross_entropy(Tensor::zeros({2, 3}), IntTensor::from_vector({2}, {0, 3}));
      },
      "target value 3 at (n 1)");
  test::expect_error_containing(
      [&] {
        cross_entropy(z, IntTensor({2, 4, 4}));
      },
      "target must have shape (2, 4, 5) for logits (2, 3, 4, 5), got (2, 4, 4)");
  test::expect_error_containing(
      [&] {
        cross_entropy(z, IntTensor({2, 4, 5}), {.class_weights = Tensor::zeros({4})});
      },
      "class_weights must have shape (3,)");
  test::expect_error_containing([&] { cross_entropy(Tensor::zeros({2, 3, 4}), IntTensor({2, 4})); }, "4-D");
  test::expect_error_containing([&] { cross_entropy(z, IntTensor()); }, "target is undefined");
}

// A leaf frozen (requires_grad off) between forward and backward gets no gradient buffer: each
// op's backward must skip it rather than write through a null pointer.
TEST(SoftmaxOp, BackwardSkipsALeafThatStoppedRequiringGrad) {
  Rng rng(94);
  const IntTensor target = random_targets({2, 4, 5}, 3, rng);
  const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> ops = {
      {"softmax", [](const Tensor& x) { return softmax(x, 1); }},
      {"log_softmax", [](const Tensor& x) { return log_softmax(x, 1); }},
      {"cross_entropy", [&](const Tensor& x) { return cross_entropy(x, target); }},
  };
  for (const auto& [name, op] : ops) {
    SCOPED_TRACE(name);
    Tensor x = test::with_grad(test::random_tensor({2, 3, 4, 5}, rng));
    Tensor loss = pg::sum(op(x));
    x.set_requires_grad(false);
    loss.backward();
    EXPECT_FALSE(x.grad().defined());
  }
}
