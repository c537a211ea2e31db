#pragma once
// Direct convolution kernel for stride-1 convolutions on a padded grid, without im2col.
//
// With the input padded once, output position q of the padded layout (q = i0*P1*P2 + i1*P2 + i2) reads
// input q + offset(k) for kernel tap k, offset(k) = k0*P1*P2 + k1*P2 + k2. So a convolution is a sum of
// shifted contiguous rows:
//   out[o, q] = sum_{i, k} w[o, i, k] * in[i, q + shift_k]
// computed for a contiguous range of q (positions with i1 >= out1 or i2 >= out2 are computed too and
// discarded; a few percent of extra work). The kernel keeps an (8 output channels) x (3 vectors of
// positions) block of accumulators in registers and streams the input rows; weights are packed so the
// 8 broadcasts of one step are contiguous. The same kernel computes the input gradient (the
// correlation of the output gradient with the flipped kernel: negative shifts, transposed channels).
#include <algorithm>
#include <cstring>
#include <vector>

#include "neurops/core/tensor.hpp"

namespace neurops::nn::detail {

template <class T>
struct Vec64;  // 64-byte vectors: one AVX-512 register, or two AVX2 registers
template <>
struct Vec64<float> {
  typedef float type __attribute__((vector_size(64)));
};
template <>
struct Vec64<double> {
  typedef double type __attribute__((vector_size(64)));
};

// 8 x 3 accumulators (24 of the 32 AVX-512 registers): measured 15% faster than 8 x 2.
inline constexpr int kDirectOutBlock = 8;    // output channels per register block
inline constexpr int kDirectPosVectors = 3;  // position vectors per register block

template <class T>
constexpr index_t direct_lanes() {
  return index_t(64 / sizeof(T));
}
/// Positions per kernel step; the computed range is a multiple of it.
template <class T>
constexpr index_t direct_step() {
  return kDirectPosVectors * direct_lanes<T>();
}

/// Packs w (n_out, n_in, n_shift) [or, transposed, w (n_in, n_out, n_shift) read as w[o][i][s] = w_t[i][o][s]]
/// into blocks [out block][i][s][8 outputs], zero-filling outputs beyond n_out.
template <class T>
void pack_direct_weights(const T* w, index_t n_out, index_t n_in, index_t n_shift, bool transposed,
                         std::vector<T>& packed) {
  const index_t blocks = (n_out + kDirectOutBlock - 1) / kDirectOutBlock;
  packed.assign(static_cast<std::size_t>(blocks * n_in * n_shift * kDirectOutBlock), T(0));
  for (index_t o = 0; o < n_out; ++o)
    for (index_t i = 0; i < n_in; ++i)
      for (index_t s = 0; s < n_shift; ++s) {
        const T v = transposed ? w[(i * n_out + o) * n_shift + s] : w[(o * n_in + i) * n_shift + s];
        const index_t b = o / kDirectOutBlock, lane = o % kDirectOutBlock;
        packed[static_cast<std::size_t>(((b * n_in + i) * n_shift + s) * kDirectOutBlock + lane)] = v;
      }
}

/// out[o * out_stride + j] = sum_i sum_s packed_w(o, i, s) * in[i * in_stride + j + shifts[s]] for
/// j in [0, len) (len a multiple of direct_step<T>()) and o in [0, blocks * 8): the caller's output
/// buffer holds whole blocks of 8 rows.
template <class T>
void direct_correlation(const T* in, index_t in_stride, index_t n_in, const index_t* shifts, index_t n_shift,
                        const T* packed_w, index_t blocks, T* out, index_t out_stride, index_t len) {
  using V = typename Vec64<T>::type;
  constexpr index_t L = direct_lanes<T>();
  constexpr int OB = kDirectOutBlock, PV = kDirectPosVectors;
  for (index_t b = 0; b < blocks; ++b) {
    const T* wb = packed_w + b * n_in * n_shift * OB;
    for (index_t j = 0; j < len; j += PV * L) {
      V acc[OB][PV];
      for (int o = 0; o < OB; ++o)
        for (int p = 0; p < PV; ++p) acc[o][p] = V{};
      const T* wp = wb;
      for (index_t i = 0; i < n_in; ++i) {
        const T* xi = in + i * in_stride + j;
        for (index_t s = 0; s < n_shift; ++s, wp += OB) {
          const T* xs = xi + shifts[s];
          V x[PV];
          for (int p = 0; p < PV; ++p) std::memcpy(&x[p], xs + p * L, sizeof(V));
          for (int o = 0; o < OB; ++o) {
            const T w = wp[o];
            for (int p = 0; p < PV; ++p) acc[o][p] += x[p] * w;
          }
        }
      }
      for (int o = 0; o < OB; ++o)
        for (int p = 0; p < PV; ++p) std::memcpy(out + (b * OB + o) * out_stride + j + p * L, &acc[o][p], sizeof(V));
    }
  }
}

namespace direct_impl {
// acc[m][v] (lanes = outputs v*L .. v*L+L-1) += dyT[q][v] * x_m[q], over q in [0, len).
template <class T, int OV, int MB>
void weight_gradient_block(const T* dyT, index_t dyT_row, const T* const* x_rows, T* dw, index_t dw_row, index_t len) {
  using V = typename Vec64<T>::type;
  constexpr index_t L = direct_lanes<T>();
  V acc[MB][OV];
  for (int m = 0; m < MB; ++m)
    for (int v = 0; v < OV; ++v) std::memcpy(&acc[m][v], dw + m * dw_row + v * L, sizeof(V));
  for (index_t q = 0; q < len; ++q) {
    V a[OV];
    for (int v = 0; v < OV; ++v) std::memcpy(&a[v], dyT + q * dyT_row + v * L, sizeof(V));
    for (int m = 0; m < MB; ++m) {
      const T xv = x_rows[m][q];
      for (int v = 0; v < OV; ++v) acc[m][v] += a[v] * xv;
    }
  }
  for (int m = 0; m < MB; ++m)
    for (int v = 0; v < OV; ++v) std::memcpy(dw + m * dw_row + v * L, &acc[m][v], sizeof(V));
}
}  // namespace direct_impl

/// Output channels rounded up to whole vectors: the row length of the weight-gradient buffers.
template <class T>
constexpr index_t direct_padded_outputs(index_t n_out) {
  return (n_out + direct_lanes<T>() - 1) / direct_lanes<T>() * direct_lanes<T>();
}
/// (input, tap) pairs rounded up to whole register blocks: the row count of the weight-gradient buffers.
inline index_t direct_padded_pairs(index_t pairs) { return (pairs + 23) / 24 * 24; }

/// dw[(i * n_shift + s) * direct_padded_outputs(n_out) + o] += sum_{j < len} dy[o * dy_stride + j] * x[i * x_stride + j
/// + shifts[s]]. The output gradient block is first transposed into `scratch` (len x padded outputs) so that the
/// outputs are the vector lanes; the kernel then broadcasts input entries as the forward kernel does
/// (one vector load and up to 24 broadcast FMAs per position), working through sub-ranges that keep
/// the transposed block in L1. dw has direct_padded_pairs(n_in * n_shift) rows; the extra rows absorb
/// the tail of the last register block.
template <class T>
void direct_weight_gradient(const T* dy, index_t dy_stride, index_t n_out, const T* x, index_t x_stride, index_t n_in,
                            const index_t* shifts, index_t n_shift, T* dw, T* scratch, index_t len) {
  constexpr index_t L = direct_lanes<T>();
  const index_t row = direct_padded_outputs<T>(n_out), vectors = row / L;
  for (index_t q = 0; q < len; ++q) {
    T* dst = scratch + q * row;
    for (index_t o = 0; o < n_out; ++o) dst[o] = dy[o * dy_stride + q];
    for (index_t o = n_out; o < row; ++o) dst[o] = T(0);
  }
  const index_t pairs = n_in * n_shift;
  constexpr index_t J = 4096 / sizeof(T);  // positions per sub-range: 16 KiB of transposed rows for 16 outputs
  const T* x_rows[24];
  for (index_t j0 = 0; j0 < len; j0 += J) {
    const index_t sub = std::min(J, len - j0);
    const T* dyT = scratch + j0 * row;
    if (vectors == 1) {
      for (index_t m0 = 0; m0 < pairs; m0 += 24) {
        for (index_t m = 0; m < 24; ++m) {
          const index_t p = std::min(m0 + m, pairs - 1);  // rows past the end repeat the last one
          x_rows[m] = x + (p / n_shift) * x_stride + shifts[p % n_shift] + j0;
        }
        direct_impl::weight_gradient_block<T, 1, 24>(dyT, row, x_rows, dw + m0 * row, row, sub);
      }
    } else {
      for (index_t v0 = 0; v0 < vectors; v0 += 2) {
        const bool two = v0 + 1 < vectors;
        for (index_t m0 = 0; m0 < pairs; m0 += 12) {
          for (index_t m = 0; m < 12; ++m) {
            const index_t p = std::min(m0 + m, pairs - 1);
            x_rows[m] = x + (p / n_shift) * x_stride + shifts[p % n_shift] + j0;
          }
          T* d = dw + m0 * row + v0 * L;
          if (two)
            direct_impl::weight_gradient_block<T, 2, 12>(dyT + v0 * L, row, x_rows, d, row, sub);
          else
            direct_impl::weight_gradient_block<T, 1, 12>(dyT + v0 * L, row, x_rows, d, row, sub);
        }
      }
    }
  }
}

}  // namespace neurops::nn::detail
