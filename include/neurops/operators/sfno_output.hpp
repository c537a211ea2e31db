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

/// How fine_tuning_output_layer fills the modes the trained layer did not have.
enum class NewModes {
  reference,  // the reference's _reset_parameters: xavier_uniform with gain 1e-6 (|w| ~ 1e-9)
  zero        // zero: at initialisation the layer gives exactly the trained layer's output
};

/// The Spectral-Refiner's fine-tuning output layer (torch-cfd fno/finetune.py, OutConvFT.
/// _update_spectral_conv_weights): a layer with more modes (e.g. no truncation on the fine grid:
/// modes n0/2, n1/2 and (2T)/2+1 for T frames fed in) whose low modes hold the trained layer's weights
/// and spectral biases, each corner's block copied to the same frequencies (the negative blocks to the
/// end of the larger blocks). The trained layer's delta is kept, so the copied biases act as before.
/// Error unless every axis has at least the trained layer's modes.
template <class T>
SfnoOutputConv<T> fine_tuning_output_layer(SfnoOutputConv<T>& trained, const std::vector<index_t>& modes,
                                           NewModes fill = NewModes::reference, std::uint64_t seed = 0);

/// Copies frames [from, from + count) of the last axis of x into frames [to, to + count) of the last
/// axis of y; both have the same leading axes.
template <class T>
void copy_frames(const Tensor<T>& x, index_t from, Tensor<T>& y, index_t to, index_t count);

extern template class SfnoOutputConv<float>;
extern template class SfnoOutputConv<double>;

}  // namespace neurops::operators
