// Linear (layers/linear.h): the product against a hand-written loop, gradients by finite
// differences for input, weight and bias, and the error on a wrong input.
#include <gtest/gtest.h>

#include "layers/linear.h"
#include "tests/test_util.h"

using namespace pg;

TEST(Linear, MatchesTheLoopAndNames) {
  Rng rng(1);
  Linear fc(5, 3, rng);
  const NamedTensors params = fc.named_parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].first, "weight");
  EXPECT_EQ(params[0].second.shape(), (Shape{3, 5}));
  EXPECT_EQ(params[1].first, "bias");
  const Tensor x = test::random_tensor({4, 5}, rng);
  const Tensor y = fc.forward(x);
  ASSERT_EQ(y.shape(), (Shape{4, 3}));
  std::vector<float> expected(12);
  for (int n = 0; n < 4; ++n)
    for (int o = 0; o < 3; ++o) {
      double sum = fc.bias().data()[o];
      for (int i = 0; i < 5; ++i) sum += double{fc.weight().data()[o * 5 + i]} * x.data()[n * 5 + i];
      expected[n * 3 + o] = static_cast<float>(sum);
    }
  test::expect_close(y, Tensor::from_vector({4, 3}, expected), 1e-5f, 1e-6f, "Linear forward");
}

TEST(Linear, GradientsMatchFiniteDifferences) {
  Rng rng(2);
  Linear fc(6, 4, rng);
  const Tensor x = test::with_grad(test::random_tensor({3, 6}, rng));
  test::expect_gradients_match([&](const std::vector<Tensor>& in) { return fc.forward(in[0]); }, {x});
  test::expect_gradients_match([&](const std::vector<Tensor>&) { return fc.forward(x.detach()); },
                               {fc.weight(), fc.bias()});
}

TEST(Linear, RejectsAWrongInput) {
  Rng rng(3);
  Linear fc(6, 4, rng);
  test::expect_error_containing(
      [&] {
        fc.forward(test::random_tensor({3, 5}, rng));
      },
      "Linear(6 → 4): expected an input (N, 6), got (3, 5)");
}
