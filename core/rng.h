// Rng: a small seeded random number generator (PCG32: a 64-bit linear congruential state,
// output by a permuted xorshift). Owned by the caller and passed by reference: pixelgrad has no
// hidden global random state, so a seed fixes every result.
#pragma once
#include <cstdint>

namespace pg {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0);
  uint32_t next_u32();
  float uniform();                       // [0, 1)
  float uniform(float low, float high);  // [low, high)
  float normal(float mean = 0.0f, float stddev = 1.0f);  // Box-Muller
  int64_t below(int64_t n);              // an integer in [0, n), n > 0
  uint64_t state() const { return state_; }  // for checkpoints: Rng r; r.set_state(s) resumes exactly
  void set_state(uint64_t s) { state_ = s; }

 private:
  uint64_t state_;
};

}  // namespace pg
