#pragma once
// Private to the convolution layers: the geometry of one convolution in an internal 3-D form and
// the per-object scratch memory. Not installed; the public headers only name ConvState.
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "neurops/nn/conv.hpp"

namespace neurops::nn {

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
  Tensor<T> padded, dpadded;                                // (N, C, padded volume)
  Tensor<T> shifted;                                        // output gradient in the padded layout (direct path)
  Tensor<T> dweight_blocks;                                 // weight-gradient partial sums per block of positions
  std::vector<T> packed;                                    // weights packed for the direct kernel
  bool cached = false;                                      // `padded` holds the input of a training-mode forward
  ConvWorkspace() = default;
  ConvWorkspace(const ConvWorkspace&) {}
  ConvWorkspace& operator=(const ConvWorkspace&) {
    cached = false;
    return *this;
  }
};

/// Expands per-axis options: {v} -> {v, v, v}[:dims], checks the count, names the layer and option.
std::vector<index_t> expand_per_axis(const std::string& layer, const std::string& option, const std::vector<index_t>& v,
                                     int dims, index_t minimum);

template <class T>
struct ConvState {
  ConvGeometry geometry;
  ConvWorkspace<T> work;  // its copy constructor gives fresh scratch memory
};
}  // namespace detail

}  // namespace neurops::nn
