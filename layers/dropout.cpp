// Dropout and Dropout2d layers: check p and seed the layer's Rng once, then call the dropout ops
// with the layer's mode.
#include "layers/dropout.h"

#include "core/ops/dropout.h"

namespace pg {

static void check_probability(const char* layer, float p) {
  check(p >= 0.0f && p <= 1.0f, layer, ": the drop probability p must lie in [0, 1], got ", p);
}

// A new generator seeded with 64 bits drawn from `rng`.
static Rng seeded_from(Rng& rng) {
  const uint64_t seed = (static_cast<uint64_t>(rng.next_u32()) << 32) | rng.next_u32();
  return Rng(seed);
}

Dropout::Dropout(float p, Rng& rng) : p_(p), rng_(seeded_from(rng)) {
  check_probability("Dropout", p);
}

Tensor Dropout::forward(const Tensor& x) {
  return dropout(x, p_, is_training(), rng_);
}

Dropout2d::Dropout2d(float p, Rng& rng) : p_(p), rng_(seeded_from(rng)) {
  check_probability("Dropout2d", p);
}

Tensor Dropout2d::forward(const Tensor& x) {
  return dropout2d(x, p_, is_training(), rng_);
}

}  // namespace pg
