#pragma once
// N-d convolution (1-, 2- or 3-D) on inputs (N, C_in, spatial...), as torch.nn.Conv{1,2,3}d with
// dilation 1 and groups 1: any kernel size, stride and padding per axis, padding modes zeros, circular,
// reflect and replicate, with or without bias. Weight (C_out, C_in, k...), bias (C_out).
//
// Algorithm: the input is padded once per call into a workspace (the padding mode applied there); the
// padded gradient of backward is folded back through the adjoint of the padding mode. Three paths:
//  * 1x1 kernel, stride 1, no padding: Y_n = W X_n, one GEMM per sample and column block.
//  * stride 1 (any kernel): a direct blocked kernel (conv_direct.hpp) sums shifted rows of the padded
//    input in registers, no im2col; the input gradient is the same kernel on the output gradient with
//    the flipped kernel; the weight gradient sum_q dY[o, q] X[i, q + offset(k)] is a second
//    register-blocked kernel with the output channels as vector lanes.
//  * strided: tile by tile (slabs of output rows) Y[:, tile] = W (C_out x C_in*K) * cols (C_in*K x tile)
//    over an im2col buffer; backward recomputes the tile's buffer for dW += dY cols^T and scatters
//    W^T dY back (col2im), two colours of tiles so that concurrent tiles never overlap.
// Work is split over samples and blocks of positions with OpenMP; gradient partial sums are kept per
// thread (im2col path) or per block (direct path) and reduced in a fixed order, so results do not
// depend on timing. Buffers are kept between calls.
#include <array>
#include <memory>
#include <vector>

#include "neurops/core/random.hpp"
#include "neurops/nn/module.hpp"

namespace neurops::nn {

enum class PaddingMode { Zeros, Circular, Reflect, Replicate };
std::string to_string(PaddingMode mode);
PaddingMode padding_mode_from_string(const std::string& name);

namespace detail {
struct ConvGeometry;
/// Geometry and scratch memory of one convolution object: private to the implementation
/// (src/nn/conv_state.hpp); a copied layer gets the geometry and fresh scratch memory.
template <class T>
struct ConvState;
}  // namespace detail

struct ConvOptions {
  std::vector<index_t> stride{1};   // one value for all axes or one per axis
  std::vector<index_t> padding{0};  // amount on each side, one value or one per axis
  PaddingMode padding_mode = PaddingMode::Zeros;
  bool bias = true;
};

template <class T>
class Conv : public ModuleImpl<Conv<T>, T> {
 public:
  /// dims = 1, 2 or 3; kernel_size has one value (cubic kernel) or one per axis. Parameters are
  /// initialised as PyTorch's ConvNd (init::torch_default).
  Conv(int dims, index_t in_channels, index_t out_channels, std::vector<index_t> kernel_size, Rng& rng,
       ConvOptions options = {});
  Conv(const Conv& o);
  Conv& operator=(const Conv& o);
  Conv(Conv&&) noexcept;
  Conv& operator=(Conv&&) noexcept;
  ~Conv() override;

  Tensor<T> forward(const Tensor<T>& x) override;
  Tensor<T> backward(const Tensor<T>& dy) override;
  std::string type_name() const override { return "Conv" + std::to_string(dims_) + "d"; }
  void for_each_parameter(const typename ModuleBase<T>::ParameterFn& fn) override;

  int dims() const noexcept { return dims_; }
  index_t in_channels() const noexcept { return in_channels_; }
  index_t out_channels() const noexcept { return out_channels_; }
  const std::vector<index_t>& kernel_size() const noexcept { return kernel_; }
  const std::vector<index_t>& stride() const noexcept { return stride_; }
  const std::vector<index_t>& padding() const noexcept { return padding_; }
  PaddingMode padding_mode() const noexcept { return mode_; }
  bool has_bias() const noexcept { return has_bias_; }
  Parameter<T>& weight() { return weight_; }
  Parameter<T>& bias() { return bias_; }
  /// Output spatial extents for the given input spatial extents (Error if the grid is too small).
  std::vector<index_t> output_spatial(const std::vector<index_t>& in_spatial) const;

 protected:
  void on_mode_change() override;

 private:
  const detail::ConvGeometry& geometry_for(const Shape& x_shape);
  void forward_direct(const detail::ConvGeometry& g, index_t batch, T* y);
  void backward_direct(const detail::ConvGeometry& g, index_t batch, const T* dy, T* dx);

  int dims_;
  index_t in_channels_, out_channels_;
  std::vector<index_t> kernel_, stride_, padding_;
  PaddingMode mode_;
  bool has_bias_;
  Parameter<T> weight_, bias_;
  Shape geometry_shape_, cached_input_shape_;
  std::unique_ptr<detail::ConvState<T>> state_;
};

extern template class Conv<float>;
extern template class Conv<double>;

}  // namespace neurops::nn
