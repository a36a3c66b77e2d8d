// derive_seed: independent random streams from one user seed. A sample, a batch or an epoch gets
// its own Rng seeded from (seed, stream, index), so any of them can be drawn alone, in any order,
// on any thread, and come out the same: the data pipeline is a pure function of its seeds.
#pragma once
#include <cstdint>

namespace pg {

// SplitMix64's finaliser (Steele, Lea, Flood 2014): a bijection on 64 bits whose output bits each
// depend on every input bit, so nearby inputs (index 7 and 8) give unrelated seeds.
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Streams name what the seed is for, so the toy sample 3 and the loader's epoch 3 never share one.
enum class SeedStream : uint64_t { toy_sample = 1, epoch_permutation = 2, augmentation = 3 };

inline uint64_t derive_seed(uint64_t seed, SeedStream stream, uint64_t index) {
  return splitmix64(splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(stream)) ^ index);
}

}  // namespace pg
