#include "neurops/nn/pooling.hpp"

#include <algorithm>
#include <cmath>

namespace neurops::nn {

namespace detail {

namespace {
AxisResampler average_map(index_t n_in, index_t k) {
  AxisResampler m{n_in, n_in / k, k, {}, {}};
  for (index_t i = 0; i < m.n_out; ++i)
    for (index_t t = 0; t < k; ++t) {
      m.source.push_back(i * k + t);
      m.weight.push_back(1.0 / double(k));
    }
  return m;
}

AxisResampler nearest_map(index_t n_in, index_t f) {
  AxisResampler m{n_in, n_in * f, 1, {}, {}};
  for (index_t i = 0; i < m.n_out; ++i) {
    m.source.push_back(i / f);
    m.weight.push_back(1.0);
  }
  return m;
}

// align_corners=false: output i samples the input at (i + 0.5) / f - 0.5, clamped at 0 as PyTorch does.
AxisResampler linear_map(index_t n_in, index_t f) {
  AxisResampler m{n_in, n_in * f, 2, {}, {}};
  for (index_t i = 0; i < m.n_out; ++i) {
    const double src = std::max(0.0, (double(i) + 0.5) / double(f) - 0.5);
    const index_t i0 = std::min<index_t>(static_cast<index_t>(src), n_in - 1);
    const index_t i1 = std::min<index_t>(i0 + 1, n_in - 1);
    const double w1 = src - double(i0);
    m.source.push_back(i0);
    m.weight.push_back(1.0 - w1);
    m.source.push_back(i1);
    m.weight.push_back(w1);
  }
  return m;
}

// y (outer, n_out, inner) = map applied to x (outer, n_in, inner), or the adjoint with the roles swapped.
template <class T>
void apply_axis(const T* x, T* y, index_t outer, index_t inner, const AxisResampler& m, bool adjoint) {
  const index_t n_x = adjoint ? m.n_out : m.n_in, n_y = adjoint ? m.n_in : m.n_out;
#pragma omp parallel for schedule(static) if (outer * n_y * inner > 32768)
  for (index_t o = 0; o < outer; ++o) {
    const T* xo = x + o * n_x * inner;
    T* yo = y + o * n_y * inner;
    if (adjoint) std::fill(yo, yo + n_y * inner, T(0));
    for (index_t i = 0; i < m.n_out; ++i)
      for (index_t t = 0; t < m.taps; ++t) {
        const std::size_t k = static_cast<std::size_t>(i * m.taps + t);
        const T w = static_cast<T>(m.weight[k]);
        const index_t s = m.source[k];
        if (adjoint) {
          T* dst = yo + s * inner;
          const T* src = xo + i * inner;
          for (index_t j = 0; j < inner; ++j) dst[j] += w * src[j];
        } else {
          T* dst = yo + i * inner;
          const T* src = xo + s * inner;
          if (t == 0)
            for (index_t j = 0; j < inner; ++j) dst[j] = w * src[j];
          else
            for (index_t j = 0; j < inner; ++j) dst[j] += w * src[j];
        }
      }
  }
}
}  // namespace

template <class T>
Tensor<T> resample_separable(const Tensor<T>& x, const std::vector<AxisResampler>& maps, bool adjoint) {
  const int dims = static_cast<int>(maps.size());
  Tensor<T> cur = x;
  for (int k = 0; k < dims; ++k) {
    const int a = adjoint ? dims - 1 - k : k;  // spatial axis
    const AxisResampler& m = maps[static_cast<std::size_t>(a)];
    const int axis = 2 + a;
    const index_t n_out = adjoint ? m.n_in : m.n_out;
    Tensor<T> next = Tensor<T>::uninitialized(cur.shape().with(axis, n_out));
    const index_t outer = cur.shape().numel() / cur.shape().tail_numel(axis);
    apply_axis(cur.data(), next.data(), outer, cur.shape().tail_numel(axis + 1), m, adjoint);
    cur = std::move(next);
  }
  return cur;
}

template Tensor<float> resample_separable<float>(const Tensor<float>&, const std::vector<AxisResampler>&, bool);
template Tensor<double> resample_separable<double>(const Tensor<double>&, const std::vector<AxisResampler>&, bool);

}  // namespace detail

namespace {
void check_input(const std::string& layer, int dims, const Shape& s) {
  std::vector<index_t> expected(static_cast<std::size_t>(dims + 2), -1);
  NEUROPS_CHECK(s.rank() == dims + 2,
                layer << ": expected input " << shape_pattern(expected) << " (N, C, spatial...), found " << s);
}
}  // namespace

template <class T>
AvgPool<T>::AvgPool(int dims, index_t kernel) : dims_(dims), kernel_(kernel) {
  NEUROPS_CHECK(dims >= 1 && dims <= 3, "AvgPool: dims must be 1, 2 or 3, found " << dims);
  NEUROPS_CHECK(kernel >= 1, type_name() << ": kernel must be >= 1, found " << kernel);
}

template <class T>
Tensor<T> AvgPool<T>::forward(const Tensor<T>& x) {
  check_input(type_name(), dims_, x.shape());
  if (x.shape() != input_shape_ || maps_.empty()) {
    maps_.clear();
    for (int a = 0; a < dims_; ++a) {
      NEUROPS_CHECK(x.size(2 + a) >= kernel_, type_name() << ": input " << x.shape() << " is smaller than the window "
                                                          << kernel_ << " on spatial axis " << a);
      maps_.push_back(detail::average_map(x.size(2 + a), kernel_));
    }
    input_shape_ = x.shape();
  }
  Tensor<T> y = detail::resample_separable(x, maps_, false);
  output_shape_ = y.shape();
  cached_ = this->training();
  return y;
}

template <class T>
Tensor<T> AvgPool<T>::backward(const Tensor<T>& dy) {
  this->require_cache(cached_);
  NEUROPS_CHECK(dy.shape() == output_shape_,
                type_name() << ": output gradient has shape " << dy.shape() << ", expected " << output_shape_);
  return detail::resample_separable(dy, maps_, true);
}

template <class T>
Upsample<T>::Upsample(int dims, index_t factor, UpsampleMode mode) : dims_(dims), factor_(factor), mode_(mode) {
  NEUROPS_CHECK(dims >= 1 && dims <= 3, "Upsample: dims must be 1, 2 or 3, found " << dims);
  NEUROPS_CHECK(factor >= 1, type_name() << ": factor must be >= 1, found " << factor);
}

template <class T>
std::string Upsample<T>::type_name() const {
  static const char* linear_names[] = {"Linear", "Bilinear", "Trilinear"};
  return std::string("Upsample") + (mode_ == UpsampleMode::Nearest ? "Nearest" : linear_names[dims_ - 1]) +
         std::to_string(dims_) + "d";
}

template <class T>
Tensor<T> Upsample<T>::forward(const Tensor<T>& x) {
  check_input(type_name(), dims_, x.shape());
  if (x.shape() != input_shape_ || maps_.empty()) {
    maps_.clear();
    for (int a = 0; a < dims_; ++a) {
      NEUROPS_CHECK(x.size(2 + a) >= 1, type_name() << ": empty spatial axis in input " << x.shape());
      maps_.push_back(mode_ == UpsampleMode::Nearest ? detail::nearest_map(x.size(2 + a), factor_)
                                                     : detail::linear_map(x.size(2 + a), factor_));
    }
    input_shape_ = x.shape();
  }
  Tensor<T> y = detail::resample_separable(x, maps_, false);
  output_shape_ = y.shape();
  cached_ = this->training();
  return y;
}

template <class T>
Tensor<T> Upsample<T>::backward(const Tensor<T>& dy) {
  this->require_cache(cached_);
  NEUROPS_CHECK(dy.shape() == output_shape_,
                type_name() << ": output gradient has shape " << dy.shape() << ", expected " << output_shape_);
  return detail::resample_separable(dy, maps_, true);
}

template class AvgPool<float>;
template class AvgPool<double>;
template class Upsample<float>;
template class Upsample<double>;

}  // namespace neurops::nn
