#pragma once
// AlignedVector<T>: a std::vector whose storage starts on a 64-byte boundary, as a Tensor's does
// (both allocate through aligned_allocate, which draws on the buffer cache: core/buffer_cache.hpp).
//
// Why: Eigen's vectorised loops over unaligned maps peel scalar iterations until the destination
// is aligned, and a peeled coefficient is summed in another order than one computed in a SIMD
// packet. Over a std::vector from malloc (16-byte aligned) the peel length follows the heap
// address, which changes from run to run (a longer path or another PID shifts the heap), so the same
// seed gave results differing in the last bit. Scratch buffers that Eigen reads or writes are
// therefore AlignedVectors: their address modulo 64 is always 0 and the results are the same bits.
#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

#include "neurops/core/buffer_cache.hpp"

namespace neurops {

/// Alignment of every buffer neurops' kernels read: a cache line, an AVX-512 packet.
inline constexpr std::size_t kBufferAlignment = 64;

/// `bytes` on a kBufferAlignment boundary, released with aligned_release (never std::free: the
/// block comes from the buffer cache); nullptr when out of memory.
inline void* aligned_allocate(std::size_t bytes) { return buffer_cache_acquire(bytes); }
inline void aligned_release(void* p) noexcept { buffer_cache_release(p); }

/// Allocator with a fixed 64-byte alignment (cache line, AVX-512 packet), the same in every
/// translation unit whatever its compile flags, so storage allocated in one and freed in another
/// stays matched.
template <class T>
struct AlignedAllocator {
  using value_type = T;

  AlignedAllocator() noexcept = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n == 0) return nullptr;
    if (n > static_cast<std::size_t>(-1) / sizeof(T) - kBufferAlignment) throw std::bad_array_new_length();
    void* p = aligned_allocate(n * sizeof(T));
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) noexcept { aligned_release(p); }

  template <class U>
  bool operator==(const AlignedAllocator<U>&) const noexcept {
    return true;
  }
};

template <class T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

}  // namespace neurops
