// ReLU: the parameter-free Module around the relu op, y = max(x, 0), so that it can sit in a
// Sequential.
#pragma once
#include "layers/module.h"

namespace pg {

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;  // any shape → same shape
};

}  // namespace pg
