// Conv2d: a learned 2-D convolution layer (weight (K, C/groups, k, k), optional bias (K)), a thin
// Module around the conv2d op. Parameter names "weight" and "bias" as PyTorch's nn.Conv2d, and
// PyTorch's default initialisation drawn from the caller's Rng.
#pragma once
#include <cstdint>

#include "core/ops/conv2d.h"
#include "core/rng.h"
#include "layers/module.h"

namespace pg {

struct Conv2dOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int kernel = 3;  // square kernel, kernel × kernel
  int stride = 1;
  int pad = 0;  // zero rows/cols on every side; "same" at stride 1 is dilation·(kernel − 1)/2
  int dilation = 1;
  int groups = 1;  // groups = in_channels (= out_channels) is a depthwise conv
  bool bias = true;
  int pad_end_extra = 0;  // further zero rows/cols at the bottom and right (TF "SAME" at stride 2)
};

class Conv2d : public Module {
 public:
  // weight, bias ~ U(−1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels/groups · kernel²
  Conv2d(const Conv2dOptions& options, Rng& rng);

  // x: (N, in_channels, H, W) → (N, out_channels, Ho, Wo), Ho = conv_out_size(H + pad_end_extra, ...)
  Tensor forward(const Tensor& x) override;

  const Conv2dOptions& options() const { return options_; }
  const Tensor& weight() const { return weight_; }  // (out_channels, in_channels/groups, k, k)
  const Tensor& bias() const { return bias_; }      // (out_channels) or undefined

  std::string describe() const;  // "Conv2d(3 → 8, kernel 3, stride 2, pad 1)", for messages

 private:
  Conv2dOptions options_;
  Tensor weight_;
  Tensor bias_;
};

}  // namespace pg
