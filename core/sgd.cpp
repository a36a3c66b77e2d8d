// SGD (see core/sgd.h for the update rule).
#include "core/sgd.h"

namespace pg {

Sgd::Sgd(std::vector<ParamGroup> groups, const SgdParams& settings)
    : Optimizer(std::move(groups), settings.lr, settings.weight_decay), settings_(settings) {
  check(settings.momentum >= 0.0f, "SGD: momentum must be >= 0, got ", settings.momentum);
  check(!settings.nesterov || settings.momentum > 0.0f, "SGD: nesterov needs momentum > 0");
}

Sgd::Sgd(const std::vector<Tensor>& params, const SgdParams& settings)
    : Sgd(std::vector<ParamGroup>{ParamGroup{.params = params}}, settings) {}

std::vector<std::string> Sgd::buffer_names() const {
  if (settings_.momentum == 0.0f) return {};
  return {"momentum_buffer"};
}

// p, grad, buf: the parameter's shape, flattened to n values.
void Sgd::update(const Tensor& param, const Tensor& grad, ParamState& state, float lr, float weight_decay) {
  const int64_t n = param.numel();
  float* p = param.data();
  const float* dp = grad.data();
  const float momentum = settings_.momentum;
  if (momentum == 0.0f) {
    for (int64_t i = 0; i < n; ++i) p[i] -= lr * (dp[i] + weight_decay * p[i]);
    return;
  }
  float* buf = state.buffers[0].data();  // zero before the first step, so buf = g there
  const bool nesterov = settings_.nesterov;
  for (int64_t i = 0; i < n; ++i) {
    const float g = dp[i] + weight_decay * p[i];
    buf[i] = momentum * buf[i] + g;
    p[i] -= lr * (nesterov ? g + momentum * buf[i] : buf[i]);
  }
}

}  // namespace pg
