// softmax and log_softmax over one dimension (the class channel, dim = 1, for NCHW logits),
// computed with the max subtracted for stability.
//   softmax backward:     dx = y ⊙ (dy − Σ_c dy·y)
//   log_softmax backward: dx = dy − softmax(x) · Σ_c dy
#pragma once
#include "core/tensor.h"

namespace pg {

Tensor softmax(const Tensor& x, int dim = 1);
Tensor log_softmax(const Tensor& x, int dim = 1);

}  // namespace pg
