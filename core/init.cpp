// Weight initialisation (see core/init.h): fans, constant/uniform/normal fills, He (Kaiming),
// PyTorch's conv default, FCN's bilinear deconvolution filter and the identity init of the
// dilated context module.
#include "core/init.h"

#include <cmath>

namespace pg::init {

namespace {

void require_defined(const char* what, const Tensor& t) {
  check(t.defined(), "init::", what, ": the tensor is undefined");
}

// A weight of at least 2 dimensions: (out, in) for a linear map, (K, C/g, kh, kw) for a conv.
void require_weight(const char* what, const Tensor& weight) {
  require_defined(what, weight);
  check(weight.dim() >= 2, "init::", what,
        ": fans need a weight with at least 2 dimensions (out, in, ...), got ", shape_str(weight.shape()));
}

// kh · kw (or 1 for a linear weight): the product of the dimensions after the first two.
int64_t receptive_field(const Tensor& weight) {
  int64_t size = 1;
  for (int64_t d = 2; d < weight.dim(); ++d) size *= weight.size(d);
  return size;
}

int64_t fan(const char* what, const Tensor& weight, FanMode mode) {
  int64_t value = mode == FanMode::fan_in ? fan_in(weight) : fan_out(weight);
  check(value > 0, "init::", what, ": the fan of weight ", shape_str(weight.shape()), " is zero");
  return value;
}

}  // namespace

int64_t fan_in(const Tensor& weight) {
  require_weight("fan_in", weight);
  return weight.size(1) * receptive_field(weight);
}

int64_t fan_out(const Tensor& weight) {
  require_weight("fan_out", weight);
  return weight.size(0) * receptive_field(weight);
}

void zeros(const Tensor& t) {
  constant(t, 0.0f);
}

void constant(const Tensor& t, float value) {
  require_defined("constant", t);
  float* data = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) data[i] = value;
}

void uniform(const Tensor& t, float low, float high, Rng& rng) {
  require_defined("uniform", t);
  check(low <= high, "init::uniform: low must not exceed high, got [", low, ", ", high, ")");
  float* data = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) data[i] = rng.uniform(low, high);
}

void normal(const Tensor& t, float mean, float stddev, Rng& rng) {
  require_defined("normal", t);
  check(stddev >= 0.0f, "init::normal: stddev must be >= 0, got ", stddev);
  float* data = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) data[i] = rng.normal(mean, stddev);
}

// std = sqrt(2) / sqrt(fan): keeps the variance of ReLU activations constant through depth.
void kaiming_normal(const Tensor& weight, Rng& rng, FanMode mode) {
  double stddev = std::sqrt(2.0 / static_cast<double>(fan("kaiming_normal", weight, mode)));
  normal(weight, 0.0f, static_cast<float>(stddev), rng);
}

// U(−b, b) has variance b²/3, so the same std as kaiming_normal needs b = sqrt(3) · std.
void kaiming_uniform(const Tensor& weight, Rng& rng, FanMode mode) {
  double bound = std::sqrt(6.0 / static_cast<double>(fan("kaiming_uniform", weight, mode)));
  uniform(weight, static_cast<float>(-bound), static_cast<float>(bound), rng);
}

// kaiming_uniform with a = sqrt(5): gain² = 2 / (1 + 5) = 1/3, bound = sqrt(3) · gain / sqrt(fan_in)
// = 1 / sqrt(fan_in). The bias uses the same bound.
void torch_default_conv(const Tensor& weight, const Tensor& bias, Rng& rng) {
  float bound = static_cast<float>(
      1.0 / std::sqrt(static_cast<double>(fan("torch_default_conv", weight, FanMode::fan_in))));
  uniform(weight, -bound, bound, rng);
  if (bias.defined()) uniform(bias, -bound, bound, rng);
}

// weight: (C, C, k, k). Bilinear interpolation by a factor s, written as a transposed convolution
// with stride s and k = 2s − s%2: each output pixel is a tent-weighted sum of the nearest inputs,
// w(i, j) = (1 − |i − c| / f) · (1 − |j − c| / f), f = ceil(k/2), c = f − 1 (k odd) or f − 0.5 (k even).
// Channels never mix: only weight[ch, ch] holds the filter.
void bilinear_upsample(const Tensor& weight) {
  require_defined("bilinear_upsample", weight);
  const Shape& shape = weight.shape();
  check(weight.dim() == 4 && shape[0] == shape[1] && shape[2] == shape[3] && shape[2] > 0,
        "init::bilinear_upsample: weight must have shape (C, C, k, k), got ", shape_str(shape));
  const int64_t channels = shape[0], k = shape[2];
  const double f = static_cast<double>((k + 1) / 2);
  const double c = k % 2 == 1 ? f - 1.0 : f - 0.5;
  zeros(weight);
  float* data = weight.data();
  for (int64_t ch = 0; ch < channels; ++ch) {
    float* filter = data + (ch * channels + ch) * k * k;  // weight[ch, ch]: (k, k)
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        filter[i * k + j] = static_cast<float>((1.0 - std::fabs(i - c) / f) * (1.0 - std::fabs(j - c) / f));
  }
}

// weight: (C, C, kh, kw), kh and kw odd so a centre tap exists. With noise 0 the convolution
// copies its input: y[b] = x[b] (Yu & Koltun's identity init of the context module).
void identity_conv(const Tensor& weight, float noise_std, Rng& rng) {
  require_defined("identity_conv", weight);
  const Shape& shape = weight.shape();
  check(weight.dim() == 4 && shape[0] == shape[1],
        "init::identity_conv: weight must have shape (C, C, kh, kw) with as many outputs as inputs, got ",
        shape_str(shape));
  check(shape[2] % 2 == 1 && shape[3] % 2 == 1,
        "init::identity_conv: the kernel must have odd sizes (a centre tap), got ", shape[2], "x", shape[3]);
  if (noise_std > 0.0f) {
    normal(weight, 0.0f, noise_std, rng);
  } else {
    check(noise_std == 0.0f, "init::identity_conv: noise_std must be >= 0, got ", noise_std);
    zeros(weight);
  }
  const int64_t channels = shape[0], kh = shape[2], kw = shape[3];
  float* data = weight.data();
  for (int64_t b = 0; b < channels; ++b) data[((b * channels + b) * kh + kh / 2) * kw + kw / 2] = 1.0f;
}

}  // namespace pg::init
