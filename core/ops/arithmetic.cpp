// Element-wise arithmetic on same-shape tensors, forward and backward:
//   add:        y = a + b        da = dy,      db = dy
//   sub:        y = a − b        da = dy,      db = −dy
//   mul:        y = a ⊙ b        da = dy ⊙ b,  db = dy ⊙ a
//   scale:      y = f · x        dx = f · dy
//   add_scalar: y = x + v        dx = dy
//   sum_of:     y = Σ_k t_k      dt_k = dy
//   maximum:    y = max_k t_k    dt_k = dy where t_k is the FIRST term holding the maximum, else 0
#include "core/ops/arithmetic.h"

#include "core/autograd.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/parallel.h"

namespace pg {

namespace {
void check_same_shape(const char* op, const Tensor& a, const Tensor& b) {
  check(a.defined() && b.defined(), op, ": an input is undefined");
  check(a.shape() == b.shape(), op, ": inputs must have the same shape, got ", shape_str(a.shape()), " and ",
        shape_str(b.shape()));
}

void check_terms(const char* op, const std::vector<Tensor>& terms) {
  check(!terms.empty(), op, ": needs at least one tensor, got none");
  for (size_t k = 0; k < terms.size(); ++k) {
    check(terms[k].defined(), op, ": term ", k, " is undefined");
    check(terms[k].shape() == terms[0].shape(), op, ": all terms must have the same shape; term 0 is ",
          shape_str(terms[0].shape()), ", term ", k, " is ", shape_str(terms[k].shape()));
  }
}

// y = a + factor·b with da = dy, db = factor·dy (add and sub).
Tensor add_scaled(const char* op, const Tensor& a, const Tensor& b, float factor) {
  check_same_shape(op, a, b);
  Tensor y = Tensor::empty(a.shape());
  kernels::add_scaled(a.data(), b.data(), factor, y.data(), y.numel());
  record(y, op, {a, b}, [a, b, factor](const Tensor& dy) {
    if (float* da = grad_accumulator(a)) kernels::accumulate_scaled(dy.data(), 1.0f, da, dy.numel());
    if (float* db = grad_accumulator(b)) kernels::accumulate_scaled(dy.data(), factor, db, dy.numel());
  });
  return y;
}
}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  return add_scaled("add", a, b, 1.0f);
}

Tensor sub(const Tensor& a, const Tensor& b) {
  return add_scaled("sub", a, b, -1.0f);
}

Tensor mul(const Tensor& a, const Tensor& b) {
  check_same_shape("mul", a, b);
  Tensor y = Tensor::empty(a.shape());
  kernels::multiply(a.data(), b.data(), y.data(), y.numel());
  record(y, "mul", {a, b}, [a, b](const Tensor& dy) {
    if (float* da = grad_accumulator(a)) kernels::multiply_accumulate(dy.data(), b.data(), da, dy.numel());
    if (float* db = grad_accumulator(b)) kernels::multiply_accumulate(dy.data(), a.data(), db, dy.numel());
  });
  return y;
}

Tensor scale(const Tensor& x, float factor) {
  check(x.defined(), "scale: the input is undefined");
  Tensor y = Tensor::empty(x.shape());
  kernels::scale_shift(x.data(), factor, 0.0f, y.data(), y.numel());
  record(y, "scale", {x}, [x, factor](const Tensor& dy) {
    if (float* dx = grad_accumulator(x)) kernels::accumulate_scaled(dy.data(), factor, dx, dy.numel());
  });
  return y;
}

Tensor add_scalar(const Tensor& x, float value) {
  check(x.defined(), "add_scalar: the input is undefined");
  Tensor y = Tensor::empty(x.shape());
  kernels::scale_shift(x.data(), 1.0f, value, y.data(), y.numel());
  record(y, "add_scalar", {x}, [x](const Tensor& dy) {
    if (float* dx = grad_accumulator(x)) kernels::accumulate_scaled(dy.data(), 1.0f, dx, dy.numel());
  });
  return y;
}

Tensor sum_of(const std::vector<Tensor>& terms) {
  check_terms("sum_of", terms);
  Tensor y = terms[0].clone();
  for (size_t k = 1; k < terms.size(); ++k)
    kernels::accumulate_scaled(terms[k].data(), 1.0f, y.data(), y.numel());
  record(y, "sum_of", terms, [terms](const Tensor& dy) {
    for (const Tensor& t : terms)
      if (float* dt = grad_accumulator(t)) kernels::accumulate_scaled(dy.data(), 1.0f, dt, dy.numel());
  });
  return y;
}

Tensor maximum(const std::vector<Tensor>& terms) {
  check_terms("maximum", terms);
  Tensor y = terms[0].clone();
  const int64_t n = y.numel();
  for (size_t k = 1; k < terms.size(); ++k) {
    const float* t = terms[k].data();
    float* out = y.data();
    // A strict > keeps the earlier term on ties.
#pragma omp parallel for simd if (kernels::worth_threads(n))
    for (int64_t i = 0; i < n; ++i) out[i] = t[i] > out[i] ? t[i] : out[i];
  }
  // The backward finds the winner again from the saved inputs, the same way (no index buffer).
  record(y, "maximum", terms, [terms](const Tensor& dy) {
    const int64_t count = dy.numel();
    const float* dy_values = dy.data();
    std::vector<const float*> values(terms.size());
    std::vector<float*> dterms(terms.size());
    for (size_t k = 0; k < terms.size(); ++k) {
      values[k] = terms[k].data();
      dterms[k] = grad_accumulator(terms[k]);
    }
#pragma omp parallel for if (kernels::worth_threads(count))
    for (int64_t i = 0; i < count; ++i) {
      size_t winner = 0;
      for (size_t k = 1; k < values.size(); ++k)
        if (values[k][i] > values[winner][i]) winner = k;
      if (dterms[winner]) dterms[winner][i] += dy_values[i];
    }
  });
  return y;
}

}  // namespace pg
