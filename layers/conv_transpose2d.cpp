// ConvTranspose2d layer: option checks, random or bilinear initialisation, and a forward that
// names the layer when the input does not fit before calling the conv_transpose2d op.
#include "layers/conv_transpose2d.h"

#include "core/init.h"

namespace pg {

ConvTranspose2dOptions bilinear_upsampling_options(int64_t channels, int factor) {
  check(factor >= 1, "bilinear_upsampling_options: factor must be at least 1, got ", factor);
  return ConvTranspose2dOptions{.in_channels = channels,
                                .out_channels = channels,
                                .kernel = 2 * factor - factor % 2,
                                .stride = factor,
                                .pad = factor / 2,
                                .bias = false,
                                .bilinear_init = true};
}

ConvTranspose2d::ConvTranspose2d(const ConvTranspose2dOptions& options, Rng& rng) : options_(options) {
  const ConvTranspose2dOptions& o = options_;
  check(o.in_channels > 0 && o.out_channels > 0,
        "ConvTranspose2d: in_channels and out_channels must be positive, got ", o.in_channels, " and ",
        o.out_channels);
  check(o.kernel > 0 && o.stride > 0 && o.dilation > 0 && o.pad >= 0 && o.output_pad >= 0,
        "ConvTranspose2d: kernel, stride, dilation must be positive and pads non-negative, got kernel ",
        o.kernel, ", stride ", o.stride, ", dilation ", o.dilation, ", pad ", o.pad, ", output_pad ",
        o.output_pad);
  check(o.groups > 0 && o.in_channels % o.groups == 0 && o.out_channels % o.groups == 0,
        "ConvTranspose2d: groups (", o.groups, ") must divide in_channels (", o.in_channels,
        ") and out_channels (", o.out_channels, ")");
  weight_ = register_parameter("weight",
                               Tensor::empty({o.in_channels, o.out_channels / o.groups, o.kernel, o.kernel}));
  if (o.bias) bias_ = register_parameter("bias", Tensor::empty({o.out_channels}));
  if (o.bilinear_init) {
    check(o.in_channels == o.out_channels && o.groups == 1, describe(),
          ": bilinear_init puts the filter on the channel diagonal, so it needs in_channels = out_channels "
          "and groups = 1");
    init::bilinear_upsample(weight_);
    if (bias_.defined()) init::zeros(bias_);
  } else {
    init::torch_default_conv(weight_, bias_, rng);
  }
}

std::string ConvTranspose2d::describe() const {
  const ConvTranspose2dOptions& o = options_;
  std::string s = str("ConvTranspose2d(", o.in_channels, " → ", o.out_channels, ", kernel ", o.kernel,
                      ", stride ", o.stride);
  if (o.pad != 0) s += str(", pad ", o.pad);
  if (o.output_pad != 0) s += str(", output_pad ", o.output_pad);
  if (o.dilation != 1) s += str(", dilation ", o.dilation);
  if (o.groups != 1) s += str(", groups ", o.groups);
  return s + ")";
}

Tensor ConvTranspose2d::forward(const Tensor& x) {
  // x: (N, C_in, H, W)
  check(x.defined() && x.dim() == 4 && x.size(1) == options_.in_channels, describe(),
        ": expected an input (N, ", options_.in_channels, ", H, W), got ",
        x.defined() ? shape_str(x.shape()) : "an undefined tensor");
  return conv_transpose2d(x, weight_, bias_,
                          ConvTranspose2dParams{.stride = options_.stride,
                                                .pad = options_.pad,
                                                .output_pad = options_.output_pad,
                                                .dilation = options_.dilation,
                                                .groups = options_.groups});
}

}  // namespace pg
