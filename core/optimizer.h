// Optimizer: the base of SGD and Adam. It holds parameter groups (each with its own lr multiplier
// and weight decay), runs one update per parameter that has a gradient, and exports its state
// (per-parameter buffers and step counts) as named tensors for a checkpoint.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace pg {

// A set of parameters trained with the same settings, e.g. a backbone at a tenth of the lr:
//   ParamGroup{.params = backbone.parameters(), .lr_multiplier = 0.1f}
struct ParamGroup {
  std::vector<Tensor> params;
  float lr_multiplier = 1.0f;  // this group's lr = base lr · lr_multiplier
  float weight_decay = -1.0f;  // < 0: the optimizer's own weight decay
};

// The state an optimizer keeps for one parameter, created at its first update.
struct ParamState {
  int64_t step = 0;             // updates applied to this parameter (0: no state yet)
  std::vector<Tensor> buffers;  // named by Optimizer::buffer_names(), each of the parameter's shape
};

class Optimizer {
 public:
  Optimizer(std::vector<ParamGroup> groups, float lr, float weight_decay);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient. Parameters no backward reached (no
  // .grad) are skipped and keep their state, as in PyTorch.
  void step();
  void zero_grad();  // drops every parameter's gradient

  // The base lr (a schedule sets it every iteration); group g trains at lr · lr_multiplier.
  void set_lr(float lr);
  float lr() const { return lr_; }
  float group_lr(size_t group) const;
  float group_weight_decay(size_t group) const;
  const std::vector<ParamGroup>& groups() const { return groups_; }
  int64_t step_count() const { return step_count_; }  // calls of step()

  // The state as tensors: "step" (a scalar, the number of step() calls) and, for every parameter
  // with state, "state.<group>.<index>.step" and "state.<group>.<index>.<buffer>"
  // (e.g. "state.0.3.momentum_buffer"). Step counts are stored as floats: exact below 2^24.
  NamedTensors state_dict() const;
  // Restores a state_dict() of an optimizer of the same kind over the same parameters (copies).
  // Unknown names, missing buffers and shape mismatches are errors.
  void load_state_dict(const NamedTensors& state);

 protected:
  // The names of the per-parameter buffers ("momentum_buffer"; "exp_avg", "exp_avg_sq").
  virtual std::vector<std::string> buffer_names() const = 0;
  // Updates param in place from its gradient. state.step has already been incremented, and
  // state.buffers holds buffer_names().size() tensors, zero-filled at the first update.
  virtual void update(const Tensor& param, const Tensor& grad, ParamState& state, float lr,
                      float weight_decay) = 0;
  virtual const char* name() const = 0;  // "SGD", "Adam": for messages

 private:
  std::vector<ParamGroup> groups_;
  std::vector<std::vector<ParamState>> states_;  // states_[group][index]
  float lr_;
  float weight_decay_;
  int64_t step_count_ = 0;
};

}  // namespace pg
