// batch_norm_relu: the fused kernels against their references, the op against the unfused
// relu(batch_norm(x)) (outputs, every gradient, running statistics; train and eval; odd sizes,
// N = 1, threaded sizes), finite-difference gradients, the layer's forward_relu, and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/ops/activation.h"
#include "core/ops/arithmetic.h"
#include "core/ops/batch_norm.h"
#include "core/ops/batch_norm_relu.h"
#include "core/ops/reduce.h"
#include "kernels/cpu/batch_norm_relu.h"
#include "layers/batch_norm2d.h"
#include "tests/test_util.h"

using namespace pg;

namespace {
std::string geometry_name(const kernels::BatchNormGeometry& g) {
  return "N " + std::to_string(g.batch) + " C " + std::to_string(g.channels) + " inner " +
         std::to_string(g.inner);
}
}  // namespace

// ---- kernels: fast vs reference ----

TEST(BatchNormReluKernel, FastMatchesReferenceOverGeometries) {
  const std::vector<kernels::BatchNormGeometry> geometries = {
      {.batch = 1, .channels = 3, .inner = 7},  {.batch = 2, .channels = 5, .inner = 1},
      {.batch = 3, .channels = 4, .inner = 33}, {.batch = 2, .channels = 1, .inner = 257},
      {.batch = 5, .channels = 7, .inner = 9},  {.batch = 2, .channels = 5, .inner = 3301}};
  Rng rng(22);
  for (const auto& g : geometries) {
    const int64_t n = g.batch * g.channels * g.inner;
    const std::string where = geometry_name(g);
    std::vector<float> x = test::random_vector(n, rng, -1.0f, 3.0f), dy = test::random_vector(n, rng);
    std::vector<float> mean = test::random_vector(g.channels, rng, 0.5f, 1.5f);
    std::vector<float> inv_std = test::random_vector(g.channels, rng, 0.5f, 2.0f);
    std::vector<float> gamma = test::random_vector(g.channels, rng, -1.5f, 1.5f);  // negative too
    std::vector<float> beta = test::random_vector(g.channels, rng);
    for (bool affine : {false, true}) {
      std::vector<float> y(n), y_ref(n);
      kernels::BatchNormBuffers b{.x = x.data(),
                                  .mean = mean.data(),
                                  .inv_std = inv_std.data(),
                                  .gamma = affine ? gamma.data() : nullptr,
                                  .beta = affine ? beta.data() : nullptr,
                                  .y = y.data()};
      kernels::batch_norm_relu_forward(b, g);
      b.y = y_ref.data();
      kernels::batch_norm_relu_forward_reference(b, g);
      test::expect_close(y.data(), y_ref.data(), n, 1e-5f, 1e-6f, "forward " + where);
      int64_t zeros = 0;
      for (float v : y) zeros += v == 0.0f;
      EXPECT_GT(zeros, 0) << "the ReLU never clipped: the test would not see the mask, " << where;

      for (bool training : {false, true})
        for (bool want_dx : {false, true}) {
          // Both start from the same non-zero values: the kernels accumulate.
          std::vector<float> dx(n, 0.5f), dx_ref(n, 0.5f), dgamma(g.channels, 1.0f),
              dgamma_ref(g.channels, 1.0f), dbeta(g.channels, -1.0f), dbeta_ref(g.channels, -1.0f);
          b.dy = dy.data();
          b.dx = want_dx ? dx.data() : nullptr, b.dgamma = dgamma.data(), b.dbeta = dbeta.data();
          kernels::batch_norm_relu_backward(b, g, training);
          b.dx = want_dx ? dx_ref.data() : nullptr, b.dgamma = dgamma_ref.data(), b.dbeta = dbeta_ref.data();
          kernels::batch_norm_relu_backward_reference(b, g, training);
          const std::string mode = (training ? " train " : " eval ") + std::string(want_dx ? "" : "no dx ");
          test::expect_close(dx.data(), dx_ref.data(), n, 1e-3f, 1e-4f, "dx" + mode + where);
          test::expect_close(dgamma.data(), dgamma_ref.data(), g.channels, 1e-4f, 1e-4f,
                             "dgamma" + mode + where);
          test::expect_close(dbeta.data(), dbeta_ref.data(), g.channels, 1e-4f, 1e-4f,
                             "dbeta" + mode + where);
        }
    }
  }
}

// ---- the op against the unfused pair ----

TEST(BatchNormReluOp, MatchesUnfusedBatchNormThenRelu) {
  Rng rng(23);
  const std::vector<Shape> shapes = {Shape{1, 3, 5, 7}, Shape{3, 4, 9, 11}, Shape{2, 5}, Shape{1, 2, 1, 2},
                                     Shape{8, 16, 32, 32}};  // the last: threaded
  for (const Shape& shape : shapes)
    for (bool training : {true, false}) {
      const int64_t C = shape[1];
      const std::string where = shape_str(shape) + (training ? " train" : " eval");
      const Tensor x_values = test::random_tensor(shape, rng, -2.0f, 5.0f);
      const Tensor dy = test::random_tensor(shape, rng);
      const Tensor gamma_values = test::random_tensor({C}, rng, 0.5f, 1.5f);
      const Tensor beta_values = test::random_tensor({C}, rng, -0.5f, 0.5f);
      const Tensor running_mean_values = test::random_tensor({C}, rng, 0.0f, 2.0f);
      const Tensor running_var_values = test::random_tensor({C}, rng, 0.5f, 3.0f);

      // Two identical sets of leaves and buffers, one per path.
      struct Path {
        Tensor x, gamma, beta, running_mean, running_var, y;
      };
      auto make_path = [&] {
        return Path{test::with_grad(x_values.clone()),    test::with_grad(gamma_values.clone()),
                    test::with_grad(beta_values.clone()), running_mean_values.clone(),
                    running_var_values.clone(),           Tensor()};
      };
      const BatchNormParams p{.training = training, .momentum = 0.3f, .eps = 1e-5f};
      Path fused = make_path(), unfused = make_path();
      fused.y = batch_norm_relu(fused.x, fused.gamma, fused.beta, fused.running_mean, fused.running_var, p);
      unfused.y = relu(
          batch_norm(unfused.x, unfused.gamma, unfused.beta, unfused.running_mean, unfused.running_var, p));
      for (Path* path : {&fused, &unfused}) sum(mul(path->y, dy)).backward();

      test::expect_close(fused.y, unfused.y, 1e-5f, 1e-5f, "y " + where);
      test::expect_close(fused.x.grad(), unfused.x.grad(), 1e-4f, 1e-5f, "dx " + where);
      test::expect_close(fused.gamma.grad(), unfused.gamma.grad(), 1e-4f, 1e-4f, "dgamma " + where);
      test::expect_close(fused.beta.grad(), unfused.beta.grad(), 1e-4f, 1e-4f, "dbeta " + where);
      test::expect_close(fused.running_mean, unfused.running_mean, 1e-6f, 1e-6f, "running_mean " + where);
      test::expect_close(fused.running_var, unfused.running_var, 1e-6f, 1e-6f, "running_var " + where);
    }
}

TEST(BatchNormReluOp, WithoutAffineOrRunningStatistics) {
  Rng rng(24);
  Tensor x = test::random_tensor({2, 3, 4, 5}, rng);
  test::expect_close(batch_norm_relu(x, Tensor(), Tensor(), Tensor(), Tensor(), {}),
                     relu(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), {})), 1e-5f, 1e-5f,
                     "no affine, batch statistics only");
}

TEST(BatchNormReluOp, GradientsInTrainMode) {
  Rng rng(25);
  Tensor x = test::with_grad(test::random_tensor({3, 2, 3, 5}, rng, -1.0f, 2.0f));
  Tensor gamma = test::with_grad(test::random_tensor({2}, rng, 0.5f, 1.5f));
  Tensor beta = test::with_grad(test::random_tensor({2}, rng, -0.3f, 0.3f));
  auto f = [](const std::vector<Tensor>& in) {
    return batch_norm_relu(in[0], in[1], in[2], Tensor(), Tensor(), {.training = true});
  };
  // A small step: moving gamma or beta moves every value of a channel, and a step of 1e-2 would
  // carry several of them across the ReLU's kink.
  test::expect_gradients_match(f, {x, gamma, beta}, {.step = 1e-3f, .tolerance = 1e-2f});
  // N = 1, (N, C) input without affine parameters.
  Tensor x1 = test::with_grad(test::random_tensor({1, 2, 3, 3}, rng));
  Tensor x2 = test::with_grad(test::random_tensor({5, 3}, rng));
  for (const Tensor& input : {x1, x2})
    test::expect_gradients_match(
        [](const std::vector<Tensor>& in) {
          return batch_norm_relu(in[0], Tensor(), Tensor(), Tensor(), Tensor(), {});
        },
        {input}, {.step = 1e-2f, .tolerance = 1e-2f});
}

TEST(BatchNormReluOp, GradientsInEvalMode) {
  Rng rng(26);
  Tensor x = test::with_grad(test::random_tensor({2, 3, 2, 3}, rng));
  Tensor gamma = test::with_grad(test::random_tensor({3}, rng, 0.5f, 1.5f));
  Tensor beta = test::with_grad(test::random_tensor({3}, rng));
  Tensor running_mean = test::random_tensor({3}, rng),
         running_var = test::random_tensor({3}, rng, 0.5f, 2.0f);
  auto f = [&](const std::vector<Tensor>& in) {
    return batch_norm_relu(in[0], in[1], in[2], running_mean, running_var, {.training = false});
  };
  test::expect_gradients_match(f, {x, gamma, beta}, {.step = 1e-3f, .tolerance = 1e-2f});
}

TEST(BatchNormReluOp, ErrorsNameTheFusedOp) {
  Tensor x = Tensor::zeros({2, 3, 4, 4});
  Tensor c3 = Tensor::zeros({3}), c4 = Tensor::zeros({4});
  test::expect_error_containing([&] { batch_norm_relu(x, c4, c3, c3, c3, {}); },
                                "batch_norm_relu: gamma must have shape (3,)");
  test::expect_error_containing(
      [&] {
        batch_norm_relu(Tensor::zeros({1, 3, 1, 1}), c3, c3, c3, c3, {});
      },
      "batch_norm_relu: expected more than 1 value per channel when training");
  test::expect_error_containing([&] { batch_norm_relu(x, c3, c3, Tensor(), Tensor(), {.training = false}); },
                                "eval mode");
}

// ---- the layer ----

TEST(BatchNormReluLayer, ForwardReluMatchesReluOfForwardInTrainEvalAndFrozen) {
  Rng rng(27);
  BatchNorm2d fused_bn(4, {.momentum = 0.2f}), unfused_bn(4, {.momentum = 0.2f});
  for (BatchNorm2d* bn : {&fused_bn, &unfused_bn}) {
    bn->weight().data()[1] = -0.5f;
    bn->bias().data()[2] = 0.3f;
  }
  auto compare = [&](const std::string& mode) {
    Tensor x = test::random_tensor({3, 4, 5, 6}, rng, -1.0f, 2.0f);
    test::expect_close(fused_bn.forward_relu(x), relu(unfused_bn.forward(x)), 1e-5f, 1e-5f, "y " + mode);
    test::expect_close(fused_bn.running_mean(), unfused_bn.running_mean(), 1e-6f, 1e-6f,
                       "running_mean " + mode);
    test::expect_close(fused_bn.running_var(), unfused_bn.running_var(), 1e-6f, 1e-6f, "running_var " + mode);
  };
  compare("train step 1");
  compare("train step 2");
  EXPECT_NE(fused_bn.running_mean().data()[0], 0.0f) << "training updated the running mean";
  fused_bn.eval(), unfused_bn.eval();
  compare("eval");
  fused_bn.train(), unfused_bn.train();
  fused_bn.freeze(), unfused_bn.freeze();
  compare("frozen");
}
