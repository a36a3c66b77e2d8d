// Dropout (each element) and Dropout2d (whole channels), inverted scaling: kept values are
// multiplied by 1 / (1 − p) in training so that evaluation is the identity. The mask is drawn
// from the caller's Rng.
#pragma once
#include "core/rng.h"
#include "core/tensor.h"

namespace pg {

Tensor dropout(const Tensor& x, float p, bool training, Rng& rng);
Tensor dropout2d(const Tensor& x, float p, bool training, Rng& rng);  // x: (N, C, H, W)

}  // namespace pg
