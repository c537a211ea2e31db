#pragma once
// Normalisation layers with affine weight (init 1) and bias (init 0); biased variance and
// eps = 1e-5 inside the square root, as PyTorch.
//
// LayerNorm has two forms:
//  * LayerNorm::over_channels(C): input (N, C, spatial...), normalised over the C channels at every
//    grid point separately; weight/bias (C). This is what SFNO and MgNO-NS use (in PyTorch they
//    permute to channels-last and apply nn.LayerNorm(C)).
//  * LayerNorm::over_trailing(shape): PyTorch's nn.LayerNorm(normalized_shape): input
//    (..., *shape), normalised over the trailing axes given by `shape` (e.g. (C, H, W) for a whole
//    sample); weight/bias of that shape.
// GroupNorm(G, C): input (N, C, spatial...), normalised over each group of C/G channels together
// with all grid points; weight/bias (C), as nn.GroupNorm.
#include "neurops/nn/module.hpp"

namespace neurops::nn {

template <class T>
class LayerNorm : public ModuleImpl<LayerNorm<T>, T> {
 public:
  enum class Over { Channels, Trailing };
  static LayerNorm over_channels(index_t channels, double eps = 1e-5, bool affine = true);
  static LayerNorm over_trailing(const Shape& normalized_shape, double eps = 1e-5, bool affine = true);

  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  std::string type_name() const override { return "LayerNorm"; }
  void for_each_parameter(const typename ModuleBase<T>::ParameterFn& fn) override;
  Over over() const noexcept { return over_; }
  Parameter<T>& weight() { return weight_; }
  Parameter<T>& bias() { return bias_; }

 protected:
  void on_mode_change() override { normalized_ = Tensor<T>(); }

 private:
  LayerNorm(Over over, const Shape& shape, double eps, bool affine);
  Over over_;
  Shape shape_;  // (C) or the normalised trailing shape
  double eps_;
  bool affine_;
  Parameter<T> weight_, bias_;
  Tensor<T> normalized_, inv_std_;  // cached in training mode
};

template <class T>
class GroupNorm : public ModuleImpl<GroupNorm<T>, T> {
 public:
  GroupNorm(index_t groups, index_t channels, double eps = 1e-5, bool affine = true);
  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  std::string type_name() const override { return "GroupNorm"; }
  void for_each_parameter(const typename ModuleBase<T>::ParameterFn& fn) override;
  Parameter<T>& weight() { return weight_; }
  Parameter<T>& bias() { return bias_; }

 protected:
  void on_mode_change() override { normalized_ = Tensor<T>(); }

 private:
  index_t groups_, channels_;
  double eps_;
  bool affine_;
  Parameter<T> weight_, bias_;
  Tensor<T> normalized_, inv_std_;
};

extern template class LayerNorm<float>;
extern template class LayerNorm<double>;
extern template class GroupNorm<float>;
extern template class GroupNorm<double>;

}  // namespace neurops::nn
