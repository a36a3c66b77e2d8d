// Dropout (each element) and Dropout2d (whole channels) as Modules: in train() each kept value
// is scaled by 1/(1 − p); in eval() they are the identity. The masks come from the layer's own
// Rng, seeded at construction from the caller's (as the weights of other layers are drawn from
// it): the caller's Rng may be gone by the time the net trains.
#pragma once
#include "core/rng.h"
#include "layers/module.h"

namespace pg {

class Dropout : public Module {
 public:
  Dropout(float p, Rng& rng);                // p in [0, 1]: the probability of zeroing an element
  Tensor forward(const Tensor& x) override;  // any shape → same shape
  float p() const { return p_; }
  Rng& rng() { return rng_; }  // the masks' generator (its state() goes into a checkpoint)

 private:
  float p_;
  Rng rng_;
};

class Dropout2d : public Module {
 public:
  Dropout2d(float p, Rng& rng);              // p in [0, 1]: the probability of zeroing a whole channel
  Tensor forward(const Tensor& x) override;  // x: (N, C, H, W) → (N, C, H, W)
  float p() const { return p_; }
  Rng& rng() { return rng_; }

 private:
  float p_;
  Rng rng_;
};

}  // namespace pg
