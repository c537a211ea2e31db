#pragma once
// Fourier Neural Operator (Li et al., ICLR 2021), 2-D and 3-D: the library's baseline operator.
//
//   x (N, C_in, grid...)  --[append grid coordinates]-->  lifting (1x1 conv to `width`)
//   --[zero-pad the grid by `domain_padding` points per axis, for non-periodic problems]-->
//   L Fourier blocks: v <- act( SpectralConv(v) + Conv1x1(v) )   (no activation after the last)
//   --[crop the padding]-->  projection: 1x1 conv to `projection_channels`, GELU, 1x1 conv to C_out
//
// This is the architecture of the reference fourier_2d.py / fourier_3d.py (fc0, conv/w pairs, fc1,
// fc2), with the pointwise Linear layers written as 1x1 convolutions. Resolution-agnostic: the same
// weights run on any grid with at least 2*modes points per axis (zero-shot super-resolution).
//
//   operators::FnoConfig c;                 // 2-D, width 32, 12 modes, 4 layers
//   c.in_channels = 1;
//   c.set_from_options("fno_");             // -fno_width 64 -fno_modes 16 ... from the command line
//   operators::Fno<float> fno(c);
//   Tensor<float> u = fno.forward(a);       // a: (N, 1, 64, 64) -> u: (N, 1, 64, 64)
#include <cstdint>
#include <string>
#include <vector>

#include "neurops/nn/activation.hpp"
#include "neurops/nn/conv.hpp"
#include "neurops/nn/model.hpp"
#include "neurops/nn/spectral_conv.hpp"

namespace neurops::io {
class H5File;
}

namespace neurops::operators {

/// Initialisation of the spectral weights: FNO's U[0, 1) / (in * out), or the variance-preserving
/// N(0, sigma^2) of Transform Once (nn/spectral_init.hpp), which compensates the truncation to the
/// kept modes of a grid of `init_grid` points so that the spectral layers keep the variance.
enum class FnoInit { naive, vp };
std::string to_string(FnoInit init);
FnoInit fno_init_from_string(const std::string& name);

struct FnoConfig {
  int dims = 2;             // 2 or 3 spatial dimensions
  index_t in_channels = 1;  // channels of the input field (without grid coordinates)
  index_t out_channels = 1;
  index_t width = 32;              // channels inside the Fourier blocks
  std::vector<index_t> modes{12};  // kept modes per axis (one value for all axes, or one per axis)
  index_t layers = 4;
  index_t projection_channels = 128;
  bool append_grid = false;    // add the (x, y[, z]) coordinates in [0, 1] as input channels
  index_t domain_padding = 0;  // grid points of zero padding at the end of each axis
  nn::ActivationKind activation = nn::ActivationKind::GELU;
  std::uint64_t seed = 0;
  FnoInit init = FnoInit::naive;
  std::vector<index_t> init_grid{64};  // VP: training grid points per axis (one value or one per axis)

  /// Error naming the field and the accepted range when a value is out of range.
  void validate() const;
  void save(io::H5File& file, const std::string& group) const;
  static FnoConfig load(const io::H5File& file, const std::string& group);
  /// Reads `-<prefix>width`, `-<prefix>modes`, ... from the options database over the current values
  /// (PETSc's XSetFromOptions: call after the code's defaults); -help lists them.
  void set_from_options(const std::string& prefix = "fno_");
  bool operator==(const FnoConfig& o) const;
};

/// One Fourier layer: act(SpectralConv(v) + W v) with W a 1x1 convolution with bias.
template <class T>
class FourierBlock : public nn::ModuleImpl<FourierBlock<T>, T> {
 public:
  FourierBlock(int dims, index_t width, const std::vector<index_t>& modes, nn::ActivationKind activation, bool activate,
               Rng& rng);
  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  std::string type_name() const override { return "FourierBlock"; }
  void for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) override;
  nn::SpectralConv<T>& spectral() { return spectral_; }

 protected:
  void on_mode_change() override { pre_activation_ = Tensor<T>(); }

 private:
  nn::SpectralConv<T> spectral_;
  nn::Conv<T> skip_;
  nn::ActivationKind activation_;
  bool activate_;
  Tensor<T> pre_activation_;
};

template <class T>
class Fno : public nn::FieldModel<T> {
 public:
  explicit Fno(FnoConfig config);
  std::string type_name() const override { return "FNO" + std::to_string(config_.dims) + "d"; }
  void for_each_child(const typename nn::ModuleBase<T>::ChildFn& fn) override;
  const FnoConfig& config() const noexcept { return config_; }
  index_t in_channels() const override { return config_.in_channels; }
  index_t out_channels() const override { return config_.out_channels; }
  void save_config(io::H5File& file, const std::string& group) const override { config_.save(file, group); }

 protected:
  Tensor<T> forward_field(const Tensor<T>& x) override;
  Tensor<T> backward_field(const Tensor<T>& dy) override;

 private:
  FnoConfig config_;
  nn::Conv<T> lifting_;
  std::vector<FourierBlock<T>> blocks_;
  nn::Conv<T> projection1_;
  nn::Activation<T> projection_activation_;
  nn::Conv<T> projection2_;
  Shape input_shape_;
};

/// (N, C, grid...) -> (N, C + d, grid...): appends the coordinates i/(n-1) of each axis.
template <class T>
Tensor<T> append_grid_coordinates(const Tensor<T>& x, int dims);
/// Zero-pads (pad > 0) or crops (pad < 0) the end of each of the last `dims` axes by |pad| points.
template <class T>
Tensor<T> pad_or_crop_end(const Tensor<T>& x, int dims, index_t pad);

extern template class FourierBlock<float>;
extern template class FourierBlock<double>;
extern template class Fno<float>;
extern template class Fno<double>;

}  // namespace neurops::operators
