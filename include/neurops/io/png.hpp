#pragma once
// PNG previews of 2-D fields: a perceptual colour map (viridis, or a diverging map for signed
// errors), a colour bar with its range printed beside it, and y pointing up (row 0 of the field is
// the bottom of the picture, as in a plot). Written atomically.
#include <array>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "neurops/core/tensor.hpp"

namespace neurops::io {

enum class Colormap { viridis, coolwarm };

struct PngOptions {
  /// Colour range; NaN means the field's own minimum/maximum.
  double vmin = std::numeric_limits<double>::quiet_NaN();
  double vmax = std::numeric_limits<double>::quiet_NaN();
  Colormap colormap = Colormap::viridis;
  /// Pixels per grid point; 0 picks the smallest integer giving at least 256 pixels on the longer side.
  int scale = 0;
  bool colorbar = true;
};

/// Writes a preview of a 2-D field of shape (H, W) (or any shape whose leading extents are 1).
template <class T>
void write_png(const std::filesystem::path& path, TensorView<const T> field, const PngOptions& options = {});
template <class T>
void write_png(const std::filesystem::path& path, const Tensor<T>& field, const PngOptions& options = {}) {
  write_png<T>(path, field.view(), options);
}
template <class T>
requires(!std::is_const_v<T>) void write_png(const std::filesystem::path& path, TensorView<T> field,
                                             const PngOptions& options = {}) {
  write_png<T>(path, TensorView<const T>(field), options);
}

/// RGB8 image, as decoded from a PNG file.
struct RgbImage {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;  // row-major, 3 bytes per pixel
};
RgbImage read_png(const std::filesystem::path& path);

/// The colour of t in [0, 1] under a colour map.
std::array<std::uint8_t, 3> colormap_rgb(Colormap map, double t);

}  // namespace neurops::io
