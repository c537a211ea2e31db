#pragma once
// Direct convolution kernel for stride-1 convolutions on a padded grid, without im2col.
//
// With the input padded once, output position q of the padded layout (q = i0*P1*P2 + i1*P2 + i2) reads
// input q + offset(k) for kernel tap k, offset(k) = k0*P1*P2 + k1*P2 + k2. So a convolution is a sum of
// shifted contiguous rows:
//   out[o, q] = sum_{i, k} w[o, i, k] * in[i, q + shift_k]
// computed for a contiguous range of q (positions with i1 >= out1 or i2 >= out2 are computed too and
// discarded; a few percent of extra work). The kernel keeps an (8 output channels) x (2 vectors of
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

inline constexpr int kDirectOutBlock = 8;  // output channels per register block
inline constexpr int kDirectPosVectors = 2;  // position vectors per register block

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
template <class T, int OB, int MB>
void weight_gradient_block(const T* dy, index_t dy_stride, const T* const* x_rows, T* const* dw, index_t len) {
  using V = typename Vec64<T>::type;
  constexpr index_t L = direct_lanes<T>();
  V acc[OB][MB];
  for (int o = 0; o < OB; ++o)
    for (int m = 0; m < MB; ++m) std::memcpy(&acc[o][m], dw[m] + o * L, sizeof(V));
  for (index_t j = 0; j < len; j += L) {
    V a[OB], b[MB];
    for (int o = 0; o < OB; ++o) std::memcpy(&a[o], dy + o * dy_stride + j, sizeof(V));
    for (int m = 0; m < MB; ++m) std::memcpy(&b[m], x_rows[m] + j, sizeof(V));
    for (int o = 0; o < OB; ++o)
      for (int m = 0; m < MB; ++m) acc[o][m] += a[o] * b[m];
  }
  for (int o = 0; o < OB; ++o)
    for (int m = 0; m < MB; ++m) std::memcpy(dw[m] + o * L, &acc[o][m], sizeof(V));
}

template <class T, int OB>
void weight_gradient_rows(const T* dy, index_t dy_stride, const T* const* x_rows, T* const* dw, index_t mb, index_t len) {
  switch (mb) {
    case 3: weight_gradient_block<T, OB, 3>(dy, dy_stride, x_rows, dw, len); break;
    case 2: weight_gradient_block<T, OB, 2>(dy, dy_stride, x_rows, dw, len); break;
    default: weight_gradient_block<T, OB, 1>(dy, dy_stride, x_rows, dw, len); break;
  }
}
}  // namespace direct_impl

/// Lane-wise partial sums of dw[(i * n_shift + s) * n_out + o] = sum_j dy[o * dy_stride + j] * x[i * x_stride + j + shifts[s]]:
/// dw_lanes holds direct_lanes<T>() partial sums per entry (entry e at dw_lanes + e * lanes), added to
/// across calls and summed by the caller at the end, so the hot loop has no horizontal reductions.
/// len is a multiple of direct_lanes<T>(); both inputs must be readable up to it. Blocks of
/// 8 outputs x 3 (input, tap) pairs accumulate in registers over the whole range (the fastest of
/// the register blockings measured on AVX-512).
template <class T>
void direct_weight_gradient(const T* dy, index_t dy_stride, index_t n_out, const T* x, index_t x_stride, index_t n_in,
                            const index_t* shifts, index_t n_shift, T* dw_lanes, index_t len) {
  constexpr index_t OB = 8, MB = 3, L = direct_lanes<T>();
  // Sub-ranges short enough that the 8 output-gradient rows of a block stay in L1 while every
  // (input, tap) pair streams past them; otherwise the kernel is bound by L2 bandwidth.
  constexpr index_t J = 512 / sizeof(T) * 4;
  const index_t pairs = n_in * n_shift;
  const T* x_rows[MB];
  T* dw_rows[MB];
  for (index_t j0 = 0; j0 < len; j0 += J)
  for (index_t o0 = 0; o0 < n_out; o0 += OB)
    for (index_t m0 = 0; m0 < pairs; m0 += MB) {
      const index_t mb = std::min(MB, pairs - m0);
      for (index_t m = 0; m < mb; ++m) {
        const index_t i = (m0 + m) / n_shift, s = (m0 + m) % n_shift;
        x_rows[m] = x + i * x_stride + shifts[s] + j0;
        dw_rows[m] = dw_lanes + ((m0 + m) * n_out + o0) * L;
      }
      const T* dyo = dy + o0 * dy_stride + j0;
      const index_t sub = std::min(J, len - j0);
      switch (std::min(OB, n_out - o0)) {
        case 8: direct_impl::weight_gradient_rows<T, 8>(dyo, dy_stride, x_rows, dw_rows, mb, sub); break;
        case 7: direct_impl::weight_gradient_rows<T, 7>(dyo, dy_stride, x_rows, dw_rows, mb, sub); break;
        case 6: direct_impl::weight_gradient_rows<T, 6>(dyo, dy_stride, x_rows, dw_rows, mb, sub); break;
        case 5: direct_impl::weight_gradient_rows<T, 5>(dyo, dy_stride, x_rows, dw_rows, mb, sub); break;
        case 4: direct_impl::weight_gradient_rows<T, 4>(dyo, dy_stride, x_rows, dw_rows, mb, sub); break;
        case 3: direct_impl::weight_gradient_rows<T, 3>(dyo, dy_stride, x_rows, dw_rows, mb, sub); break;
        case 2: direct_impl::weight_gradient_rows<T, 2>(dyo, dy_stride, x_rows, dw_rows, mb, sub); break;
        default: direct_impl::weight_gradient_rows<T, 1>(dyo, dy_stride, x_rows, dw_rows, mb, sub); break;
      }
    }
}

}  // namespace neurops::nn::detail
