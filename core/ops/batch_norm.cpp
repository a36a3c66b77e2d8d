// batch_norm: per-channel normalisation of (N, C, H, W) or (N, C), forward and backward.
//   training: mean, var = the batch's per-channel mean and biased variance over M = N·H·W values;
//             running_mean = (1 − momentum)·running_mean + momentum·mean,
//             running_var  = (1 − momentum)·running_var  + momentum·var·M/(M − 1)  (unbiased, as PyTorch)
//   eval:     mean, var = running_mean, running_var (not updated)
//   x̂ = (x − mean) / sqrt(var + eps),  y = gamma · x̂ + beta
// Backward (sums over a channel's M values): dgamma = Σ dy·x̂, dbeta = Σ dy, and
//   training: dx = gamma / (M·sqrt(var + eps)) · (M·dy − Σ dy − x̂ · Σ dy·x̂)  (the statistics depend on x)
//   eval:     dx = gamma / sqrt(var + eps) · dy
#include "core/ops/batch_norm.h"

#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "kernels/cpu/batch_norm.h"

namespace pg {

namespace {
void check_channel_vector(const char* op, const Tensor& t, const char* what, int64_t channels) {
  if (t.defined()) check_shape(op, what, t.shape(), {channels});
}
}  // namespace

kernels::BatchNormGeometry check_batch_norm_arguments(const char* op, const Tensor& x, const Tensor& gamma,
                                                      const Tensor& beta, const Tensor& running_mean,
                                                      const Tensor& running_var, const BatchNormParams& p) {
  check(x.defined(), op, ": the input is undefined");
  check(x.dim() == 4 || x.dim() == 2, op, ": input must be 4-D (N, C, H, W) or 2-D (N, C), got shape ",
        shape_str(x.shape()));
  // x: (N, C, H, W) viewed as (N, C, inner = H·W); (N, C) has inner = 1.
  const kernels::BatchNormGeometry g{
      .batch = x.size(0), .channels = x.size(1), .inner = x.dim() == 4 ? x.size(2) * x.size(3) : 1};
  const int64_t C = g.channels, per_channel = g.batch * g.inner;
  check(C > 0 && per_channel > 0, op, ": the input is empty, shape ", shape_str(x.shape()));
  check_channel_vector(op, gamma, "gamma", C);
  check_channel_vector(op, beta, "beta", C);
  check_channel_vector(op, running_mean, "running_mean", C);
  check_channel_vector(op, running_var, "running_var", C);
  check(running_mean.defined() == running_var.defined(), op,
        ": running_mean and running_var must be both given or both undefined");
  check(p.training || running_mean.defined(), op,
        ": eval mode normalises with the running statistics, but running_mean and running_var "
        "are undefined");
  check(!p.training || per_channel > 1, op,
        ": expected more than 1 value per channel when training, got input ", shape_str(x.shape()),
        " (N·H·W = 1). Batch statistics of a single value are meaningless: use a "
        "batch larger than 1 (e.g. for an image-level pooling branch) or eval mode");
  check(p.eps > 0.0f, op, ": eps must be positive, got ", p.eps);
  return g;
}

void update_running_statistics(const Tensor& running_mean, const Tensor& running_var, const float* mean,
                               const float* var, int64_t per_channel, float momentum) {
  const float unbiased = static_cast<float>(per_channel) / static_cast<float>(per_channel - 1);
  float* rm = running_mean.data();
  float* rv = running_var.data();
  for (int64_t c = 0; c < running_mean.numel(); ++c) {
    rm[c] = (1.0f - momentum) * rm[c] + momentum * mean[c];
    rv[c] = (1.0f - momentum) * rv[c] + momentum * var[c] * unbiased;
  }
}

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                  const Tensor& running_var, const BatchNormParams& p) {
  const kernels::BatchNormGeometry g =
      check_batch_norm_arguments("batch_norm", x, gamma, beta, running_mean, running_var, p);
  const int64_t C = g.channels;

  // mean, inv_std: (C), the statistics this call normalises with.
  std::vector<float> mean(C), var(C), inv_std(C);
  if (p.training) {
    kernels::batch_norm_statistics(x.data(), mean.data(), var.data(), g);
    if (running_mean.defined())
      update_running_statistics(running_mean, running_var, mean.data(), var.data(), g.batch * g.inner,
                                p.momentum);
  } else {
    mean.assign(running_mean.data(), running_mean.data() + C);
    var.assign(running_var.data(), running_var.data() + C);
  }
  for (int64_t c = 0; c < C; ++c) inv_std[c] = 1.0f / std::sqrt(var[c] + p.eps);

  Tensor y = Tensor::empty(x.shape());
  kernels::batch_norm_forward({.x = x.data(),
                               .mean = mean.data(),
                               .inv_std = inv_std.data(),
                               .gamma = gamma.defined() ? gamma.data() : nullptr,
                               .beta = beta.defined() ? beta.data() : nullptr,
                               .y = y.data()},
                              g);

  record(y, "batch_norm", {x, gamma, beta},
         [x, gamma, beta, mean = std::move(mean), inv_std = std::move(inv_std), g,
          training = p.training](const Tensor& dy) {
           kernels::batch_norm_backward({.x = x.data(),
                                         .mean = mean.data(),
                                         .inv_std = inv_std.data(),
                                         .gamma = gamma.defined() ? gamma.data() : nullptr,
                                         .dy = dy.data(),
                                         .dx = grad_accumulator(x),
                                         .dgamma = grad_accumulator(gamma),
                                         .dbeta = grad_accumulator(beta)},
                                        g, training);
         });
  return y;
}

}  // namespace pg
