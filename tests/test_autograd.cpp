// The autograd engine with small ops written here through record(): accumulation, topological
// order on a diamond, retain_graph, NoGradGuard, non-leaf grads, undefined inputs, inputs that
// stop requiring grad, graphs too deep for recursion, DOT export.
#include <gtest/gtest.h>
#include <pthread.h>

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
    if (!dx) return;
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
  EXPECT_FLOAT_EQ(z.grad().data()[1], 4);   // dL/dz = y = x²
  EXPECT_FLOAT_EQ(x.grad().data()[1], 32);  // L = Σ x⁴ → 4x³
}

TEST(Autograd, BackwardErrors) {
  Tensor x = Tensor::from_vector({2}, {1, 2});
  EXPECT_THROW(total(x).backward(), Error);  // nothing requires grad
  x.set_requires_grad(true);
  Tensor y = times(x, x);
  EXPECT_THROW(y.backward(), Error);                    // not a scalar: needs a seed
  EXPECT_THROW(y.backward(Tensor::zeros({3})), Error);  // seed of the wrong shape
  EXPECT_THROW(y.set_requires_grad(false), Error);      // not a leaf
}

TEST(Autograd, ReshapeIsDifferentiable) {
  Rng rng(3);
  Tensor x = test::random_tensor({2, 6}, rng);
  x.set_requires_grad(true);
  test::expect_gradients_match(
      [](const std::vector<Tensor>& in) {
        return times(in[0].reshape({3, 4}), in[0].reshape({3, 4}));
      },
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

TEST(Autograd, AnUndefinedInputIsNoEdge) {
  // An op with an optional input left out (as conv2d without bias) records and runs backward.
  Tensor x = test::with_grad(Tensor::from_vector({2}, {1, 2}));
  Tensor y = Tensor::empty({2});
  for (int64_t i = 0; i < 2; ++i) y.data()[i] = 2 * x.data()[i];
  Tensor no_bias;
  record(y, "double", {x, no_bias}, [x, no_bias](const Tensor& dy) {
    EXPECT_EQ(grad_accumulator(no_bias), nullptr);
    float* dx = grad_accumulator(x);
    for (int64_t i = 0; i < 2; ++i) dx[i] += 2 * dy.data()[i];
  });
  total(y).backward();
  EXPECT_FLOAT_EQ(x.grad().data()[1], 2);
  EXPECT_NE(graph_to_dot(y).find("double"), std::string::npos);
}

TEST(Autograd, NonLeafUsedTwiceAndRetainedGraphGivesTheSameGradientsTwice) {
  // L = Σ y·y with y = x·x: dL/dx = 4x³, each backward from zero for y, accumulating into x.
  Tensor x = test::with_grad(Tensor::from_vector({2}, {1, 2}));
  Tensor loss = total(times(times(x, x), times(x, x)).reshape({2, 1}));
  loss.backward(/*retain_graph=*/true);
  EXPECT_FLOAT_EQ(x.grad().data()[1], 32);
  loss.backward();
  EXPECT_FLOAT_EQ(x.grad().data()[1], 64);
}

TEST(Autograd, ALeafThatStoppedRequiringGradReceivesNothing) {
  // Once its only input no longer wants a gradient, reshape's closure gets a null accumulator and
  // must write nothing (it used to write through the null pointer).
  Tensor x = test::with_grad(Tensor::from_vector({2}, {1, 2}));
  Tensor y = x.reshape({2, 1});
  x.set_requires_grad(false);
  y.backward(Tensor::full({2, 1}, 1.0f));
  EXPECT_FALSE(x.grad().defined());
}

namespace {
// Runs f on a thread with a small stack (256 KiB), so that recursion as deep as a graph fails.
void run_with_small_stack(void (*f)()) {
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, 256 * 1024);
  pthread_t thread;
  auto call = [](void* function) -> void* {
    reinterpret_cast<void (*)()>(function)();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attributes, call, reinterpret_cast<void*>(f)), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attributes);
}
}  // namespace

TEST(Autograd, DeepGraphsRunAndFreeWithoutRecursion) {
  // 20,000 ops in a chain: the sort, the sweep and the graph's destruction must all be loops
  // (a recursive destructor overflowed the stack here).
  run_with_small_stack([] {
    Tensor x = test::with_grad(Tensor::from_vector({2}, {1, 2}));
    {
      Tensor y = x;
      for (int i = 0; i < 20000; ++i) y = y.reshape(i % 2 ? Shape{2} : Shape{1, 2});
      total(y).backward(/*retain_graph=*/true);
    }  // the whole graph, still held by y, is freed here
    EXPECT_FLOAT_EQ(x.grad().data()[0], 1);
    // The same with a tensor used twice by each op (z·z), never run backward.
    Tensor z = test::with_grad(Tensor::full({2}, 1.0f));
    for (int i = 0; i < 20000; ++i) z = times(z, z);
  });
}
