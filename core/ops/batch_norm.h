// batch_norm: per-channel normalisation of (N, C, H, W) (or (N, C)).
//   training: mean, var over (N, H, W) of this batch (biased var for normalising, unbiased for
//             the running estimate), running = (1 − momentum)·running + momentum·batch
//   eval:     uses the running statistics (no update)
//   y = gamma · (x − mean) / sqrt(var + eps) + beta
// Training with one value per channel (N·H·W = 1) is an error, as in PyTorch.
#pragma once
#include "core/tensor.h"
#include "kernels/cpu/batch_norm.h"

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

// Shared with batch_norm_relu (core/ops/batch_norm_relu.h), `op` naming the caller in errors:
// checks the arguments above and returns x's (N, C, inner = H·W) view (inner = 1 for (N, C)).
kernels::BatchNormGeometry check_batch_norm_arguments(const char* op, const Tensor& x, const Tensor& gamma,
                                                      const Tensor& beta, const Tensor& running_mean,
                                                      const Tensor& running_var, const BatchNormParams& p);
// running = (1 − momentum)·running + momentum·batch over the (C) vectors, the batch variance of
// per_channel = N·H·W values made unbiased (· M/(M − 1)) as PyTorch does.
void update_running_statistics(const Tensor& running_mean, const Tensor& running_var, const float* mean,
                               const float* var, int64_t per_channel, float momentum);

}  // namespace pg
