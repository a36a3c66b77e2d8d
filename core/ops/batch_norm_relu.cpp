// batch_norm_relu: y = max(0, gamma · x̂ + beta), x̂ = (x − mean) / sqrt(var + eps), forward and
// backward. The statistics are batch_norm's (batch mean and biased variance over M = N·H·W values
// with the running update in training, the running ones in eval).
// Backward: with the ReLU mask m = [gamma · x̂ + beta > 0] and g = m · dy (what the unfused ReLU
// would hand the batch norm), dgamma = Σ g·x̂, dbeta = Σ g, and
//   training: dx = gamma / (M·sqrt(var + eps)) · (M·g − Σ g − x̂ · Σ g·x̂)
//   eval:     dx = gamma / sqrt(var + eps) · g
#include "core/ops/batch_norm_relu.h"

#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "kernels/cpu/batch_norm.h"
#include "kernels/cpu/batch_norm_relu.h"

namespace pg {

Tensor batch_norm_relu(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                       const Tensor& running_var, const BatchNormParams& p) {
  const kernels::BatchNormGeometry g =
      check_batch_norm_arguments("batch_norm_relu", x, gamma, beta, running_mean, running_var, p);
  const int64_t C = g.channels;

  // mean, inv_std: (C), the statistics this call normalises with.
  std::vector<float> mean(C), var(C), inv_std(C);
  if (p.training) {
    // The unfused batch norm's two-pass statistics in double: a one-pass Σd, Σd² version was
    // tried and moved the -O1 (ASan) and non-FMA builds' DeepLab v3 / Xception logits past the
    // golden tolerance.
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
  kernels::batch_norm_relu_forward({.x = x.data(),
                                    .mean = mean.data(),
                                    .inv_std = inv_std.data(),
                                    .gamma = gamma.defined() ? gamma.data() : nullptr,
                                    .beta = beta.defined() ? beta.data() : nullptr,
                                    .y = y.data()},
                                   g);

  // The backward keeps x, not y: the mask is recomputed from x and the statistics.
  record(y, "batch_norm_relu", {x, gamma, beta},
         [x, gamma, beta, mean = std::move(mean), inv_std = std::move(inv_std), g,
          training = p.training](const Tensor& dy) {
           kernels::batch_norm_relu_backward({.x = x.data(),
                                              .mean = mean.data(),
                                              .inv_std = inv_std.data(),
                                              .gamma = gamma.defined() ? gamma.data() : nullptr,
                                              .beta = beta.defined() ? beta.data() : nullptr,
                                              .dy = dy.data(),
                                              .dx = grad_accumulator(x),
                                              .dgamma = grad_accumulator(gamma),
                                              .dbeta = grad_accumulator(beta)},
                                             g, training);
         });
  return y;
}

}  // namespace pg
