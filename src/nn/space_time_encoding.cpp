#include "neurops/nn/space_time_encoding.hpp"

#include <cmath>
#include <numbers>

namespace neurops::nn {

template <class T>
SpaceTimeEncoding<T>::SpaceTimeEncoding(index_t channels, double beta, index_t max_time_steps)
    : channels_(channels), beta_(beta), max_time_steps_(max_time_steps) {
  NEUROPS_CHECK(channels_ >= 4 && channels_ % 2 == 0,
                "SpaceTimeEncoding: channels (the SFNO width) must be even and >= 4, found " << channels_);
  NEUROPS_CHECK(max_time_steps_ >= 1, "SpaceTimeEncoding: max_time_steps must be >= 1, found " << max_time_steps_);
  NEUROPS_CHECK(std::isfinite(beta_), "SpaceTimeEncoding: beta must be finite, found " << beta_);
}

template <class T>
Tensor<T> SpaceTimeEncoding<T>::encoding(index_t n0, index_t n1, index_t nt) const {
  NEUROPS_CHECK(n0 >= 1 && n1 >= 1 && nt >= 1,
                type_name() << ": grid (" << n0 << ", " << n1 << ", " << nt << ") must have >= 1 point per axis");
  NEUROPS_CHECK(nt <= max_time_steps_, type_name()
                                           << ": " << nt << " frames, at most max_time_steps = " << max_time_steps_
                                           << " (the time grid is (j+1)/" << max_time_steps_ << ")");
  Tensor<T> pe = Tensor<T>::uninitialized({channels_, n0, n1, nt});
  const index_t plane = n0 * n1 * nt;
  // linspace(0, 1, n) includes both ends; a single point sits at 0 as in torch.
  auto coordinate = [](index_t i, index_t n) { return n > 1 ? double(i) / double(n - 1) : 0.0; };
  std::vector<double> time(static_cast<std::size_t>(nt));
  for (index_t j = 0; j < nt; ++j) time[static_cast<std::size_t>(j)] = double(j + 1) / double(max_time_steps_);
  for (index_t c = 0; c < channels_; ++c) {
    T* out = pe.data() + c * plane;
    for (index_t i = 0; i < n0; ++i)
      for (index_t k = 0; k < n1; ++k)
        for (index_t j = 0; j < nt; ++j) {
          const double t = time[static_cast<std::size_t>(j)];
          double v;
          if (c == 0) {
            v = coordinate(i, n0);
          } else if (c == 1) {
            v = coordinate(k, n1);
          } else if (c == 2) {
            v = t;
          } else {
            const index_t m = c - 3;
            const double arg = std::numbers::pi * double(m + 1) * t;
            v = std::exp(beta_ * t) * (m % 2 == 0 ? std::sin(arg) : std::cos(arg));
          }
          out[(i * n1 + k) * nt + j] = static_cast<T>(v);
        }
  }
  return pe;
}

template <class T>
Tensor<T> SpaceTimeEncoding<T>::forward(const Tensor<T>& x) {
  NEUROPS_CHECK(x.rank() == 5 && x.size(1) == 1,
                type_name() << ": expected a one-channel space-time field (N, 1, n0, n1, nt), found " << x.shape());
  const index_t n = x.size(0), n0 = x.size(2), n1 = x.size(3), nt = x.size(4), plane = n0 * n1 * nt;
  if (pe_.empty() || pe_.size(1) != n0 || pe_.size(2) != n1 || pe_.size(3) != nt) pe_ = encoding(n0, n1, nt);
  Tensor<T> y = Tensor<T>::uninitialized({n, channels_, n0, n1, nt});
#pragma omp parallel for collapse(2) schedule(static) if (n * channels_ * plane > (1 << 16))
  for (index_t s = 0; s < n; ++s)
    for (index_t c = 0; c < channels_; ++c) {
      const T* in = x.data() + s * plane;
      const T* pe = pe_.data() + c * plane;
      T* out = y.data() + (s * channels_ + c) * plane;
      for (index_t p = 0; p < plane; ++p) out[p] = in[p] + pe[p];
    }
  if (this->training()) input_shape_ = x.shape();
  return y;
}

template <class T>
Tensor<T> SpaceTimeEncoding<T>::backward(const Tensor<T>& dy) {
  this->require_cache(input_shape_.rank() == 5);
  const Shape expected = input_shape_.with(1, channels_);
  NEUROPS_CHECK(dy.shape() == expected,
                type_name() << ": output gradient has shape " << dy.shape() << ", expected " << expected);
  const index_t n = input_shape_[0], plane = input_shape_.tail_numel(2);
  Tensor<T> dx(input_shape_);
#pragma omp parallel for schedule(static) if (n * channels_ * plane > (1 << 16))
  for (index_t s = 0; s < n; ++s) {
    T* out = dx.data() + s * plane;
    for (index_t c = 0; c < channels_; ++c) {
      const T* g = dy.data() + (s * channels_ + c) * plane;
      for (index_t p = 0; p < plane; ++p) out[p] += g[p];
    }
  }
  return dx;
}

template class SpaceTimeEncoding<float>;
template class SpaceTimeEncoding<double>;

}  // namespace neurops::nn
