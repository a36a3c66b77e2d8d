// The autograd engine with small ops written here through record(): accumulation, topological
// order on a diamond, retain_graph, NoGradGuard, non-leaf grads, DOT export.
#include <gtest/gtest.h>

#include "core/autograd.h"
#include "tests/test_util.h"

using namespace pg;

namespace {
// y = a · b element-wise, the smallest op with two inputs.
Tensor times(const Tensor& a, const Tensor& b) {
  Tensor y = Tensor::empty(a.shape());
  for (int64_t i = 0; i < y.numel(); ++i) y.data()[i] = a.data()[i] * b.data()[i];
  record(y, "times", {a, b}, [a, b](const Tensor& dy) {
    if (float* da = grad_accumulator(a))
      for (int64_t i = 0; i < dy.numel(); ++i) da[i] += dy.data()[i] * b.data()[i];
    if (float* db = grad_accumulator(b))
      for (int64_t i = 0; i < dy.numel(); ++i) db[i] += dy.data()[i] * a.data()[i];
  });
  return y;
}
Tensor total(const Tensor& x) {
  Tensor y = Tensor::scalar(0.0f);
  for (int64_t i = 0; i < x.numel(); ++i) y.data()[0] += x.data()[i];
  record(y, "total", {x}, [x](const Tensor& dy) {
    float* dx = grad_accumulator(x);
    for (int64_t i = 0; i < x.numel(); ++i) dx[i] += dy.data()[0];
  });
  return y;
}
}  // namespace

TEST(Autograd, DiamondGraphSumsBothPaths) {
  // L = Σ (x·x) · x = Σ x³ → dL/dx = 3x²; x is reached through two paths.
  Tensor x = Tensor::from_vector({3}, {1, 2, -3});
  x.set_requires_grad(true);
  Tensor loss = total(times(times(x, x), x));
  loss.backward();
  EXPECT_FLOAT_EQ(loss.item(), 1 + 8 - 27);
  EXPECT_FLOAT_EQ(x.grad().data()[0], 3);
  EXPECT_FLOAT_EQ(x.grad().data()[1], 12);
  EXPECT_FLOAT_EQ(x.grad().data()[2], 27);
}

TEST(Autograd, GradientsAccumulateUntilZeroGrad) {
  Tensor x = Tensor::from_vector({2}, {1, 2});
  x.set_requires_grad(true);
  total(times(x, x)).backward();
  total(times(x, x)).backward();
  EXPECT_FLOAT_EQ(x.grad().data()[1], 8);  // 2 · 2x
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
  total(times(x, x)).backward();
  EXPECT_FLOAT_EQ(x.grad().data()[1], 4);
}

TEST(Autograd, SecondBackwardNeedsRetainGraph) {
  Tensor x = Tensor::from_vector({2}, {1, 2});
  x.set_requires_grad(true);
  Tensor loss = total(times(x, x));
  loss.backward(/*retain_graph=*/true);
  loss.backward();  // allowed: the first call kept the graph
  EXPECT_FLOAT_EQ(x.grad().data()[0], 4);
  EXPECT_THROW(loss.backward(), Error);  // the second call freed it
}

TEST(Autograd, NoGradGuardRecordsNothing) {
  Tensor x = Tensor::from_vector({2}, {1, 2});
  x.set_requires_grad(true);
  {
    NoGradGuard guard;
    EXPECT_FALSE(grad_mode_enabled());
    Tensor y = times(x, x);
    EXPECT_FALSE(y.requires_grad());
    EXPECT_TRUE(y.is_leaf());
  }
  EXPECT_TRUE(grad_mode_enabled());
  EXPECT_TRUE(times(x, x).requires_grad());
}

TEST(Autograd, NonLeafGradIsFreedUnlessRetained) {
  Tensor x = Tensor::from_vector({2}, {1, 2});
  x.set_requires_grad(true);
  Tensor y = times(x, x);
  Tensor z = times(x, x);
  z.retain_grad();
  total(times(y, z)).backward();  // L = Σ y·z
  EXPECT_FALSE(y.grad().defined());
  ASSERT_TRUE(z.grad().defined());
  EXPECT_FLOAT_EQ(z.grad().data()[1], 4);  // dL/dz = y = x²
  EXPECT_FLOAT_EQ(x.grad().data()[1], 32);  // L = Σ x⁴ → 4x³
}

TEST(Autograd, BackwardErrors) {
  Tensor x = Tensor::from_vector({2}, {1, 2});
  EXPECT_THROW(total(x).backward(), Error);  // nothing requires grad
  x.set_requires_grad(true);
  Tensor y = times(x, x);
  EXPECT_THROW(y.backward(), Error);  // not a scalar: needs a seed
  EXPECT_THROW(y.backward(Tensor::zeros({3})), Error);  // seed of the wrong shape
  EXPECT_THROW(y.set_requires_grad(false), Error);  // not a leaf
}

TEST(Autograd, ReshapeIsDifferentiable) {
  Rng rng(3);
  Tensor x = test::random_tensor({2, 6}, rng);
  x.set_requires_grad(true);
  test::expect_gradients_match([](const std::vector<Tensor>& in) { return times(in[0].reshape({3, 4}), in[0].reshape({3, 4})); },
                               {x});
}

TEST(Autograd, DotExportListsOpsAndEdges) {
  Tensor x = Tensor::from_vector({2}, {1, 2});
  x.set_requires_grad(true);
  std::string dot = graph_to_dot(total(times(x, x)));
  EXPECT_NE(dot.find("digraph"), std::string::npos);
  EXPECT_NE(dot.find("times"), std::string::npos);
  EXPECT_NE(dot.find("total"), std::string::npos);
  EXPECT_NE(dot.find("->"), std::string::npos);
}
