// Weight initialisation, in place on a tensor's data (handles share data, so `const Tensor&`).
// Randomness comes from the caller's Rng. Fans of a conv weight (K, C/g, kh, kw):
// fan_in = C/g · kh · kw, fan_out = K · kh · kw.
#pragma once
#include "core/rng.h"
#include "core/tensor.h"

namespace pg::init {

int64_t fan_in(const Tensor& weight);
int64_t fan_out(const Tensor& weight);

void zeros(const Tensor& t);
void constant(const Tensor& t, float value);
void uniform(const Tensor& t, float low, float high, Rng& rng);
void normal(const Tensor& t, float mean, float stddev, Rng& rng);

enum class FanMode { fan_in, fan_out };
// He et al.: std = gain / sqrt(fan), gain = sqrt(2) for ReLU.
void kaiming_normal(const Tensor& weight, Rng& rng, FanMode mode = FanMode::fan_out);
void kaiming_uniform(const Tensor& weight, Rng& rng, FanMode mode = FanMode::fan_in);
// PyTorch's default for Conv2d / ConvTranspose2d: weight and bias ~ U(−1/sqrt(fan_in), 1/sqrt(fan_in))
// (what kaiming_uniform with a = sqrt(5) reduces to). bias may be undefined.
void torch_default_conv(const Tensor& weight, const Tensor& bias, Rng& rng);
// FCN's bilinear deconvolution filter on the channel diagonal: weight (C, C, k, k) with
// f = ceil(k/2), c = f − 1 (k odd) or f − 0.5 (k even), w = (1 − |i−c|/f)(1 − |j−c|/f); zero off-diagonal.
void bilinear_upsample(const Tensor& weight);
// Identity initialisation of the context module: weight (K, C, kh, kw) with K = C: the centre
// tap of channel b → b is 1, every other entry N(0, noise_std²).
void identity_conv(const Tensor& weight, float noise_std, Rng& rng);

}  // namespace pg::init
