// Element-wise kernels over n contiguous floats: activations forward and backward, the arithmetic
// the ops need, and the sum of a buffer. Backward kernels ACCUMULATE into dx (dx += ...).
// Each loop, except the sum, is its own reference: OpenMP splits it into chunks and `omp simd`
// vectorises each chunk, and neither changes any arithmetic (every output value is computed from
// its own inputs alone). The sum reorders additions, so sum_all has a serial reference beside it.
#pragma once
#include <cstdint>

namespace pg::kernels {

// y = max(x, 0); dx += dy where x > 0 (0 at the kink x = 0).
void relu_forward(const float* x, float* y, int64_t n);
void relu_backward(const float* x, const float* dy, float* dx, int64_t n);
// y = x (x > 0) or slope·x; dx += dy or slope·dy.
void leaky_relu_forward(const float* x, float* y, int64_t n, float slope);
void leaky_relu_backward(const float* x, const float* dy, float* dx, int64_t n, float slope);
// y = 1 / (1 + e^−x); dx += dy · y · (1 − y), from the output y.
void sigmoid_forward(const float* x, float* y, int64_t n);
void sigmoid_backward(const float* y, const float* dy, float* dx, int64_t n);
// y = tanh x; dx += dy · (1 − y²), from the output y.
void tanh_forward(const float* x, float* y, int64_t n);
void tanh_backward(const float* y, const float* dy, float* dx, int64_t n);

// y = a + factor · b (add: factor 1, sub: factor −1).
void add_scaled(const float* a, const float* b, float factor, float* y, int64_t n);
// y = a · b.
void multiply(const float* a, const float* b, float* y, int64_t n);
// dst += a · b.
void multiply_accumulate(const float* a, const float* b, float* dst, int64_t n);
// y = factor · x + shift.
void scale_shift(const float* x, float factor, float shift, float* y, int64_t n);
// dst += factor · src.
void accumulate_scaled(const float* src, float factor, float* dst, int64_t n);

// Σ x in double: per-thread partial sums, then their total.
double sum_all(const float* x, int64_t n);
// Computes the same as sum_all, left to right.
double sum_all_reference(const float* x, int64_t n);

}  // namespace pg::kernels
