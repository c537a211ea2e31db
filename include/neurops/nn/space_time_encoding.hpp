#pragma once
// SpaceTimeEncoding: the positional encoding of the Spectral-Refiner SFNO's lifting (Cao et al.,
// ICLR 2025), on one-channel space-time fields (N, 1, n0, n1, nt):
//
//   y[:, c] = x[:, 0] + pe[c],  c = 0 .. channels-1
//   pe[0] = x0, pe[1] = x1 (linspace(0, 1, n) on each spatial axis, both ends included), pe[2] = t,
//   pe[3 + k] = exp(beta t) * (k even ? sin : cos)(pi (k + 1) t),  k = 0 .. channels-4,
//
// with the frame times t_j = (j + 1) / max_time_steps, j = 0 .. nt-1 (the reference's
// linspace(0, 1, max_time_steps + 1)[1 : nt + 1]); beta comes from the a-priori decay of the
// Navier-Stokes energy. The one input channel is broadcast to every encoding channel. The encoding has
// no parameters; its input gradient is the sum of the output gradient over the channels.
#include "neurops/nn/module.hpp"

namespace neurops::nn {

template <class T>
class SpaceTimeEncoding : public ModuleImpl<SpaceTimeEncoding<T>, T> {
 public:
  /// channels >= 4 and even (the reference's condition); max_time_steps >= 1.
  SpaceTimeEncoding(index_t channels, double beta, index_t max_time_steps = 100);

  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  std::string type_name() const override { return "SpaceTimeEncoding"; }

  /// The encoding (channels, n0, n1, nt) of a grid; Error when nt exceeds max_time_steps.
  Tensor<T> encoding(index_t n0, index_t n1, index_t nt) const;
  index_t channels() const noexcept { return channels_; }
  double beta() const noexcept { return beta_; }
  index_t max_time_steps() const noexcept { return max_time_steps_; }

 protected:
  void on_mode_change() override { input_shape_ = Shape(); }

 private:
  index_t channels_;
  double beta_;
  index_t max_time_steps_;
  Shape input_shape_;
  Tensor<T> pe_;  // encoding of the last grid seen, reused while the grid stays the same
};

extern template class SpaceTimeEncoding<float>;
extern template class SpaceTimeEncoding<double>;

}  // namespace neurops::nn
