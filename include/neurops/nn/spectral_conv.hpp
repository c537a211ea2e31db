#pragma once
// SpectralConv: the Fourier layer of FNO (Li et al. 2021), in 1, 2 or 3 dimensions.
//
//   y = irfftn_out( W · rfftn(x) restricted to the kept modes ) (+ bias)
//
// rfftn over the d spatial axes; the last axis is the half spectrum, where the low `modes[d-1]`
// frequencies are kept; every other axis keeps its low positive (0..m-1) and high negative (-m..-1)
// frequencies, so there are 2^(d-1) corners. In each corner every kept mode has its own complex
// in x out channel-mixing matrix, stored as real pairs in weight<c> of shape
// (in, out, m_0, ..., m_{d-1}, 2); corner c has bit a set when axis a takes its negative block.
// Normalisation as torch.fft (forward unscaled, inverse 1/N), so weights are interchangeable with
// neuraloperator's SpectralConv.
//
// The layer is resolution-agnostic: the same weights apply to any grid with at least 2*m points on
// the non-last axes and at least 2*(m-1) on the last (the half spectrum has n/2+1 entries). The
// output grid defaults to the input grid; set_output_grid() makes the inverse FFT produce another
// number of points per axis (zero-padded or truncated spectrum, e.g. temporal super-resolution).
// "No truncation" on an even grid n is m = n/2 on the non-last axes and m = n/2+1 on the last.
//
// Spectral bias (set_spectral_bias): a complex bias per kept mode, shared by the output channels,
// scaled by a constant delta and added to the mixed spectrum before the inverse transform, as in the
// output layer of the Spectral-Refiner SFNO (a source term of the spectral integral operator). Stored
// per corner as spectral_bias<c> of shape (m_0, ..., m_{d-1}, 2), zero-initialised.
//
// Speed: the (batch, channel) signals are transformed in blocks of 8 per OpenMP thread in a
// cache-resident buffer, and only the kept columns of its half spectrum go through the transforms along
// the non-last axes (a pruned rfftn), so no full-size spectrum is ever stored; the mixing is one
// small complex GEMM (batch x in)(in x out) per mode, parallel over the modes. The backward pass
// reuses the spectrum of the input and the packed weights of the forward pass.
#include <complex>
#include <string>
#include <vector>

#include "neurops/core/aligned_vector.hpp"
#include "neurops/nn/module.hpp"

namespace neurops::nn {

/// The grid rule of SpectralConv (2*m points on every axis but the last, 2*(m-1) on the last, the
/// half-spectrum axis) checked before a model is built, so that a driver refuses too many modes
/// before any training: throws an Error naming `option` (e.g. "-fno_modes"), the modes, the grid
/// and `grid_name` (e.g. "the training grid") unless every modes[a] fits grid[a].
void check_modes_fit_grid(const std::vector<index_t>& modes, const std::vector<index_t>& grid,
                          const std::string& option, const std::string& grid_name);

template <class T>
class SpectralConv : public ModuleImpl<SpectralConv<T>, T> {
 public:
  using Complex = std::complex<T>;

  /// modes: kept modes per spatial axis (its size is the dimension d, 1 to 3). Weights get FNO's
  /// initialisation (uniform [0,1) times 1/(in*out), real and imaginary parts) from `seed`.
  SpectralConv(index_t in_channels, index_t out_channels, std::vector<index_t> modes, bool bias = false,
               std::uint64_t seed = 0);

  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  std::string type_name() const override { return "SpectralConv" + std::to_string(dim()) + "d"; }
  void for_each_parameter(const typename ModuleBase<T>::ParameterFn& fn) override;

  /// Output grid for the next forward passes; empty means "same as the input".
  void set_output_grid(std::vector<index_t> grid);
  const std::vector<index_t>& output_grid() const noexcept { return output_grid_; }

  int dim() const noexcept { return static_cast<int>(modes_.size()); }
  index_t in_channels() const noexcept { return in_; }
  index_t out_channels() const noexcept { return out_; }
  const std::vector<index_t>& modes() const noexcept { return modes_; }
  int corners() const noexcept { return 1 << (dim() - 1); }
  Parameter<T>& weight(int corner) { return weights_.at(static_cast<std::size_t>(corner)); }
  bool has_bias() const noexcept { return has_bias_; }
  Parameter<T>& bias() { return bias_; }

  /// Adds the zero-initialised spectral bias parameters, scaled by `delta` (see above).
  void set_spectral_bias(double delta);
  bool has_spectral_bias() const noexcept { return !spectral_bias_.empty(); }
  double spectral_bias_scale() const noexcept { return spectral_bias_scale_; }
  Parameter<T>& spectral_bias(int corner) { return spectral_bias_.at(static_cast<std::size_t>(corner)); }

 protected:
  void on_mode_change() override;

 private:
  /// Positions in the (grid..., half) spectrum buffer of every kept mode, in weight order.
  std::vector<index_t> mode_offsets(const std::vector<index_t>& grid) const;
  void check_grid(const std::vector<index_t>& grid, const char* which, const Shape& shape) const;
  void pack_weights();

  index_t in_, out_;
  std::vector<index_t> modes_;
  index_t modes_per_corner_ = 1;
  bool has_bias_;
  std::vector<Parameter<T>> weights_;
  Parameter<T> bias_;
  std::vector<Parameter<T>> spectral_bias_;  // one per corner when set_spectral_bias() was called
  double spectral_bias_scale_ = 0;
  std::vector<index_t> output_grid_;

  // Mode-major complex weights [mode][in][out] packed by the last forward pass; backward uses them.
  AlignedVector<Complex> packed_;
  // Training cache: the kept spectrum of the input, [mode][batch][in], and the shapes.
  AlignedVector<Complex> x_hat_;
  Shape input_shape_, output_shape_;
};

extern template class SpectralConv<float>;
extern template class SpectralConv<double>;

}  // namespace neurops::nn
