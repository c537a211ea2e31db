#pragma once
// Pointwise activations: ReLU, GELU (exact erf form, as PyTorch's default), tanh, sin and identity.
// The free functions serve layers that fuse an activation into their own forward/backward; the
// Activation module wraps them for Sequential.
#include <string>

#include "neurops/nn/module.hpp"

namespace neurops::nn {

enum class ActivationKind { Identity, ReLU, GELU, Tanh, Sin };

std::string to_string(ActivationKind kind);
/// "identity", "relu", "gelu", "tanh", "sin" (case-insensitive); Error listing the choices otherwise.
ActivationKind activation_from_string(const std::string& name);

/// y[i] = f(x[i]); x and y may alias.
template <class T>
void activation_forward(ActivationKind kind, const T* x, T* y, index_t n);
/// dx[i] = f'(x[i]) * dy[i] from the activation's input x; dy and dx may alias.
template <class T>
void activation_backward(ActivationKind kind, const T* x, const T* dy, T* dx, index_t n);

template <class T>
class Activation : public ModuleImpl<Activation<T>, T> {
 public:
  explicit Activation(ActivationKind kind) : kind_(kind) {}
  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  std::string type_name() const override;
  ActivationKind kind() const noexcept { return kind_; }

 protected:
  void on_mode_change() override { input_ = Tensor<T>(); }

 private:
  ActivationKind kind_;
  Tensor<T> input_;  // cached in training mode
};

extern template class Activation<float>;
extern template class Activation<double>;

}  // namespace neurops::nn
