// batch_norm: per-channel normalisation of (N, C, H, W) (or (N, C)).
//   training: mean, var over (N, H, W) of this batch (biased var for normalising, unbiased for
//             the running estimate), running = (1 − momentum)·running + momentum·batch
//   eval:     uses the running statistics (no update)
//   y = gamma · (x − mean) / sqrt(var + eps) + beta
// Training with one value per channel (N·H·W = 1) is an error, as in PyTorch.
#pragma once
#include "core/tensor.h"

namespace pg {

struct BatchNormParams {
  bool training = true;
  float momentum = 0.1f;
  float eps = 1e-5f;
};

// gamma, beta: (C) or undefined (no affine); running_mean, running_var: (C), updated in place
// in training mode (may be undefined in training mode: batch statistics only).
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                  const Tensor& running_var, const BatchNormParams& p);

}  // namespace pg
