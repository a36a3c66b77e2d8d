// conv2d: forward and backward of the 2-D convolution (cross-correlation), see conv2d.h.
//   y[n,k,i,j]  = b[k] + Σ_{c ∈ group(k), u, v} w[k,c,u,v] · x[n, c, i·s − pad + u·d, j·s − pad + v·d]
//   dx[n,c,h,w] += Σ over the (k, i, j, u, v) that read x[n,c,h,w] of w[k,c,u,v] · dy[n,k,i,j]
//   dw[k,c,u,v] += Σ_{n,i,j} dy[n,k,i,j] · x[n, c, i·s − pad + u·d, j·s − pad + v·d]
//   db[k]       += Σ_{n,i,j} dy[n,k,i,j]
// Depthwise convs (groups = C = K) go to the direct depthwise kernels, few-channel 3×3 same convs
// to the direct 3×3 kernels, every other conv to im2col + GEMM.
#include "core/ops/conv2d.h"

#include "core/autograd.h"
#include "core/mac_counter.h"
#include "kernels/cpu/conv.h"
#include "kernels/cpu/conv3x3_direct.h"
#include "kernels/cpu/depthwise_conv.h"

namespace pg {

namespace {

void check_params(const Conv2dParams& p) {
  check(p.stride >= 1, "conv2d: stride must be ≥ 1, got ", p.stride);
  check(p.dilation >= 1, "conv2d: dilation must be ≥ 1, got ", p.dilation);
  check(p.groups >= 1, "conv2d: groups must be ≥ 1, got ", p.groups);
  check(p.pad >= 0, "conv2d: pad must be ≥ 0, got ", p.pad);
  check(p.pad_end_extra >= 0, "conv2d: pad_end_extra must be ≥ 0, got ", p.pad_end_extra);
}

// Validates x, weight and bias against the params and returns the geometry of the conv.
kernels::ConvGeometry conv2d_geometry(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                      const Conv2dParams& p) {
  check_params(p);
  check_dim("conv2d", "input x (N, C, H, W)", x, 4);
  check_dim("conv2d", "weight (K, C/groups, kh, kw)", weight, 4);
  check_kernel_sizes("conv2d", "input x (N, C, H, W)", x);  // an empty axis would leave no GEMM work
  check_kernel_sizes("conv2d", "weight (K, C/groups, kh, kw)", weight);
  const int64_t channels = x.size(1), out_channels = weight.size(0);
  check(channels % p.groups == 0, "conv2d: input channels (", channels, ") must be divisible by groups (",
        p.groups, "), input shape ", shape_str(x.shape()));
  check(out_channels % p.groups == 0, "conv2d: output channels (weight.size(0) = ", out_channels,
        ") must be divisible by groups (", p.groups, ")");
  const Shape expected_weight{out_channels, channels / p.groups, weight.size(2), weight.size(3)};
  check(weight.shape() == expected_weight, "conv2d: weight must have shape ", shape_str(expected_weight),
        " = (K, C/groups, kh, kw) for ", channels, " input channels and groups ", p.groups, ", got ",
        shape_str(weight.shape()));
  if (bias.defined()) check_shape("conv2d", "bias", bias.shape(), {out_channels});

  kernels::ConvGeometry g{.batch = static_cast<int>(x.size(0)),
                          .in_channels = static_cast<int>(channels),
                          .in_h = static_cast<int>(x.size(2)),
                          .in_w = static_cast<int>(x.size(3)),
                          .out_channels = static_cast<int>(out_channels),
                          .kernel_h = static_cast<int>(weight.size(2)),
                          .kernel_w = static_cast<int>(weight.size(3)),
                          .stride = p.stride,
                          .dilation = p.dilation,
                          .groups = p.groups,
                          .pad_top = p.pad,
                          .pad_left = p.pad,
                          .pad_bottom = p.pad + p.pad_end_extra,
                          .pad_right = p.pad + p.pad_end_extra};
  g = kernels::with_output_size(g);
  check(g.out_h >= 1 && g.out_w >= 1, "conv2d: the output would be ", g.out_h, "×", g.out_w, " for input ",
        g.in_h, "×", g.in_w, ", kernel ", g.kernel_h, "×", g.kernel_w, ", stride ", p.stride, ", pad ", p.pad,
        " (+", p.pad_end_extra, " at the end), dilation ", p.dilation,
        "; the dilated kernel must fit inside the padded input (output at least 1×1)");
  return g;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p) {
  const kernels::ConvGeometry g = conv2d_geometry(x, weight, bias, p);
  const float* bias_data = bias.defined() ? bias.data() : nullptr;
  Tensor y = Tensor::empty({g.batch, g.out_channels, g.out_h, g.out_w});  // (N, K, Ho, Wo)
  MacCounter::add(g.macs());
  if (g.is_depthwise())
    kernels::depthwise_conv2d_forward(g, x.data(), weight.data(), bias_data, y.data());
  else if (kernels::conv3x3_direct_applies(g))
    kernels::conv3x3_direct_forward(g, x.data(), weight.data(), bias_data, y.data());
  else
    kernels::conv2d_forward(g, x.data(), weight.data(), bias_data, y.data());

  record(y, g.is_depthwise() ? "conv2d_depthwise" : "conv2d", {x, weight, bias}, [x, weight, bias, g](const Tensor& dy) {
    // dy: (N, K, Ho, Wo)
    if (float* dx = grad_accumulator(x)) {  // (N, C, H, W)
      if (g.is_depthwise())
        kernels::depthwise_conv2d_backward_data(g, dy.data(), weight.data(), dx);
      else if (kernels::conv3x3_direct_applies(g))
        kernels::conv3x3_direct_backward_data(g, dy.data(), weight.data(), dx);
      else
        kernels::conv2d_backward_data(g, dy.data(), weight.data(), dx);
    }
    float* dweight = grad_accumulator(weight);  // (K, C/groups, kh, kw)
    float* dbias = grad_accumulator(bias);      // (K), nullptr without bias
    if (dweight) {
      if (g.is_depthwise())
        kernels::depthwise_conv2d_backward_weight(g, x.data(), dy.data(), dweight, dbias);
      else if (kernels::conv3x3_direct_applies(g))
        kernels::conv3x3_direct_backward_weight(g, x.data(), dy.data(), dweight, dbias);
      else
        kernels::conv2d_backward_weight(g, x.data(), dy.data(), dweight, dbias);
    } else if (dbias) {
      kernels::bias_backward(g.batch, g.out_channels, g.out_plane(), dy.data(), dbias);
    }
  });
  return y;
}

}  // namespace pg
