// Batch normalisation kernels (see batch_norm.h). Channel c of x is N rows of `inner` contiguous
// floats, row n starting at (n·C + c)·inner: each thread takes whole channels and the inner loops
// run along a row, which the compiler vectorises (`omp simd` allows the reordered sums).
#include "kernels/cpu/batch_norm.h"

#include <vector>

#include "kernels/cpu/parallel.h"

namespace pg::kernels {

namespace {
// The start of row n of channel c in a (N, C, inner) buffer.
inline int64_t row_offset(const BatchNormGeometry& g, int64_t n, int64_t c) {
  return (n * g.channels + c) * g.inner;
}
}  // namespace

// ---- statistics ----

void batch_norm_statistics(const float* x, float* mean, float* var, const BatchNormGeometry& g) {
  const double count = static_cast<double>(g.batch * g.inner);
#pragma omp parallel for schedule(static) if (worth_threads(g.batch * g.channels * g.inner))
  for (int64_t c = 0; c < g.channels; ++c) {
    double sum = 0.0;
    for (int64_t n = 0; n < g.batch; ++n) {
      const float* row = x + row_offset(g, n, c);
#pragma omp simd reduction(+ : sum)
      for (int64_t i = 0; i < g.inner; ++i) sum += row[i];
    }
    const double channel_mean = sum / count;
    double squares = 0.0;  // second pass: Σ (x − mean)² does not cancel like Σx² − M·mean² would
    for (int64_t n = 0; n < g.batch; ++n) {
      const float* row = x + row_offset(g, n, c);
#pragma omp simd reduction(+ : squares)
      for (int64_t i = 0; i < g.inner; ++i) {
        const double d = row[i] - channel_mean;
        squares += d * d;
      }
    }
    mean[c] = static_cast<float>(channel_mean);
    var[c] = static_cast<float>(squares / count);
  }
}

// Computes the same as batch_norm_statistics, one value at a time.
void batch_norm_statistics_reference(const float* x, float* mean, float* var, const BatchNormGeometry& g) {
  const double count = static_cast<double>(g.batch * g.inner);
  for (int64_t c = 0; c < g.channels; ++c) {
    double sum = 0.0;
    for (int64_t n = 0; n < g.batch; ++n)
      for (int64_t i = 0; i < g.inner; ++i) sum += x[row_offset(g, n, c) + i];
    const double channel_mean = sum / count;
    double squares = 0.0;
    for (int64_t n = 0; n < g.batch; ++n)
      for (int64_t i = 0; i < g.inner; ++i) {
        const double d = x[row_offset(g, n, c) + i] - channel_mean;
        squares += d * d;
      }
    mean[c] = static_cast<float>(channel_mean);
    var[c] = static_cast<float>(squares / count);
  }
}

// ---- forward ----

void batch_norm_forward(const BatchNormBuffers& b, const BatchNormGeometry& g) {
  // Folded into one multiply-add per value: y = x · scale + shift.
#pragma omp parallel for collapse(2) schedule(static) if (worth_threads(g.batch * g.channels * g.inner))
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t c = 0; c < g.channels; ++c) {
      const float scale = (b.gamma ? b.gamma[c] : 1.0f) * b.inv_std[c];
      const float shift = (b.beta ? b.beta[c] : 0.0f) - b.mean[c] * scale;
      const float* x = b.x + row_offset(g, n, c);
      float* y = b.y + row_offset(g, n, c);
#pragma omp simd
      for (int64_t i = 0; i < g.inner; ++i) y[i] = x[i] * scale + shift;
    }
}

// Computes the same as batch_norm_forward, straight from the formula.
void batch_norm_forward_reference(const BatchNormBuffers& b, const BatchNormGeometry& g) {
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t c = 0; c < g.channels; ++c)
      for (int64_t i = 0; i < g.inner; ++i) {
        const int64_t at = row_offset(g, n, c) + i;
        const double x_hat = (static_cast<double>(b.x[at]) - b.mean[c]) * b.inv_std[c];
        b.y[at] = static_cast<float>((b.gamma ? b.gamma[c] : 1.0) * x_hat + (b.beta ? b.beta[c] : 0.0));
      }
}

// ---- backward ----

void batch_norm_backward(const BatchNormBuffers& b, const BatchNormGeometry& g, bool batch_statistics) {
  const double count = static_cast<double>(g.batch * g.inner);
#pragma omp parallel for schedule(static) if (worth_threads(g.batch * g.channels * g.inner))
  for (int64_t c = 0; c < g.channels; ++c) {
    const float mean = b.mean[c], inv_std = b.inv_std[c];
    double sum_dy = 0.0, sum_dy_centered = 0.0;  // Σ dy and Σ dy·(x − mean)
    for (int64_t n = 0; n < g.batch; ++n) {
      const float* x = b.x + row_offset(g, n, c);
      const float* dy = b.dy + row_offset(g, n, c);
#pragma omp simd reduction(+ : sum_dy, sum_dy_centered)
      for (int64_t i = 0; i < g.inner; ++i) {
        sum_dy += dy[i];
        sum_dy_centered += static_cast<double>(dy[i]) * (x[i] - mean);
      }
    }
    const double sum_dy_xhat = sum_dy_centered * inv_std;
    if (b.dgamma) b.dgamma[c] += static_cast<float>(sum_dy_xhat);
    if (b.dbeta) b.dbeta[c] += static_cast<float>(sum_dy);
    if (!b.dx) continue;

    const float a = (b.gamma ? b.gamma[c] : 1.0f) * inv_std;  // ∂y/∂x̂ · ∂x̂/∂x with fixed statistics
    // With batch statistics: dx = a · (dy − mean(dy) − x̂ · mean(dy·x̂)); with fixed ones the two
    // mean terms are 0.
    const float mean_dy = batch_statistics ? static_cast<float>(sum_dy / count) : 0.0f;
    const float mean_dy_xhat = batch_statistics ? static_cast<float>(sum_dy_xhat / count) : 0.0f;
    for (int64_t n = 0; n < g.batch; ++n) {
      const float* x = b.x + row_offset(g, n, c);
      const float* dy = b.dy + row_offset(g, n, c);
      float* dx = b.dx + row_offset(g, n, c);
#pragma omp simd
      for (int64_t i = 0; i < g.inner; ++i) {
        const float x_hat = (x[i] - mean) * inv_std;
        dx[i] += a * (dy[i] - mean_dy - x_hat * mean_dy_xhat);
      }
    }
  }
}

// Computes the same as batch_norm_backward, straight from the formulas, with x̂ stored first.
void batch_norm_backward_reference(const BatchNormBuffers& b, const BatchNormGeometry& g,
                                   bool batch_statistics) {
  const int64_t count = g.batch * g.inner;
  for (int64_t c = 0; c < g.channels; ++c) {
    std::vector<double> x_hat(count), dy(count);  // channel c, flattened over (N, inner)
    for (int64_t n = 0; n < g.batch; ++n)
      for (int64_t i = 0; i < g.inner; ++i) {
        const int64_t at = row_offset(g, n, c) + i;
        x_hat[n * g.inner + i] = (static_cast<double>(b.x[at]) - b.mean[c]) * b.inv_std[c];
        dy[n * g.inner + i] = b.dy[at];
      }
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for (int64_t j = 0; j < count; ++j) {
      sum_dy += dy[j];
      sum_dy_xhat += dy[j] * x_hat[j];
    }
    if (b.dgamma) b.dgamma[c] += static_cast<float>(sum_dy_xhat);
    if (b.dbeta) b.dbeta[c] += static_cast<float>(sum_dy);
    if (!b.dx) continue;
    const double gamma = b.gamma ? b.gamma[c] : 1.0;
    for (int64_t n = 0; n < g.batch; ++n)
      for (int64_t i = 0; i < g.inner; ++i) {
        const int64_t j = n * g.inner + i;
        const double dx = batch_statistics ? gamma * b.inv_std[c] / count *
                                                 (count * dy[j] - sum_dy - x_hat[j] * sum_dy_xhat)
                                           : gamma * b.inv_std[c] * dy[j];
        b.dx[row_offset(g, n, c) + i] += static_cast<float>(dx);
      }
  }
}

}  // namespace pg::kernels
