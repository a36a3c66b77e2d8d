// Element-wise ops: activations, arithmetic (maximum's tie rule included), reductions and dropout.
// Values against formulas evaluated here, gradients by finite differences, the threaded kernel
// path on large buffers, dropout's statistics and determinism, and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

#include "core/autograd.h"
#include "core/ops/activation.h"
#include "core/ops/arithmetic.h"
#include "core/ops/dropout.h"
#include "core/ops/reduce.h"
#include "kernels/cpu/elementwise.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

// Values in [−1, −0.1] ∪ [0.1, 1]: away from the kink at 0.
Tensor away_from_zero(const Shape& shape, Rng& rng) {
  Tensor t = test::random_tensor(shape, rng, 0.1f, 1.0f);
  for (int64_t i = 0; i < t.numel(); ++i)
    if (rng.uniform() < 0.5f) t.data()[i] = -t.data()[i];
  return t;
}

}  // namespace

// ---- activations ----

TEST(ElementwiseActivation, ValuesMatchTheirFormulas) {
  Rng rng(1);
  Tensor x = test::random_tensor({2, 3, 5, 7}, rng, -4.0f, 4.0f);
  Tensor r = relu(x), l = leaky_relu(x, 0.2f), s = sigmoid(x), t = pg::tanh(x);
  for (const Tensor& y : {r, l, s, t}) ASSERT_EQ(y.shape(), x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double v = x.data()[i];
    EXPECT_FLOAT_EQ(r.data()[i], v > 0 ? v : 0);
    EXPECT_FLOAT_EQ(l.data()[i], v > 0 ? v : 0.2f * x.data()[i]);
    EXPECT_NEAR(s.data()[i], 1.0 / (1.0 + std::exp(-v)), 1e-6);
    EXPECT_NEAR(t.data()[i], std::tanh(v), 1e-6);
  }
}

TEST(ElementwiseActivation, ReluGradientIsZeroAtTheKink) {
  Tensor x = test::with_grad(Tensor::from_vector({3}, {-1, 0, 2}));
  sum(relu(x)).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{0, 0, 1}));
}

TEST(ElementwiseActivation, Gradients) {
  Rng rng(2);
  Tensor x = test::with_grad(away_from_zero({2, 3, 4, 5}, rng));
  test::expect_gradients_match([](const std::vector<Tensor>& in) { return relu(in[0]); }, {x});
  test::expect_gradients_match([](const std::vector<Tensor>& in) { return leaky_relu(in[0], 0.1f); }, {x});
  Tensor wide = test::with_grad(test::random_tensor({3, 7}, rng, -3.0f, 3.0f));
  test::expect_gradients_match([](const std::vector<Tensor>& in) { return sigmoid(in[0]); }, {wide});
  test::expect_gradients_match([](const std::vector<Tensor>& in) { return pg::tanh(in[0]); }, {wide});
}

TEST(ElementwiseKernel, ThreadedPathComputesTheFormula) {
  // Large enough for OpenMP to split the loops; each element still equals its own formula.
  Rng rng(3);
  const int64_t n = 100003;
  std::vector<float> x = test::random_vector(n, rng, -2.0f, 2.0f), dy = test::random_vector(n, rng);
  std::vector<float> y(n), dx(n, 1.0f), expected(n), expected_dx(n);
  kernels::relu_forward(x.data(), y.data(), n);
  kernels::relu_backward(x.data(), dy.data(), dx.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    expected[i] = x[i] > 0 ? x[i] : 0.0f;
    expected_dx[i] = 1.0f + (x[i] > 0 ? dy[i] : 0.0f);
  }
  test::expect_close(y.data(), expected.data(), n, 0, 0, "relu_forward");
  test::expect_close(dx.data(), expected_dx.data(), n, 0, 0, "relu_backward");
  kernels::add_scaled(x.data(), dy.data(), -0.5f, y.data(), n);
  for (int64_t i = 0; i < n; ++i) expected[i] = x[i] - 0.5f * dy[i];
  test::expect_close(y.data(), expected.data(), n, 1e-6f, 1e-7f, "add_scaled");
}

TEST(ElementwiseKernel, SumMatchesReference) {
  Rng rng(4);
  for (int64_t n : {1, 7, 1023, 40001, 100003}) {
    std::vector<float> x = test::random_vector(n, rng, -1.0f, 3.0f);
    EXPECT_NEAR(kernels::sum_all(x.data(), n), kernels::sum_all_reference(x.data(), n), 1e-9 * n)
        << "n " << n;
  }
}

// ---- arithmetic ----

TEST(ElementwiseArithmetic, Values) {
  Tensor a = Tensor::from_vector({2, 2}, {1, -2, 3, 4});
  Tensor b = Tensor::from_vector({2, 2}, {0.5f, 2, -1, 4});
  EXPECT_EQ(add(a, b).to_vector(), (std::vector<float>{1.5f, 0, 2, 8}));
  EXPECT_EQ(sub(a, b).to_vector(), (std::vector<float>{0.5f, -4, 4, 0}));
  EXPECT_EQ(mul(a, b).to_vector(), (std::vector<float>{0.5f, -4, -3, 16}));
  EXPECT_EQ(scale(a, -2).to_vector(), (std::vector<float>{-2, 4, -6, -8}));
  EXPECT_EQ(add_scalar(a, 0.5f).to_vector(), (std::vector<float>{1.5f, -1.5f, 3.5f, 4.5f}));
  EXPECT_EQ(sum_of({a, b, a}).to_vector(), (std::vector<float>{2.5f, -2, 5, 12}));
  EXPECT_EQ(maximum({a, b}).to_vector(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(add(a, b).shape(), (Shape{2, 2}));
}

TEST(ElementwiseArithmetic, Gradients) {
  Rng rng(5);
  Tensor a = test::with_grad(test::random_tensor({3, 5}, rng)),
         b = test::with_grad(test::random_tensor({3, 5}, rng));
  Tensor c = test::with_grad(test::random_tensor({3, 5}, rng));
  test::expect_gradients_match([](const std::vector<Tensor>& in) { return add(in[0], in[1]); }, {a, b});
  test::expect_gradients_match([](const std::vector<Tensor>& in) { return sub(in[0], in[1]); }, {a, b});
  test::expect_gradients_match([](const std::vector<Tensor>& in) { return mul(in[0], in[1]); }, {a, b});
  test::expect_gradients_match([](const std::vector<Tensor>& in) { return scale(in[0], -1.5f); }, {a});
  test::expect_gradients_match([](const std::vector<Tensor>& in) { return add_scalar(in[0], 3.0f); }, {a});
  test::expect_gradients_match([](const std::vector<Tensor>& in) { return sum_of(in); }, {a, b, c});
  // Random inputs are almost surely apart by more than the step; the kink skip covers the rest.
  test::expect_gradients_match([](const std::vector<Tensor>& in) { return maximum(in); }, {a, b, c});
  // The same tensor on both sides: both paths add up.
  test::expect_gradients_match([](const std::vector<Tensor>& in) { return mul(in[0], in[0]); }, {a});
}

TEST(ElementwiseArithmetic, MaximumTiesSendTheGradientToTheFirstInput) {
  Tensor a = test::with_grad(Tensor::from_vector({4}, {1, 2, 3, 0}));
  Tensor b = test::with_grad(Tensor::from_vector({4}, {1, 5, 3, 0}));
  Tensor c = test::with_grad(Tensor::from_vector({4}, {0, 5, 3, 7}));
  sum(maximum({a, b, c})).backward();
  EXPECT_EQ(a.grad().to_vector(), (std::vector<float>{1, 0, 1, 0}));
  EXPECT_EQ(b.grad().to_vector(), (std::vector<float>{0, 1, 0, 0}));
  EXPECT_EQ(c.grad().to_vector(), (std::vector<float>{0, 0, 0, 1}));
  // The same tensor twice: one gradient, not two.
  Tensor x = test::with_grad(Tensor::from_vector({2}, {1, -1}));
  sum(maximum({x, x})).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{1, 1}));
}

TEST(ElementwiseArithmetic, ShapeMismatchesAreErrors) {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({3, 2});
  test::expect_error_containing([&] { add(a, b); },
                                "add: inputs must have the same shape, got (2, 3) and (3, 2)");
  test::expect_error_containing([&] { sub(a, b); }, "sub:");
  test::expect_error_containing([&] { mul(a, b); }, "mul:");
  test::expect_error_containing([&] { sum_of({a, a, b}); }, "term 2 is (3, 2)");
  test::expect_error_containing([&] { maximum({a, b}); }, "maximum:");
  test::expect_error_containing([&] { sum_of({}); }, "at least one");
  test::expect_error_containing([&] { maximum({}); }, "at least one");
  test::expect_error_containing([&] { add(a, Tensor()); }, "undefined");
}

// ---- reductions ----

TEST(ElementwiseReduce, SumAndMean) {
  Tensor x = test::with_grad(Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6}));
  Tensor s = sum(x), m = mean(x);
  EXPECT_EQ(s.shape(), Shape{});
  EXPECT_EQ(m.shape(), Shape{});
  EXPECT_FLOAT_EQ(s.item(), 21);
  EXPECT_FLOAT_EQ(m.item(), 3.5f);
  m.backward();
  EXPECT_EQ(x.grad().to_vector(), std::vector<float>(6, 1.0f / 6));
  Rng rng(6);
  Tensor y = test::with_grad(test::random_tensor({3, 4, 5}, rng));
  test::expect_gradients_match([](const std::vector<Tensor>& in) { return sum(in[0]); }, {y});
  test::expect_gradients_match([](const std::vector<Tensor>& in) { return mean(in[0]); }, {y});
  test::expect_error_containing([] { mean(Tensor::zeros({0, 3})); }, "mean: the input is empty");
  test::expect_error_containing([] { sum(Tensor()); }, "undefined");
}

// ---- dropout ----

TEST(ElementwiseDropout, KeepsAboutOneMinusPAndScalesByItsInverse) {
  Rng rng(7);
  const float p = 0.3f;
  Tensor x = test::random_tensor({200, 501}, rng, 0.5f, 1.5f);  // no zeros: a 0 in y means dropped
  Tensor y = dropout(x, p, /*training=*/true, rng);
  ASSERT_EQ(y.shape(), x.shape());
  int64_t kept = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    if (y.data()[i] == 0.0f) continue;
    ++kept;
    EXPECT_NEAR(y.data()[i], x.data()[i] / (1.0f - p), 1e-6f) << "element " << i;
  }
  // 100,200 draws: the standard deviation of the kept fraction is about 0.0015.
  EXPECT_NEAR(static_cast<double>(kept) / x.numel(), 1.0 - p, 0.01);
}

TEST(ElementwiseDropout, DeterministicFromTheSeed) {
  Rng data_rng(8);
  Tensor x = test::random_tensor({4, 3, 5, 5}, data_rng);
  auto with_seed = [&](uint64_t seed, bool channels) {
    Rng rng(seed);
    return (channels ? dropout2d(x, 0.5f, true, rng) : dropout(x, 0.5f, true, rng)).to_vector();
  };
  for (bool channels : {false, true}) {
    EXPECT_EQ(with_seed(42, channels), with_seed(42, channels));
    EXPECT_NE(with_seed(42, channels), with_seed(43, channels));
  }
  // One Rng used twice draws two different masks.
  Rng rng(42);
  EXPECT_NE(dropout(x, 0.5f, true, rng).to_vector(), dropout(x, 0.5f, true, rng).to_vector());
}

TEST(ElementwiseDropout, Dropout2dZeroesWholeChannels) {
  Rng rng(9);
  Tensor x = test::random_tensor({6, 10, 3, 4}, rng, 0.5f, 1.5f);
  Tensor y = dropout2d(x, 0.5f, true, rng);
  int dropped = 0;
  for (int64_t plane = 0; plane < 60; ++plane) {
    const float ratio = y.data()[plane * 12] / x.data()[plane * 12];  // 0 or 2
    EXPECT_TRUE(ratio == 0.0f || std::fabs(ratio - 2.0f) < 1e-6f) << "plane " << plane << " ratio " << ratio;
    dropped += ratio == 0.0f;
    for (int64_t i = 0; i < 12; ++i)
      EXPECT_NEAR(y.data()[plane * 12 + i], ratio * x.data()[plane * 12 + i], 1e-6f) << "plane " << plane;
  }
  EXPECT_GT(dropped, 0);
  EXPECT_LT(dropped, 60);
}

TEST(ElementwiseDropout, EvalAndZeroPAreTheIdentityAndOneDropsAll) {
  Rng rng(10);
  Tensor x = test::random_tensor({2, 3, 4, 5}, rng);
  EXPECT_EQ(dropout(x, 0.5f, /*training=*/false, rng).to_vector(), x.to_vector());
  EXPECT_EQ(dropout2d(x, 0.5f, false, rng).to_vector(), x.to_vector());
  EXPECT_EQ(dropout(x, 0.0f, true, rng).to_vector(), x.to_vector());
  EXPECT_EQ(dropout(x, 1.0f, true, rng).to_vector(), std::vector<float>(x.numel(), 0.0f));
  EXPECT_EQ(dropout2d(x, 1.0f, true, rng).to_vector(), std::vector<float>(x.numel(), 0.0f));
}

TEST(ElementwiseDropout, GradientIsTheMask) {
  Rng data_rng(11);
  Tensor x = test::with_grad(test::random_tensor({3, 4, 3, 3}, data_rng));
  // A fresh Rng with the same seed on every call: the same mask each time.
  test::expect_gradients_match(
      [](const std::vector<Tensor>& in) {
        Rng rng(5);
        return dropout(in[0], 0.4f, true, rng);
      },
      {x});
  test::expect_gradients_match(
      [](const std::vector<Tensor>& in) {
        Rng rng(6);
        return dropout2d(in[0], 0.4f, true, rng);
      },
      {x});
  // dx = y / x for dy = 1: the kept scale or 0.
  x.zero_grad();
  Rng rng(12);
  Tensor y = dropout(x, 0.25f, true, rng);
  sum(y).backward();
  for (int64_t i = 0; i < x.numel(); ++i) EXPECT_NEAR(x.grad().data()[i] * x.data()[i], y.data()[i], 1e-6f);
}

TEST(ElementwiseDropout, BadArgumentsAreErrors) {
  Rng rng(13);
  Tensor x = Tensor::zeros({2, 3, 4, 4});
  test::expect_error_containing([&] { dropout(x, -0.1f, true, rng); },
                                "dropout: the drop probability p must be in [0, 1]");
  test::expect_error_containing([&] { dropout(x, 1.5f, true, rng); }, "got 1.5");
  test::expect_error_containing([&] { dropout(x, std::numeric_limits<float>::quiet_NaN(), true, rng); },
                                "[0, 1]");
  test::expect_error_containing([&] { dropout2d(x, 2.0f, false, rng); }, "dropout2d:");
  test::expect_error_containing([&] { dropout2d(Tensor::zeros({2, 3}), 0.5f, true, rng); }, "must be 4-D");
}

// ---- a leaf frozen between forward and backward ----

// A parameter frozen (requires_grad off) after the forward: the recorded backward gets no
// gradient buffer for it (grad_accumulator returns nullptr) and must skip it, not write through
// a null pointer. The sum on top still requires grad, so every op's backward does run.
TEST(ElementwiseFrozenInput, BackwardSkipsALeafThatStoppedRequiringGrad) {
  Rng rng(91);
  Rng dropout_rng(92);
  const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> ops = {
      {"relu", [](const Tensor& x) { return relu(x); }},
      {"leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.1f); }},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }},
      {"tanh", [](const Tensor& x) { return pg::tanh(x); }},
      {"scale", [](const Tensor& x) { return scale(x, 2.0f); }},
      {"add_scalar", [](const Tensor& x) { return add_scalar(x, 1.0f); }},
      {"sum", [](const Tensor& x) { return pg::sum(x); }},
      {"mean", [](const Tensor& x) { return pg::mean(x); }},
      {"dropout", [&](const Tensor& x) { return dropout(x, 0.5f, true, dropout_rng); }},
      {"dropout2d", [&](const Tensor& x) { return dropout2d(x, 0.5f, true, dropout_rng); }},
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

TEST(ElementwiseActivation, UndefinedInputIsAnError) {
  Rng rng(95);
  test::expect_error_containing([] { relu(Tensor()); }, "relu: the input is undefined");
  test::expect_error_containing([] { leaky_relu(Tensor()); }, "leaky_relu: the input is undefined");
  test::expect_error_containing([] { sigmoid(Tensor()); }, "sigmoid: the input is undefined");
  test::expect_error_containing([] { pg::tanh(Tensor()); }, "tanh: the input is undefined");
  test::expect_error_containing([] { scale(Tensor(), 2.0f); }, "scale: the input is undefined");
  test::expect_error_containing([] { add_scalar(Tensor(), 2.0f); }, "add_scalar: the input is undefined");
  test::expect_error_containing([&] { dropout(Tensor(), 0.5f, true, rng); },
                                "dropout: the input is undefined");
}
