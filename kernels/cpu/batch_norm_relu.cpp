// Fused batch norm + ReLU kernels (see batch_norm_relu.h). Channel c of x is N rows of `inner`
// contiguous floats, row n starting at (n·C + c)·inner: each thread takes whole channels (a
// channel's sums need all its rows) and the inner loops run along a row, vectorised by `omp simd`.
#include "kernels/cpu/batch_norm_relu.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace pg::kernels {

namespace {
// The start of row n of channel c in a (N, C, inner) buffer.
inline int64_t row_offset(const BatchNormGeometry& g, int64_t n, int64_t c) {
  return (n * g.channels + c) * g.inner;
}

// y = x · scale + shift is gamma · x̂ + beta folded into one multiply-add per value.
struct ChannelAffine {
  float scale, shift;
};
inline ChannelAffine channel_affine(const BatchNormBuffers& b, int64_t c) {
  const float scale = (b.gamma ? b.gamma[c] : 1.0f) * b.inv_std[c];
  return {scale, (b.beta ? b.beta[c] : 0.0f) - b.mean[c] * scale};
}
}  // namespace

// ---- forward ----

void batch_norm_relu_forward(const BatchNormBuffers& b, const BatchNormGeometry& g) {
#pragma omp parallel for collapse(2) schedule(static) if (worth_threads(g.batch * g.channels * g.inner))
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t c = 0; c < g.channels; ++c) {
      const auto [scale, shift] = channel_affine(b, c);
      const float* x = b.x + row_offset(g, n, c);
      float* y = b.y + row_offset(g, n, c);
#pragma omp simd
      for (int64_t i = 0; i < g.inner; ++i) y[i] = std::max(x[i] * scale + shift, 0.0f);
    }
}

// Computes the same as batch_norm_relu_forward: the batch norm formula, then the ReLU.
void batch_norm_relu_forward_reference(const BatchNormBuffers& b, const BatchNormGeometry& g) {
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t c = 0; c < g.channels; ++c)
      for (int64_t i = 0; i < g.inner; ++i) {
        const int64_t at = row_offset(g, n, c) + i;
        const double x_hat = (static_cast<double>(b.x[at]) - b.mean[c]) * b.inv_std[c];
        const double normalised = (b.gamma ? b.gamma[c] : 1.0) * x_hat + (b.beta ? b.beta[c] : 0.0);
        b.y[at] = static_cast<float>(normalised > 0.0 ? normalised : 0.0);
      }
}

// ---- backward ----

void batch_norm_relu_backward(const BatchNormBuffers& b, const BatchNormGeometry& g, bool batch_statistics) {
  const double count = static_cast<double>(g.batch * g.inner);
#pragma omp parallel for schedule(static) if (worth_threads(g.batch * g.channels * g.inner))
  for (int64_t c = 0; c < g.channels; ++c) {
    const float mean = b.mean[c], inv_std = b.inv_std[c];
    const auto [scale, shift] = channel_affine(b, c);
    const float a = (b.gamma ? b.gamma[c] : 1.0f) * inv_std;  // ∂y/∂x̂ · ∂x̂/∂x with fixed statistics

    // Fixed statistics: dx needs no channel sums, so dx and the sums share one pass.
    if (!batch_statistics && b.dx) {
      double sum_g = 0.0, sum_g_centered = 0.0;  // Σ g and Σ g·(x − mean)
      for (int64_t n = 0; n < g.batch; ++n) {
        const float* x = b.x + row_offset(g, n, c);
        const float* dy = b.dy + row_offset(g, n, c);
        float* dx = b.dx + row_offset(g, n, c);
        float row_g = 0.0f, row_g_centered = 0.0f;
#pragma omp simd reduction(+ : row_g, row_g_centered)
        for (int64_t i = 0; i < g.inner; ++i) {
          // dy loaded unconditionally: `m ? dy[i] : 0` would make g++ emit a masked load
          // (vmaskmovps, slow on AMD cores); this way the select is a compare and an AND.
          const float dy_i = dy[i];
          const float grad = x[i] * scale + shift > 0.0f ? dy_i : 0.0f;  // ReLU's mask on dy
          row_g += grad;
          row_g_centered += grad * (x[i] - mean);
          dx[i] += a * grad;
        }
        sum_g += row_g, sum_g_centered += row_g_centered;
      }
      if (b.dgamma) b.dgamma[c] += static_cast<float>(sum_g_centered * inv_std);
      if (b.dbeta) b.dbeta[c] += static_cast<float>(sum_g);
      continue;
    }

    // Pass 1: the two channel sums (all that is wanted when dx is not).
    double sum_g = 0.0, sum_g_centered = 0.0;
    for (int64_t n = 0; n < g.batch; ++n) {
      const float* x = b.x + row_offset(g, n, c);
      const float* dy = b.dy + row_offset(g, n, c);
      // Float sums within a row: a double accumulator fed by the masked select is left scalar by
      // g++ 12, the float one vectorises; rows are added up in double.
      float row_g = 0.0f, row_g_centered = 0.0f;
#pragma omp simd reduction(+ : row_g, row_g_centered)
      for (int64_t i = 0; i < g.inner; ++i) {
        const float dy_i = dy[i];
        const float grad = x[i] * scale + shift > 0.0f ? dy_i : 0.0f;
        row_g += grad;
        row_g_centered += grad * (x[i] - mean);
      }
      sum_g += row_g, sum_g_centered += row_g_centered;
    }
    const double sum_g_xhat = sum_g_centered * inv_std;
    if (b.dgamma) b.dgamma[c] += static_cast<float>(sum_g_xhat);
    if (b.dbeta) b.dbeta[c] += static_cast<float>(sum_g);
    if (!b.dx) continue;

    // Pass 2 (batch statistics): dx = a · (g − mean(g) − x̂ · mean(g·x̂)), the mask recomputed
    // rather than stored.
    const float mean_g = static_cast<float>(sum_g / count);
    const float mean_g_xhat = static_cast<float>(sum_g_xhat / count);
    for (int64_t n = 0; n < g.batch; ++n) {
      const float* x = b.x + row_offset(g, n, c);
      const float* dy = b.dy + row_offset(g, n, c);
      float* dx = b.dx + row_offset(g, n, c);
#pragma omp simd
      for (int64_t i = 0; i < g.inner; ++i) {
        const float dy_i = dy[i];
        const float grad = x[i] * scale + shift > 0.0f ? dy_i : 0.0f;
        const float x_hat = (x[i] - mean) * inv_std;
        dx[i] += a * (grad - mean_g - x_hat * mean_g_xhat);
      }
    }
  }
}

// Computes the same as batch_norm_relu_backward, as the unfused pair would: the ReLU's backward
// into a stored gradient g, then the batch norm's backward from g, in double.
void batch_norm_relu_backward_reference(const BatchNormBuffers& b, const BatchNormGeometry& g,
                                        bool batch_statistics) {
  const int64_t count = g.batch * g.inner;
  for (int64_t c = 0; c < g.channels; ++c) {
    const double gamma = b.gamma ? b.gamma[c] : 1.0, beta = b.beta ? b.beta[c] : 0.0;
    std::vector<double> x_hat(count), grad(count);  // channel c, flattened over (N, inner)
    for (int64_t n = 0; n < g.batch; ++n)
      for (int64_t i = 0; i < g.inner; ++i) {
        const int64_t at = row_offset(g, n, c) + i, j = n * g.inner + i;
        x_hat[j] = (static_cast<double>(b.x[at]) - b.mean[c]) * b.inv_std[c];
        grad[j] = gamma * x_hat[j] + beta > 0.0 ? b.dy[at] : 0.0;
      }
    double sum_g = 0.0, sum_g_xhat = 0.0;
    for (int64_t j = 0; j < count; ++j) {
      sum_g += grad[j];
      sum_g_xhat += grad[j] * x_hat[j];
    }
    if (b.dgamma) b.dgamma[c] += static_cast<float>(sum_g_xhat);
    if (b.dbeta) b.dbeta[c] += static_cast<float>(sum_g);
    if (!b.dx) continue;
    for (int64_t n = 0; n < g.batch; ++n)
      for (int64_t i = 0; i < g.inner; ++i) {
        const int64_t j = n * g.inner + i;
        const double dx = batch_statistics ? gamma * b.inv_std[c] / count *
                                                 (count * grad[j] - sum_g - x_hat[j] * sum_g_xhat)
                                           : gamma * b.inv_std[c] * grad[j];
        b.dx[row_offset(g, n, c) + i] += static_cast<float>(dx);
      }
  }
}

}  // namespace pg::kernels
