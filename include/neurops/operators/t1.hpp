#pragma once
// Transform Once, T1 (Poli, Massaroli et al., NeurIPS 2022; reference code DiffEqML/kairos,
// src/models/t1.py and src/models/layers/fdm2d.py), 2-D: a model that transforms its input once and
// then learns entirely in the frequency domain.
//
//   x (N, C_in, H, W) --[append the grid (x, y) in [0, 1]]--> orthonormal DCT-II over (H, W)
//   --[keep the selected m1 x m2 modes]--> Linear lift to `width` (per mode)
//   --> L T1 blocks on the kept spectrum:  v <- v + F2 F1 act(W_k v_k)      (per mode k = (kx, ky))
//         W_k:  real channel mixing, one width x width matrix per kept mode
//         F1, F2: per-channel dense frequency mixing along each axis (m1 x m1 and m2 x m2 per channel)
//   --> head per mode: width -> 128 (no bias), sin, -> C_out (no bias)
//   --> spectrum (N, C_out, H, W), zero outside the kept modes  [--> optional orthonormal DCT-III]
//
// The lift is linear, so it commutes with the transform: lifting the DCT of the C_in + 2 input
// channels, with the lift's bias entering only the constant mode (DC) as bias * sqrt(H W), is the
// reference's "lift, then transform `width` channels" in exact arithmetic at a fraction of the cost,
// and only the kept modes are ever lifted.
//
// Without the inverse (perform_inverse = false, the reference's Navier-Stokes setting) the model
// predicts the DCT of the target and trains with RelativeL2DctLoss (nn/dct_loss.hpp). The
// orthonormal DCT keeps L2 norms, so the relative L2 error of the spectrum is that of the field.
// set_perform_inverse(true) makes the same weights predict fields (checkpoints are saved that way
// by the Navier-Stokes driver, so load_model(...).predict gives fields).
//
// Frequency selection: the low-frequency corner [0, m1) x [0, m2) (the reference), or per axis the
// m_a indices that carry the most energy in the DCT of the training targets (select_modes_by_energy).
// The selected indices are part of the configuration and so of every checkpoint.
//
//   operators::T1Config c;                        // 24 x 24 modes, width 48, 8 blocks, grid 64 x 64
//   c.set_from_options("t1_");                    // -t1_width 48 -t1_modes 24 -t1_selection energy ...
//   operators::T1<float> t1(c);
//   Tensor<float> spectrum = t1.forward(a);       // a: (N, 1, 64, 64) -> (N, 1, 64, 64) DCT coefficients
//
// Only the 2-D model is implemented; 1-D and 3-D configurations are rejected with an Error.
#include <cstdint>
#include <string>
#include <vector>

#include "neurops/core/random.hpp"
#include "neurops/nn/activation.hpp"
#include "neurops/nn/linear.hpp"
#include "neurops/nn/model.hpp"

namespace neurops::io {
class H5File;
}

namespace neurops::operators {

/// How the spectral weights are initialised (kairos src/utils/init_fn.py, fdm_init_scale). The
/// reference NS config asks for VP in every block; after the first block the spectrum is already
/// band-limited, so each further VP block multiplies the variance by N / (m1 m2) (test_t1 measures
/// it), and on the Navier-Stokes task (128 samples, 8 epochs) that model stayed at loss 1.00 while
/// vp_first reached 0.63. So vp_first (the reference's first_layer_init_only) is the default.
enum class T1Init {
  vp,        // every block's channel mixing N(0, sigma^2), sigma = sqrt(N / (width * m1 m2)) (weight_init 2)
  vp_first,  // VP in the first block, sqrt(1 / width) after it (first_layer_init_only): the input of
             // later blocks is already band-limited, so only the first truncation needs compensating
  naive      // N(0, sigma^2) with sigma = 1 / (width * width), FNO's scale (weight_init 1)
};
std::string to_string(T1Init init);
T1Init t1_init_from_string(const std::string& name);

struct T1Config {
  int dims = 2;             // only 2 is implemented
  index_t in_channels = 1;  // channels of the input field (the grid is appended)
  index_t out_channels = 1;
  index_t width = 48;                 // channels inside the T1 blocks
  std::vector<index_t> modes{24};     // kept modes per axis (one value for all axes, or one per axis)
  index_t layers = 8;                 // T1 blocks
  index_t head_channels = 128;        // hidden channels of the per-mode head
  double head_init = 1e-8;            // head weights N(0, head_init^2) as the reference; 0: PyTorch's Linear init
  std::vector<index_t> grid{64, 64};  // training grid: N of the VP scale, range of the mode selection
  nn::ActivationKind activation = nn::ActivationKind::GELU;  // inside the blocks (reference NS: gelu)
  bool residual = true;
  bool keep_high = false;                      // pass the modes outside the selection through to the head
  bool perform_inverse = false;                // end with the orthonormal DCT-III (fields out) or not (spectra out)
  T1Init init = T1Init::vp_first;              // see T1Init: VP in every block diverges in a deep stack
  std::string selection = "low";               // "low" (corner) or "energy" (set from data by the caller)
  std::vector<std::vector<index_t>> selected;  // kept DCT indices per axis, ascending (empty: the low corner)
  std::uint64_t seed = 0;

  /// Error naming the field and the accepted range when a value is out of range, e.g. more modes
  /// than the grid holds.
  void validate() const;
  /// The kept indices of each axis: `selected`, or [0, m_a) when it is empty.
  std::vector<std::vector<index_t>> kept_indices() const;
  std::vector<index_t> modes_per_axis() const;
  void save(io::H5File& file, const std::string& group) const;
  static T1Config load(const io::H5File& file, const std::string& group);
  /// Reads `-<prefix>width`, `-<prefix>modes`, ... over the current values; -help lists them.
  void set_from_options(const std::string& prefix = "t1_");
  bool operator==(const T1Config& o) const;
};

/// Standard deviation of the channel mixing of block `layer` under config.init (the VP scale uses
/// N = grid points of config.grid, m = m1 m2 kept modes, fan_in = width, DCT gain 1).
double t1_channel_sigma(const T1Config& config, index_t layer);

/// Per axis, the `modes[a]` DCT indices with the largest energy sum_{samples, channels, other axes}
/// |DCT(targets)|^2, ascending. targets: (N, C, H, W) fields. Error when a count exceeds its axis.
template <class T>
std::vector<std::vector<index_t>> select_modes_by_energy(const Tensor<T>& targets, const std::vector<index_t>& modes);

/// One T1 block on a mode-major spectrum (m1, m2, N, C):
///   z_k = v_k W_k (per mode k, W_k: C x C),  a = act(z),
///   u[.., o, ky] = sum_i a[i, ky] F1[i, o, c],  w[kx, o] = sum_i u[kx, i] F2[i, o, c],
///   out = w + v (residual) or w.
/// Parameters: channel_mixing (m1, m2, C_in, C_out), frequency_mixing_1 (m1, m1, C),
/// frequency_mixing_2 (m2, m2, C).
template <class T>
class T1Block : public nn::ModuleImpl<T1Block<T>, T> {
 public:
  /// channel_sigma: standard deviation of the channel mixing; the frequency mixing is N(0, 1/m_a).
  T1Block(index_t m1, index_t m2, index_t width, nn::ActivationKind activation, bool residual, double channel_sigma,
          Rng& rng);
  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  /// The same, taking over x (kept as the training cache) and dy (its storage becomes dx): a model
  /// that owns its activations saves a copy of each per block.
  Tensor<T> forward_owned(Tensor<T> x);
  Tensor<T> backward_owned(Tensor<T> dy);
  std::string type_name() const override { return "T1Block"; }
  void for_each_parameter(const typename nn::ModuleBase<T>::ParameterFn& fn) override;
  nn::Parameter<T>& channel_mixing() { return channel_; }

 protected:
  void on_mode_change() override { input_ = pre_activation_ = activated_ = mixed_ = Tensor<T>(); }

 private:
  Tensor<T> run(const Tensor<T>& x);
  index_t m1_, m2_, width_;
  nn::ActivationKind activation_;
  bool residual_;
  nn::Parameter<T> channel_, freq1_, freq2_;
  Tensor<T> input_, pre_activation_, activated_, mixed_;  // caches of the training-mode forward
};

template <class T>
class T1 : public nn::FieldModel<T> {
 public:
  explicit T1(T1Config config);
  std::string type_name() const override { return "T1_2d"; }
  void for_each_parameter(const typename nn::ModuleBase<T>::ParameterFn& fn) override;
  void for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) override;
  const T1Config& config() const noexcept { return config_; }
  index_t in_channels() const override { return config_.in_channels; }
  index_t out_channels() const override { return config_.out_channels; }
  void save_config(io::H5File& file, const std::string& group) const override { config_.save(file, group); }
  /// Fields out (true) or DCT spectra out (false); the parameters are the same.
  void set_perform_inverse(bool on) { config_.perform_inverse = on; }
  std::size_t block_count() const { return blocks_.size(); }
  T1Block<T>& block(std::size_t i) { return blocks_.at(i); }

 protected:
  Tensor<T> forward_field(const Tensor<T>& x) override;
  Tensor<T> backward_field(const Tensor<T>& dy) override;
  void on_mode_change() override { head_input_ = head_pre_ = head_act_ = Tensor<T>(); }

 private:
  /// Per mode: width -> head_channels, sin, -> out_channels, on (R, N, width) mode-major values.
  Tensor<T> head_forward(Tensor<T> v);
  Tensor<T> head_backward(const Tensor<T>& dy);
  T1Config config_;
  nn::Linear<T> lifting_;
  nn::Parameter<T> lifting_bias_;  // (width): the lift's bias, entering the DC mode only
  std::vector<T1Block<T>> blocks_;
  nn::Linear<T> head1_, head2_;                 // parameters only: head_forward/head_backward apply them
  Tensor<T> head_input_, head_pre_, head_act_;  // training caches of the head
  // Per forward call. The lift and the head act on modes_ = kept modes (m1 * m2, block order) followed
  // by the passed-through ones (keep_high), so one Linear serves both.
  Shape input_shape_;
  std::vector<index_t> modes_;  // flat indices kx * W + ky
  index_t dc_row_ = -1;         // position of the constant mode (0, 0) in modes_, -1 when not kept
};

/// (N, C, H, W) -> (K, N, C) with out[k, n, c] = x[n, c, flat index modes[k]].
template <class T>
Tensor<T> gather_modes(const Tensor<T>& x, const std::vector<index_t>& modes);
/// Adjoint of gather_modes: adds v (K, N, C) into `out` (N, C, H, W) at the given modes.
template <class T>
void scatter_modes(const Tensor<T>& v, const std::vector<index_t>& modes, Tensor<T>& out);

extern template class T1Block<float>;
extern template class T1Block<double>;
extern template class T1<float>;
extern template class T1<double>;

}  // namespace neurops::operators
