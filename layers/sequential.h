// Sequential: a chain of modules, each fed the previous one's output, with children named "0",
// "1", ... as PyTorch's nn.Sequential (so its parameters are "0.weight", "1.running_mean", ...).
#pragma once
#include <memory>
#include <vector>

#include "layers/module.h"

namespace pg {

class Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(const std::vector<std::shared_ptr<Module>>& modules);

  // Appends a module under the next index and returns it, typed, for the caller to keep.
  template <typename M>
  std::shared_ptr<M> add(std::shared_ptr<M> module) {
    register_module(std::to_string(modules_.size()), module);
    modules_.push_back(module);
    return module;
  }

  Tensor forward(const Tensor& x) override;  // x → modules[0] → modules[1] → ... (empty: x itself)

  size_t size() const { return modules_.size(); }
  Module& operator[](size_t index) const;

 private:
  std::vector<std::shared_ptr<Module>> modules_;
};

}  // namespace pg
