#pragma once
// SFNO, the spatiotemporal Fourier neural operator of the Spectral-Refiner (Cao, Brarda, Li, Xi,
// ICLR 2025; reference code scaomath/torch-cfd, fno/sfno.py and fno/base.py): maps the first t_in
// frames of a 2-D field's trajectory to the next output_steps frames, with 3-D real FFTs over
// (x, y, t).
//
//   x (N, t_in, n0, n1)  --[frames to the last axis]-->  v (N, 1, n0, n1, t_in)
//   lifting:  SpaceTimeEncoding (x, y, t and exp(beta t) sin/cos(pi k t), broadcast to `width`)
//             --> GroupNorm(1 group, eps 1e-7) --> 1x1 conv --> SpectralConv to latent_steps frames
//             --> FFN (1x1 conv to channel_expansion*width, act, 1x1 conv back)
//             --> act( that + the lifted field's last frame, broadcast over the latent frames )
//   layers-1 hidden blocks (same grid in and out):  v <- act( FFN(SpectralConv(v)) + Conv1x1(v) )
//   reduction: 1x1 conv to one channel                                  = latent(x): (N, 1, n0, n1, latent_steps)
//   output:    SfnoOutputConv on [last input frame, latent] to output_steps + 1 frames (zero-padded in
//              time, spectral bias * delta); y = last input frame + its last output_steps frames
//   --> (N, output_steps, n0, n1)
//
// Every SpectralConv keeps +-modes_x on axis 0, +-modes_y on axis 1 and the low modes_t of the time
// axis (the half-spectrum axis), with the reference's initialisation U[0, 1) * 0.5 / (in * out).
// Axes: our spatial axis 0 (the rows of a (N, T, rows, columns) time-series sample) is the
// reference's x, axis 1 its y, so parameters are interchangeable with the reference's (its
// (b, x, y, t) input is our sample transposed to (b, rows, columns, t)); test_sfno_torch checks that
// a float64 PyTorch implementation of the reference's semantics with our saved weights gives our
// output and gradients.
//
// The model is resolution-agnostic in space (any grid with >= 2 modes_x by 2 modes_y points), takes
// any number of input frames with latent_steps <= t_in <= 100 (the encoding's time grid) and predicts
// any number of output frames (set_output_steps: temporal super-resolution). in_channels() is the
// configured input_steps (TrainedModel::predict expects that many frames).
//
// Fine-tuning (Spectral-Refiner): freeze the backbone (set_backbone_trainable(false)), cache
// latent(x) once, replace the output layer by one with more modes initialised from the trained one
// (set_output_layer(fine_tuning_output_layer(output_layer(), modes))), and train only it through
// output_from_latent / output_backward.
//
//   operators::SfnoConfig c;                 // modes 12/12/5, width 20, 4 layers, 10 -> 40 frames
//   c.set_from_options("sfno_");             // -sfno_width 20 -sfno_modes_t 5 ...
//   operators::Sfno<float> sfno(c);
//   Tensor<float> y = sfno.forward(x);       // x: (N, 10, 64, 64) -> y: (N, 40, 64, 64)
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "neurops/core/random.hpp"
#include "neurops/nn/activation.hpp"
#include "neurops/nn/conv.hpp"
#include "neurops/nn/model.hpp"
#include "neurops/nn/norm.hpp"
#include "neurops/nn/pointwise_ffn.hpp"
#include "neurops/nn/space_time_encoding.hpp"
#include "neurops/nn/spectral_conv.hpp"
#include "neurops/operators/sfno_output.hpp"

namespace neurops::io {
class H5File;
}

namespace neurops::operators {

struct SfnoConfig {
  index_t modes_x = 12;           // kept modes +-modes_x on spatial axis 0
  index_t modes_y = 12;           // kept modes +-modes_y on spatial axis 1
  index_t modes_t = 5;            // kept low modes of the time axis
  index_t width = 20;             // channels of the hidden space-time fields (even, >= 4: the encoding's channels)
  index_t layers = 4;             // spectral layers: the lifting's and layers - 1 hidden blocks (>= 2)
  index_t input_steps = 10;       // input frames t_in (in_channels(); forward accepts latent_steps..100)
  index_t latent_steps = 10;      // frames of the hidden fields
  index_t output_steps = 40;      // output frames (set_output_steps changes it per call)
  double beta = -1e-2;            // exponential time scale of the positional encoding
  double delta = 0.1;             // scale of the output layer's spectral bias
  index_t channel_expansion = 4;  // FFN hidden channels = channel_expansion * width
  nn::ActivationKind activation = nn::ActivationKind::ReLU;
  bool lift_activation = true;  // FFN and activation in the lifting (false: one 1x1 conv, no activation)
  std::uint64_t seed = 0;
  /// Modes of the output layer; empty: (modes_x, modes_y, modes_t). A fine-tuned model (see
  /// Sfno::set_output_layer) records its larger ones here, so its checkpoint loads.
  std::vector<index_t> output_modes;

  /// Error naming the field and the accepted range when a value is out of range.
  void validate() const;
  void save(io::H5File& file, const std::string& group) const;
  static SfnoConfig load(const io::H5File& file, const std::string& group);
  /// Reads `-<prefix>modes_x`, `-<prefix>width`, ... over the current values; -help lists them.
  void set_from_options(const std::string& prefix = "sfno_");
  bool operator==(const SfnoConfig& o) const;
  std::vector<index_t> modes() const { return {modes_x, modes_y, modes_t}; }
  std::vector<index_t> output_layer_modes() const { return output_modes.empty() ? modes() : output_modes; }
};

/// The lifting: (N, 1, n0, n1, t_in) -> (N, width, n0, n1, latent_steps).
template <class T>
class SfnoLifting : public nn::ModuleImpl<SfnoLifting<T>, T> {
 public:
  explicit SfnoLifting(const SfnoConfig& c);
  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  std::string type_name() const override { return "SfnoLifting"; }
  void for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) override;

 protected:
  void on_mode_change() override { pre_activation_ = Tensor<T>(); }

 private:
  nn::SpaceTimeEncoding<T> pe_;
  nn::GroupNorm<T> norm_;
  nn::Conv<T> proj_;
  nn::SpectralConv<T> sconv_;
  std::optional<nn::PointwiseFfn<T>> mlp_;  // with lift_activation
  std::optional<nn::Conv<T>> mlp_linear_;   // without: one 1x1 conv, as the reference
  nn::ActivationKind activation_;
  index_t latent_steps_;
  Tensor<T> pre_activation_;
  index_t input_frames_ = 0;
};

/// A hidden block: v <- act( FFN(SpectralConv(v)) + Conv1x1(v) ), same grid in and out.
template <class T>
class SfnoBlock : public nn::ModuleImpl<SfnoBlock<T>, T> {
 public:
  SfnoBlock(const SfnoConfig& c, Rng& rng);
  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  std::string type_name() const override { return "SfnoBlock"; }
  void for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) override;

 protected:
  void on_mode_change() override { pre_activation_ = Tensor<T>(); }

 private:
  nn::SpectralConv<T> sconv_;
  nn::PointwiseFfn<T> mlp_;
  nn::Conv<T> w_;
  nn::ActivationKind activation_;
  Tensor<T> pre_activation_;
};

template <class T>
class Sfno : public nn::FieldModel<T> {
 public:
  explicit Sfno(SfnoConfig config);
  std::string type_name() const override { return "SFNO"; }
  void for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) override;
  const SfnoConfig& config() const noexcept { return config_; }
  index_t in_channels() const override { return config_.input_steps; }
  index_t out_channels() const override { return output_steps_; }
  void save_config(io::H5File& file, const std::string& group) const override { config_.save(file, group); }

  /// Output frames of the next calls (>= 1); the configured output_steps until changed.
  void set_output_steps(index_t steps);
  index_t output_steps() const noexcept { return output_steps_; }

  /// The backbone alone (lifting, hidden blocks, reduction): (N, t_in, n0, n1) -> (N, 1, n0, n1,
  /// latent_steps). In training mode it caches what backbone_backward needs.
  Tensor<T> latent(const Tensor<T>& x);
  /// Gradient of the backbone: d latent -> dx (N, t_in, n0, n1); accumulates backbone gradients.
  Tensor<T> backbone_backward(const Tensor<T>& dlatent);
  /// The output layer on a (cached) latent and the input frames x: -> (N, output_steps, n0, n1).
  Tensor<T> output_from_latent(const Tensor<T>& latent, const Tensor<T>& x);
  /// Gradient of output_from_latent: returns d latent and accumulates the output layer's gradients;
  /// the gradient with respect to the last input frame is kept for backward().
  Tensor<T> output_backward(const Tensor<T>& dy);

  SfnoOutputConv<T>& output_layer() noexcept { return output_; }
  /// Replaces the output layer (fine-tuning: fine_tuning_output_layer(output_layer(), modes)); its
  /// modes go into the configuration. Error unless its spectral bias scale is the configured delta.
  void set_output_layer(SfnoOutputConv<T> layer);
  /// Freezes (false) or unfreezes the lifting, the hidden blocks and the reduction.
  void set_backbone_trainable(bool on);
  std::vector<nn::NamedParameter<T>> backbone_parameters();
  std::vector<nn::NamedParameter<T>> output_parameters() { return output_.named_parameters("output"); }

 protected:
  Tensor<T> forward_field(const Tensor<T>& x) override;
  Tensor<T> backward_field(const Tensor<T>& dy) override;

 private:
  /// Error naming the shape and the option when x cannot go through the model.
  void check_input(const Tensor<T>& x) const;

  SfnoConfig config_;
  index_t output_steps_;
  SfnoLifting<T> lifting_;
  std::vector<SfnoBlock<T>> blocks_;
  nn::Conv<T> reduction_;
  SfnoOutputConv<T> output_;
  Shape input_shape_, output_input_shape_;
  Tensor<T> last_frame_grad_;  // (N, n0, n1): set by output_backward
};

/// (N, T, n0, n1) -> (N, 1, n0, n1, T) and back: the time axis of a time-series sample becomes the
/// last (half-spectrum) axis.
template <class T>
Tensor<T> frames_to_time_axis(const Tensor<T>& x);
template <class T>
Tensor<T> time_axis_to_frames(const Tensor<T>& v);

extern template class SfnoLifting<float>;
extern template class SfnoLifting<double>;
extern template class SfnoBlock<float>;
extern template class SfnoBlock<double>;
extern template class Sfno<float>;
extern template class Sfno<double>;

}  // namespace neurops::operators
