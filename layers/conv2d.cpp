// Conv2d layer: checks the options once at construction and the input's channels at each
// forward (naming the layer), then calls the conv2d op, which records the autograd node.
#include "layers/conv2d.h"

#include "core/init.h"

namespace pg {

Conv2d::Conv2d(const Conv2dOptions& options, Rng& rng) : options_(options) {
  const Conv2dOptions& o = options_;
  check(o.in_channels > 0 && o.out_channels > 0,
        "Conv2d: in_channels and out_channels must be positive, got ", o.in_channels, " and ",
        o.out_channels);
  check(o.kernel > 0 && o.stride > 0 && o.dilation > 0 && o.pad >= 0 && o.pad_end_extra >= 0,
        "Conv2d: kernel, stride, dilation must be positive and pads non-negative, got kernel ", o.kernel,
        ", stride ", o.stride, ", dilation ", o.dilation, ", pad ", o.pad, ", pad_end_extra ",
        o.pad_end_extra);
  check(o.groups > 0 && o.in_channels % o.groups == 0 && o.out_channels % o.groups == 0, "Conv2d: groups (",
        o.groups, ") must divide in_channels (", o.in_channels, ") and out_channels (", o.out_channels, ")");
  weight_ = register_parameter("weight",
                               Tensor::empty({o.out_channels, o.in_channels / o.groups, o.kernel, o.kernel}));
  if (o.bias) bias_ = register_parameter("bias", Tensor::empty({o.out_channels}));
  init::torch_default_conv(weight_, bias_, rng);
}

std::string Conv2d::describe() const {
  const Conv2dOptions& o = options_;
  std::string s = str("Conv2d(", o.in_channels, " → ", o.out_channels, ", kernel ", o.kernel);
  if (o.stride != 1) s += str(", stride ", o.stride);
  if (o.pad != 0) s += str(", pad ", o.pad);
  if (o.pad_end_extra != 0) s += str(", pad_end_extra ", o.pad_end_extra);
  if (o.dilation != 1) s += str(", dilation ", o.dilation);
  if (o.groups != 1) s += str(", groups ", o.groups);
  return s + ")";
}

Tensor Conv2d::forward(const Tensor& x) {
  // x: (N, C_in, H, W). Checked here so that the message names this layer, not only the op.
  check(x.defined() && x.dim() == 4 && x.size(1) == options_.in_channels, describe(),
        ": expected an input (N, ", options_.in_channels, ", H, W), got ",
        x.defined() ? shape_str(x.shape()) : "an undefined tensor");
  return conv2d(x, weight_, bias_,
                Conv2dParams{.stride = options_.stride,
                             .pad = options_.pad,
                             .dilation = options_.dilation,
                             .groups = options_.groups,
                             .pad_end_extra = options_.pad_end_extra});
}

}  // namespace pg
