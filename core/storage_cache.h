// The storage cache: where every tensor's floats come from. A training step allocates the same
// activation and gradient sizes in the same order at every step; handing a freed block back to
// the C allocator and asking again a moment later costs a system call and a page fault per 4 KB
// page for every large block (glibc maps big blocks fresh each time, and the kernel zeroes every
// page on first touch). The cache keeps freed blocks in lists by size and returns one of the
// exact size when asked again, so from the second step on a training loop allocates nothing.
//
// Blocks are 64-byte aligned. A freed block is kept only while the cache holds less than its
// limit (PG_STORAGE_CACHE_MB, default 4096 MB; 0 turns the cache off); beyond it the block goes
// back to the C allocator. Under AddressSanitizer the cached blocks are poisoned, so a read of a
// freed tensor's data is still reported.
#pragma once
#include <cstddef>
#include <cstdint>

namespace pg {

// A block of at least `bytes` bytes (rounded up to 64), 64-byte aligned; pg::Error when out of memory.
float* storage_allocate(size_t bytes);
// Gives back a block from storage_allocate of the same `bytes`.
void storage_release(float* data, size_t bytes);

struct StorageCacheStats {
  int64_t allocations = 0;  // storage_allocate calls
  int64_t reused = 0;       // … of which were served from the cache
  size_t cached_bytes = 0;  // held by the cache now, free for reuse
  size_t limit_bytes = 0;   // the most it keeps
};
StorageCacheStats storage_cache_stats();
// Frees every cached block (e.g. after training, before a different workload).
void storage_cache_clear();
// The limit PG_STORAGE_CACHE_MB's text asks for (null or empty: the default); pg::Error otherwise.
size_t storage_cache_limit_from(const char* megabytes_text);
// Sets the limit (and drops cached blocks above it); 0 turns the cache off. For tests and tools.
void storage_cache_set_limit(size_t bytes);

}  // namespace pg
