// Optimizer base (see core/optimizer.h): parameter groups, the per-parameter loop of step(), and
// the state export/import used by checkpoints.
#include "core/optimizer.h"

#include <cmath>
#include <cstring>
#include <map>
#include <set>

namespace pg {

namespace {

constexpr float kLargestExactStep = 16777216.0f;  // 2^24: every integer up to it is a float

std::string state_name(size_t group, size_t index, const std::string& what) {
  return str("state.", group, ".", index, ".", what);
}

int64_t step_from_tensor(const char* optimizer, const std::string& name, const Tensor& t) {
  check(t.numel() == 1, optimizer, ": state '", name, "' must hold one value, got shape ",
        shape_str(t.shape()));
  float value = t.data()[0];
  check(value >= 0.0f && value <= kLargestExactStep && std::floor(value) == value, optimizer, ": state '",
        name, "' must be a whole number of steps, got ", value);
  return static_cast<int64_t>(value);
}

}  // namespace

Optimizer::Optimizer(std::vector<ParamGroup> groups, float lr, float weight_decay)
    : groups_(std::move(groups)), lr_(lr), weight_decay_(weight_decay) {
  check(lr >= 0.0f, "optimizer: lr must be >= 0, got ", lr);
  check(weight_decay >= 0.0f, "optimizer: weight_decay must be >= 0, got ", weight_decay);
  std::set<const TensorImpl*> seen;
  for (size_t g = 0; g < groups_.size(); ++g) {
    check(groups_[g].lr_multiplier >= 0.0f, "optimizer: group ", g, " has a negative lr_multiplier ",
          groups_[g].lr_multiplier);
    for (size_t i = 0; i < groups_[g].params.size(); ++i) {
      const Tensor& p = groups_[g].params[i];
      check(p.defined(), "optimizer: parameter ", i, " of group ", g, " is undefined");
      check(seen.insert(p.impl()).second, "optimizer: parameter ", i, " of group ", g,
            " appears twice (a parameter belongs to one group)");
    }
    states_.emplace_back(groups_[g].params.size());
  }
}

void Optimizer::step() {
  const size_t buffer_count = buffer_names().size();
  for (size_t g = 0; g < groups_.size(); ++g) {
    const float lr = group_lr(g), weight_decay = group_weight_decay(g);
    for (size_t i = 0; i < groups_[g].params.size(); ++i) {
      const Tensor& param = groups_[g].params[i];
      const Tensor grad = param.grad();
      if (!grad.defined()) continue;
      check(grad.shape() == param.shape(), name(), ": the gradient of parameter ", i, " of group ", g,
            " has shape ", shape_str(grad.shape()), ", expected ", shape_str(param.shape()));
      ParamState& state = states_[g][i];
      if (state.step == 0)
        for (size_t b = 0; b < buffer_count; ++b) state.buffers.push_back(Tensor::zeros(param.shape()));
      ++state.step;
      update(param, grad, state, lr, weight_decay);
    }
  }
  ++step_count_;
}

void Optimizer::zero_grad() {
  for (ParamGroup& group : groups_)
    for (Tensor& param : group.params) param.zero_grad();
}

void Optimizer::set_lr(float lr) {
  check(lr >= 0.0f, name(), ": lr must be >= 0, got ", lr);
  lr_ = lr;
}

float Optimizer::group_lr(size_t group) const {
  check(group < groups_.size(), name(), ": no parameter group ", group, " (there are ", groups_.size(), ")");
  return lr_ * groups_[group].lr_multiplier;
}

float Optimizer::group_weight_decay(size_t group) const {
  check(group < groups_.size(), name(), ": no parameter group ", group, " (there are ", groups_.size(), ")");
  return groups_[group].weight_decay < 0.0f ? weight_decay_ : groups_[group].weight_decay;
}

NamedTensors Optimizer::state_dict() const {
  check(static_cast<float>(step_count_) <= kLargestExactStep, name(), ": ", step_count_,
        " steps cannot be stored exactly as a float");
  NamedTensors out = {{"step", Tensor::scalar(static_cast<float>(step_count_))}};
  const std::vector<std::string> buffers = buffer_names();
  for (size_t g = 0; g < states_.size(); ++g)
    for (size_t i = 0; i < states_[g].size(); ++i) {
      const ParamState& state = states_[g][i];
      if (state.step == 0) continue;
      out.emplace_back(state_name(g, i, "step"), Tensor::scalar(static_cast<float>(state.step)));
      for (size_t b = 0; b < buffers.size(); ++b)
        out.emplace_back(state_name(g, i, buffers[b]), state.buffers[b].clone());
    }
  return out;
}

void Optimizer::load_state_dict(const NamedTensors& state) {
  std::map<std::string, Tensor> remaining;
  for (const auto& [key, t] : state) {
    check(t.defined(), name(), ": state '", key, "' is undefined");
    check(remaining.emplace(key, t).second, name(), ": state '", key, "' appears twice");
  }
  auto take = [&](const std::string& key) {
    auto found = remaining.find(key);
    if (found == remaining.end()) return Tensor();
    Tensor t = found->second;
    remaining.erase(found);
    return t;
  };

  // Build the new state completely before replacing the old one: a bad file changes nothing.
  Tensor step = take("step");
  check(step.defined(), name(), ": the state has no 'step'");
  const int64_t step_count = step_from_tensor(name(), "step", step);
  const std::vector<std::string> buffers = buffer_names();
  std::vector<std::vector<ParamState>> states;
  for (size_t g = 0; g < groups_.size(); ++g) {
    states.emplace_back(groups_[g].params.size());
    for (size_t i = 0; i < groups_[g].params.size(); ++i) {
      Tensor param_step = take(state_name(g, i, "step"));
      if (!param_step.defined()) continue;  // never updated: no state
      ParamState& param_state = states[g][i];
      param_state.step = step_from_tensor(name(), state_name(g, i, "step"), param_step);
      for (const std::string& buffer : buffers) {
        const std::string key = state_name(g, i, buffer);
        Tensor t = take(key);
        check(t.defined(), name(), ": the state has '", state_name(g, i, "step"), "' but no '", key, "'");
        const Shape& expected = groups_[g].params[i].shape();
        check(t.shape() == expected, name(), ": state '", key, "' has shape ", shape_str(t.shape()),
              ", expected ", shape_str(expected));
        param_state.buffers.push_back(t.clone());
      }
    }
  }
  if (!remaining.empty()) {
    std::string names;
    for (const auto& entry : remaining) names += (names.empty() ? "'" : ", '") + entry.first + "'";
    throw Error(str(name(), ": unexpected state entries (another optimizer or other parameters?): ", names));
  }
  states_ = std::move(states);
  step_count_ = step_count;
}

}  // namespace pg
