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
#include <vector>

#include "neurops/core/random.hpp"
#include "neurops/nn/module.hpp"

namespace neurops::nn {

enum class PaddingMode { Zeros, Circular, Reflect, Replicate };
std::string to_string(PaddingMode mode);
PaddingMode padding_mode_from_string(const std::string& name);

namespace detail {
/// Geometry of one convolution in an internal 3-D form (lower dimensions get leading unit axes).
struct ConvGeometry {
  int dims = 0;
  std::array<index_t, 3> in{1, 1, 1}, kernel{1, 1, 1}, stride{1, 1, 1}, pad{0, 0, 0}, padded{1, 1, 1}, out{1, 1, 1};
  PaddingMode mode = PaddingMode::Zeros;
  std::array<std::vector<index_t>, 3> source;  // padded index -> input index on each axis, -1 for a zero
  index_t kernel_volume = 1, in_volume = 1, padded_volume = 1, out_volume = 1;
  int tile_axis = 2;       // output rows are tiled along this axis (the first with extent > 1)
  index_t tile_rows = 1;   // rows per tile along tile_axis
  index_t tiles = 1;       // tiles per sample
  index_t row_size = 1;    // output positions per row (product of the extents after tile_axis)
  bool pointwise = false;  // 1x1 kernel, stride 1, no padding
  bool direct = false;     // stride 1 and not pointwise: the direct kernel (conv_direct.hpp) applies
  index_t tile_begin(index_t t) const { return t * tile_rows * row_size; }
  index_t tile_length(index_t t) const {
    return (std::min((t + 1) * tile_rows, out[tile_axis]) - t * tile_rows) * row_size;
  }
};

/// Validates and builds the geometry; `layer` names the layer in errors. `in_spatial` are the input's
/// spatial extents; `gemm_rows` is the row count of the im2col buffer (channels * kernel volume), used
/// to size the tiles.
ConvGeometry make_conv_geometry(const std::string& layer, const std::vector<index_t>& in_spatial,
                                const std::vector<index_t>& kernel, const std::vector<index_t>& stride,
                                const std::vector<index_t>& pad, PaddingMode mode, index_t gemm_rows);

/// Per-object scratch memory; copying a module does not copy (or share) it.
template <class T>
struct ConvWorkspace {
  std::vector<Tensor<T>> cols, dweight, dbias, transposed;  // one per OpenMP thread
  Tensor<T> padded, dpadded;                    // (N, C, padded volume)
  Tensor<T> shifted;                            // output gradient in the padded layout (direct path)
  Tensor<T> dweight_blocks;                     // weight-gradient partial sums per block of positions
  std::vector<T> packed;                        // weights packed for the direct kernel
  bool cached = false;                          // `padded` holds the input of a training-mode forward
  ConvWorkspace() = default;
  ConvWorkspace(const ConvWorkspace&) {}
  ConvWorkspace& operator=(const ConvWorkspace&) {
    cached = false;
    return *this;
  }
};

/// Expands per-axis options: {v} -> {v, v, v}[:dims], checks the count, names the layer and option.
std::vector<index_t> expand_per_axis(const std::string& layer, const std::string& option,
                                     const std::vector<index_t>& v, int dims, index_t minimum);
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
  void on_mode_change() override { work_.cached = false; }

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
  detail::ConvGeometry geometry_;
  Shape geometry_shape_, cached_input_shape_;
  detail::ConvWorkspace<T> work_;
};

extern template class Conv<float>;
extern template class Conv<double>;

}  // namespace neurops::nn
