#pragma once
// N-d convolution (1-, 2- or 3-D) on inputs (N, C_in, spatial...), as torch.nn.Conv{1,2,3}d with
// dilation 1 and groups 1: any kernel size, stride and padding per axis, padding modes zeros, circular,
// reflect and replicate, with or without bias. Weight (C_out, C_in, k...), bias (C_out).
//
// Algorithm: the input is padded once per call into a workspace (the padding mode applied there), then
// the output is computed tile by tile (tiles are slabs of output rows) as one GEMM
//   Y[:, tile] = W (C_out x C_in*K) * cols (C_in*K x tile)
// over an im2col buffer of the tile; tiles of all samples run in parallel with OpenMP. A 1x1 kernel with
// stride 1 and no padding skips im2col: Y_n = W X_n. Backward recomputes the tile's im2col buffer for
// dW += dY cols^T and scatters dcols = W^T dY back (col2im) into a padded gradient, two colours of tiles
// so that concurrent tiles never overlap; the padded gradient is then folded back through the adjoint
// of the padding mode. Per-thread buffers are kept between calls.
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
  std::vector<Tensor<T>> cols, dweight, dbias;  // one per OpenMP thread
  Tensor<T> padded, dpadded;                    // (N, C, padded volume)
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
  void for_each_parameter(const typename Module<T>::ParameterFn& fn) override;

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
