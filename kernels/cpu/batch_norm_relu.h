// Fused batch normalisation + ReLU kernels on x viewed as (N, C, inner), inner = H·W:
//   y = max(0, gamma · (x − mean) · inv_std + beta)
// The unfused pair (batch_norm then relu) writes the normalised tensor, reads it back for the ReLU
// and writes again; its backward reads and writes a whole gradient tensor between the two. Here
// the forward takes batch_norm's statistics and then writes y in one pass, and the backward recomputes
// the ReLU mask from x (one multiply-add and a compare) instead of keeping the normalised tensor.
// The fast versions run OpenMP over channels with vectorised loops over inner; the _reference
// versions are plain loops in double, written as "batch norm, then ReLU", and compute the same.
#pragma once
#include "kernels/cpu/batch_norm.h"

namespace pg::kernels {

// y = max(0, gamma · (x − mean) · inv_std + beta). Reads b.x, b.mean, b.inv_std, b.gamma, b.beta;
// writes b.y.
void batch_norm_relu_forward(const BatchNormBuffers& b, const BatchNormGeometry& g);
void batch_norm_relu_forward_reference(const BatchNormBuffers& b, const BatchNormGeometry& g);

// With x̂ = (x − mean) · inv_std, the mask m = [gamma · x̂ + beta > 0] (ReLU's derivative, 0 at the
// kink) and g = m · dy (the gradient reaching the batch norm's output), sums over a channel's M values:
//   dgamma += Σ g·x̂,   dbeta += Σ g,
//   batch statistics (training): dx += gamma · inv_std / M · (M·g − Σ g − x̂ · Σ g·x̂)
//   fixed statistics (eval):     dx += gamma · inv_std · g
// Reads b.x, b.mean, b.inv_std, b.gamma, b.beta, b.dy; accumulates into b.dx, b.dgamma, b.dbeta
// (each may be null).
void batch_norm_relu_backward(const BatchNormBuffers& b, const BatchNormGeometry& g, bool batch_statistics);
void batch_norm_relu_backward_reference(const BatchNormBuffers& b, const BatchNormGeometry& g,
                                        bool batch_statistics);

}  // namespace pg::kernels
