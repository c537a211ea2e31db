#pragma once
// Direct-loop reference implementations for the layer tests, written from the definitions
// (independent of the library's im2col/GEMM kernels).
#include <vector>

#include "neurops/nn/conv.hpp"

namespace neurops::test {

inline index_t reference_source(index_t s, index_t n, nn::PaddingMode mode) {
  if (s >= 0 && s < n) return s;
  switch (mode) {
    case nn::PaddingMode::Zeros:
      return -1;
    case nn::PaddingMode::Circular:
      return (s + n * 8) % n;
    case nn::PaddingMode::Reflect:
      return s < 0 ? -s : 2 * n - 2 - s;
    case nn::PaddingMode::Replicate:
      return s < 0 ? 0 : n - 1;
  }
  return -1;
}

/// Spatial extents padded to 3 with leading ones.
inline std::vector<index_t> as3(const std::vector<index_t>& v, index_t fill) {
  std::vector<index_t> out(3 - v.size(), fill);
  out.insert(out.end(), v.begin(), v.end());
  return out;
}

/// y[n, o, p...] = b[o] + sum_{c, k} w[o, c, k] x[n, c, p*s + k - pad] (padding mode applied).
inline Tensor<double> naive_conv(const Tensor<double>& x, const Tensor<double>& w, const Tensor<double>* b,
                                 const std::vector<index_t>& stride, const std::vector<index_t>& pad,
                                 nn::PaddingMode mode) {
  const int dims = x.rank() - 2;
  const index_t batch = x.size(0), cin = x.size(1), cout = w.size(0);
  const auto in = as3(x.shape().tail(2).dims(), 1), k = as3(w.shape().tail(2).dims(), 1);
  const auto s = as3(stride, 1), p = as3(pad, 0);
  std::vector<index_t> out(3), yshape = {batch, cout};
  for (int a = 0; a < 3; ++a) out[a] = (in[a] + 2 * p[a] - k[a]) / s[a] + 1;
  for (int a = 3 - dims; a < 3; ++a) yshape.push_back(out[a]);
  Tensor<double> y{Shape(yshape)};
  index_t idx = 0;
  for (index_t n = 0; n < batch; ++n)
    for (index_t o = 0; o < cout; ++o)
      for (index_t i0 = 0; i0 < out[0]; ++i0)
        for (index_t i1 = 0; i1 < out[1]; ++i1)
          for (index_t i2 = 0; i2 < out[2]; ++i2, ++idx) {
            double acc = b ? (*b)[o] : 0.0;
            for (index_t c = 0; c < cin; ++c)
              for (index_t k0 = 0; k0 < k[0]; ++k0)
                for (index_t k1 = 0; k1 < k[1]; ++k1)
                  for (index_t k2 = 0; k2 < k[2]; ++k2) {
                    const index_t j0 = reference_source(i0 * s[0] + k0 - p[0], in[0], mode);
                    const index_t j1 = reference_source(i1 * s[1] + k1 - p[1], in[1], mode);
                    const index_t j2 = reference_source(i2 * s[2] + k2 - p[2], in[2], mode);
                    if (j0 < 0 || j1 < 0 || j2 < 0) continue;
                    acc += w[((o * cin + c) * k[0] + k0) * k[1] * k[2] + k1 * k[2] + k2] *
                           x[(((n * cin + c) * in[0] + j0) * in[1] + j1) * in[2] + j2];
                  }
            y[idx] = acc;
          }
  return y;
}

/// y[n, o, i*s - pad + k] += w[c, o, k] x[n, c, i] (+ b[o]), output extent (n-1)s - 2pad + k + out_pad.
inline Tensor<double> naive_conv_transpose(const Tensor<double>& x, const Tensor<double>& w, const Tensor<double>* b,
                                           const std::vector<index_t>& stride, const std::vector<index_t>& pad,
                                           const std::vector<index_t>& out_pad) {
  const int dims = x.rank() - 2;
  const index_t batch = x.size(0), cin = x.size(1), cout = w.size(1);
  const auto in = as3(x.shape().tail(2).dims(), 1), k = as3(w.shape().tail(2).dims(), 1);
  const auto s = as3(stride, 1), p = as3(pad, 0), op = as3(out_pad, 0);
  std::vector<index_t> out(3), yshape = {batch, cout};
  for (int a = 0; a < 3; ++a) out[a] = (in[a] - 1) * s[a] - 2 * p[a] + k[a] + op[a];
  for (int a = 3 - dims; a < 3; ++a) yshape.push_back(out[a]);
  Tensor<double> y{Shape(yshape)};
  for (index_t n = 0; n < batch; ++n)
    for (index_t c = 0; c < cin; ++c)
      for (index_t i0 = 0; i0 < in[0]; ++i0)
        for (index_t i1 = 0; i1 < in[1]; ++i1)
          for (index_t i2 = 0; i2 < in[2]; ++i2) {
            const double xv = x[(((n * cin + c) * in[0] + i0) * in[1] + i1) * in[2] + i2];
            for (index_t o = 0; o < cout; ++o)
              for (index_t k0 = 0; k0 < k[0]; ++k0)
                for (index_t k1 = 0; k1 < k[1]; ++k1)
                  for (index_t k2 = 0; k2 < k[2]; ++k2) {
                    const index_t j0 = i0 * s[0] - p[0] + k0, j1 = i1 * s[1] - p[1] + k1, j2 = i2 * s[2] - p[2] + k2;
                    if (j0 < 0 || j0 >= out[0] || j1 < 0 || j1 >= out[1] || j2 < 0 || j2 >= out[2]) continue;
                    y[(((n * cout + o) * out[0] + j0) * out[1] + j1) * out[2] + j2] +=
                        w[((c * cout + o) * k[0] + k0) * k[1] * k[2] + k1 * k[2] + k2] * xv;
                  }
          }
  if (b)
    for (index_t i = 0; i < y.numel(); ++i) y[i] += (*b)[(i / y.shape().tail_numel(2)) % cout];
  return y;
}

}  // namespace neurops::test
