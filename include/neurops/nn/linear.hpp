#pragma once
// Linear layer y = x W^T + b on the last axis of an input (..., in_features), any leading axes, and
// the MLP builder (Linear/activation stacks, e.g. the branch and trunk nets of DeepONet).
#include <vector>

#include "neurops/core/random.hpp"
#include "neurops/nn/activation.hpp"
#include "neurops/nn/module.hpp"

namespace neurops::nn {

template <class T>
class Linear : public ModuleImpl<Linear<T>, T> {
 public:
  /// weight (out, in) and bias (out), initialised as PyTorch's nn.Linear (init::torch_default).
  Linear(index_t in_features, index_t out_features, Rng& rng, bool bias = true);

  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  std::string type_name() const override { return "Linear"; }
  void for_each_parameter(const typename ModuleBase<T>::ParameterFn& fn) override;

  index_t in_features() const noexcept { return in_; }
  index_t out_features() const noexcept { return out_; }
  bool has_bias() const noexcept { return has_bias_; }
  Parameter<T>& weight() { return weight_; }
  Parameter<T>& bias() { return bias_; }

 protected:
  void on_mode_change() override { input_ = Tensor<T>(); }

 private:
  index_t in_, out_;
  bool has_bias_;
  Parameter<T> weight_, bias_;
  Tensor<T> input_;
};

struct MLPOptions {
  ActivationKind activation = ActivationKind::GELU;
  bool activate_last = false;  // DeepONet's trunk applies the activation after the last layer too
  bool bias = true;
};

/// widths = {in, hidden..., out}: Linear(w0, w1), act, Linear(w1, w2), act, ..., Linear(w[n-2], w[n-1])
/// [, act]. Children are named "0", "1", ... in that order.
template <class T>
Sequential<T> make_mlp(const std::vector<index_t>& widths, Rng& rng, const MLPOptions& options = {});

extern template class Linear<float>;
extern template class Linear<double>;

}  // namespace neurops::nn
