// Adam and AdamW (see core/adam.h for the update rule).
#include "core/adam.h"

#include <cmath>

namespace pg {

Adam::Adam(std::vector<ParamGroup> groups, const AdamParams& settings)
    : Optimizer(std::move(groups), settings.lr, settings.weight_decay), settings_(settings) {
  const char* optimizer = name();
  check(settings.beta1 >= 0.0f && settings.beta1 < 1.0f, optimizer, ": beta1 must be in [0, 1), got ",
        settings.beta1);
  check(settings.beta2 >= 0.0f && settings.beta2 < 1.0f, optimizer, ": beta2 must be in [0, 1), got ",
        settings.beta2);
  check(settings.eps >= 0.0f, optimizer, ": eps must be >= 0, got ", settings.eps);
}

Adam::Adam(const std::vector<Tensor>& params, const AdamParams& settings)
    : Adam(std::vector<ParamGroup>{ParamGroup{.params = params}}, settings) {}

// p, grad, m (exp_avg), v (exp_avg_sq): the parameter's shape, flattened to n values.
void Adam::update(const Tensor& param, const Tensor& grad, ParamState& state, float lr, float weight_decay) {
  const int64_t n = param.numel();
  float* p = param.data();
  const float* dp = grad.data();
  float* m = state.buffers[0].data();
  float* v = state.buffers[1].data();
  const float beta1 = settings_.beta1, beta2 = settings_.beta2, eps = settings_.eps;
  // The bias corrections in double, as PyTorch computes them from a Python float step.
  const double t = static_cast<double>(state.step);
  const float step_size = static_cast<float>(lr / (1.0 - std::pow(static_cast<double>(beta1), t)));
  const float correction2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(static_cast<double>(beta2), t)));
  const bool decoupled = settings_.decoupled_weight_decay;
  const float decay_factor = 1.0f - lr * weight_decay;  // AdamW: p ← p · (1 − lr · wd)
  for (int64_t i = 0; i < n; ++i) {
    float g = dp[i];
    if (decoupled)
      p[i] *= decay_factor;
    else
      g += weight_decay * p[i];
    m[i] = beta1 * m[i] + (1.0f - beta1) * g;
    v[i] = beta2 * v[i] + (1.0f - beta2) * g * g;
    p[i] -= step_size * m[i] / (std::sqrt(v[i]) / correction2_sqrt + eps);
  }
}

}  // namespace pg
