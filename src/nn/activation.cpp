#include "neurops/nn/activation.hpp"

#include <unsupported/Eigen/SpecialFunctions>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace neurops::nn {

std::string to_string(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::Identity:
      return "identity";
    case ActivationKind::ReLU:
      return "relu";
    case ActivationKind::GELU:
      return "gelu";
    case ActivationKind::Tanh:
      return "tanh";
    case ActivationKind::Sin:
      return "sin";
  }
  return "unknown";
}

ActivationKind activation_from_string(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (auto k : {ActivationKind::Identity, ActivationKind::ReLU, ActivationKind::GELU, ActivationKind::Tanh,
                 ActivationKind::Sin})
    if (lower == to_string(k)) return k;
  NEUROPS_THROW("unknown activation '" << name << "' (expected one of identity, relu, gelu, tanh, sin)");
}

namespace {
template <class T>
using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

/// Runs f(begin, end) over [0, n) in cache-sized chunks, in parallel when n is large.
template <class F>
void for_chunks(index_t n, F&& f) {
  constexpr index_t chunk = 4096;
  const index_t chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for if (n > 16384) schedule(static)
  for (index_t c = 0; c < chunks; ++c) f(c * chunk, std::min(n, (c + 1) * chunk));
}
}  // namespace

template <class T>
void activation_forward(ActivationKind kind, const T* x, T* y, index_t n) {
  switch (kind) {
    case ActivationKind::Identity:
      if (x != y) std::copy(x, x + n, y);
      break;
    case ActivationKind::ReLU:
      // A SIMD blend: written as a conditional, the loop compiled to a branch on the sign of x,
      // which mispredicts on every other entry of a centred input.
      for_chunks(n, [&](index_t b, index_t e) {
        const ConstArrayMap<T> xa(x + b, e - b);
        ArrayMap<T>(y + b, e - b) = (xa > T(0)).select(xa, T(0));
      });
      break;
    case ActivationKind::GELU:
      // Eigen's array erf/exp are SIMD (a rational erf accurate to a few ulp in float); a scalar
      // std::erf loop costs more than the whole spectral convolution of an FNO layer.
      for_chunks(n, [&](index_t b, index_t e) {
        const ConstArrayMap<T> xa(x + b, e - b);
        ArrayMap<T>(y + b, e - b) = T(0.5) * xa * (T(1) + (xa * T(0.70710678118654752440)).erf());
      });
      break;
    case ActivationKind::Tanh:
#pragma omp parallel for if (n > 16384) schedule(static)
      for (index_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
      break;
    case ActivationKind::Sin:
#pragma omp parallel for if (n > 16384) schedule(static)
      for (index_t i = 0; i < n; ++i) y[i] = std::sin(x[i]);
      break;
  }
}

template <class T>
void activation_backward(ActivationKind kind, const T* x, const T* dy, T* dx, index_t n) {
  switch (kind) {
    case ActivationKind::Identity:
      if (dy != dx) std::copy(dy, dy + n, dx);
      break;
    case ActivationKind::ReLU:
      for_chunks(n, [&](index_t b, index_t e) {
        const ConstArrayMap<T> xa(x + b, e - b), g(dy + b, e - b);
        ArrayMap<T>(dx + b, e - b) = (xa > T(0)).select(g, T(0));
      });
      break;
    case ActivationKind::GELU:
      // d/dx [x Phi(x)] = Phi(x) + x phi(x)
      for_chunks(n, [&](index_t b, index_t e) {
        const ConstArrayMap<T> xa(x + b, e - b), g(dy + b, e - b);
        const auto cdf = T(0.5) * (T(1) + (xa * T(0.70710678118654752440)).erf());
        const auto pdf = T(0.39894228040143267794) * (T(-0.5) * xa.square()).exp();
        ArrayMap<T>(dx + b, e - b) = g * (cdf + xa * pdf);
      });
      break;
    case ActivationKind::Tanh:
#pragma omp parallel for if (n > 16384) schedule(static)
      for (index_t i = 0; i < n; ++i) {
        const T t = std::tanh(x[i]);
        dx[i] = dy[i] * (T(1) - t * t);
      }
      break;
    case ActivationKind::Sin:
#pragma omp parallel for if (n > 16384) schedule(static)
      for (index_t i = 0; i < n; ++i) dx[i] = dy[i] * std::cos(x[i]);
      break;
  }
}

template <class T>
std::string Activation<T>::type_name() const {
  switch (kind_) {
    case ActivationKind::Identity:
      return "Identity";
    case ActivationKind::ReLU:
      return "ReLU";
    case ActivationKind::GELU:
      return "GELU";
    case ActivationKind::Tanh:
      return "Tanh";
    case ActivationKind::Sin:
      return "Sin";
  }
  return "Activation";
}

template <class T>
Tensor<T> Activation<T>::forward(const Tensor<T>& x) {
  Tensor<T> y = Tensor<T>::uninitialized(x.shape());
  activation_forward(kind_, x.data(), y.data(), x.numel());
  if (this->training()) input_ = x;
  return y;
}

template <class T>
Tensor<T> Activation<T>::backward(const Tensor<T>& dy) {
  this->require_cache(!input_.empty());
  NEUROPS_CHECK(dy.shape() == input_.shape(),
                type_name() << ": output gradient has shape " << dy.shape() << ", expected " << input_.shape());
  Tensor<T> dx = Tensor<T>::uninitialized(dy.shape());
  activation_backward(kind_, input_.data(), dy.data(), dx.data(), dy.numel());
  return dx;
}

template void activation_forward<float>(ActivationKind, const float*, float*, index_t);
template void activation_forward<double>(ActivationKind, const double*, double*, index_t);
template void activation_backward<float>(ActivationKind, const float*, const float*, float*, index_t);
template void activation_backward<double>(ActivationKind, const double*, const double*, double*, index_t);
template class Activation<float>;
template class Activation<double>;

}  // namespace neurops::nn
