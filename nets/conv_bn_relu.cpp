// ConvBnRelu: a same-size conv without bias, batch norm and ReLU, in that order.
#include "nets/conv_bn_relu.h"

#include "core/init.h"

namespace pg {

ConvBnRelu::ConvBnRelu(const ConvBnReluOptions& options, Rng& rng) : options_(options) {
  const ConvBnReluOptions& o = options_;
  check(o.in_channels >= 1 && o.out_channels >= 1, "ConvBnRelu: channels must be ≥ 1, got ", o.in_channels,
        " → ", o.out_channels);
  check(
      o.kernel >= 1 && o.kernel % 2 == 1 && o.dilation >= 1,
      "ConvBnRelu: the kernel must be odd (so that padding keeps the size) and the dilation ≥ 1, got kernel ",
      o.kernel, ", dilation ", o.dilation);
  conv_ =
      register_module("conv", std::make_shared<Conv2d>(Conv2dOptions{.in_channels = o.in_channels,
                                                                     .out_channels = o.out_channels,
                                                                     .kernel = o.kernel,
                                                                     .pad = o.dilation * (o.kernel - 1) / 2,
                                                                     .dilation = o.dilation,
                                                                     .bias = false},
                                                       rng));
  init::kaiming_normal(conv_->weight(), rng, init::FanMode::fan_out);
  bn_ = register_module("bn", std::make_shared<BatchNorm2d>(o.out_channels));
}

Tensor ConvBnRelu::forward(const Tensor& x) {
  return bn_->forward_relu(conv_->forward(x));  // batch norm and ReLU fused
}

}  // namespace pg
