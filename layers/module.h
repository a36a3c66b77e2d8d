// Module: the base of every layer and net. It owns named parameters (learned), buffers (state
// such as batch-norm running statistics) and child modules, and lists them with PyTorch-style
// dotted names ("backbone.layer1.0.conv1.weight") so weights move to and from a PyTorch twin
// through safetensors untouched.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace pg {

class Module {
 public:
  virtual ~Module() = default;

  // The single-input forward that Sequential chains; layers with other inputs add their own.
  virtual Tensor forward(const Tensor& x);

  NamedTensors named_parameters() const;  // recursive, in registration order
  std::vector<Tensor> parameters() const;
  NamedTensors named_buffers() const;
  NamedTensors state_dict() const;  // parameters then buffers, as PyTorch's state_dict lists them
  int64_t parameter_count() const;

  void train(bool on = true);  // recursive
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();

  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }

 protected:
  // Registration returns the handle so a layer can keep it: weight_ = register_parameter(...).
  Tensor register_parameter(const std::string& name, Tensor t);  // sets requires_grad
  Tensor register_buffer(const std::string& name, Tensor t);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
    add_child(name, child);
    return child;
  }

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> child);
  void collect(const std::string& prefix, bool parameters, NamedTensors& out) const;

  NamedTensors parameters_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace pg
