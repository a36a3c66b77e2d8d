// The storage cache: a freed block comes back for the same size and only for it, the limit (0 =
// off) and trimming, the environment setting's errors, and a training loop that allocates
// nothing new from its second step on.
#include <gtest/gtest.h>

#include "core/ops/activation.h"
#include "core/ops/conv2d.h"
#include "core/ops/reduce.h"
#include "core/storage_cache.h"
#include "core/tensor.h"

using namespace pg;

namespace {
// Restores the default limit when a test ends, whatever it set.
struct LimitGuard {
  ~LimitGuard() { storage_cache_set_limit(storage_cache_limit_from(nullptr)); }
};
}  // namespace

TEST(StorageCache, AFreedBlockServesTheNextTensorOfItsSize) {
  LimitGuard guard;
  storage_cache_clear();
  const float* first = Tensor::empty({1000}).data();  // freed at the end of the statement
  const StorageCacheStats before = storage_cache_stats();
  EXPECT_EQ(before.cached_bytes, 4032u);  // 4000 bytes rounded up to a multiple of 64
  Tensor again = Tensor::empty({1000});
  EXPECT_EQ(again.data(), first);
  EXPECT_EQ(storage_cache_stats().reused, before.reused + 1);
  EXPECT_EQ(storage_cache_stats().cached_bytes, 0u);
  // Another size never gets it: 1000 floats round to 4032 bytes, 1017 floats to 4096.
  const float* block = again.data();
  again = Tensor();
  Tensor other = Tensor::empty({1017});
  EXPECT_NE(other.data(), block);
  EXPECT_EQ(storage_cache_stats().cached_bytes, 4032u);
}

TEST(StorageCache, LimitZeroTurnsItOffAndALowerLimitTrims) {
  LimitGuard guard;
  storage_cache_clear();
  { Tensor a = Tensor::empty({256}), b = Tensor::empty({512}); }
  EXPECT_EQ(storage_cache_stats().cached_bytes, 1024u + 2048u);
  storage_cache_set_limit(1500);
  EXPECT_LE(storage_cache_stats().cached_bytes, 1500u);
  storage_cache_set_limit(0);
  EXPECT_EQ(storage_cache_stats().cached_bytes, 0u);
  const int64_t reused = storage_cache_stats().reused;
  { Tensor c = Tensor::empty({256}); }
  { Tensor d = Tensor::empty({256}); }
  EXPECT_EQ(storage_cache_stats().cached_bytes, 0u);
  EXPECT_EQ(storage_cache_stats().reused, reused);
}

TEST(StorageCache, EnvironmentLimitIsCheckedMegabytes) {
  EXPECT_EQ(storage_cache_limit_from(nullptr), size_t{4096} << 20);
  EXPECT_EQ(storage_cache_limit_from(""), size_t{4096} << 20);
  EXPECT_EQ(storage_cache_limit_from("0"), 0u);
  EXPECT_EQ(storage_cache_limit_from("12"), size_t{12} << 20);
  for (const char* bad : {"-1", "12MB", "lots"}) {
    try {
      storage_cache_limit_from(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("PG_STORAGE_CACHE_MB"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(StorageCache, ATrainingLoopAllocatesNothingNewAfterItsFirstStep) {
  LimitGuard guard;
  storage_cache_clear();
  Tensor x = Tensor::full({2, 3, 9, 9}, 0.5f);
  Tensor weight = Tensor::full({4, 3, 3, 3}, 0.1f).set_requires_grad(true);
  Tensor bias = Tensor::zeros({4}).set_requires_grad(true);
  auto step = [&] {  // as the trainer's: gradients dropped (zero_grad), forward, backward
    weight.zero_grad();
    bias.zero_grad();
    Tensor loss = sum(relu(conv2d(x, weight, bias, {.stride = 2, .pad = 1})));
    loss.backward();
  };
  step();  // allocates the activations, the gradients and the backward's temporaries
  const StorageCacheStats first = storage_cache_stats();
  step();
  const StorageCacheStats second = storage_cache_stats();
  const int64_t asked = second.allocations - first.allocations;
  EXPECT_GT(asked, 0);
  EXPECT_EQ(second.reused - first.reused, asked) << "every block of step 2 should come from the cache";
}
