// Shape ops: concat, slice, crop2d, pad2d. Values on small hand cases and against plain index
// loops on larger tensors (the threaded copy path), round trips, gradients by finite
// differences, and the errors for mismatched shapes and out-of-range windows.
#include <gtest/gtest.h>

#include <functional>
#include <utility>
#include <vector>

#include "core/autograd.h"
#include "core/ops/reduce.h"
#include "core/ops/shape_ops.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

// x[n][c][h][w] of a 4-D tensor.
float at(const Tensor& x, int64_t n, int64_t c, int64_t h, int64_t w) {
  return x.data()[((n * x.size(1) + c) * x.size(2) + h) * x.size(3) + w];
}

}  // namespace

// ---- concat ----

TEST(ShapeOpsConcat, HandValuesAlongChannelsAndRows) {
  Tensor a = Tensor::from_vector({2, 1, 2}, {1, 2, 3, 4});
  Tensor b = Tensor::from_vector({2, 2, 2}, {5, 6, 7, 8, 9, 10, 11, 12});
  Tensor y = concat({a, b}, 1);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12}));
  Tensor rows = concat({a, a}, 0);
  EXPECT_EQ(rows.shape(), (Shape{4, 1, 2}));
  EXPECT_EQ(rows.to_vector(), (std::vector<float>{1, 2, 3, 4, 1, 2, 3, 4}));
  Tensor last = concat({a, a}, -1);
  EXPECT_EQ(last.shape(), (Shape{2, 1, 4}));
  EXPECT_EQ(last.to_vector(), (std::vector<float>{1, 2, 1, 2, 3, 4, 3, 4}));
}

TEST(ShapeOpsConcat, LargeTensorsMatchAnIndexLoop) {
  Rng rng(1);
  Tensor a = test::random_tensor({2, 5, 33, 41}, rng), b = test::random_tensor({2, 3, 33, 41}, rng);
  Tensor y = concat({a, b}, 1);
  ASSERT_EQ(y.shape(), (Shape{2, 8, 33, 41}));
  int64_t bad = 0;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c = 0; c < 8; ++c)
      for (int64_t h = 0; h < 33; ++h)
        for (int64_t w = 0; w < 41; ++w)
          bad += at(y, n, c, h, w) != (c < 5 ? at(a, n, c, h, w) : at(b, n, c - 5, h, w));
  EXPECT_EQ(bad, 0);
}

TEST(ShapeOpsConcat, SliceUndoesItAndGradientsFlowBack) {
  Rng rng(2);
  Tensor a = test::with_grad(test::random_tensor({2, 3, 4, 5}, rng));
  Tensor b = test::with_grad(test::random_tensor({2, 3, 1, 5}, rng));
  Tensor c = test::with_grad(test::random_tensor({2, 3, 2, 5}, rng));
  Tensor y = concat({a, b, c}, 2);
  EXPECT_EQ(slice(y, 2, 0, 4).to_vector(), a.to_vector());
  EXPECT_EQ(slice(y, 2, 4, 5).to_vector(), b.to_vector());
  EXPECT_EQ(slice(y, -2, 5, 7).to_vector(), c.to_vector());
  for (int dim : {0, 1, 3})
    test::expect_gradients_match(
        [dim](const std::vector<Tensor>& in) {
          return concat({in[0], in[0]}, dim);
        },
        {a});
  test::expect_gradients_match([](const std::vector<Tensor>& in) { return concat(in, 2); }, {a, b, c});
}

TEST(ShapeOpsConcat, MismatchesAreErrors) {
  Tensor a = Tensor::zeros({2, 3, 4, 4});
  test::expect_error_containing(
      [&] {
        concat({a, Tensor::zeros({2, 3, 5, 4})}, 1);
      },
      "input 1 is (2, 3, 5, 4)");
  test::expect_error_containing([&] { concat({a, Tensor::zeros({2, 3, 4})}, 1); }, "concat:");
  test::expect_error_containing([&] { concat({a, a}, 4); }, "dim 4 is out of range");
  test::expect_error_containing([&] { concat({a, a}, -5); }, "out of range");
  test::expect_error_containing([&] { concat({}, 1); }, "at least one");
  test::expect_error_containing([&] { concat({a, Tensor()}, 1); }, "input 1 is undefined");
}

// ---- slice ----

TEST(ShapeOpsSlice, ValuesShapesAndGradients) {
  Tensor x = Tensor::from_vector({2, 4}, {0, 1, 2, 3, 4, 5, 6, 7});
  Tensor y = slice(x, 1, 1, 3);
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{1, 2, 5, 6}));
  EXPECT_EQ(slice(x, 0, 1, 2).to_vector(), (std::vector<float>{4, 5, 6, 7}));
  Tensor g = test::with_grad(Tensor::from_vector({2, 4}, {0, 1, 2, 3, 4, 5, 6, 7}));
  Tensor s = slice(g, 1, 1, 3);
  s.backward(Tensor::full(s.shape(), 1.0f));
  EXPECT_EQ(g.grad().to_vector(), (std::vector<float>{0, 1, 1, 0, 0, 1, 1, 0}));
  Rng rng(3);
  Tensor z = test::with_grad(test::random_tensor({3, 5, 7}, rng));
  for (int dim : {0, 1, 2, -1})
    test::expect_gradients_match([dim](const std::vector<Tensor>& in) { return slice(in[0], dim, 1, 3); },
                                 {z});
}

TEST(ShapeOpsSlice, OutOfRangeIsAnError) {
  Tensor x = Tensor::zeros({2, 4});
  test::expect_error_containing([&] { slice(x, 1, 2, 5); },
                                "slice: the range [2, 5) must be non-empty and inside [0, 4)");
  test::expect_error_containing([&] { slice(x, 1, 2, 2); }, "non-empty");
  test::expect_error_containing([&] { slice(x, 1, -1, 2); }, "[-1, 2)");
  test::expect_error_containing([&] { slice(x, 2, 0, 1); }, "dim 2 is out of range");
}

// ---- crop2d / pad2d ----

TEST(ShapeOpsCropPad, HandValues) {
  Tensor x = Tensor::from_vector({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor c = crop2d(x, 1, 0, 2, 2);
  EXPECT_EQ(c.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(c.to_vector(), (std::vector<float>{4, 5, 7, 8}));
  Tensor p = pad2d(Tensor::from_vector({1, 1, 1, 2}, {1, 2}), 1, 0, 0, 2);
  EXPECT_EQ(p.shape(), (Shape{1, 1, 2, 4}));
  EXPECT_EQ(p.to_vector(), (std::vector<float>{0, 0, 0, 0, 1, 2, 0, 0}));
}

TEST(ShapeOpsCropPad, LargeTensorsMatchAnIndexLoop) {
  Rng rng(4);
  Tensor x = test::random_tensor({2, 3, 67, 71}, rng);
  Tensor c = crop2d(x, 5, 9, 50, 61);
  Tensor p = pad2d(x, 2, 3, 4, 1);
  ASSERT_EQ(c.shape(), (Shape{2, 3, 50, 61}));
  ASSERT_EQ(p.shape(), (Shape{2, 3, 72, 76}));
  int64_t bad = 0;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t ch = 0; ch < 3; ++ch) {
      for (int64_t h = 0; h < 50; ++h)
        for (int64_t w = 0; w < 61; ++w) bad += at(c, n, ch, h, w) != at(x, n, ch, h + 5, w + 9);
      for (int64_t h = 0; h < 72; ++h)
        for (int64_t w = 0; w < 76; ++w) {
          const bool inside = h >= 2 && h < 69 && w >= 4 && w < 75;
          bad += at(p, n, ch, h, w) != (inside ? at(x, n, ch, h - 2, w - 4) : 0.0f);
        }
    }
  EXPECT_EQ(bad, 0);
}

TEST(ShapeOpsCropPad, CropUndoesPadAndGradients) {
  Rng rng(5);
  Tensor x = test::with_grad(test::random_tensor({2, 3, 4, 5}, rng));
  EXPECT_EQ(crop2d(pad2d(x, 1, 2, 3, 0), 1, 3, 4, 5).to_vector(), x.to_vector());
  // FCN's crop arithmetic: pad 100, crop back the original window.
  EXPECT_EQ(crop2d(pad2d(x, 100, 100, 100, 100), 100, 100, 4, 5).to_vector(), x.to_vector());
  test::expect_gradients_match([](const std::vector<Tensor>& in) { return crop2d(in[0], 1, 2, 2, 3); }, {x});
  test::expect_gradients_match([](const std::vector<Tensor>& in) { return pad2d(in[0], 1, 2, 0, 3); }, {x});
  test::expect_gradients_match(
      [](const std::vector<Tensor>& in) { return crop2d(pad2d(in[0], 2, 2, 2, 2), 1, 1, 5, 6); }, {x});
}

TEST(ShapeOpsCropPad, BadWindowsAreErrors) {
  Tensor x = Tensor::zeros({1, 2, 4, 5});
  test::expect_error_containing([&] { crop2d(x, 2, 0, 3, 5); },
                                "crop2d: the window of 3×5 at (top 2, left 0)");
  test::expect_error_containing([&] { crop2d(x, 0, 1, 4, 5); }, "inside the 4×5 input");
  test::expect_error_containing([&] { crop2d(x, -1, 0, 2, 2); }, "crop2d:");
  test::expect_error_containing([&] { crop2d(x, 0, 0, 0, 2); }, "non-empty");
  test::expect_error_containing([&] { crop2d(Tensor::zeros({2, 4, 5}), 0, 0, 1, 1); }, "must be 4-D");
  test::expect_error_containing([&] { pad2d(x, 0, -1, 0, 0); }, "pad2d: padding must be non-negative");
  test::expect_error_containing([&] { pad2d(Tensor::zeros({4, 5}), 1, 1, 1, 1); }, "must be 4-D");
}

// A leaf frozen (requires_grad off) between forward and backward gets no gradient buffer: each
// op's backward must skip it rather than write through a null pointer.
TEST(ShapeOpsFrozenInput, BackwardSkipsALeafThatStoppedRequiringGrad) {
  Rng rng(93);
  const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> ops = {
      {"slice", [](const Tensor& x) { return slice(x, 1, 1, 3); }},
      {"crop2d", [](const Tensor& x) { return crop2d(x, 1, 1, 2, 3); }},
      {"pad2d", [](const Tensor& x) { return pad2d(x, 1, 0, 2, 1); }},
      {"concat",
       [](const Tensor& x) {
         return concat(std::vector<Tensor>{x, x}, 1);
       }},
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
