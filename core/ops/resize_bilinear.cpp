// resize_bilinear and resize_bilinear_scale: validation, the forward kernel, and the recorded
// backward (the transpose: each output gradient goes back to its four source pixels).
//   y[n,c,oy,ox] = Σ_{a,b} wr_a(oy) · wc_b(ox) · x[n,c,r_a(oy),c_b(ox)]
//   dx[n,c,r_a(oy),c_b(ox)] += wr_a(oy) · wc_b(ox) · dy[n,c,oy,ox]
#include "core/ops/resize_bilinear.h"

#include <cmath>
#include <cstdint>

#include "core/autograd.h"
#include "kernels/cpu/resize_bilinear.h"

namespace pg {

namespace {

// x: (N, C, H, W) → (N, C, p.out_h, p.out_w) with the taps set by p.
Tensor resize_with(const Tensor& x, const kernels::ResizeBilinearParams& p) {
  Tensor y = Tensor::empty({x.size(0), x.size(1), p.out_h, p.out_w});
  kernels::resize_bilinear_forward(x.data(), y.data(), p);
  record(y, "resize_bilinear", {x}, [x, p](const Tensor& dy) {
    if (float* dx = grad_accumulator(x)) kernels::resize_bilinear_backward(dy.data(), dx, p);
  });
  return y;
}

void check_input(const char* op, const Tensor& x) {
  check_dim(op, "x", x, 4);
  check_kernel_sizes(op, "x", x);
}

kernels::ResizeBilinearParams params_for(const Tensor& x, int out_h, int out_w, bool align_corners) {
  kernels::ResizeBilinearParams p;
  p.planes = x.size(0) * x.size(1);
  p.in_h = static_cast<int>(x.size(2)), p.in_w = static_cast<int>(x.size(3));
  p.out_h = out_h, p.out_w = out_w;
  p.align_corners = align_corners;
  p.ratio_h = kernels::bilinear_source_ratio(p.in_h, out_h, align_corners);
  p.ratio_w = kernels::bilinear_source_ratio(p.in_w, out_w, align_corners);
  return p;
}

}  // namespace

Tensor resize_bilinear(const Tensor& x, int out_h, int out_w, bool align_corners) {
  check_input("resize_bilinear", x);
  check(out_h > 0 && out_w > 0, "resize_bilinear: output size must be positive, got ", out_h, "x", out_w);
  return resize_with(x, params_for(x, out_h, out_w, align_corners));
}

Tensor resize_bilinear_scale(const Tensor& x, float scale, bool align_corners) {
  check_input("resize_bilinear_scale", x);
  check(std::isfinite(scale) && scale > 0.0f, "resize_bilinear_scale: scale must be a positive number, got ",
        scale);
  // Output size as PyTorch: floor(in · scale), computed in double.
  const double scaled_h = std::floor(static_cast<double>(x.size(2)) * scale);
  const double scaled_w = std::floor(static_cast<double>(x.size(3)) * scale);
  check(scaled_h >= 1 && scaled_w >= 1, "resize_bilinear_scale: scale ", scale, " maps ", x.size(2), "x",
        x.size(3), " to an empty ", scaled_h, "x", scaled_w, " output");
  check(scaled_h * scaled_w <= 1e9, "resize_bilinear_scale: scale ", scale, " gives a ", scaled_h, "x",
        scaled_w, " output, too large");
  const int out_h = static_cast<int>(scaled_h), out_w = static_cast<int>(scaled_w);
  kernels::ResizeBilinearParams p = params_for(x, out_h, out_w, align_corners);
  // With aligned corners PyTorch ignores the scale; otherwise the source step is 1/scale.
  if (!align_corners) p.ratio_h = p.ratio_w = static_cast<float>(1.0 / static_cast<double>(scale));
  return resize_with(x, p);
}

}  // namespace pg
