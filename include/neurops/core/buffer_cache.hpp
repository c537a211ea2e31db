#pragma once
// The buffer cache behind every Tensor and AlignedVector: freed buffers are kept, by size, for the
// next allocation of the same size.
//
// Why: a simulation code calls a trained operator one field at a time inside its time loop. Each
// forward pass allocates the same sequence of activation and scratch buffers, and at batch 1 the
// system allocator's cost (page faults of freshly mapped large blocks, trimming the heap) is a large
// part of a call. With the cache, repeated calls on same-shaped inputs reuse the buffers of the
// previous call and do not reach the system allocator at all (tests/core/test_buffer_cache.cpp).
//
// Design: an exact-size free list per size (sizes rounded up to kBufferAlignment), guarded by one
// mutex (allocations come from any OpenMP thread). Each block carries a kBufferAlignment-byte header
// holding its size, so a release needs only the pointer. The cache is bounded: a freed block that
// would raise the cached bytes above buffer_cache_limit() goes back to the system. The cached blocks
// are returned to the system at exit, or on buffer_cache_trim().
#include <cstddef>

namespace neurops {

/// `bytes` on a 64-byte boundary, from the cache when a block of that size is free there, else from
/// the system; nullptr when out of memory. Release with buffer_cache_release, never std::free.
void* buffer_cache_acquire(std::size_t bytes);
/// Returns a block from buffer_cache_acquire to the cache (or to the system when the cache is full).
void buffer_cache_release(void* p) noexcept;

/// Returns every cached block to the system.
void buffer_cache_trim() noexcept;
/// The most bytes the cache keeps (256 MiB unless set); setting it trims the cache down to it.
std::size_t buffer_cache_limit() noexcept;
void set_buffer_cache_limit(std::size_t bytes) noexcept;
/// Bytes held in the cache now (free blocks, headers included).
std::size_t buffer_cache_bytes() noexcept;

}  // namespace neurops
