// Linear layer: y = W x + b through the conv2d op on 1×1 views (the reshapes are views, so the
// gradients reach the (out, in) weight itself).
#include "layers/linear.h"

#include "core/init.h"
#include "core/ops/conv2d.h"

namespace pg {

Linear::Linear(int64_t in_features, int64_t out_features, Rng& rng, bool bias)
    : in_features_(in_features), out_features_(out_features) {
  check(in_features > 0 && out_features > 0, "Linear: in_features and out_features must be positive, got ",
        in_features, " and ", out_features);
  weight_ = register_parameter("weight", Tensor::empty({out_features, in_features}));
  if (bias) bias_ = register_parameter("bias", Tensor::empty({out_features}));
  init::torch_default_conv(weight_, bias_, rng);
}

Tensor Linear::forward(const Tensor& x) {
  check(x.defined() && x.dim() == 2 && x.size(1) == in_features_, "Linear(", in_features_, " → ",
        out_features_, "): expected an input (N, ", in_features_, "), got ",
        x.defined() ? shape_str(x.shape()) : "an undefined tensor");
  // (N, in, 1, 1) ⊛ (out, in, 1, 1) → (N, out, 1, 1): y[n, o] = b[o] + Σ_i W[o, i] · x[n, i]
  const Tensor y = conv2d(x.reshape({x.size(0), in_features_, 1, 1}),
                          weight_.reshape({out_features_, in_features_, 1, 1}), bias_, {});
  return y.reshape({x.size(0), out_features_});
}

}  // namespace pg
