#pragma once
// Line plots as PNG (loss curves, cumulative iteration counts, residual histories): axes with ticks,
// a grid, coloured polylines, a legend and a title, written atomically. Fields go through
// io::write_png (png.hpp) instead, which draws them through a colour map.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace neurops::io {

struct PlotSeries {
  std::string name;
  std::vector<double> x, y;
  std::array<std::uint8_t, 3> color{0, 0, 0};
};

struct PlotOptions {
  std::string title, x_label, y_label;
  int width = 960, height = 640;
};

/// Distinct colours (matplotlib's tab10 cycle).
std::array<std::uint8_t, 3> plot_color(int index);

/// Writes the series as a line plot. Empty series, mismatched x/y lengths or non-finite values are
/// Errors naming the series.
void write_line_plot(const std::filesystem::path& path, const std::vector<PlotSeries>& series,
                     const PlotOptions& options = {});

}  // namespace neurops::io
