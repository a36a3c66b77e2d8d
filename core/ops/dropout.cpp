// Dropout and Dropout2d with inverted scaling, forward and backward. In training each element
// (dropout) or each whole (n, c) channel (dropout2d) is kept with probability 1 − p:
//   y = x · m,  m = 1/(1 − p) where kept, 0 where dropped;   dx = dy · m
// so E[y] = x and evaluation is the identity. p = 1 drops everything (y = 0). The mask comes
// from the caller's Rng, one uniform draw per element (or per channel) in memory order.
// In eval mode, or with p = 0, the input itself is returned (no copy, no graph node).
#include "core/ops/dropout.h"

#include "core/autograd.h"
#include "kernels/cpu/elementwise.h"

namespace pg {

namespace {
void check_probability(const char* op, float p) {
  check(p >= 0.0f && p <= 1.0f, op, ": the drop probability p must be in [0, 1], got ", p);
}

// A mask of the given shape: each value 1/(1 − p) with probability 1 − p, else 0.
Tensor draw_mask(const Shape& shape, float p, Rng& rng) {
  Tensor mask = Tensor::empty(shape);
  const float kept = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  float* m = mask.data();
  const int64_t count = mask.numel();
  for (int64_t i = 0; i < count; ++i) m[i] = rng.uniform() >= p ? kept : 0.0f;
  return mask;
}
}  // namespace

Tensor dropout(const Tensor& x, float p, bool training, Rng& rng) {
  check(x.defined(), "dropout: the input is undefined");
  check_probability("dropout", p);
  if (!training || p == 0.0f) return x;
  Tensor mask = draw_mask(x.shape(), p, rng);  // mask, x, y: same shape
  Tensor y = Tensor::empty(x.shape());
  kernels::multiply(x.data(), mask.data(), y.data(), y.numel());
  record(y, "dropout", {x}, [x, mask](const Tensor& dy) {
    if (float* dx = grad_accumulator(x)) kernels::multiply_accumulate(dy.data(), mask.data(), dx, dy.numel());
  });
  return y;
}

Tensor dropout2d(const Tensor& x, float p, bool training, Rng& rng) {
  check_dim("dropout2d", "input", x, 4);
  check_probability("dropout2d", p);
  if (!training || p == 0.0f) return x;
  // x, y: (N, C, H, W); mask: (N, C), one value per channel plane.
  const int64_t planes = x.size(0) * x.size(1), plane_size = x.size(2) * x.size(3);
  Tensor mask = draw_mask({x.size(0), x.size(1)}, p, rng);
  Tensor y = Tensor::empty(x.shape());
  for (int64_t q = 0; q < planes; ++q)
    kernels::scale_shift(x.data() + q * plane_size, mask.data()[q], 0.0f, y.data() + q * plane_size,
                         plane_size);
  record(y, "dropout2d", {x}, [x, mask, planes, plane_size](const Tensor& dy) {
    float* dx = grad_accumulator(x);
    if (!dx) return;
    for (int64_t q = 0; q < planes; ++q)
      kernels::accumulate_scaled(dy.data() + q * plane_size, mask.data()[q], dx + q * plane_size, plane_size);
  });
  return y;
}

}  // namespace pg
