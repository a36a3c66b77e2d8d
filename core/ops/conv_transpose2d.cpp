// conv_transpose2d: forward and backward of the transposed convolution, see conv_transpose2d.h.
// It is the adjoint of the conv2d that maps y (N, K, Ho, Wo) → x (N, C, H, W) with the same
// weight (C, K/groups, kh, kw) read as conv2d's (out = C, in/groups = K/groups, kh, kw):
//   y  = conv2d_backward_data(x) + b           (every x pixel scatters w-weighted copies into y)
//   dx += conv2d_forward(dy)                   (the adjoint of the adjoint)
//   dw += conv2d_backward_weight(input = dy, output gradient = x)
//   db[k] += Σ_{n,i,j} dy[n,k,i,j]
// Ho = (H − 1)·stride − 2·pad + dilation·(kh − 1) + output_pad + 1: output_pad adds rows at the
// bottom/right that the conv never reads back (their gradient only flows to the bias).
#include "core/ops/conv_transpose2d.h"

#include <vector>

#include "core/autograd.h"
#include "core/mac_counter.h"
#include "kernels/cpu/conv.h"
#include "kernels/cpu/depthwise_conv.h"

namespace pg {

namespace {

void check_params(const ConvTranspose2dParams& p) {
  check(p.stride >= 1, "conv_transpose2d: stride must be ≥ 1, got ", p.stride);
  check(p.dilation >= 1, "conv_transpose2d: dilation must be ≥ 1, got ", p.dilation);
  check(p.groups >= 1, "conv_transpose2d: groups must be ≥ 1, got ", p.groups);
  check(p.pad >= 0, "conv_transpose2d: pad must be ≥ 0, got ", p.pad);
  check(p.output_pad >= 0 && (p.output_pad < p.stride || p.output_pad < p.dilation),
        "conv_transpose2d: output_pad must be ≥ 0 and smaller than stride (", p.stride, ") or dilation (",
        p.dilation, "), got ", p.output_pad);
}

// Validates the inputs and returns the geometry of the conv this op is the adjoint of: its input
// is our output (K channels, Ho × Wo) and its output is our input (C channels, H × W).
kernels::ConvGeometry adjoint_conv_geometry(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                            const ConvTranspose2dParams& p) {
  check_params(p);
  check_dim("conv_transpose2d", "input x (N, C, H, W)", x, 4);
  check_dim("conv_transpose2d", "weight (C, K/groups, kh, kw)", weight, 4);
  check_kernel_sizes("conv_transpose2d", "input x (N, C, H, W)",
                     x);  // an empty axis would leave no GEMM work
  check_kernel_sizes("conv_transpose2d", "weight (C, K/groups, kh, kw)", weight);
  const int64_t channels = x.size(1);
  check(channels % p.groups == 0, "conv_transpose2d: input channels (", channels,
        ") must be divisible by groups (", p.groups, "), input shape ", shape_str(x.shape()));
  check(weight.size(0) == channels, "conv_transpose2d: weight must have shape (", channels,
        ", K/groups, kh, kw) = (C, K/groups, kh, kw) for input shape ", shape_str(x.shape()), ", got ",
        shape_str(weight.shape()));
  const int64_t out_channels = weight.size(1) * p.groups;
  if (bias.defined()) check_shape("conv_transpose2d", "bias", bias.shape(), {out_channels});

  const int kh = static_cast<int>(weight.size(2)), kw = static_cast<int>(weight.size(3));
  const int in_h = static_cast<int>(x.size(2)), in_w = static_cast<int>(x.size(3));
  const int out_h = kernels::conv_transpose_out_size(in_h, kh, p.stride, p.pad, p.dilation, p.output_pad);
  const int out_w = kernels::conv_transpose_out_size(in_w, kw, p.stride, p.pad, p.dilation, p.output_pad);
  check(out_h >= 1 && out_w >= 1, "conv_transpose2d: the output would be ", out_h, "×", out_w, " for input ",
        in_h, "×", in_w, ", kernel ", kh, "×", kw, ", stride ", p.stride, ", pad ", p.pad, ", dilation ",
        p.dilation, ", output_pad ", p.output_pad, "; it must be at least 1×1 (reduce pad)");
  // out_h/out_w of the conv are set to our H × W: with output_pad ≥ stride the conv's own formula
  // would give one more row than our input has.
  return {.batch = static_cast<int>(x.size(0)),
          .in_channels = static_cast<int>(out_channels),
          .in_h = out_h,
          .in_w = out_w,
          .out_channels = static_cast<int>(channels),
          .kernel_h = kh,
          .kernel_w = kw,
          .stride = p.stride,
          .dilation = p.dilation,
          .groups = p.groups,
          .pad_top = p.pad,
          .pad_left = p.pad,
          .pad_bottom = p.pad,
          .pad_right = p.pad,
          .out_h = in_h,
          .out_w = in_w};
}

}  // namespace

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const ConvTranspose2dParams& p) {
  // g maps our output to our input: g.in_* describe y (N, K, Ho, Wo), g.out_* describe x (N, C, H, W).
  const kernels::ConvGeometry g = adjoint_conv_geometry(x, weight, bias, p);
  Tensor y = Tensor::zeros({g.batch, g.in_channels, g.in_h, g.in_w});  // (N, K, Ho, Wo)
  MacCounter::add(g.macs());  // the same multiply-adds as the conv it is the adjoint of
  if (g.is_depthwise())
    kernels::depthwise_conv2d_backward_data(g, x.data(), weight.data(), y.data());
  else
    kernels::conv2d_backward_data(g, x.data(), weight.data(), y.data());
  if (bias.defined()) kernels::add_bias(g.batch, g.in_channels, g.in_plane(), bias.data(), y.data());

  record(y, "conv_transpose2d", {x, weight, bias}, [x, weight, bias, g](const Tensor& dy) {
    // dy: (N, K, Ho, Wo)
    if (float* dx = grad_accumulator(x)) {  // (N, C, H, W): the conv's forward of dy, added
      std::vector<float> forward(static_cast<size_t>(x.numel()));
      if (g.is_depthwise())
        kernels::depthwise_conv2d_forward(g, dy.data(), weight.data(), nullptr, forward.data());
      else
        kernels::conv2d_forward(g, dy.data(), weight.data(), nullptr, forward.data());
      for (size_t i = 0; i < forward.size(); ++i) dx[i] += forward[i];
    }
    if (float* dweight = grad_accumulator(weight)) {  // (C, K/groups, kh, kw): conv input = dy, conv dy = x
      if (g.is_depthwise())
        kernels::depthwise_conv2d_backward_weight(g, dy.data(), x.data(), dweight, nullptr);
      else
        kernels::conv2d_backward_weight(g, dy.data(), x.data(), dweight, nullptr);
    }
    if (float* dbias = grad_accumulator(bias))  // (K)
      kernels::bias_backward(g.batch, g.in_channels, g.in_plane(), dy.data(), dbias);
  });
  return y;
}

}  // namespace pg
