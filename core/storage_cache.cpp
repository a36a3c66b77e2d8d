// The storage cache (see storage_cache.h): freed blocks in free lists keyed by their exact
// rounded size, behind one mutex (tensors are made and dropped on any thread).
#include "core/storage_cache.h"

#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/error.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define PG_POISON(data, bytes) ASAN_POISON_MEMORY_REGION(data, bytes)
#define PG_UNPOISON(data, bytes) ASAN_UNPOISON_MEMORY_REGION(data, bytes)
#else
#define PG_POISON(data, bytes) ((void)(data), (void)(bytes))
#define PG_UNPOISON(data, bytes) ((void)(data), (void)(bytes))
#endif

namespace pg {

namespace {

constexpr size_t kAlignment = 64;  // one cache line; the SIMD kernels' widest load

size_t rounded(size_t bytes) {
  if (bytes == 0) bytes = 1;
  return (bytes + kAlignment - 1) / kAlignment * kAlignment;
}

struct StorageCache {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<float*>> free_blocks;  // rounded size → blocks of that size
  size_t cached_bytes = 0;
  size_t limit_bytes = storage_cache_limit_from(std::getenv("PG_STORAGE_CACHE_MB"));
  int64_t allocations = 0, reused = 0;

  // Frees cached blocks until at most `keep` bytes stay cached. Caller holds the mutex.
  void trim_to(size_t keep) {
    for (auto& [bytes, blocks] : free_blocks) {
      while (!blocks.empty() && cached_bytes > keep) {
        PG_UNPOISON(blocks.back(), bytes);
        std::free(blocks.back());
        blocks.pop_back();
        cached_bytes -= bytes;
      }
    }
  }
};

// Never destroyed: tensors held by other static objects may be freed after main returns.
StorageCache& cache() {
  static StorageCache* instance = new StorageCache;
  return *instance;
}

}  // namespace

size_t storage_cache_limit_from(const char* text) {
  if (text == nullptr || *text == '\0') return size_t{4096} << 20;
  char* end = nullptr;
  const long long megabytes = std::strtoll(text, &end, 10);
  check(*end == '\0' && megabytes >= 0, "PG_STORAGE_CACHE_MB: expected a whole number of megabytes >= 0, got '",
        text, "'");
  return static_cast<size_t>(megabytes) << 20;
}

float* storage_allocate(size_t bytes) {
  const size_t size = rounded(bytes);
  StorageCache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    ++c.allocations;
    auto it = c.free_blocks.find(size);
    if (it != c.free_blocks.end() && !it->second.empty()) {
      float* data = it->second.back();
      it->second.pop_back();
      c.cached_bytes -= size;
      ++c.reused;
      PG_UNPOISON(data, size);
      return data;
    }
  }
  auto* data = static_cast<float*>(std::aligned_alloc(kAlignment, size));
  check(data != nullptr, "Tensor: out of memory allocating ", size, " bytes");
  return data;
}

void storage_release(float* data, size_t bytes) {
  if (data == nullptr) return;
  const size_t size = rounded(bytes);
  StorageCache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.cached_bytes + size <= c.limit_bytes) {
      PG_POISON(data, size);
      c.free_blocks[size].push_back(data);
      c.cached_bytes += size;
      return;
    }
  }
  std::free(data);
}

StorageCacheStats storage_cache_stats() {
  StorageCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return {.allocations = c.allocations, .reused = c.reused, .cached_bytes = c.cached_bytes,
          .limit_bytes = c.limit_bytes};
}

void storage_cache_clear() {
  StorageCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.trim_to(0);
}

void storage_cache_set_limit(size_t bytes) {
  StorageCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.limit_bytes = bytes;
  c.trim_to(bytes);
}

}  // namespace pg
