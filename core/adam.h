// Adam and AdamW, with exactly torch.optim.Adam / AdamW's update. At step t (from 1):
//   Adam:  g ← grad + wd · p             (L2 weight decay through the gradient)
//   AdamW: p ← p − lr · wd · p           (decoupled weight decay, before the moment update)
//   m ← β1 · m + (1 − β1) · g            v ← β2 · v + (1 − β2) · g²
//   p ← p − lr / (1 − β1^t) · m / (sqrt(v) / sqrt(1 − β2^t) + ε)     (ε outside the sqrt)
#pragma once
#include "core/optimizer.h"

namespace pg {

struct AdamParams {
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;
  bool decoupled_weight_decay = false;  // true: AdamW
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<ParamGroup> groups, const AdamParams& settings);
  Adam(const std::vector<Tensor>& params, const AdamParams& settings);  // one group
  const AdamParams& settings() const { return settings_; }

 protected:
  std::vector<std::string> buffer_names() const override { return {"exp_avg", "exp_avg_sq"}; }
  void update(const Tensor& param, const Tensor& grad, ParamState& state, float lr,
              float weight_decay) override;
  const char* name() const override { return settings_.decoupled_weight_decay ? "AdamW" : "Adam"; }

 private:
  AdamParams settings_;
};

}  // namespace pg
