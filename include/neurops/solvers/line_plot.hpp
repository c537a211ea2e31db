#pragma once
// A small line-plot writer for solver diagnostics (cumulative iterations, residual histories):
// axes with ticks, a grid, coloured polylines, a legend and a title, drawn into an RGB canvas with
// a built-in 3x5 pixel font and written as PNG with libpng (atomically). io::write_png draws
// scalar fields through a colour map, which does not fit curves.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace neurops::solvers {

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

}  // namespace neurops::solvers
