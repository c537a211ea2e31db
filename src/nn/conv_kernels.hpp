#pragma once
// Data movement kernels shared by Conv and ConvTranspose: padding (and its adjoint), im2col of one
// output tile (and its adjoint, col2im), per-thread buffers. Private to the library.
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "conv_state.hpp"

namespace neurops::nn::detail {

/// Multiply-adds below which a layer call runs on one thread: starting and joining a team costs more
/// than it saves for the small tensors of gradient checks and tiny grids.
inline constexpr index_t kParallelWork = index_t(1) << 20;

/// Makes `t` hold at least n elements (keeps its storage when large enough).
template <class T>
T* ensure_capacity(Tensor<T>& t, index_t n) {
  if (t.numel() < n) t = Tensor<T>::uninitialized({n});
  return t.data();
}

template <class T>
void ensure_threads(std::vector<Tensor<T>>& v, int threads) {
  if (static_cast<int>(v.size()) < threads) v.resize(static_cast<std::size_t>(threads));
}

/// xpad (channels x padded volume) = the padding mode applied to x (channels x input volume).
template <class T>
void pad_sample(const ConvGeometry& g, const T* x, T* xpad, index_t channels) {
  const auto& s0 = g.source[0];
  const auto& s1 = g.source[1];
  const auto& s2 = g.source[2];
  for (index_t c = 0; c < channels; ++c) {
    const T* xc = x + c * g.in_volume;
    T* pc = xpad + c * g.padded_volume;
    for (index_t q0 = 0; q0 < g.padded[0]; ++q0)
      for (index_t q1 = 0; q1 < g.padded[1]; ++q1) {
        T* row = pc + (q0 * g.padded[1] + q1) * g.padded[2];
        if (s0[q0] < 0 || s1[q1] < 0) {
          std::fill(row, row + g.padded[2], T(0));
          continue;
        }
        const T* src = xc + (s0[q0] * g.in[1] + s1[q1]) * g.in[2];
        const index_t p = g.pad[2], n = g.in[2];
        for (index_t q = 0; q < p; ++q) row[q] = s2[q] < 0 ? T(0) : src[s2[q]];
        std::memcpy(row + p, src, sizeof(T) * static_cast<std::size_t>(n));
        for (index_t q = p + n; q < g.padded[2]; ++q) row[q] = s2[q] < 0 ? T(0) : src[s2[q]];
      }
  }
}

/// x (channels x input volume) = adjoint of the padding applied to xpad: every padded entry is added
/// to the input entry it was copied from.
template <class T>
void unpad_sample(const ConvGeometry& g, const T* xpad, T* x, index_t channels) {
  const auto& s0 = g.source[0];
  const auto& s1 = g.source[1];
  const auto& s2 = g.source[2];
  const bool copy_only = g.mode == PaddingMode::Zeros;
  for (index_t c = 0; c < channels; ++c) {
    T* xc = x + c * g.in_volume;
    const T* pc = xpad + c * g.padded_volume;
    if (!copy_only) std::fill(xc, xc + g.in_volume, T(0));
    for (index_t q0 = 0; q0 < g.padded[0]; ++q0)
      for (index_t q1 = 0; q1 < g.padded[1]; ++q1) {
        if (s0[q0] < 0 || s1[q1] < 0) continue;
        const T* row = pc + (q0 * g.padded[1] + q1) * g.padded[2];
        T* dst = xc + (s0[q0] * g.in[1] + s1[q1]) * g.in[2];
        const index_t p = g.pad[2], n = g.in[2];
        const bool interior = q0 >= g.pad[0] && q0 < g.pad[0] + g.in[0] && q1 >= g.pad[1] && q1 < g.pad[1] + g.in[1];
        if (copy_only) {
          // Zero padding: each input entry appears exactly once, in the interior.
          if (interior) std::memcpy(dst, row + p, sizeof(T) * static_cast<std::size_t>(n));
          continue;
        }
        for (index_t q = 0; q < p; ++q)
          if (s2[q] >= 0) dst[s2[q]] += row[q];
        for (index_t i = 0; i < n; ++i) dst[i] += row[p + i];
        for (index_t q = p + n; q < g.padded[2]; ++q)
          if (s2[q] >= 0) dst[s2[q]] += row[q];
      }
  }
}

/// Visits the im2col rows of one tile: f(row pointer in the padded input, row length in outputs).
/// Rows of cols are (channel, k0, k1, k2); columns the tile's output positions in row-major order.
template <class T, class F>
inline void for_each_tile_segment(const ConvGeometry& g, index_t tile, F&& f) {
  index_t lo[3] = {0, 0, 0}, hi[3] = {g.out[0], g.out[1], g.out[2]};
  lo[g.tile_axis] = tile * g.tile_rows;
  hi[g.tile_axis] = std::min(lo[g.tile_axis] + g.tile_rows, g.out[g.tile_axis]);
  index_t col = 0;
  for (index_t i0 = lo[0]; i0 < hi[0]; ++i0)
    for (index_t i1 = lo[1]; i1 < hi[1]; ++i1) {
      const index_t offset = (i0 * g.stride[0] * g.padded[1] + i1 * g.stride[1]) * g.padded[2] + lo[2] * g.stride[2];
      f(offset, col, hi[2] - lo[2]);
      col += hi[2] - lo[2];
    }
}

/// cols ((channels*K) x tile length, row-major) = im2col of the padded input for one output tile.
template <class T>
void im2col_tile(const ConvGeometry& g, const T* xpad, index_t channels, index_t tile, T* cols) {
  const index_t len = g.tile_length(tile);
  const index_t s2 = g.stride[2];
  index_t r = 0;
  for (index_t c = 0; c < channels; ++c)
    for (index_t k0 = 0; k0 < g.kernel[0]; ++k0)
      for (index_t k1 = 0; k1 < g.kernel[1]; ++k1)
        for (index_t k2 = 0; k2 < g.kernel[2]; ++k2, ++r) {
          const T* base = xpad + c * g.padded_volume + (k0 * g.padded[1] + k1) * g.padded[2] + k2;
          T* dst = cols + r * len;
          for_each_tile_segment<T>(g, tile, [&](index_t offset, index_t col, index_t n) {
            const T* src = base + offset;
            T* d = dst + col;
            if (s2 == 1) {
              std::memcpy(d, src, sizeof(T) * static_cast<std::size_t>(n));
            } else {
              for (index_t i = 0; i < n; ++i) d[i] = src[i * s2];
            }
          });
        }
}

/// xpad += col2im(cols): the adjoint of im2col_tile.
template <class T>
void col2im_tile_add(const ConvGeometry& g, const T* cols, index_t channels, index_t tile, T* xpad) {
  const index_t len = g.tile_length(tile);
  const index_t s2 = g.stride[2];
  index_t r = 0;
  for (index_t c = 0; c < channels; ++c)
    for (index_t k0 = 0; k0 < g.kernel[0]; ++k0)
      for (index_t k1 = 0; k1 < g.kernel[1]; ++k1)
        for (index_t k2 = 0; k2 < g.kernel[2]; ++k2, ++r) {
          T* base = xpad + c * g.padded_volume + (k0 * g.padded[1] + k1) * g.padded[2] + k2;
          const T* src = cols + r * len;
          for_each_tile_segment<T>(g, tile, [&](index_t offset, index_t col, index_t n) {
            T* d = base + offset;
            const T* s = src + col;
            if (s2 == 1) {
              for (index_t i = 0; i < n; ++i) d[i] += s[i];
            } else {
              for (index_t i = 0; i < n; ++i) d[i * s2] += s[i];
            }
          });
        }
}

/// Runs body(n, tile) over every (sample, tile) pair whose tile index has the given parity, in
/// parallel. Tiles of one parity never share input rows (tile_rows >= kernel - 1 along the tile axis),
/// so col2im can scatter without races.
template <class F>
void for_each_tile_of_parity(const ConvGeometry& g, index_t batch, int parity, F&& body) {
  const index_t per_sample = (g.tiles + 1 - parity) / 2;
  const index_t items = batch * per_sample;
#pragma omp for schedule(static)
  for (index_t i = 0; i < items; ++i) body(i / per_sample, 2 * (i % per_sample) + parity);
}

/// Runs body(n, tile) over every (sample, tile) pair in parallel (inside a parallel region).
template <class F>
void for_each_tile(const ConvGeometry& g, index_t batch, F&& body) {
  const index_t items = batch * g.tiles;
#pragma omp for schedule(static)
  for (index_t i = 0; i < items; ++i) body(i / g.tiles, i % g.tiles);
}

}  // namespace neurops::nn::detail
