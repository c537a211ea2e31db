#pragma once
// PointwiseFfn: the two-layer feed-forward network applied at every grid point (the PointwiseFFN of
// the Spectral-Refiner SFNO, torch-cfd fno/base.py: 1x1 conv in -> hidden, activation, 1x1 conv
// hidden -> out), on inputs (N, C_in, spatial...):
//
//   y[:, :, p] = W2 act(W1 x[:, :, p] + b1) + b2
//
// Parameters linear1.weight (hidden, in, 1...), linear1.bias (hidden), linear2.weight (out, hidden,
// 1...), linear2.bias (out): the shapes of the reference's Conv{d}d weights, PyTorch's initialisation.
//
// Speed and memory: the grid points are processed in tiles whose hidden activations stay in the
// cache of the thread that computes them, so the hidden field (hidden / in times the input, 4x in the
// SFNO) is never stored: the backward pass recomputes each tile's hidden activations from the cached
// input (one extra in -> hidden product) instead of reading them back from memory.
#include <cstdint>

#include "neurops/core/random.hpp"
#include "neurops/nn/activation.hpp"
#include "neurops/nn/module.hpp"

namespace neurops::nn {

template <class T>
class PointwiseFfn : public ModuleImpl<PointwiseFfn<T>, T> {
 public:
  /// dims: spatial axes of the input (the trailing 1s of the weight shapes, as Conv{dims}d).
  PointwiseFfn(int dims, index_t in_channels, index_t hidden_channels, index_t out_channels, ActivationKind activation,
               Rng& rng);

  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  std::string type_name() const override { return "PointwiseFfn"; }
  void for_each_parameter(const typename ModuleBase<T>::ParameterFn& fn) override;

  index_t in_channels() const noexcept { return in_; }
  index_t hidden_channels() const noexcept { return hidden_; }
  index_t out_channels() const noexcept { return out_; }

 protected:
  void on_mode_change() override { input_ = Tensor<T>(); }

 private:
  void check_input(const Shape& s) const;

  int dims_;
  index_t in_, hidden_, out_;
  ActivationKind activation_;
  Parameter<T> w1_, b1_, w2_, b2_;
  Tensor<T> input_;  // cached in training mode
};

extern template class PointwiseFfn<float>;
extern template class PointwiseFfn<double>;

}  // namespace neurops::nn
