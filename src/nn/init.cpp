#include "neurops/nn/init.hpp"

#include <cmath>

namespace neurops::nn::init {

Fans compute_fans(const Shape& s) {
  NEUROPS_CHECK(s.rank() >= 2, "initialiser: fans need a weight of rank >= 2, found shape " << s);
  const double receptive = double(s.tail_numel(2));
  return {double(s[1]) * receptive, double(s[0]) * receptive};
}

double gain(const std::string& nl, double negative_slope) {
  if (nl == "linear" || nl == "identity" || nl == "sigmoid" || nl.rfind("conv", 0) == 0) return 1.0;
  if (nl == "tanh") return 5.0 / 3.0;
  if (nl == "relu") return std::sqrt(2.0);
  if (nl == "leaky_relu") return std::sqrt(2.0 / (1.0 + negative_slope * negative_slope));
  if (nl == "selu") return 0.75;
  NEUROPS_THROW("initialiser gain: unknown nonlinearity '"
                << nl
                << "' (expected linear, identity, conv*, sigmoid, tanh, relu, "
                   "leaky_relu or selu)");
}

template <class T>
void uniform(Tensor<T>& t, double lo, double hi, Rng& rng) {
  for (auto& v : t) v = static_cast<T>(rng.uniform(lo, hi));
}

template <class T>
void normal(Tensor<T>& t, double mean, double stddev, Rng& rng) {
  for (auto& v : t) v = static_cast<T>(rng.normal(mean, stddev));
}

namespace {
double fan(const Shape& s, FanMode mode) {
  const Fans f = compute_fans(s);
  const double v = mode == FanMode::FanIn ? f.fan_in : f.fan_out;
  NEUROPS_CHECK(v > 0, "initialiser: zero fan for weight of shape " << s);
  return v;
}
}  // namespace

template <class T>
void glorot_uniform(Tensor<T>& w, Rng& rng, double g) {
  const Fans f = compute_fans(w.shape());
  const double b = g * std::sqrt(6.0 / (f.fan_in + f.fan_out));
  uniform(w, -b, b, rng);
}

template <class T>
void glorot_normal(Tensor<T>& w, Rng& rng, double g) {
  const Fans f = compute_fans(w.shape());
  normal(w, 0.0, g * std::sqrt(2.0 / (f.fan_in + f.fan_out)), rng);
}

template <class T>
void kaiming_uniform(Tensor<T>& w, Rng& rng, double a, FanMode mode, const std::string& nonlinearity) {
  const double b = gain(nonlinearity, a) * std::sqrt(3.0 / fan(w.shape(), mode));
  uniform(w, -b, b, rng);
}

template <class T>
void kaiming_normal(Tensor<T>& w, Rng& rng, double a, FanMode mode, const std::string& nonlinearity) {
  normal(w, 0.0, gain(nonlinearity, a) / std::sqrt(fan(w.shape(), mode)), rng);
}

template <class T>
void torch_default(Tensor<T>& weight, Tensor<T>* bias, Rng& rng) {
  kaiming_uniform(weight, rng, std::sqrt(5.0), FanMode::FanIn, "leaky_relu");
  if (bias && !bias->empty()) {
    const double b = 1.0 / std::sqrt(fan(weight.shape(), FanMode::FanIn));
    uniform(*bias, -b, b, rng);
  }
}

#define NEUROPS_INIT_INSTANTIATE(T)                                                        \
  template void uniform<T>(Tensor<T>&, double, double, Rng&);                              \
  template void normal<T>(Tensor<T>&, double, double, Rng&);                               \
  template void glorot_uniform<T>(Tensor<T>&, Rng&, double);                               \
  template void glorot_normal<T>(Tensor<T>&, Rng&, double);                                \
  template void kaiming_uniform<T>(Tensor<T>&, Rng&, double, FanMode, const std::string&); \
  template void kaiming_normal<T>(Tensor<T>&, Rng&, double, FanMode, const std::string&);  \
  template void torch_default<T>(Tensor<T>&, Tensor<T>*, Rng&);
NEUROPS_INIT_INSTANTIATE(float)
NEUROPS_INIT_INSTANTIATE(double)
#undef NEUROPS_INIT_INSTANTIATE

}  // namespace neurops::nn::init
