// PCG32 (O'Neill, "PCG: a family of simple fast space-efficient statistically good algorithms").
#include "core/rng.h"

#include <cmath>

#include "core/error.h"

namespace pg {

static constexpr uint64_t kMultiplier = 6364136223846793005ULL;
static constexpr uint64_t kIncrement = 1442695040888963407ULL;

Rng::Rng(uint64_t seed) : state_(0) {
  next_u32();
  state_ += seed;
  next_u32();
}

uint32_t Rng::next_u32() {
  uint64_t old = state_;
  state_ = old * kMultiplier + kIncrement;
  uint32_t xorshifted = static_cast<uint32_t>(((old >> 18u) ^ old) >> 27u);
  uint32_t rot = static_cast<uint32_t>(old >> 59u);
  return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
}

float Rng::uniform() { return static_cast<float>(next_u32() >> 8) * (1.0f / 16777216.0f); }

float Rng::uniform(float low, float high) { return low + (high - low) * uniform(); }

float Rng::normal(float mean, float stddev) {
  float u1 = uniform();
  float u2 = uniform();
  float radius = std::sqrt(-2.0f * std::log(1.0f - u1));  // 1 - u1 is in (0, 1]: log is finite
  return mean + stddev * radius * std::cos(6.28318530717958647692f * u2);
}

int64_t Rng::below(int64_t n) {
  check(n > 0, "Rng::below: n must be positive, got ", n);
  // 64 random bits: the modulo's bias towards small values is below n / 2^64.
  uint64_t wide = (static_cast<uint64_t>(next_u32()) << 32) | next_u32();
  return static_cast<int64_t>(wide % static_cast<uint64_t>(n));
}

}  // namespace pg
