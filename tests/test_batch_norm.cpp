// batch_norm: the kernels against their references, shapes, gradients of x, gamma and beta in
// train and eval mode, running statistics after two steps worked out by hand, and the errors
// (among them PyTorch's "more than 1 value per channel when training").
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/ops/batch_norm.h"
#include "kernels/cpu/batch_norm.h"
#include "tests/test_util.h"

using namespace pg;

// ---- kernels: fast vs reference ----

TEST(BatchNormKernel, FastMatchesReferenceOverGeometries) {
  const std::vector<kernels::BatchNormGeometry> geometries = {
      {.batch = 1, .channels = 3, .inner = 7},
      {.batch = 2, .channels = 5, .inner = 1},
      {.batch = 3, .channels = 4, .inner = 33},
      {.batch = 2, .channels = 1, .inner = 257},
      {.batch = 5, .channels = 7, .inner = 9},
      {.batch = 2, .channels = 5, .inner = 3301}};  // the last: threaded
  Rng rng(11);
  for (const auto& g : geometries) {
    const int64_t n = g.batch * g.channels * g.inner;
    const std::string where = "N " + std::to_string(g.batch) + " C " + std::to_string(g.channels) +
                              " inner " + std::to_string(g.inner);
    // An offset of 3 makes the variance a difference of nearby numbers, as in real activations.
    std::vector<float> x = test::random_vector(n, rng, 2.0f, 4.0f), dy = test::random_vector(n, rng);
    std::vector<float> gamma = test::random_vector(g.channels, rng, 0.5f, 1.5f);
    std::vector<float> beta = test::random_vector(g.channels, rng);

    std::vector<float> mean(g.channels), var(g.channels), mean_ref(g.channels), var_ref(g.channels);
    kernels::batch_norm_statistics(x.data(), mean.data(), var.data(), g);
    kernels::batch_norm_statistics_reference(x.data(), mean_ref.data(), var_ref.data(), g);
    test::expect_close(mean.data(), mean_ref.data(), g.channels, 1e-6f, 1e-6f, "mean " + where);
    test::expect_close(var.data(), var_ref.data(), g.channels, 1e-5f, 1e-7f, "var " + where);

    std::vector<float> inv_std(g.channels);
    for (int64_t c = 0; c < g.channels; ++c) inv_std[c] = 1.0f / std::sqrt(var_ref[c] + 1e-5f);
    for (bool affine : {false, true}) {
      std::vector<float> y(n), y_ref(n);
      kernels::BatchNormBuffers b{.x = x.data(),
                                  .mean = mean_ref.data(),
                                  .inv_std = inv_std.data(),
                                  .gamma = affine ? gamma.data() : nullptr,
                                  .beta = affine ? beta.data() : nullptr,
                                  .y = y.data()};
      kernels::batch_norm_forward(b, g);
      b.y = y_ref.data();
      kernels::batch_norm_forward_reference(b, g);
      test::expect_close(y.data(), y_ref.data(), n, 1e-4f, 1e-5f, "forward " + where);

      for (bool training : {false, true}) {
        // Both start from the same non-zero values: the kernels accumulate.
        std::vector<float> dx(n, 0.5f), dx_ref(n, 0.5f), dgamma(g.channels, 1.0f),
            dgamma_ref(g.channels, 1.0f), dbeta(g.channels, -1.0f), dbeta_ref(g.channels, -1.0f);
        b.dy = dy.data();
        b.dx = dx.data(), b.dgamma = dgamma.data(), b.dbeta = dbeta.data();
        kernels::batch_norm_backward(b, g, training);
        b.dx = dx_ref.data(), b.dgamma = dgamma_ref.data(), b.dbeta = dbeta_ref.data();
        kernels::batch_norm_backward_reference(b, g, training);
        const std::string mode = training ? " train " : " eval ";
        test::expect_close(dx.data(), dx_ref.data(), n, 1e-3f, 1e-4f, "dx" + mode + where);
        test::expect_close(dgamma.data(), dgamma_ref.data(), g.channels, 1e-4f, 1e-4f,
                           "dgamma" + mode + where);
        test::expect_close(dbeta.data(), dbeta_ref.data(), g.channels, 1e-4f, 1e-4f, "dbeta" + mode + where);
      }
    }
  }
}

TEST(BatchNormKernel, StatisticsStayAccurateForLargeOffsets) {
  // Values 1000 + {0, 1, 2, 3}: a one-pass Σx² − M·mean² in float would lose the variance 1.25.
  const kernels::BatchNormGeometry g{.batch = 2, .channels = 1, .inner = 2};
  const std::vector<float> x = {1000, 1001, 1002, 1003};
  float mean = 0, var = 0;
  kernels::batch_norm_statistics(x.data(), &mean, &var, g);
  EXPECT_FLOAT_EQ(mean, 1001.5f);
  EXPECT_FLOAT_EQ(var, 1.25f);
}

// ---- the op ----

TEST(BatchNormOp, OutputShapesAndTrainModeNormalises) {
  Rng rng(2);
  for (const Shape& shape : {Shape{3, 4, 5, 7}, Shape{6, 3}}) {
    Tensor x = test::random_tensor(shape, rng, -2.0f, 5.0f);
    Tensor y = batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), {});
    ASSERT_EQ(y.shape(), shape);
    // Each channel of y has mean 0 and (biased) variance 1 up to eps.
    const int64_t C = shape[1], inner = shape.size() == 4 ? shape[2] * shape[3] : 1;
    for (int64_t c = 0; c < C; ++c) {
      double s = 0, s2 = 0;
      int64_t m = 0;
      for (int64_t n = 0; n < shape[0]; ++n)
        for (int64_t i = 0; i < inner; ++i, ++m) {
          double v = y.data()[(n * C + c) * inner + i];
          s += v;
          s2 += v * v;
        }
      EXPECT_NEAR(s / m, 0.0, 1e-5) << shape_str(shape) << " channel " << c;
      EXPECT_NEAR(s2 / m, 1.0, 1e-3) << shape_str(shape) << " channel " << c;
    }
  }
}

TEST(BatchNormOp, HandComputedAffineOutput) {
  // One channel, values 1, 2, 3, 4: mean 2.5, biased var 1.25; gamma 2, beta 1.
  Tensor x = Tensor::from_vector({4, 1}, {1, 2, 3, 4});
  Tensor y = batch_norm(x, Tensor::full({1}, 2.0f), Tensor::full({1}, 1.0f), Tensor(), Tensor(),
                        {.training = true, .momentum = 0.1f, .eps = 0.0f + 1e-5f});
  const double inv_std = 1.0 / std::sqrt(1.25 + 1e-5);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(y.data()[i], 2.0 * (i + 1 - 2.5) * inv_std + 1.0, 1e-5);
}

TEST(BatchNormOp, RunningStatisticsAfterTwoStepsThenEval) {
  // Momentum 0.1, running stats start at mean 0, var 1. x: (2, 1, 1, 2).
  // Step 1: {1, 3, 5, 7}: mean 4, Σ(x − mean)² = 20 → unbiased var 20/3.
  //   running_mean = 0.9·0 + 0.1·4 = 0.4, running_var = 0.9·1 + 0.1·20/3 = 1.5666667
  // Step 2: {0, 2, 2, 4}: mean 2, Σ(x − mean)² = 8 → unbiased var 8/3.
  //   running_mean = 0.9·0.4 + 0.1·2 = 0.56, running_var = 0.9·1.5666667 + 0.1·8/3 = 1.6766667
  Tensor running_mean = Tensor::zeros({1}), running_var = Tensor::full({1}, 1.0f);
  Tensor gamma = Tensor::full({1}, 1.5f), beta = Tensor::full({1}, -0.5f);
  const BatchNormParams train{.training = true, .momentum = 0.1f, .eps = 1e-5f};
  batch_norm(Tensor::from_vector({2, 1, 1, 2}, {1, 3, 5, 7}), gamma, beta, running_mean, running_var, train);
  EXPECT_NEAR(running_mean.item(), 0.4, 1e-6);
  EXPECT_NEAR(running_var.item(), 0.9 + 2.0 / 3.0, 1e-6);
  Tensor x2 = Tensor::from_vector({2, 1, 1, 2}, {0, 2, 2, 4});
  Tensor y_train = batch_norm(x2, gamma, beta, running_mean, running_var, train);
  EXPECT_NEAR(running_mean.item(), 0.56, 1e-6);
  EXPECT_NEAR(running_var.item(), 0.9 * (0.9 + 2.0 / 3.0) + 0.8 / 3.0, 1e-6);

  // Eval normalises with the running statistics and leaves them alone.
  const BatchNormParams eval{.training = false, .momentum = 0.1f, .eps = 1e-5f};
  Tensor y_eval = batch_norm(x2, gamma, beta, running_mean, running_var, eval);
  EXPECT_NEAR(running_mean.item(), 0.56, 1e-6);
  const double rv = 0.9 * (0.9 + 2.0 / 3.0) + 0.8 / 3.0;
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(y_eval.data()[i], 1.5 * (x2.data()[i] - 0.56) / std::sqrt(rv + 1e-5) - 0.5, 1e-5);
    // Train mode used this batch's own statistics (mean 2, biased var 2) instead.
    EXPECT_NEAR(y_train.data()[i], 1.5 * (x2.data()[i] - 2.0) / std::sqrt(2.0 + 1e-5) - 0.5, 1e-5);
  }
  // In eval a lone value is fine: each element depends only on itself.
  Tensor single =
      batch_norm(Tensor::from_vector({1, 1, 1, 1}, {2}), gamma, beta, running_mean, running_var, eval);
  EXPECT_NEAR(single.item(), y_eval.data()[1], 1e-6);
}

TEST(BatchNormOp, TrainingWithOneValuePerChannelIsAnError) {
  Tensor running_mean = Tensor::zeros({3}), running_var = Tensor::full({3}, 1.0f);
  // An image-level pooling branch at batch 1: (1, 3, 1, 1).
  Tensor pooled = Tensor::from_vector({1, 3, 1, 1}, {1, 2, 3});
  test::expect_error_containing(
      [&] { batch_norm(pooled, Tensor(), Tensor(), running_mean, running_var, {}); },
      "expected more than 1 value per channel when training");
  test::expect_error_containing(
      [&] {
        batch_norm(Tensor::from_vector({1, 3}, {1, 2, 3}), Tensor(), Tensor(), Tensor(), Tensor(), {});
      },
      "more than 1 value per channel");
  // The failed call did not touch the running statistics.
  EXPECT_EQ(running_mean.to_vector(), std::vector<float>(3, 0.0f));
  // Two values per channel, from the batch or from space, are enough.
  EXPECT_NO_THROW(batch_norm(Tensor::zeros({2, 3, 1, 1}), Tensor(), Tensor(), Tensor(), Tensor(), {}));
  EXPECT_NO_THROW(batch_norm(Tensor::zeros({1, 3, 1, 2}), Tensor(), Tensor(), Tensor(), Tensor(), {}));
  EXPECT_NO_THROW(batch_norm(pooled, Tensor(), Tensor(), running_mean, running_var, {.training = false}));
}

TEST(BatchNormOp, GradientsInTrainMode) {
  Rng rng(5);
  Tensor x = test::with_grad(test::random_tensor({3, 2, 3, 5}, rng, -1.0f, 2.0f));
  Tensor gamma = test::with_grad(test::random_tensor({2}, rng, 0.5f, 1.5f));
  Tensor beta = test::with_grad(test::random_tensor({2}, rng));
  auto f = [](const std::vector<Tensor>& in) {
    return batch_norm(in[0], in[1], in[2], Tensor(), Tensor(), {.training = true});
  };
  test::expect_gradients_match(f, {x, gamma, beta}, {.step = 1e-2f, .tolerance = 1e-2f});
  // (N, C) input without affine parameters.
  Tensor x2 = test::with_grad(test::random_tensor({5, 3}, rng));
  test::expect_gradients_match(
      [](const std::vector<Tensor>& in) {
        return batch_norm(in[0], Tensor(), Tensor(), Tensor(), Tensor(), {});
      },
      {x2}, {.step = 1e-2f, .tolerance = 1e-2f});
}

TEST(BatchNormOp, GradientsInEvalMode) {
  Rng rng(6);
  Tensor x = test::with_grad(test::random_tensor({2, 3, 2, 3}, rng));
  Tensor gamma = test::with_grad(test::random_tensor({3}, rng, 0.5f, 1.5f));
  Tensor beta = test::with_grad(test::random_tensor({3}, rng));
  Tensor running_mean = test::random_tensor({3}, rng),
         running_var = test::random_tensor({3}, rng, 0.5f, 2.0f);
  auto f = [&](const std::vector<Tensor>& in) {
    return batch_norm(in[0], in[1], in[2], running_mean, running_var, {.training = false});
  };
  test::expect_gradients_match(f, {x, gamma, beta});
}

TEST(BatchNormOp, BadInputsAreErrors) {
  Tensor x = Tensor::zeros({2, 3, 4, 4});
  Tensor c3 = Tensor::zeros({3}), c4 = Tensor::zeros({4});
  test::expect_error_containing([&] { batch_norm(Tensor::zeros({2, 3, 4}), c3, c3, c3, c3, {}); }, "4-D");
  test::expect_error_containing([&] { batch_norm(x, c4, c3, c3, c3, {}); }, "gamma must have shape (3,)");
  test::expect_error_containing([&] { batch_norm(x, c3, c4, c3, c3, {}); }, "beta");
  test::expect_error_containing([&] { batch_norm(x, c3, c3, c4, c3, {}); }, "running_mean");
  test::expect_error_containing([&] { batch_norm(x, c3, c3, c3, Tensor::zeros({3, 1}), {}); }, "running_var");
  test::expect_error_containing([&] { batch_norm(x, c3, c3, c3, Tensor(), {}); }, "both");
  test::expect_error_containing([&] { batch_norm(x, c3, c3, Tensor(), Tensor(), {.training = false}); },
                                "eval mode");
  test::expect_error_containing([&] { batch_norm(Tensor(), c3, c3, c3, c3, {}); }, "undefined");
}
