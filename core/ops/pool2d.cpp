// Pooling ops: validation, the kernels, and the recorded backwards.
//   max:      y = max over the window, indices = its position h·W + w;  dx[indices] += dy
//   avg:      y = Σ window / divisor;                                   dx[window] += dy / divisor
//   adaptive: y[i, j] = mean of bin_i × bin_j;                          dx[bin] += dy / |bin|
//   unpool:   y = 0, y[indices] = x;                                    dx += dy[indices]
#include "core/ops/pool2d.h"

#include <cstdint>
#include <utility>

#include "core/autograd.h"
#include "kernels/cpu/pool.h"

namespace pg {

namespace {

void check_input(const char* op, const Tensor& x) {
  check_dim(op, "x", x, 4);
  check_kernel_sizes(op, "x", x);
}

// The window geometry of a max or average pool on x, with PyTorch's rules on its parameters.
kernels::Pool2dGeometry pool_geometry(const char* op, const Tensor& x, const Pool2dParams& p) {
  check_input(op, x);
  check_pool2d_params(op, p);
  kernels::Pool2dGeometry g;
  g.planes = x.size(0) * x.size(1);
  g.in_h = static_cast<int>(x.size(2)), g.in_w = static_cast<int>(x.size(3));
  g.kernel = p.kernel, g.stride = p.stride, g.pad = p.pad, g.dilation = p.dilation;
  g.count_include_pad = p.count_include_pad;
  g.out_h = kernels::pool_out_size(g.in_h, g.window_extent(), p.stride, p.pad, p.ceil_mode);
  g.out_w = kernels::pool_out_size(g.in_w, g.window_extent(), p.stride, p.pad, p.ceil_mode);
  check(g.out_h >= 1 && g.out_w >= 1, op, ": a ", p.kernel, "x", p.kernel, " window with stride ", p.stride,
        ", pad ", p.pad, " and dilation ", p.dilation, " does not fit input ", shape_str(x.shape()),
        " (output would be ", g.out_h, "x", g.out_w, ")");
  // Without dilation every window holds a real pixel (pad ≤ kernel/2); a dilated one can straddle
  // a small input, all its taps in the padding, and would have no maximum to point at.
  if (p.dilation > 1)
    for (const auto& [in, out] : {std::pair{g.in_h, g.out_h}, std::pair{g.in_w, g.out_w}})
      for (int o = 0; o < out; ++o) {
        const int base = o * p.stride - p.pad;
        const int first_real = base < 0 ? base + (-base + p.dilation - 1) / p.dilation * p.dilation : base;
        check(first_real < in && (first_real - base) / p.dilation < p.kernel, op, ": window ", o, " of a ",
              p.kernel, "x", p.kernel, " window with dilation ", p.dilation, " and pad ", p.pad,
              " has every tap in the padding of input ", shape_str(x.shape()));
      }
  return g;
}

kernels::PlaneSizes plane_sizes(const Tensor& x, int out_h, int out_w) {
  kernels::PlaneSizes s;
  s.planes = x.size(0) * x.size(1);
  s.in_h = static_cast<int>(x.size(2)), s.in_w = static_cast<int>(x.size(3));
  s.out_h = out_h, s.out_w = out_w;
  return s;
}

// Adaptive average pool under the given op name (global_avg_pool is the 1×1 case).
Tensor adaptive_avg(const char* op, const Tensor& x, int out_h, int out_w) {
  const kernels::PlaneSizes s = plane_sizes(x, out_h, out_w);
  Tensor y = Tensor::empty({x.size(0), x.size(1), out_h, out_w});
  kernels::adaptive_avg_pool2d_forward(x.data(), y.data(), s);
  record(y, op, {x}, [x, s](const Tensor& dy) {
    if (float* dx = grad_accumulator(x)) kernels::adaptive_avg_pool2d_backward(dy.data(), dx, s);
  });
  return y;
}

}  // namespace

void check_pool2d_params(const char* who, const Pool2dParams& p) {
  check(p.kernel > 0, who, ": kernel must be positive, got ", p.kernel);
  check(p.stride > 0, who, ": stride must be positive, got ", p.stride);
  check(p.dilation > 0, who, ": dilation must be positive, got ", p.dilation);
  check(p.pad >= 0 && p.pad <= p.kernel / 2, who, ": pad must be between 0 and kernel/2 = ", p.kernel / 2,
        ", got ", p.pad);
}

MaxPoolResult max_pool2d_with_indices(const Tensor& x, const Pool2dParams& p) {
  const kernels::Pool2dGeometry g = pool_geometry("max_pool2d", x, p);
  MaxPoolResult result{Tensor::empty({x.size(0), x.size(1), g.out_h, g.out_w}),
                       IntTensor({x.size(0), x.size(1), g.out_h, g.out_w})};
  kernels::max_pool2d_forward(x.data(), result.out.data(), result.indices.data(), g);
  const IntTensor indices = result.indices;
  record(result.out, "max_pool2d", {x}, [x, indices, g](const Tensor& dy) {
    if (float* dx = grad_accumulator(x)) kernels::max_pool2d_backward(dy.data(), indices.data(), dx, g);
  });
  return result;
}

Tensor max_pool2d(const Tensor& x, const Pool2dParams& p) {
  return max_pool2d_with_indices(x, p).out;
}

Tensor avg_pool2d(const Tensor& x, const Pool2dParams& p) {
  check(p.dilation == 1, "avg_pool2d: average pooling has no dilation (as PyTorch's), got ", p.dilation);
  const kernels::Pool2dGeometry g = pool_geometry("avg_pool2d", x, p);
  Tensor y = Tensor::empty({x.size(0), x.size(1), g.out_h, g.out_w});
  kernels::avg_pool2d_forward(x.data(), y.data(), g);
  record(y, "avg_pool2d", {x}, [x, g](const Tensor& dy) {
    if (float* dx = grad_accumulator(x)) kernels::avg_pool2d_backward(dy.data(), dx, g);
  });
  return y;
}

Tensor adaptive_avg_pool2d(const Tensor& x, int out_h, int out_w) {
  check_input("adaptive_avg_pool2d", x);
  check(out_h > 0 && out_w > 0, "adaptive_avg_pool2d: output size must be positive, got ", out_h, "x", out_w);
  return adaptive_avg("adaptive_avg_pool2d", x, out_h, out_w);
}

Tensor global_avg_pool(const Tensor& x) {
  check_input("global_avg_pool", x);
  return adaptive_avg("global_avg_pool", x, 1, 1);
}

Tensor max_unpool2d(const Tensor& x, const IntTensor& indices, int out_h, int out_w) {
  check_input("max_unpool2d", x);
  check(indices.defined(), "max_unpool2d: indices are undefined");
  check_shape("max_unpool2d", "indices", indices.shape(), x.shape());
  check(out_h > 0 && out_w > 0, "max_unpool2d: output size must be positive, got ", out_h, "x", out_w);
  const int64_t out_plane = static_cast<int64_t>(out_h) * out_w;
  for (int64_t i = 0; i < indices.numel(); ++i)
    check(indices.data()[i] >= 0 && indices.data()[i] < out_plane, "max_unpool2d: index ", indices.data()[i],
          " (at flat position ", i, " of indices) is out of range for a ", out_h, "x", out_w,
          " output plane (expected 0 to ", out_plane - 1, ")");
  const kernels::PlaneSizes s = plane_sizes(x, out_h, out_w);
  Tensor y = Tensor::empty({x.size(0), x.size(1), out_h, out_w});
  kernels::max_unpool2d_forward(x.data(), indices.data(), y.data(), s);
  record(y, "max_unpool2d", {x}, [x, indices, s](const Tensor& dy) {
    if (float* dx = grad_accumulator(x)) kernels::max_unpool2d_backward(dy.data(), indices.data(), dx, s);
  });
  return y;
}

}  // namespace pg
