// SeparableConv2d: builds the depthwise and pointwise convs (and their BNs) and chains them.
#include "layers/separable_conv2d.h"

namespace pg {

SeparableConv2d::SeparableConv2d(const SeparableConv2dOptions& options, Rng& rng) : options_(options) {
  const SeparableConv2dOptions& o = options_;
  check(o.in_channels > 0 && o.out_channels > 0,
        "SeparableConv2d: in_channels and out_channels must be positive, got ", o.in_channels, " and ",
        o.out_channels);
  depthwise_ = register_module(
      "depthwise", std::make_shared<Conv2d>(Conv2dOptions{.in_channels = o.in_channels,
                                                          .out_channels = o.in_channels,
                                                          .kernel = o.kernel,
                                                          .stride = o.stride,
                                                          .pad = o.pad,
                                                          .dilation = o.dilation,
                                                          .groups = static_cast<int>(o.in_channels),
                                                          .bias = false,
                                                          .pad_end_extra = o.pad_end_extra},
                                            rng));
  if (o.batch_norm_relu)
    depthwise_bn_ = register_module("depthwise_bn", std::make_shared<BatchNorm2d>(o.in_channels, o.bn));
  pointwise_ =
      register_module("pointwise", std::make_shared<Conv2d>(Conv2dOptions{.in_channels = o.in_channels,
                                                                          .out_channels = o.out_channels,
                                                                          .kernel = 1,
                                                                          .bias = o.pointwise_bias},
                                                            rng));
  if (o.batch_norm_relu)
    pointwise_bn_ = register_module("pointwise_bn", std::make_shared<BatchNorm2d>(o.out_channels, o.bn));
}

Tensor SeparableConv2d::forward(const Tensor& x) {
  check(x.defined() && x.dim() == 4 && x.size(1) == options_.in_channels, "SeparableConv2d(",
        options_.in_channels, " → ", options_.out_channels, "): expected an input (N, ", options_.in_channels,
        ", H, W), got ", x.defined() ? shape_str(x.shape()) : "an undefined tensor");
  Tensor y = depthwise_->forward(x);  // (N, C_in, Ho, Wo)
  if (depthwise_bn_) y = options_.relu ? depthwise_bn_->forward_relu(y) : depthwise_bn_->forward(y);
  y = pointwise_->forward(y);  // (N, C_out, Ho, Wo)
  if (pointwise_bn_) y = options_.relu ? pointwise_bn_->forward_relu(y) : pointwise_bn_->forward(y);
  return y;
}

}  // namespace pg
