#include "neurops/core/buffer_cache.hpp"

#include <cstdlib>
#include <map>
#include <mutex>

#include "neurops/core/aligned_vector.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define NEUROPS_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define NEUROPS_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define NEUROPS_POISON(p, n) ((void)(p), (void)(n))
#define NEUROPS_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace neurops {
namespace {

// Block layout: [header: total size, padded to kBufferAlignment][payload]. A free block's payload
// holds the next free block of the same size (an intrusive list: caching needs no allocation).
constexpr std::size_t kHeader = kBufferAlignment;

struct FreeBlock {
  FreeBlock* next;
};

struct Cache {
  std::mutex mutex;
  std::map<std::size_t, FreeBlock*> free;  // total block size -> list of free payloads
  std::size_t cached = 0, limit = std::size_t(256) << 20;
  bool open = true;  // false after exit began: releases go straight to the system

  void trim_to(std::size_t bytes) {
    for (auto it = free.begin(); it != free.end() && cached > bytes; ++it)
      while (it->second && cached > bytes) {
        FreeBlock* b = it->second;
        NEUROPS_UNPOISON(b, sizeof(FreeBlock));
        it->second = b->next;
        std::free(reinterpret_cast<char*>(b) - kHeader);
        cached -= it->first;
      }
  }
};

// Never destroyed: Tensors with static storage may be freed after every other static destructor ran.
Cache& cache() {
  static Cache* c = new Cache;
  return *c;
}

// Returns the cached blocks to the system when the program exits (leak checkers see none), and
// sends every later release straight to the system.
struct ReleaseAtExit {
  ReleaseAtExit() { (void)cache(); }
  ~ReleaseAtExit() {
    Cache& c = cache();
    std::lock_guard lock(c.mutex);
    c.open = false;
    c.trim_to(0);
  }
} release_at_exit;

std::size_t& header_size(void* payload) {
  return *reinterpret_cast<std::size_t*>(static_cast<char*>(payload) - kHeader);
}

}  // namespace

void* buffer_cache_acquire(std::size_t bytes) {
  if (bytes > static_cast<std::size_t>(-1) - 2 * kHeader) return nullptr;
  const std::size_t total = kHeader + (bytes + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
  Cache& c = cache();
  {
    std::lock_guard lock(c.mutex);
    const auto it = c.free.find(total);
    if (it != c.free.end() && it->second) {
      FreeBlock* b = it->second;
      NEUROPS_UNPOISON(b, total - kHeader);
      it->second = b->next;
      c.cached -= total;
      return b;
    }
  }
  char* block = static_cast<char*>(std::aligned_alloc(kBufferAlignment, total));
  if (!block) return nullptr;
  *reinterpret_cast<std::size_t*>(block) = total;
  return block + kHeader;
}

void buffer_cache_release(void* p) noexcept {
  if (!p) return;
  const std::size_t total = header_size(p);
  Cache& c = cache();
  {
    std::lock_guard lock(c.mutex);
    if (c.open && c.cached + total <= c.limit) {
      try {
        FreeBlock*& head = c.free[total];  // allocates a node only for a size seen for the first time
        auto* b = static_cast<FreeBlock*>(p);
        b->next = head;
        head = b;
        c.cached += total;
        NEUROPS_POISON(p, total - kHeader);
        return;
      } catch (...) {
        // no memory for the list node: give the block back instead
      }
    }
  }
  std::free(static_cast<char*>(p) - kHeader);
}

void buffer_cache_trim() noexcept {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  c.trim_to(0);
}

std::size_t buffer_cache_limit() noexcept {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  return c.limit;
}

void set_buffer_cache_limit(std::size_t bytes) noexcept {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  c.limit = bytes;
  c.trim_to(bytes);
}

std::size_t buffer_cache_bytes() noexcept {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  return c.cached;
}

}  // namespace neurops
