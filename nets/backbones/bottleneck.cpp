// Bottleneck: construction (torchvision's layer order and init) and the residual forward.
#include "nets/backbones/bottleneck.h"

#include "core/init.h"
#include "core/ops/activation.h"
#include "core/ops/arithmetic.h"

namespace pg {

namespace {

std::shared_ptr<Conv2d> make_conv(int64_t in, int64_t out, int kernel, int stride, int dilation, Rng& rng) {
  auto conv = std::make_shared<Conv2d>(Conv2dOptions{.in_channels = in,
                                                     .out_channels = out,
                                                     .kernel = kernel,
                                                     .stride = stride,
                                                     .pad = dilation * (kernel - 1) / 2,
                                                     .dilation = dilation,
                                                     .bias = false},
                                       rng);
  init::kaiming_normal(conv->weight(), rng, init::FanMode::fan_out);
  return conv;
}

}  // namespace

Bottleneck::Bottleneck(const BottleneckOptions& options, Rng& rng) : options_(options) {
  const BottleneckOptions& o = options_;
  check(o.in_channels > 0 && o.width > 0 && o.stride >= 1 && o.dilation >= 1,
        "Bottleneck: in_channels and width must be positive, stride and dilation ≥ 1, got in_channels ",
        o.in_channels, ", width ", o.width, ", stride ", o.stride, ", dilation ", o.dilation);
  const int64_t out = out_channels();
  conv1_ = register_module("conv1", make_conv(o.in_channels, o.width, 1, 1, 1, rng));
  bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(o.width));
  conv2_ = register_module("conv2", make_conv(o.width, o.width, 3, o.stride, o.dilation, rng));
  bn2_ = register_module("bn2", std::make_shared<BatchNorm2d>(o.width));
  conv3_ = register_module("conv3", make_conv(o.width, out, 1, 1, 1, rng));
  bn3_ = register_module("bn3", std::make_shared<BatchNorm2d>(out));
  if (o.stride != 1 || o.in_channels != out) {
    downsample_ = register_module("downsample", std::make_shared<Sequential>());
    downsample_->add(make_conv(o.in_channels, out, 1, o.stride, 1, rng));
    downsample_bn_ = downsample_->add(std::make_shared<BatchNorm2d>(out));
  }
}

std::vector<std::shared_ptr<BatchNorm2d>> Bottleneck::batch_norms() const {
  std::vector<std::shared_ptr<BatchNorm2d>> norms = {bn1_, bn2_, bn3_};
  if (downsample_bn_) norms.push_back(downsample_bn_);
  return norms;
}

Tensor Bottleneck::forward(const Tensor& x) {
  // x: (N, in, H, W)
  Tensor y = bn1_->forward_relu(conv1_->forward(x));  // (N, width, H, W)
  y = bn2_->forward_relu(conv2_->forward(y));         // (N, width, H/stride, W/stride)
  y = bn3_->forward(conv3_->forward(y));               // (N, 4·width, H/stride, W/stride)
  Tensor shortcut = downsample_ ? downsample_->forward(x) : x;
  return relu(add(y, shortcut));
}

}  // namespace pg
