// ASPP (nets/aspp.h): the rate schedule across output strides, shapes and torchvision's names,
// the full module's parameter count, the image-pooling branch (constant per image, the batch-1
// error), the separable form, and the atrous filter that degenerates into a 1×1 once its rate
// reaches the map's size.
#include <gtest/gtest.h>

#include "core/ops/conv2d.h"
#include "nets/aspp.h"
#include "tests/test_util.h"

using namespace pg;

TEST(Aspp, RatesFollowTheOutputStride) {
  EXPECT_EQ(aspp_rates_for_output_stride(16), (std::vector<int>{6, 12, 18}));
  EXPECT_EQ(aspp_rates_for_output_stride(8),
            (std::vector<int>{12, 24, 36}));  // half the stride, twice the rate
  EXPECT_EQ(aspp_rates_for_output_stride(32), (std::vector<int>{3, 6, 9}));
  EXPECT_EQ(aspp_rates_for_output_stride(8, AsppRateSchedule::tiny()), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(aspp_rates_for_output_stride(4, AsppRateSchedule::tiny()), (std::vector<int>{2, 4, 6}));
  test::expect_error_containing(
      [] { aspp_rates_for_output_stride(16, AsppRateSchedule::tiny()); },
      "rate 1 at output stride 8 becomes 8/16 at output stride 16, not a whole number");
}

TEST(Aspp, ParameterCountAndTorchvisionNames) {
  // in → c at three rates: 1×1 (in·c) + three 3×3 (3 · 9·in·c) + pooling's 1×1 (in·c) + the
  // projection 5c → c + six BNs (6 · 2c). Full size (2048 → 256): 15,535,104, which is
  // torchvision's deeplabv3_resnet101 classifier (16,130,837) less its extra 3×3 conv + BN
  // (590,336) and 21-class logits (5,397); the DeepLab v3 count test builds it.
  const int64_t in = 12, c = 4;
  Rng rng(1);
  Aspp aspp({.in_channels = in, .channels = c}, rng);
  EXPECT_EQ(aspp.parameter_count(), in * c + 3 * 9 * in * c + in * c + 5 * c * c + 6 * 2 * c);
  EXPECT_EQ(2048 * 256 + 3 * 9 * 2048 * 256 + 2048 * 256 + 5 * 256 * 256 + 6 * 2 * 256, 15535104);
  std::vector<std::string> names;
  for (const auto& [name, t] : aspp.state_dict()) names.push_back(name);
  for (const char* expected :
       {"convs.0.0.weight", "convs.0.1.running_var", "convs.3.0.weight", "convs.3.1.bias", "convs.4.1.weight",
        "convs.4.2.weight", "project.0.weight", "project.1.running_mean"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  for (const auto& [name, t] : aspp.named_parameters())
    if (name == "convs.2.0.weight") {
      EXPECT_EQ(t.shape(), (Shape{c, in, 3, 3}));
    }
}

TEST(Aspp, ShapesAndImagePoolingIsConstantPerImage) {
  Rng rng(2);
  Aspp aspp({.in_channels = 6, .channels = 4, .rates = {1, 2, 3}}, rng);
  Tensor x = test::random_tensor({2, 6, 5, 7}, rng);
  EXPECT_EQ(aspp.forward(x).shape(), (Shape{2, 4, 5, 7}));

  AsppImagePooling pooling(6, 3, {}, rng);
  Tensor y = pooling.forward(x);
  ASSERT_EQ(y.shape(), (Shape{2, 3, 5, 7}));
  for (int64_t plane = 0; plane < 2 * 3; ++plane)
    for (int64_t i = 0; i < 5 * 7; ++i) EXPECT_FLOAT_EQ(y.data()[plane * 35 + i], y.data()[plane * 35]);

  test::expect_error_containing(
      [&] {
        aspp.forward(test::random_tensor({2, 5, 5, 7}, rng));
      },
      "ASPP: expected features (N, 6, h, w), got (2, 5, 5, 7)");
}

TEST(Aspp, ImagePoolingAtBatchOneNeedsFrozenOrEvalBatchNorm) {
  Rng rng(3);
  Aspp aspp({.in_channels = 6, .channels = 4, .rates = {1, 2}}, rng);
  Tensor one = test::random_tensor({1, 6, 4, 4}, rng);
  test::expect_error_containing(
      [&] { aspp.forward(one); },
      "ASPP image pooling: its batch norm in train mode sees one value per channel and "
      "image (the pooled map is 1×1), so it needs a batch of at least 2; got input "
      "(1, 6, 4, 4)");
  test::expect_error_containing([&] { aspp.forward(one); },
                                "freeze the batch norms (freeze_batch_norm) or use eval()");
  aspp.eval();
  EXPECT_EQ(aspp.forward(one).shape(), (Shape{1, 4, 4, 4}));
}

TEST(Aspp, SeparableBranchesAreAtrousSeparableConvs) {
  // 1×1 (8·4) + three separable (8·9 depthwise + 8·4 pointwise, BN after each) + pooling (8·4)
  // + projection (20·4), BNs: 1×1, pool, projection 3 · 2·4 and 3 · (2·8 + 2·4) in the branches.
  Rng rng(4);
  Aspp aspp({.in_channels = 8, .channels = 4, .rates = {1, 2, 3}, .separable = true}, rng);
  EXPECT_EQ(aspp.parameter_count(), 32 + 3 * (72 + 32) + 32 + 80 + 3 * 8 + 3 * 24);
  bool found = false;
  for (const auto& [name, t] : aspp.named_parameters())
    if (name == "convs.2.depthwise.weight") {
      found = true;
      EXPECT_EQ(t.shape(), (Shape{8, 1, 3, 3}));
    }
  EXPECT_TRUE(found);
  EXPECT_EQ(aspp.forward(test::random_tensor({2, 8, 6, 6}, rng)).shape(), (Shape{2, 4, 6, 6}));
}

TEST(Aspp, AtrousFilterDegeneratesIntoOneByOneAtTheMapSize) {
  // A 3×3 filter at rate r, padded by r, on a 5×6 map. Once r ≥ both sides, every off-centre tap
  // reads padding: the result is exactly the 1×1 conv through the centre tap. Below that, the
  // off-centre taps still see some of the map and the two differ.
  Rng rng(5);
  Tensor x = test::random_tensor({1, 4, 5, 6}, rng);
  Tensor w = test::random_tensor({3, 4, 3, 3}, rng);
  Tensor centre = Tensor::empty({3, 4, 1, 1});
  for (int64_t i = 0; i < 12; ++i) centre.data()[i] = w.data()[i * 9 + 4];
  Tensor one_by_one = conv2d(x, centre, Tensor(), Conv2dParams{});
  for (int rate : {6, 9}) {
    Tensor atrous = conv2d(x, w, Tensor(), Conv2dParams{.pad = rate, .dilation = rate});
    test::expect_close(atrous, one_by_one, 1e-6f, 1e-6f, "rate " + std::to_string(rate));
  }
  Tensor below = conv2d(x, w, Tensor(), Conv2dParams{.pad = 5, .dilation = 5});  // rate 5 < width 6
  float difference = 0;
  for (int64_t i = 0; i < below.numel(); ++i)
    difference = std::max(difference, std::abs(below.data()[i] - one_by_one.data()[i]));
  EXPECT_GT(difference, 1e-3f);
}
