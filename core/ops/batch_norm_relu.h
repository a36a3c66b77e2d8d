// batch_norm_relu: relu(batch_norm(x, …)) as one op, for the conv → BN → ReLU blocks most nets
// are built from. Same arguments, statistics, running-stat update and errors as batch_norm
// (core/ops/batch_norm.h); the result equals the unfused pair up to float rounding.
// Why fuse: the pair writes the normalised tensor, reads it back for the ReLU and keeps both for
// the backward. Fused, the forward makes one pass over x for the statistics and one that writes y,
// the backward two passes (the channel sums, then dx) that recompute the ReLU mask from x, and
// only x is kept for the backward.
#pragma once
#include "core/ops/batch_norm.h"
#include "core/tensor.h"

namespace pg {

// x: (N, C, H, W) or (N, C); gamma, beta: (C) or undefined; running_mean, running_var: (C),
// updated in place in training mode (may be undefined there). Returns max(0, batch_norm(x)).
Tensor batch_norm_relu(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                       const Tensor& running_var, const BatchNormParams& p);

}  // namespace pg
