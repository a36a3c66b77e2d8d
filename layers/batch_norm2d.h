// BatchNorm2d: per-channel batch normalisation of (N, C, H, W) with a learned scale and shift
// (parameters "weight" = gamma, "bias" = beta) and running statistics (buffers "running_mean",
// "running_var"), as PyTorch's nn.BatchNorm2d. PyTorch's third buffer, num_batches_tracked, is
// left out: it only matters for momentum = None (cumulative averaging), which we do not offer;
// drop it from a PyTorch state_dict before loading.
//
// Frozen mode (fine-tuning with small batches, as DeepLab and PSPNet do): the layer normalises
// with its running statistics and does not update them even when the net is in train() mode,
// and optionally stops learning gamma and beta (requires_grad false).
#pragma once
#include <cstdint>

#include "core/ops/batch_norm.h"
#include "layers/module.h"

namespace pg {

struct BatchNorm2dOptions {
  float momentum = 0.1f;  // running = (1 − momentum)·running + momentum·batch
  float eps = 1e-5f;
};

class BatchNorm2d : public Module {
 public:
  // gamma = 1, beta = 0, running_mean = 0, running_var = 1 (PyTorch's start).
  explicit BatchNorm2d(int64_t channels, const BatchNorm2dOptions& options = {});

  // x: (N, C, H, W) → (N, C, H, W). Batch statistics (and a running update) in train() unless
  // frozen; running statistics in eval() or when frozen.
  Tensor forward(const Tensor& x) override;
  // relu(forward(x)) as one fused op (core/ops/batch_norm_relu.h): same statistics and running
  // update, fewer passes over memory and one tensor less kept for the backward.
  Tensor forward_relu(const Tensor& x);

  // Freeze: running statistics always, no update; freeze_affine also sets requires_grad false on
  // gamma and beta (an optimizer then finds no gradient for them). unfreeze() undoes both.
  void freeze(bool freeze_affine = true);
  void unfreeze();
  bool is_frozen() const { return frozen_; }

  int64_t channels() const { return channels_; }
  const BatchNorm2dOptions& options() const { return options_; }
  const Tensor& weight() const { return weight_; }              // gamma: (C)
  const Tensor& bias() const { return bias_; }                  // beta: (C)
  const Tensor& running_mean() const { return running_mean_; }  // (C)
  const Tensor& running_var() const { return running_var_; }    // (C)

 private:
  // Checks x's shape and picks batch or running statistics (train / eval / frozen).
  BatchNormParams checked_params(const Tensor& x) const;

  int64_t channels_;
  BatchNorm2dOptions options_;
  bool frozen_ = false;
  Tensor weight_;
  Tensor bias_;
  Tensor running_mean_;
  Tensor running_var_;
};

}  // namespace pg
