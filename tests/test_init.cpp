// Weight initialisation: fans, statistics of the random fills on large tensors, the bilinear
// filter against hand-computed values, the identity init, and the errors on bad shapes.
#include <gtest/gtest.h>

#include <cmath>

#include "core/init.h"
#include "tests/test_util.h"

using namespace pg;

namespace {

struct Moments {
  double mean = 0.0;
  double stddev = 0.0;
  float min = 0.0f;
  float max = 0.0f;
};

Moments moments(const Tensor& t) {
  Moments m{.min = t.data()[0], .max = t.data()[0]};
  double sum = 0.0, sum_sq = 0.0;
  for (int64_t i = 0; i < t.numel(); ++i) {
    float v = t.data()[i];
    sum += v;
    sum_sq += static_cast<double>(v) * v;
    m.min = std::min(m.min, v);
    m.max = std::max(m.max, v);
  }
  double n = static_cast<double>(t.numel());
  m.mean = sum / n;
  m.stddev = std::sqrt(sum_sq / n - m.mean * m.mean);
  return m;
}

}  // namespace

TEST(Init, FansOfConvAndLinearWeights) {
  Tensor conv = Tensor::zeros({8, 3, 5, 7});  // (K, C/g, kh, kw)
  EXPECT_EQ(init::fan_in(conv), 3 * 5 * 7);
  EXPECT_EQ(init::fan_out(conv), 8 * 5 * 7);
  Tensor linear = Tensor::zeros({10, 4});  // (out, in)
  EXPECT_EQ(init::fan_in(linear), 4);
  EXPECT_EQ(init::fan_out(linear), 10);
  EXPECT_THROW(init::fan_in(Tensor::zeros({5})), Error);
  EXPECT_THROW(init::fan_out(Tensor()), Error);
}

TEST(Init, ConstantAndZeros) {
  Tensor t = Tensor::full({3, 5}, 7.0f);
  init::constant(t, -2.5f);
  for (float v : t.to_vector()) EXPECT_EQ(v, -2.5f);
  init::zeros(t);
  for (float v : t.to_vector()) EXPECT_EQ(v, 0.0f);
}

TEST(Init, UniformAndNormalStatistics) {
  Rng rng(3);
  Tensor t = Tensor::empty({200, 500});  // 100k samples: the standard error of the mean is ~0.003·std
  init::uniform(t, -1.0f, 3.0f, rng);
  Moments u = moments(t);
  EXPECT_NEAR(u.mean, 1.0, 0.02);
  EXPECT_NEAR(u.stddev, 4.0 / std::sqrt(12.0), 0.02);  // U(a, b): std = (b − a) / sqrt(12)
  EXPECT_GE(u.min, -1.0f);
  EXPECT_LT(u.max, 3.0f);

  init::normal(t, 0.5f, 2.0f, rng);
  Moments n = moments(t);
  EXPECT_NEAR(n.mean, 0.5, 0.03);
  EXPECT_NEAR(n.stddev, 2.0, 0.03);
}

TEST(Init, KaimingStatisticsFollowTheFan) {
  Rng rng(5);
  Tensor weight = Tensor::empty({64, 32, 3, 3});  // fan_in 288, fan_out 576, 18432 values
  init::kaiming_normal(weight, rng, init::FanMode::fan_out);
  Moments n_out = moments(weight);
  EXPECT_NEAR(n_out.mean, 0.0, 0.003);
  EXPECT_NEAR(n_out.stddev, std::sqrt(2.0 / 576.0), 0.02 * std::sqrt(2.0 / 576.0));

  init::kaiming_normal(weight, rng, init::FanMode::fan_in);
  EXPECT_NEAR(moments(weight).stddev, std::sqrt(2.0 / 288.0), 0.02 * std::sqrt(2.0 / 288.0));

  // Uniform with the same std: bound sqrt(6 / fan_in), std bound / sqrt(3) = sqrt(2 / fan_in).
  init::kaiming_uniform(weight, rng);
  Moments u = moments(weight);
  const double bound = std::sqrt(6.0 / 288.0);
  EXPECT_NEAR(u.stddev, std::sqrt(2.0 / 288.0), 0.02 * std::sqrt(2.0 / 288.0));
  EXPECT_GE(u.min, -bound);
  EXPECT_LE(u.max, bound);
  EXPECT_GT(u.max, 0.99 * bound);  // the samples reach the ends of the interval
}

TEST(Init, TorchDefaultConvBoundsWeightAndBias) {
  Rng rng(7);
  Tensor weight = Tensor::empty({40, 16, 5, 5});  // fan_in 400: bound 1/20
  Tensor bias = Tensor::empty({40});
  init::torch_default_conv(weight, bias, rng);
  Moments w = moments(weight);
  EXPECT_GE(w.min, -0.05f);
  EXPECT_LE(w.max, 0.05f);
  EXPECT_GT(w.max, 0.049f);
  EXPECT_NEAR(w.stddev, 0.05 / std::sqrt(3.0), 0.002);
  Moments b = moments(bias);
  EXPECT_GE(b.min, -0.05f);
  EXPECT_LE(b.max, 0.05f);
  EXPECT_GT(b.max - b.min, 0.0f);
  init::torch_default_conv(weight, Tensor(), rng);  // no bias: fine
}

// Factor 2: k = 4, f = 2, c = 1.5; per axis 1 − |i − 1.5| / 2 = 0.25, 0.75, 0.75, 0.25.
TEST(Init, BilinearFilterForFactorTwo) {
  Tensor weight = Tensor::full({3, 3, 4, 4}, 9.0f);
  init::bilinear_upsample(weight);
  const float axis[4] = {0.25f, 0.75f, 0.75f, 0.25f};
  for (int64_t out = 0; out < 3; ++out)
    for (int64_t in = 0; in < 3; ++in)
      for (int64_t i = 0; i < 4; ++i)
        for (int64_t j = 0; j < 4; ++j) {
          float expected = out == in ? axis[i] * axis[j] : 0.0f;
          EXPECT_FLOAT_EQ(weight.data()[((out * 3 + in) * 4 + i) * 4 + j], expected)
              << out << "," << in << "," << i << "," << j;
        }
}

// k = 3: f = 2, c = 1; per axis 1 − |i − 1| / 2 = 0.5, 1, 0.5.
TEST(Init, BilinearFilterOddKernel) {
  Tensor weight = Tensor::empty({1, 1, 3, 3});
  init::bilinear_upsample(weight);
  const std::vector<float> expected = {0.25f, 0.5f, 0.25f, 0.5f, 1.0f, 0.5f, 0.25f, 0.5f, 0.25f};
  test::expect_close(weight, Tensor::from_vector({1, 1, 3, 3}, expected), 0.0f, 1e-7f, "bilinear k=3");
}

TEST(Init, BilinearRejectsNonSquareWeights) {
  EXPECT_THROW(init::bilinear_upsample(Tensor::zeros({2, 3, 4, 4})), Error);
  EXPECT_THROW(init::bilinear_upsample(Tensor::zeros({2, 2, 4, 3})), Error);
  EXPECT_THROW(init::bilinear_upsample(Tensor::zeros({2, 2, 4})), Error);
  EXPECT_THROW(init::bilinear_upsample(Tensor()), Error);
}

TEST(Init, IdentityWithoutNoiseIsTheCentreTapPattern) {
  Rng rng(1);
  const int64_t channels = 3, kh = 3, kw = 5;
  Tensor weight = Tensor::full({channels, channels, kh, kw}, 4.0f);
  init::identity_conv(weight, 0.0f, rng);
  for (int64_t out = 0; out < channels; ++out)
    for (int64_t in = 0; in < channels; ++in)
      for (int64_t i = 0; i < kh; ++i)
        for (int64_t j = 0; j < kw; ++j) {
          float expected = (out == in && i == 1 && j == 2) ? 1.0f : 0.0f;
          EXPECT_EQ(weight.data()[((out * channels + in) * kh + i) * kw + j], expected);
        }
}

TEST(Init, IdentityWithNoiseKeepsTheCentreTap) {
  Rng rng(2);
  Tensor weight = Tensor::empty({4, 4, 3, 3});
  init::identity_conv(weight, 0.01f, rng);
  int64_t nonzero_off_centre = 0;
  for (int64_t out = 0; out < 4; ++out)
    for (int64_t in = 0; in < 4; ++in)
      for (int64_t tap = 0; tap < 9; ++tap) {
        float v = weight.data()[(out * 4 + in) * 9 + tap];
        if (out == in && tap == 4) {
          EXPECT_EQ(v, 1.0f);
        } else {
          EXPECT_LT(std::fabs(v), 0.06f);  // 6 standard deviations
          nonzero_off_centre += v != 0.0f;
        }
      }
  EXPECT_GT(nonzero_off_centre, 100);
}

TEST(Init, IdentityRejectsBadShapes) {
  Rng rng(0);
  EXPECT_THROW(init::identity_conv(Tensor::zeros({4, 3, 3, 3}), 0.0f, rng), Error);  // K != C
  EXPECT_THROW(init::identity_conv(Tensor::zeros({3, 3, 2, 3}), 0.0f, rng), Error);  // even kernel
  EXPECT_THROW(init::identity_conv(Tensor::zeros({3, 3, 3, 4}), 0.0f, rng), Error);
  EXPECT_THROW(init::identity_conv(Tensor::zeros({3, 3, 3}), 0.0f, rng), Error);
  EXPECT_THROW(init::identity_conv(Tensor::zeros({3, 3, 3, 3}), -1.0f, rng), Error);
}
