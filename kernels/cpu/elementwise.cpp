// Element-wise kernels (see elementwise.h). Small buffers run on the calling thread (see
// parallel.h).
#include "kernels/cpu/elementwise.h"

#include <cmath>

#include "kernels/cpu/parallel.h"

namespace pg::kernels {

void relu_forward(const float* x, float* y, int64_t n) {
#pragma omp parallel for simd if (worth_threads(n))
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void relu_backward(const float* x, const float* dy, float* dx, int64_t n) {
  // dy is loaded unconditionally: from `x > 0 ? dy[i] : 0` g++ emits a masked load (vmaskmovps,
  // slow on AMD cores); this way the select is a compare and an AND.
#pragma omp parallel for simd if (worth_threads(n))
  for (int64_t i = 0; i < n; ++i) {
    const float dy_i = dy[i];
    dx[i] += x[i] > 0.0f ? dy_i : 0.0f;
  }
}

void leaky_relu_forward(const float* x, float* y, int64_t n, float slope) {
#pragma omp parallel for simd if (worth_threads(n))
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}

void leaky_relu_backward(const float* x, const float* dy, float* dx, int64_t n, float slope) {
#pragma omp parallel for simd if (worth_threads(n))
  for (int64_t i = 0; i < n; ++i) dx[i] += x[i] > 0.0f ? dy[i] : slope * dy[i];
}

void sigmoid_forward(const float* x, float* y, int64_t n) {
#pragma omp parallel for if (worth_threads(n))
  for (int64_t i = 0; i < n; ++i) y[i] = 1.0f / (1.0f + std::exp(-x[i]));
}

void sigmoid_backward(const float* y, const float* dy, float* dx, int64_t n) {
#pragma omp parallel for simd if (worth_threads(n))
  for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * y[i] * (1.0f - y[i]);
}

void tanh_forward(const float* x, float* y, int64_t n) {
#pragma omp parallel for if (worth_threads(n))
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}

void tanh_backward(const float* y, const float* dy, float* dx, int64_t n) {
#pragma omp parallel for simd if (worth_threads(n))
  for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * (1.0f - y[i] * y[i]);
}

void add_scaled(const float* a, const float* b, float factor, float* y, int64_t n) {
#pragma omp parallel for simd if (worth_threads(n))
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + factor * b[i];
}

void multiply(const float* a, const float* b, float* y, int64_t n) {
#pragma omp parallel for simd if (worth_threads(n))
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i];
}

void multiply_accumulate(const float* a, const float* b, float* dst, int64_t n) {
#pragma omp parallel for simd if (worth_threads(n))
  for (int64_t i = 0; i < n; ++i) dst[i] += a[i] * b[i];
}

void scale_shift(const float* x, float factor, float shift, float* y, int64_t n) {
#pragma omp parallel for simd if (worth_threads(n))
  for (int64_t i = 0; i < n; ++i) y[i] = factor * x[i] + shift;
}

void accumulate_scaled(const float* src, float factor, float* dst, int64_t n) {
#pragma omp parallel for simd if (worth_threads(n))
  for (int64_t i = 0; i < n; ++i) dst[i] += factor * src[i];
}

double sum_all(const float* x, int64_t n) {
  double total = 0.0;
#pragma omp parallel for simd reduction(+ : total) if (worth_threads(n))
  for (int64_t i = 0; i < n; ++i) total += x[i];
  return total;
}

double sum_all_reference(const float* x, int64_t n) {
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) total += x[i];
  return total;
}

}  // namespace pg::kernels
