// Batch normalisation kernels on x viewed as (N, C, inner), inner = H·W (1 for (N, C) input):
// per-channel statistics, the normalise + affine forward, and the backward. The fast versions run
// OpenMP over channels with vectorised loops over inner; the _reference versions are plain loops in
// double and compute the same thing.
#pragma once
#include <cstdint>

namespace pg::kernels {

struct BatchNormGeometry {
  int64_t batch = 1;     // N
  int64_t channels = 1;  // C
  int64_t inner = 1;     // H·W
};

// The buffers of one batch-norm call. Shapes: x, y, dy, dx: (N, C, inner); the rest: (C).
// gamma and beta may be null (scale 1, shift 0); dx, dgamma, dbeta may be null (not wanted).
struct BatchNormBuffers {
  const float* x = nullptr;
  const float* mean = nullptr;
  const float* inv_std = nullptr;  // 1 / sqrt(var + eps)
  const float* gamma = nullptr;
  const float* beta = nullptr;
  float* y = nullptr;
  const float* dy = nullptr;
  float* dx = nullptr;      // accumulated: dx += ...
  float* dgamma = nullptr;  // accumulated
  float* dbeta = nullptr;   // accumulated
};

// mean[c] = Σ x / M, var[c] = Σ (x − mean)² / M over M = N·inner values (biased; two passes in
// double for accuracy).
void batch_norm_statistics(const float* x, float* mean, float* var, const BatchNormGeometry& g);
void batch_norm_statistics_reference(const float* x, float* mean, float* var, const BatchNormGeometry& g);

// y = gamma · (x − mean) · inv_std + beta. Reads b.x, b.mean, b.inv_std, b.gamma, b.beta; writes b.y.
void batch_norm_forward(const BatchNormBuffers& b, const BatchNormGeometry& g);
void batch_norm_forward_reference(const BatchNormBuffers& b, const BatchNormGeometry& g);

// With x̂ = (x − mean) · inv_std and sums over the M values of a channel:
//   dgamma += Σ dy·x̂,   dbeta += Σ dy,
//   batch statistics (training): dx += gamma · inv_std / M · (M·dy − Σ dy − x̂ · Σ dy·x̂)
//   fixed statistics (eval):     dx += gamma · inv_std · dy
void batch_norm_backward(const BatchNormBuffers& b, const BatchNormGeometry& g, bool batch_statistics);
void batch_norm_backward_reference(const BatchNormBuffers& b, const BatchNormGeometry& g,
                                   bool batch_statistics);

}  // namespace pg::kernels
