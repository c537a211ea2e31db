#pragma once
// The output layer of the Spectral-Refiner SFNO (Cao et al., ICLR 2025; reference OutConv with
// SpectralConvT in torch-cfd fno/sfno.py): a one-channel space-time spectral convolution that maps the
// T frames it is given to any number S of output frames.
//
//   x (N, 1, n0, n1, T) --[zero-pad T frames in front]--> (N, 1, n0, n1, 2T)
//   --> rfftn over (n0, n1, t); keep +-modes_x, +-modes_y and the low modes_t (four corners);
//       multiply by the 1 x 1 complex weight of each mode and add delta * its complex bias
//   --> irfftn to (n0, n1, S + T) ("backward" normalisation) --> keep the last S frames
//
// The zero padding keeps the non-periodic time signal from wrapping around (aliasing); the inverse
// transform to S + T frames resamples it in time, so S is free at every call (temporal
// super-resolution). The SFNO feeds it [last input frame, latent frames] and adds the last input frame
// to the last S - 1 frames of its output (operators/sfno.hpp).
#include <cstdint>
#include <vector>

#include "neurops/nn/spectral_conv.hpp"

namespace neurops::operators {

template <class T>
class SfnoOutputConv : public nn::ModuleImpl<SfnoOutputConv<T>, T> {
 public:
  /// modes {modes_x, modes_y, modes_t}; weights U[0, 1) * 0.5 (the reference's 0.5 / (in * out) with
  /// one channel), biases zero.
  SfnoOutputConv(const std::vector<index_t>& modes, double delta, std::uint64_t seed);

  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  std::string type_name() const override { return "SfnoOutputConv"; }
  void for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) override { fn("conv", conv_); }

  /// Number S of output frames of the next forward passes (>= 1).
  void set_frames(index_t frames);
  index_t frames() const noexcept { return frames_; }
  nn::SpectralConv<T>& conv() noexcept { return conv_; }

 protected:
  void on_mode_change() override { input_shape_ = Shape(); }

 private:
  nn::SpectralConv<T> conv_;
  index_t frames_ = 1;
  Shape input_shape_;
};

/// Copies frames [from, from + count) of the last axis of x into frames [to, to + count) of the last
/// axis of y; both have the same leading axes.
template <class T>
void copy_frames(const Tensor<T>& x, index_t from, Tensor<T>& y, index_t to, index_t count);

extern template class SfnoOutputConv<float>;
extern template class SfnoOutputConv<double>;

}  // namespace neurops::operators
