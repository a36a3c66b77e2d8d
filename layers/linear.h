// Linear: a fully connected layer, y = W x + b with weight (out, in) and bias (out), as PyTorch's
// nn.Linear (same names, same default initialisation). The product runs as a 1×1 convolution of
// the (N, in, 1, 1) view with the (out, in, 1, 1) view of the weight — the same GEMM — so it needs
// no op of its own, and the MAC counter sees it like any conv.
#pragma once
#include <cstdint>

#include "core/rng.h"
#include "layers/module.h"

namespace pg {

class Linear : public Module {
 public:
  // weight, bias ~ U(−1/sqrt(in), 1/sqrt(in)), drawn from the caller's Rng.
  Linear(int64_t in_features, int64_t out_features, Rng& rng, bool bias = true);

  Tensor forward(const Tensor& x) override;  // x: (N, in) → (N, out)

  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }
  const Tensor& weight() const { return weight_; }  // (out, in)
  const Tensor& bias() const { return bias_; }      // (out) or undefined

 private:
  int64_t in_features_;
  int64_t out_features_;
  Tensor weight_;
  Tensor bias_;
};

}  // namespace pg
