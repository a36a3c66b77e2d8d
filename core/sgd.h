// SGD with momentum, weight decay and Nesterov, with exactly PyTorch's update (dampening 0):
//   g ← grad + wd · p                 (weight decay added to the gradient)
//   buf ← momentum · buf + g          (buf = g at the first step)
//   p ← p − lr · (nesterov ? g + momentum · buf : buf)
// Without momentum: p ← p − lr · g, and no state is kept.
#pragma once
#include "core/optimizer.h"

namespace pg {

struct SgdParams {
  float lr = 0.01f;
  float momentum = 0.0f;
  float weight_decay = 0.0f;
  bool nesterov = false;  // needs momentum > 0
};

class Sgd : public Optimizer {
 public:
  Sgd(std::vector<ParamGroup> groups, const SgdParams& settings);
  Sgd(const std::vector<Tensor>& params, const SgdParams& settings);  // one group
  const SgdParams& settings() const { return settings_; }

 protected:
  std::vector<std::string> buffer_names() const override;
  void update(const Tensor& param, const Tensor& grad, ParamState& state, float lr,
              float weight_decay) override;
  const char* name() const override { return "SGD"; }

 private:
  SgdParams settings_;
};

}  // namespace pg
