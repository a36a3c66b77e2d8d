// Module bookkeeping: registration, recursive listing with dotted names, train/eval.
#include "layers/module.h"

namespace pg {

Tensor Module::forward(const Tensor&) {
  throw Error("Module::forward: this module has no single-input forward; call its own forward method");
}

static void check_new_name(const std::string& name, const NamedTensors& a, const NamedTensors& b) {
  check(!name.empty() && name.find('.') == std::string::npos, "Module: bad name '", name,
        "': names are non-empty and have no dots (dots join the levels)");
  for (const auto& [existing, t] : a) check(existing != name, "Module: name '", name, "' registered twice");
  for (const auto& [existing, t] : b) check(existing != name, "Module: name '", name, "' registered twice");
}

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  check_new_name(name, parameters_, buffers_);
  check(t.defined(), "Module::register_parameter: '", name, "' is undefined");
  t.set_requires_grad(true);
  parameters_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_new_name(name, parameters_, buffers_);
  check(t.defined(), "Module::register_buffer: '", name, "' is undefined");
  buffers_.emplace_back(name, t);
  return t;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> child) {
  check(child != nullptr, "Module::register_module: '", name, "' is null");
  for (const auto& [existing, m] : children_)
    check(existing != name, "Module: child '", name, "' registered twice");
  check_new_name(name, parameters_, buffers_);
  children_.emplace_back(name, std::move(child));
}

void Module::collect(const std::string& prefix, bool parameters, NamedTensors& out) const {
  for (const auto& [name, t] : parameters ? parameters_ : buffers_) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", parameters, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", true, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", false, out);
  return out;
}

NamedTensors Module::state_dict() const {
  NamedTensors out = named_parameters();
  for (auto& entry : named_buffers()) out.push_back(entry);
  return out;
}

int64_t Module::parameter_count() const {
  int64_t n = 0;
  for (const Tensor& t : parameters()) n += t.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (Tensor& t : parameters()) t.zero_grad();
}

}  // namespace pg
