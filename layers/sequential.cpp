// Sequential: registration under "0", "1", ... and the chained forward.
#include "layers/sequential.h"

namespace pg {

Sequential::Sequential(const std::vector<std::shared_ptr<Module>>& modules) {
  for (const auto& module : modules) add(module);
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& module : modules_) y = module->forward(y);
  return y;
}

Module& Sequential::operator[](size_t index) const {
  check(index < modules_.size(), "Sequential: index ", index, " out of range for ", modules_.size(),
        " modules");
  return *modules_[index];
}

}  // namespace pg
