#pragma once
// RGB drawing surface shared by the PNG field previews and the line plots: pixels, rectangles,
// lines, a built-in 3x5 pixel font, and an atomic PNG writer. Internal to the library.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace neurops::io::detail {

using Rgb = std::array<std::uint8_t, 3>;

struct Canvas {
  int w, h;
  std::vector<std::uint8_t> px;  // row-major RGB
  Canvas(int width, int height);
  void set(int x, int y, Rgb c);
  void rect(int x0, int y0, int x1, int y1, Rgb c);
  void line(double x0, double y0, double x1, double y1, Rgb c, int thickness);
  /// Text in the 3x5 font scaled by `size` (digits, upper-case letters — lower case prints as upper
  /// case — and . - + = ( ) / , : % *); other characters leave a blank.
  void text(int x, int y, const std::string& s, int size, Rgb c = {0, 0, 0});
  static int text_width(const std::string& s, int size) { return static_cast<int>(s.size()) * 4 * size; }
};

/// Writes the canvas as an RGB PNG: temporary file + rename; `what` names the output in errors.
void write_png(const std::filesystem::path& path, const Canvas& canvas, const char* what);

}  // namespace neurops::io::detail
