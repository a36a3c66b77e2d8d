// softmax and log_softmax over one dimension, forward and backward. With m = max_c x_c:
//   softmax:     y_c = e^(x_c − m) / Σ_k e^(x_k − m)      dx = y ⊙ (dy − Σ_c dy·y)
//   log_softmax: y_c = x_c − m − log Σ_k e^(x_k − m)      dx = dy − softmax(x) · Σ_c dy
// Both backwards need only the output y (softmax(x) = e^y for the log version).
#include "core/ops/softmax.h"

#include "core/autograd.h"
#include "kernels/cpu/softmax.h"

namespace pg {

namespace {

// x viewed as (outer, channels, inner) around dimension `dim` (negative counts from the end).
kernels::SoftmaxGeometry geometry_around(const char* op, const Tensor& x, int dim) {
  check(x.defined(), op, ": the input is undefined");
  const int64_t rank = x.dim();
  check(rank >= 1, op, ": needs at least a 1-D input, got a scalar");
  check(dim >= -rank && dim < rank, op, ": dim ", dim, " is out of range for the ", rank, "-D input ",
        shape_str(x.shape()));
  const int64_t d = dim < 0 ? dim + rank : dim;
  kernels::SoftmaxGeometry g{.outer = 1, .channels = x.size(d), .inner = 1};
  for (int64_t j = 0; j < d; ++j) g.outer *= x.size(j);
  for (int64_t j = d + 1; j < rank; ++j) g.inner *= x.size(j);
  return g;
}

}  // namespace

Tensor softmax(const Tensor& x, int dim) {
  const kernels::SoftmaxGeometry g = geometry_around("softmax", x, dim);
  Tensor y = Tensor::empty(x.shape());  // x, y, dy, dx: the same shape
  kernels::softmax_forward(x.data(), y.data(), g);
  record(y, "softmax", {x}, [x, output = y.detach(), g](const Tensor& dy) {
    if (float* dx = grad_accumulator(x)) kernels::softmax_backward(output.data(), dy.data(), dx, g);
  });
  return y;
}

Tensor log_softmax(const Tensor& x, int dim) {
  const kernels::SoftmaxGeometry g = geometry_around("log_softmax", x, dim);
  Tensor y = Tensor::empty(x.shape());
  kernels::log_softmax_forward(x.data(), y.data(), g);
  record(y, "log_softmax", {x}, [x, output = y.detach(), g](const Tensor& dy) {
    if (float* dx = grad_accumulator(x)) kernels::log_softmax_backward(output.data(), dy.data(), dx, g);
  });
  return y;
}

}  // namespace pg
