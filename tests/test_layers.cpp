// Layers: PyTorch-style names and parameter counts, train/eval propagation, frozen batch norm,
// dropout in eval, Upsample sizes, the bilinear-initialised deconvolution (its filter, and the
// oracle: it reproduces bilinear upsampling away from the borders), clear layer errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/ops/activation.h"
#include "core/ops/batch_norm.h"
#include "core/ops/conv2d.h"
#include "core/ops/resize_bilinear.h"
#include "layers/adaptive_avg_pool2d.h"
#include "layers/avg_pool2d.h"
#include "layers/batch_norm2d.h"
#include "layers/conv2d.h"
#include "layers/conv_transpose2d.h"
#include "layers/dropout.h"
#include "layers/max_pool2d.h"
#include "layers/relu.h"
#include "layers/separable_conv2d.h"
#include "layers/sequential.h"
#include "layers/upsample.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

std::vector<std::string> names_of(const NamedTensors& named) {
  std::vector<std::string> names;
  for (const auto& [name, t] : named) names.push_back(name);
  return names;
}

// The message of the pg::Error that `f` throws ("" when it throws none).
std::string error_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void set_values(const Tensor& t, const std::vector<float>& values) {
  ASSERT_EQ(t.numel(), static_cast<int64_t>(values.size()));
  for (size_t i = 0; i < values.size(); ++i) t.data()[i] = values[i];
}

}  // namespace

TEST(Layers, SequentialNamesChildrenLikePyTorch) {
  Rng rng(1);
  Sequential net;
  auto conv =
      net.add(std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 3, .out_channels = 4, .pad = 1}, rng));
  net.add(std::make_shared<BatchNorm2d>(4));
  net.add(std::make_shared<ReLU>());
  EXPECT_EQ(net.size(), 3u);
  EXPECT_EQ(&net[0], conv.get());
  EXPECT_EQ(names_of(net.named_parameters()),
            (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias"}));
  EXPECT_EQ(names_of(net.named_buffers()), (std::vector<std::string>{"1.running_mean", "1.running_var"}));
  EXPECT_EQ(names_of(net.state_dict()), (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias",
                                                                  "1.running_mean", "1.running_var"}));
  EXPECT_EQ(net.parameter_count(), 4 * 3 * 3 * 3 + 4 + 4 + 4);
  EXPECT_THROW(net[3], Error);
}

TEST(Layers, SequentialChainsForwardInOrder) {
  Rng rng(2);
  auto conv = std::make_shared<Conv2d>(Conv2dOptions{.in_channels = 2, .out_channels = 3, .pad = 1}, rng);
  auto bn = std::make_shared<BatchNorm2d>(3);
  Sequential net({conv, bn, std::make_shared<ReLU>()});
  Tensor x = test::random_tensor({2, 2, 5, 6}, rng);
  Tensor expected = relu(bn->forward(conv->forward(x)));
  test::expect_close(net.forward(x), expected, 1e-6f, 1e-6f, "Sequential vs the calls by hand");
  test::expect_close(Sequential().forward(x), x, 0.0f, 0.0f, "an empty Sequential");
}

TEST(Layers, Conv2dParametersAndInitialisation) {
  Rng rng(3);
  Conv2d conv(Conv2dOptions{.in_channels = 4, .out_channels = 6, .kernel = 3, .groups = 2}, rng);
  EXPECT_EQ(conv.weight().shape(), (Shape{6, 2, 3, 3}));
  EXPECT_EQ(conv.bias().shape(), (Shape{6}));
  EXPECT_EQ(names_of(conv.named_parameters()), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_TRUE(conv.weight().requires_grad());
  // PyTorch's default: U(−b, b) with b = 1/sqrt(fan_in), fan_in = 2·3·3 = 18, for weight and bias.
  float bound = 1.0f / std::sqrt(18.0f);
  float largest = 0.0f;
  for (const Tensor& t : conv.parameters())
    for (float v : t.to_vector()) largest = std::max(largest, std::fabs(v));
  EXPECT_LE(largest, bound);
  EXPECT_GT(largest, 0.8f * bound);  // 60 draws reach near the bound

  Conv2d no_bias(Conv2dOptions{.in_channels = 3, .out_channels = 5, .kernel = 1, .bias = false}, rng);
  EXPECT_FALSE(no_bias.bias().defined());
  EXPECT_EQ(names_of(no_bias.named_parameters()), (std::vector<std::string>{"weight"}));
}

TEST(Layers, Conv2dOutputShapes) {
  Rng rng(4);
  Tensor x = test::random_tensor({2, 3, 9, 8}, rng);
  Conv2d strided(Conv2dOptions{.in_channels = 3, .out_channels = 5, .stride = 2, .pad = 1}, rng);
  EXPECT_EQ(strided.forward(x).shape(), (Shape{2, 5, 5, 4}));
  Conv2d dilated(Conv2dOptions{.in_channels = 3, .out_channels = 4, .pad = 2, .dilation = 2}, rng);
  EXPECT_EQ(dilated.forward(x).shape(), (Shape{2, 4, 9, 8}));  // "same": pad = d·(k − 1)/2
  // TF "SAME" at stride 2 on an even size: pad 0 at the top/left, 1 at the bottom/right.
  Conv2d same_tf(Conv2dOptions{.in_channels = 3, .out_channels = 4, .stride = 2, .pad_end_extra = 1}, rng);
  EXPECT_EQ(same_tf.forward(x).shape(), (Shape{2, 4, 4, 4}));
}

TEST(Layers, Conv2dErrorsNameTheLayer) {
  Rng rng(5);
  Conv2d conv(Conv2dOptions{.in_channels = 3, .out_channels = 8, .stride = 2, .pad = 1}, rng);
  std::string message = error_message([&] { conv.forward(Tensor::zeros({2, 4, 5, 5})); });
  EXPECT_NE(message.find("Conv2d(3 → 8"), std::string::npos) << message;
  EXPECT_NE(message.find("(N, 3, H, W)"), std::string::npos) << message;
  EXPECT_NE(message.find("(2, 4, 5, 5)"), std::string::npos) << message;
  EXPECT_THROW(conv.forward(Tensor::zeros({3, 5, 5})), Error);
  EXPECT_THROW(conv.forward(Tensor()), Error);
  EXPECT_THROW(Conv2d(Conv2dOptions{.in_channels = 3, .out_channels = 4, .groups = 2}, rng), Error);
  EXPECT_THROW(Conv2d(Conv2dOptions{.in_channels = 0, .out_channels = 4}, rng), Error);
  EXPECT_THROW(Conv2d(Conv2dOptions{.in_channels = 3, .out_channels = 4, .stride = 0}, rng), Error);
}

TEST(Layers, SeparableConv2dNamesAndCount) {
  Rng rng(6);
  SeparableConv2d sep(SeparableConv2dOptions{.in_channels = 4, .out_channels = 6, .pad = 2, .dilation = 2},
                      rng);
  EXPECT_EQ(names_of(sep.named_parameters()),
            (std::vector<std::string>{"depthwise.weight", "depthwise_bn.weight", "depthwise_bn.bias",
                                      "pointwise.weight", "pointwise_bn.weight", "pointwise_bn.bias"}));
  EXPECT_EQ(names_of(sep.named_buffers()),
            (std::vector<std::string>{"depthwise_bn.running_mean", "depthwise_bn.running_var",
                                      "pointwise_bn.running_mean", "pointwise_bn.running_var"}));
  EXPECT_EQ(sep.depthwise().weight().shape(), (Shape{4, 1, 3, 3}));
  EXPECT_EQ(sep.pointwise().weight().shape(), (Shape{6, 4, 1, 1}));
  EXPECT_EQ(sep.parameter_count(), 4 * 9 + 2 * 4 + 6 * 4 + 2 * 6);

  SeparableConv2d plain(
      SeparableConv2dOptions{
          .in_channels = 4, .out_channels = 6, .batch_norm_relu = false, .pointwise_bias = true},
      rng);
  EXPECT_EQ(names_of(plain.named_parameters()),
            (std::vector<std::string>{"depthwise.weight", "pointwise.weight", "pointwise.bias"}));
  EXPECT_EQ(plain.named_buffers().size(), 0u);
  EXPECT_EQ(plain.depthwise_bn(), nullptr);
  EXPECT_EQ(plain.parameter_count(), 4 * 9 + 6 * 4 + 6);
}

TEST(Layers, SeparableConv2dComputesDepthwiseThenPointwise) {
  Rng rng(7);
  SeparableConv2d sep(
      SeparableConv2dOptions{.in_channels = 3, .out_channels = 5, .stride = 2, .pad = 2, .dilation = 2}, rng);
  Tensor x = test::random_tensor({2, 3, 9, 10}, rng);
  // By hand with the ops (train mode: batch statistics, no running statistics needed).
  BatchNormParams train{.training = true};
  Tensor d =
      conv2d(x, sep.depthwise().weight(), Tensor(), {.stride = 2, .pad = 2, .dilation = 2, .groups = 3});
  d = relu(
      batch_norm(d, sep.depthwise_bn()->weight(), sep.depthwise_bn()->bias(), Tensor(), Tensor(), train));
  Tensor p = conv2d(d, sep.pointwise().weight(), Tensor(), {});
  p = relu(
      batch_norm(p, sep.pointwise_bn()->weight(), sep.pointwise_bn()->bias(), Tensor(), Tensor(), train));
  Tensor y = sep.forward(x);
  EXPECT_EQ(y.shape(), (Shape{2, 5, 5, 5}));
  test::expect_close(y, p, 1e-5f, 1e-6f, "SeparableConv2d vs the ops by hand");

  std::string message = error_message([&] { sep.forward(Tensor::zeros({1, 4, 9, 9})); });
  EXPECT_NE(message.find("SeparableConv2d(3 → 5)"), std::string::npos) << message;
}

TEST(Layers, SeparableConv2dBatchNormWithoutRelu) {
  // Aligned Xception's form: depthwise → BN → pointwise → BN, both ReLUs left out.
  Rng rng(10);
  SeparableConv2d sep(SeparableConv2dOptions{.in_channels = 3, .out_channels = 4, .relu = false}, rng);
  Tensor x = test::random_tensor({2, 3, 6, 5}, rng);
  BatchNormParams train{.training = true};
  Tensor d = conv2d(x, sep.depthwise().weight(), Tensor(), {.pad = 1, .groups = 3});
  d = batch_norm(d, sep.depthwise_bn()->weight(), sep.depthwise_bn()->bias(), Tensor(), Tensor(), train);
  Tensor p = conv2d(d, sep.pointwise().weight(), Tensor(), {});
  p = batch_norm(p, sep.pointwise_bn()->weight(), sep.pointwise_bn()->bias(), Tensor(), Tensor(), train);
  Tensor y = sep.forward(x);
  test::expect_close(y, p, 1e-5f, 1e-6f, "SeparableConv2d without ReLU vs the ops by hand");
  EXPECT_LT(*std::min_element(y.data(), y.data() + y.numel()), 0.0f);  // batch-normalised, not rectified
  EXPECT_EQ(sep.parameter_count(), 3 * 9 + 2 * 3 + 4 * 3 + 2 * 4);
}

TEST(Layers, SeparableConv2dGradients) {
  Rng rng(8);
  SeparableConv2d sep(SeparableConv2dOptions{.in_channels = 2, .out_channels = 3}, rng);
  Tensor x = test::random_tensor({2, 2, 5, 4}, rng);
  x.set_requires_grad(true);
  test::expect_gradients_match(
      [&](const std::vector<Tensor>& in) { return sep.forward(in[0]); },
      {x, sep.depthwise().weight(), sep.pointwise().weight(), sep.pointwise_bn()->weight()},
      // A small step: after batch normalisation half the ReLU inputs sit near 0.
      {.step = 1e-3f});
}

TEST(Layers, TrainAndEvalReachEveryChild) {
  Rng rng(9);
  Sequential net;
  auto sep = net.add(
      std::make_shared<SeparableConv2d>(SeparableConv2dOptions{.in_channels = 2, .out_channels = 2}, rng));
  auto inner = net.add(std::make_shared<Sequential>());
  auto dropout = inner->add(std::make_shared<Dropout>(0.5f, rng));
  net.eval();
  EXPECT_FALSE(net.is_training());
  EXPECT_FALSE(sep->is_training());
  EXPECT_FALSE(sep->depthwise_bn()->is_training());
  EXPECT_FALSE(sep->pointwise().is_training());
  EXPECT_FALSE(dropout->is_training());
  net.train();
  EXPECT_TRUE(sep->pointwise_bn()->is_training());
  EXPECT_TRUE(dropout->is_training());
}

TEST(Layers, BatchNorm2dTrainUpdatesRunningStatsAndEvalUsesThem) {
  Rng rng(10);
  BatchNorm2d bn(3, {.momentum = 0.2f, .eps = 1e-3f});
  EXPECT_EQ(names_of(bn.named_parameters()), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(names_of(bn.named_buffers()), (std::vector<std::string>{"running_mean", "running_var"}));
  EXPECT_EQ(bn.running_var().to_vector(), (std::vector<float>{1, 1, 1}));
  Tensor x = test::random_tensor({2, 3, 4, 5}, rng, 1.0f, 3.0f);

  Tensor mean = Tensor::zeros({3}), var = Tensor::full({3}, 1.0f);
  Tensor expected =
      batch_norm(x, bn.weight(), bn.bias(), mean, var, {.training = true, .momentum = 0.2f, .eps = 1e-3f});
  test::expect_close(bn.forward(x), expected, 1e-6f, 1e-6f, "train-mode output");
  test::expect_close(bn.running_mean(), mean, 1e-6f, 1e-7f, "running_mean after one step");
  test::expect_close(bn.running_var(), var, 1e-6f, 1e-7f, "running_var after one step");
  EXPECT_GT(bn.running_mean().data()[0], 0.1f);  // moved towards the batch mean, ≈ 2

  bn.eval();
  Tensor eval_expected = batch_norm(x, bn.weight(), bn.bias(), mean, var, {.training = false, .eps = 1e-3f});
  test::expect_close(bn.forward(x), eval_expected, 1e-6f, 1e-6f, "eval-mode output");
  test::expect_close(bn.running_mean(), mean, 0.0f, 0.0f, "eval leaves running_mean alone");
}

TEST(Layers, BatchNorm2dOneValuePerChannelIsAnErrorOnlyInTraining) {
  BatchNorm2d bn(4);
  Tensor x = Tensor::full({1, 4, 1, 1}, 0.5f);
  std::string message = error_message([&] { bn.forward(x); });
  EXPECT_NE(message.find("more than one value per channel"), std::string::npos) << message;
  bn.eval();
  EXPECT_EQ(bn.forward(x).shape(), (Shape{1, 4, 1, 1}));
  EXPECT_THROW(bn.forward(Tensor::zeros({2, 3, 4, 4})), Error);  // wrong channel count
}

TEST(Layers, FrozenBatchNormUsesRunningStatsInTraining) {
  Rng rng(11);
  BatchNorm2d bn(2);
  set_values(bn.running_mean(), {0.5f, -1.0f});
  set_values(bn.running_var(), {2.0f, 0.25f});
  set_values(bn.weight(), {1.5f, 0.5f});
  set_values(bn.bias(), {0.1f, -0.2f});
  bn.freeze();
  bn.train();
  EXPECT_TRUE(bn.is_frozen());
  Tensor x = test::random_tensor({2, 2, 3, 3}, rng);
  x.set_requires_grad(true);
  Tensor y = bn.forward(x);
  // By hand: y = gamma (x − running_mean) / sqrt(running_var + eps) + beta.
  for (int64_t i = 0; i < x.numel(); ++i) {
    int c = static_cast<int>((i / 9) % 2);
    float mean = c == 0 ? 0.5f : -1.0f, var = c == 0 ? 2.0f : 0.25f;
    float gamma = c == 0 ? 1.5f : 0.5f, beta = c == 0 ? 0.1f : -0.2f;
    EXPECT_NEAR(y.data()[i], gamma * (x.data()[i] - mean) / std::sqrt(var + 1e-5f) + beta, 1e-5f) << i;
  }
  EXPECT_EQ(bn.running_mean().to_vector(), (std::vector<float>{0.5f, -1.0f}));  // not updated
  EXPECT_EQ(bn.running_var().to_vector(), (std::vector<float>{2.0f, 0.25f}));
  // Frozen affine: gamma and beta get no gradient, the input still does.
  EXPECT_FALSE(bn.weight().requires_grad());
  y.backward(Tensor::full(y.shape(), 1.0f));
  EXPECT_FALSE(bn.weight().grad().defined());
  EXPECT_FALSE(bn.bias().grad().defined());
  ASSERT_TRUE(x.grad().defined());
  EXPECT_NEAR(x.grad().data()[0], 1.5f / std::sqrt(2.0f + 1e-5f), 1e-5f);  // dy/dx = gamma / sqrt(var + eps)

  // Frozen statistics with learned gamma/beta: the parameters get gradients again.
  bn.freeze(/*freeze_affine=*/false);
  bn.forward(x).backward(Tensor::full(y.shape(), 1.0f));
  ASSERT_TRUE(bn.bias().grad().defined());
  EXPECT_NEAR(bn.bias().grad().data()[0], 18.0f, 1e-4f);  // Σ over N·H·W = 2·3·3 of dy = 1

  // Unfrozen: batch statistics again, so each channel of the output has mean ≈ beta.
  bn.unfreeze();
  Tensor z = bn.forward(x.detach());
  double mean0 = 0.0;
  for (int n = 0; n < 2; ++n)
    for (int i = 0; i < 9; ++i) mean0 += z.data()[n * 18 + i] / 18.0;
  EXPECT_NEAR(mean0, 0.1, 1e-5);
}

TEST(Layers, DropoutIsTheIdentityInEval) {
  Rng rng(12);
  Tensor x = test::random_tensor({2, 3, 4, 5}, rng);
  Dropout dropout(0.5f, rng);
  Dropout2d dropout2d(0.5f, rng);
  dropout.eval();
  dropout2d.eval();
  test::expect_close(dropout.forward(x), x, 0.0f, 0.0f, "Dropout in eval");
  test::expect_close(dropout2d.forward(x), x, 0.0f, 0.0f, "Dropout2d in eval");

  dropout.train();
  Tensor y = dropout.forward(x);
  int zeros = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    if (y.data()[i] == 0.0f)
      ++zeros;
    else
      EXPECT_FLOAT_EQ(y.data()[i], 2.0f * x.data()[i]);  // kept: scaled by 1/(1 − p)
  }
  EXPECT_GT(zeros, 20);
  EXPECT_LT(zeros, 100);

  dropout2d.train();
  Tensor z = dropout2d.forward(x);
  for (int64_t plane = 0; plane < 6; ++plane) {  // each (n, c) plane is all dropped or all kept
    bool dropped = z.data()[plane * 20] == 0.0f;
    for (int i = 0; i < 20; ++i)
      EXPECT_FLOAT_EQ(z.data()[plane * 20 + i], dropped ? 0.0f : 2.0f * x.data()[plane * 20 + i]);
  }
  EXPECT_THROW(Dropout(1.5f, rng), Error);
  EXPECT_THROW(Dropout2d(-0.1f, rng), Error);
}

TEST(Layers, DropoutOwnsItsRngSeededFromTheCallers) {
  // A net is often built by a function whose Rng is a local: the layer must not keep a pointer
  // to it (it did; ASan reported the use after scope). Equal seeds still give equal masks.
  auto build = [](uint64_t seed) {
    Rng construction_rng(seed);
    return std::make_shared<Dropout>(0.5f, construction_rng);
  };
  std::shared_ptr<Dropout> a = build(7), b = build(7);
  Tensor x = Tensor::full({64}, 1.0f);
  EXPECT_EQ(a->forward(x).to_vector(), b->forward(x).to_vector());
  EXPECT_NE(a->forward(x).to_vector(), build(8)->forward(x).to_vector());
}

TEST(Layers, UpsampleSizes) {
  Rng rng(13);
  Tensor x = test::random_tensor({1, 2, 5, 6}, rng);
  EXPECT_EQ(Upsample({.out_h = 7, .out_w = 9}).forward(x).shape(), (Shape{1, 2, 7, 9}));
  EXPECT_EQ(Upsample({.scale = 2.0f, .align_corners = true}).forward(x).shape(), (Shape{1, 2, 10, 12}));
  EXPECT_EQ(Upsample({.scale = 1.5f}).forward(x).shape(), (Shape{1, 2, 7, 9}));  // floor(7.5), floor(9)
  EXPECT_EQ(Upsample({.scale = 0.5f}).forward(x).shape(), (Shape{1, 2, 2, 3}));
  // Hand check from ARCHITECTURES.md: [[1,2],[3,4]] to 5×5 with corners aligned, first row 1 … 2.
  Tensor corners = Tensor::from_vector({1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor up = Upsample({.out_h = 5, .out_w = 5, .align_corners = true}).forward(corners);
  test::expect_close(up.data(), std::vector<float>{1, 1.25f, 1.5f, 1.75f, 2}.data(), 5, 1e-6f, 1e-6f,
                     "first row");
  EXPECT_THROW(Upsample({}), Error);
  EXPECT_THROW(Upsample({.out_h = 4, .out_w = 4, .scale = 2.0f}), Error);
  EXPECT_THROW(Upsample({.out_h = 4}), Error);
  EXPECT_THROW(Upsample({.scale = -1.0f}), Error);
}

TEST(Layers, PoolLayersShapesAndIndices) {
  Rng rng(14);
  Tensor x = test::random_tensor({2, 3, 7, 8}, rng);
  MaxPool2d pool({.kernel = 3, .stride = 2, .pad = 1});
  MaxPoolResult result = pool.forward_with_indices(x);
  EXPECT_EQ(result.out.shape(), (Shape{2, 3, 4, 4}));
  EXPECT_EQ(result.indices.shape(), (Shape{2, 3, 4, 4}));
  test::expect_close(pool.forward(x), result.out, 0.0f, 0.0f, "forward vs forward_with_indices");
  for (int64_t i = 0; i < result.out.numel(); ++i) {  // each index points at its maximum
    int64_t plane = i / 16;
    EXPECT_EQ(x.data()[plane * 56 + result.indices.data()[i]], result.out.data()[i]) << i;
  }
  EXPECT_EQ(MaxPool2d({.kernel = 3, .stride = 2, .ceil_mode = true}).forward(x).shape(), (Shape{2, 3, 3, 4}));
  EXPECT_EQ(AvgPool2d({.kernel = 3, .stride = 1, .pad = 1}).forward(x).shape(), (Shape{2, 3, 7, 8}));
  EXPECT_EQ(AdaptiveAvgPool2d(6).forward(x).shape(), (Shape{2, 3, 6, 6}));
  EXPECT_EQ(AdaptiveAvgPool2d(1, 2).forward(x).shape(), (Shape{2, 3, 1, 2}));
  EXPECT_THROW(MaxPool2d({.kernel = 2, .stride = 2, .pad = 2}), Error);
  EXPECT_THROW(AdaptiveAvgPool2d(0), Error);
}

TEST(Layers, ConvTranspose2dShapesAndBilinearFilter) {
  Rng rng(15);
  ConvTranspose2d deconv(
      ConvTranspose2dOptions{
          .in_channels = 3, .out_channels = 4, .kernel = 3, .stride = 2, .pad = 1, .output_pad = 1},
      rng);
  EXPECT_EQ(deconv.weight().shape(), (Shape{3, 4, 3, 3}));  // (C_in, C_out/groups, k, k) as PyTorch
  EXPECT_EQ(names_of(deconv.named_parameters()), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(deconv.forward(test::random_tensor({1, 3, 4, 5}, rng)).shape(), (Shape{1, 4, 8, 10}));

  ConvTranspose2dOptions options = bilinear_upsampling_options(2, 2);
  EXPECT_EQ(options.kernel, 4);
  EXPECT_EQ(options.pad, 1);
  EXPECT_EQ(bilinear_upsampling_options(2, 3).kernel, 5);
  ConvTranspose2d up(options, rng);
  EXPECT_EQ(names_of(up.named_parameters()), (std::vector<std::string>{"weight"}));
  // Factor 2: f = 2, centre 1.5, taps 1 − |i − 1.5|/2 = 0.25, 0.75, 0.75, 0.25; weight = outer product.
  const float taps[4] = {0.25f, 0.75f, 0.75f, 0.25f};
  const Tensor& w = up.weight();  // (2, 2, 4, 4)
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b)
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j)
          EXPECT_FLOAT_EQ(w.data()[((a * 2 + b) * 4 + i) * 4 + j], a == b ? taps[i] * taps[j] : 0.0f);

  std::string message = error_message([&] {
    ConvTranspose2d(ConvTranspose2dOptions{.in_channels = 2, .out_channels = 3, .bilinear_init = true}, rng);
  });
  EXPECT_NE(message.find("in_channels = out_channels"), std::string::npos) << message;
  message = error_message([&] { up.forward(Tensor::zeros({1, 3, 4, 4})); });
  EXPECT_NE(message.find("ConvTranspose2d(2 → 2"), std::string::npos) << message;
}

// The oracle: FCN's bilinear deconvolution (k = 2s − s%2, stride s, pad s/2) gives an s·H × s·W
// map equal to resize_bilinear with align_corners = false everywhere but the outer s/2 rows and
// columns (there the deconv sees zero padding where the resize clamps). Checked first in PyTorch.
TEST(Layers, BilinearDeconvMatchesBilinearResizeAwayFromBorders) {
  Rng rng(16);
  for (int s : {2, 3, 4, 5}) {
    Tensor x = test::random_tensor({2, 3, 5, 6}, rng);
    ConvTranspose2d up(bilinear_upsampling_options(3, s), rng);
    Tensor y = up.forward(x);
    Tensor expected = resize_bilinear(x, 5 * s, 6 * s, false);
    ASSERT_EQ(y.shape(), expected.shape()) << "factor " << s;
    int margin = s / 2, h = 5 * s, w = 6 * s;
    double max_diff = 0.0, border_diff = 0.0;
    for (int64_t plane = 0; plane < 6; ++plane)
      for (int i = 0; i < h; ++i)
        for (int j = 0; j < w; ++j) {
          int64_t k = (plane * h + i) * w + j;
          double diff = std::fabs(y.data()[k] - expected.data()[k]);
          bool interior = i >= margin && i < h - margin && j >= margin && j < w - margin;
          double& worst = interior ? max_diff : border_diff;
          worst = std::max(worst, diff);
        }
    EXPECT_LT(max_diff, 1e-5) << "factor " << s;
    EXPECT_GT(border_diff, 1e-2) << "factor " << s
                                 << ": the borders should differ (the test must be able to fail)";
  }
}
