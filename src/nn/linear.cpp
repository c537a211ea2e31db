#include "neurops/nn/linear.hpp"

#include "neurops/nn/init.hpp"

namespace neurops::nn {

template <class T>
Linear<T>::Linear(index_t in_features, index_t out_features, Rng& rng, bool bias)
    : in_(in_features), out_(out_features), has_bias_(bias) {
  NEUROPS_CHECK(in_features > 0 && out_features > 0,
                "Linear: features must be positive, found in=" << in_features << ", out=" << out_features);
  weight_ = Parameter<T>(Tensor<T>({out_, in_}));
  if (has_bias_) bias_ = Parameter<T>(Tensor<T>({out_}));
  init::torch_default(weight_.value, has_bias_ ? &bias_.value : nullptr, rng);
}

template <class T>
void Linear<T>::for_each_parameter(const typename ModuleBase<T>::ParameterFn& fn) {
  fn("weight", weight_);
  if (has_bias_) fn("bias", bias_);
}

template <class T>
Tensor<T> Linear<T>::forward(const Tensor<T>& x) {
  NEUROPS_CHECK(x.rank() >= 1 && x.size(-1) == in_, "Linear: expected input (..., " << in_ << "), found " << x.shape());
  const index_t rows = x.numel() / in_;
  Tensor<T> y = Tensor<T>::uninitialized(x.shape().with(-1, out_));
  auto Y = y.matrix(rows, out_);
  Y.noalias() = x.matrix(rows, in_) * weight_.value.matrix().transpose();
  if (has_bias_) Y.rowwise() += bias_.value.vec().transpose();
  if (this->training()) input_ = x;
  return y;
}

template <class T>
Tensor<T> Linear<T>::backward(const Tensor<T>& dy) {
  this->require_cache(!input_.empty());
  NEUROPS_CHECK(dy.shape() == input_.shape().with(-1, out_),
                "Linear: output gradient has shape " << dy.shape() << ", expected " << input_.shape().with(-1, out_));
  const index_t rows = input_.numel() / in_;
  const auto DY = dy.matrix(rows, out_);
  weight_.grad.matrix().noalias() += DY.transpose() * input_.matrix(rows, in_);
  if (has_bias_) bias_.grad.vec() += DY.colwise().sum().transpose();
  Tensor<T> dx = Tensor<T>::uninitialized(input_.shape());
  dx.matrix(rows, in_).noalias() = DY * weight_.value.matrix();
  return dx;
}

template <class T>
Sequential<T> make_mlp(const std::vector<index_t>& widths, Rng& rng, const MLPOptions& options) {
  NEUROPS_CHECK(widths.size() >= 2, "make_mlp: need at least {in, out} widths, found " << widths.size());
  Sequential<T> net;
  for (std::size_t i = 0; i + 1 < widths.size(); ++i) {
    net.template emplace<Linear<T>>(widths[i], widths[i + 1], rng, options.bias);
    const bool last = i + 2 == widths.size();
    if (!last || options.activate_last) net.template emplace<Activation<T>>(options.activation);
  }
  return net;
}

template class Linear<float>;
template class Linear<double>;
template Sequential<float> make_mlp<float>(const std::vector<index_t>&, Rng&, const MLPOptions&);
template Sequential<double> make_mlp<double>(const std::vector<index_t>&, Rng&, const MLPOptions&);

}  // namespace neurops::nn
