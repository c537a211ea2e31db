#pragma once
// Transposed convolution (1-, 2- or 3-D), as torch.nn.ConvTranspose{1,2,3}d with dilation 1 and
// groups 1: input (N, C_in, n...), output extent o = (n - 1) * stride - 2 * padding + kernel +
// output_padding on each axis (output_padding < stride), weight (C_in, C_out, k...), bias (C_out).
// Kernel 4, stride 2, padding 1 doubles the grid: MgNO's learnable prolongation.
//
// It is computed as the exact adjoint of the Conv with the same weight, kernel, stride and zero
// padding that maps (C_out, o...) to (C_in, n...): forward scatters W^T x through col2im into a
// padded output and crops it; backward pads dy, builds im2col tiles and applies W (and
// dW += x cols^T). The kernels are shared with Conv (see conv.hpp).
#include <vector>

#include "neurops/nn/conv.hpp"

namespace neurops::nn {

struct ConvTransposeOptions {
  std::vector<index_t> stride{1};
  std::vector<index_t> padding{0};
  std::vector<index_t> output_padding{0};
  bool bias = true;
};

template <class T>
class ConvTranspose : public ModuleImpl<ConvTranspose<T>, T> {
 public:
  /// Parameters initialised as PyTorch's ConvTransposeNd (init::torch_default on the (C_in, C_out, k...)
  /// weight, so fan_in = C_out * prod(k)).
  ConvTranspose(int dims, index_t in_channels, index_t out_channels, std::vector<index_t> kernel_size, Rng& rng,
                ConvTransposeOptions options = {});
  ConvTranspose(const ConvTranspose& o);
  ConvTranspose& operator=(const ConvTranspose& o);
  ConvTranspose(ConvTranspose&&) noexcept;
  ConvTranspose& operator=(ConvTranspose&&) noexcept;
  ~ConvTranspose() override;

  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  std::string type_name() const override { return "ConvTranspose" + std::to_string(dims_) + "d"; }
  void for_each_parameter(const typename ModuleBase<T>::ParameterFn& fn) override;

  int dims() const noexcept { return dims_; }
  index_t in_channels() const noexcept { return in_channels_; }
  index_t out_channels() const noexcept { return out_channels_; }
  bool has_bias() const noexcept { return has_bias_; }
  Parameter<T>& weight() { return weight_; }
  Parameter<T>& bias() { return bias_; }
  /// Output spatial extents for the given input spatial extents.
  std::vector<index_t> output_spatial(const std::vector<index_t>& in_spatial) const;

 protected:
  void on_mode_change() override { input_ = Tensor<T>(); }

 private:
  const detail::ConvGeometry& geometry_for(const Shape& x_shape);

  int dims_;
  index_t in_channels_, out_channels_;
  std::vector<index_t> kernel_, stride_, padding_, output_padding_;
  bool has_bias_;
  Parameter<T> weight_, bias_;
  Shape geometry_shape_;
  std::unique_ptr<detail::ConvState<T>> state_;  // geometry of the adjoint Conv: output grid -> input grid
  Tensor<T> input_;                              // cached in training mode
};

extern template class ConvTranspose<float>;
extern template class ConvTranspose<double>;

}  // namespace neurops::nn
