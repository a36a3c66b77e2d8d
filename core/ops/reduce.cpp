// Reductions of a whole tensor to a scalar (shape ()), forward and backward:
//   sum:  y = Σ x        dx = dy (every element)
//   mean: y = Σ x / n    dx = dy / n
// The sum runs in double, so long sums do not drift.
#include "core/ops/reduce.h"

#include "core/autograd.h"
#include "kernels/cpu/elementwise.h"

namespace pg {

namespace {
// y = factor · Σ x, dx = factor · dy.
Tensor scaled_sum(const char* op, const Tensor& x, double factor) {
  Tensor y = Tensor::scalar(static_cast<float>(factor * kernels::sum_all(x.data(), x.numel())));
  record(y, op, {x}, [x, factor](const Tensor& dy) {
    float* dx = grad_accumulator(x);
    if (!dx) return;
    const float d = static_cast<float>(factor * dy.item());
    const int64_t n = x.numel();
    for (int64_t i = 0; i < n; ++i) dx[i] += d;
  });
  return y;
}
}  // namespace

Tensor sum(const Tensor& x) {
  check(x.defined(), "sum: the input is undefined");
  return scaled_sum("sum", x, 1.0);
}

Tensor mean(const Tensor& x) {
  check(x.defined(), "mean: the input is undefined");
  check(x.numel() > 0, "mean: the input is empty, shape ", shape_str(x.shape()));
  return scaled_sum("mean", x, 1.0 / static_cast<double>(x.numel()));
}

}  // namespace pg
