#include "canvas.hpp"

#include <png.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>

#include "neurops/core/error.hpp"
#include "neurops/io/hdf5.hpp"  // temporary_path

namespace neurops::io::detail {

namespace fs = std::filesystem;

namespace {
// 3x5 glyphs, one byte per row, bit 2 = left column.
constexpr const char* kChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.-+=()/,:%*";
constexpr std::uint8_t kGlyphs[][5] = {
    {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
    {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7},  // 0-9
    {2, 5, 7, 5, 5}, {6, 5, 6, 5, 6}, {3, 4, 4, 4, 3}, {6, 5, 5, 5, 6}, {7, 4, 6, 4, 7},
    {7, 4, 6, 4, 4},  // A-F
    {3, 4, 5, 5, 3}, {5, 5, 7, 5, 5}, {7, 2, 2, 2, 7}, {1, 1, 1, 5, 2}, {5, 5, 6, 5, 5},
    {4, 4, 4, 4, 7},  // G-L
    {5, 7, 7, 5, 5}, {6, 5, 5, 5, 5}, {2, 5, 5, 5, 2}, {6, 5, 6, 4, 4}, {2, 5, 5, 6, 3},
    {6, 5, 6, 5, 5},  // M-R
    {3, 4, 2, 1, 6}, {7, 2, 2, 2, 2}, {5, 5, 5, 5, 7}, {5, 5, 5, 5, 2}, {5, 5, 7, 7, 5},
    {5, 5, 2, 5, 5},                   // S-X
    {5, 5, 2, 2, 2}, {7, 1, 2, 4, 7},  // Y-Z
    {0, 0, 0, 0, 2}, {0, 0, 7, 0, 0}, {0, 2, 7, 2, 0}, {0, 7, 0, 7, 0}, {1, 2, 2, 2, 1},
    {4, 2, 2, 2, 4},                                                                       // . - + = ( )
    {1, 1, 2, 4, 4}, {0, 0, 0, 2, 4}, {0, 2, 0, 2, 0}, {5, 1, 2, 4, 5}, {0, 5, 2, 5, 0}};  // / , : % *
}  // namespace

Canvas::Canvas(int width, int height) : w(width), h(height), px(static_cast<std::size_t>(width) * height * 3, 255) {}

void Canvas::set(int x, int y, Rgb c) {
  if (x < 0 || y < 0 || x >= w || y >= h) return;
  std::memcpy(&px[(static_cast<std::size_t>(y) * w + x) * 3], c.data(), 3);
}

void Canvas::rect(int x0, int y0, int x1, int y1, Rgb c) {
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) set(x, y, c);
}

void Canvas::line(double x0, double y0, double x1, double y1, Rgb c, int thickness) {
  const int steps = static_cast<int>(std::ceil(std::max(std::abs(x1 - x0), std::abs(y1 - y0)))) + 1;
  for (int s = 0; s <= steps; ++s) {
    const double f = double(s) / steps;
    const int x = static_cast<int>(std::lround(x0 + f * (x1 - x0)));
    const int y = static_cast<int>(std::lround(y0 + f * (y1 - y0)));
    for (int dy = 0; dy < thickness; ++dy)
      for (int dx = 0; dx < thickness; ++dx) set(x + dx - thickness / 2, y + dy - thickness / 2, c);
  }
}

void Canvas::text(int x, int y, const std::string& s, int size, Rgb c) {
  for (char raw : s) {
    const char ch = static_cast<char>(std::toupper(static_cast<unsigned char>(raw)));
    const char* p = ch ? std::strchr(kChars, ch) : nullptr;
    if (p) {
      const auto& g = kGlyphs[p - kChars];
      for (int r = 0; r < 5; ++r)
        for (int col = 0; col < 3; ++col)
          if (g[r] & (4 >> col))
            rect(x + col * size, y + r * size, x + col * size + size - 1, y + r * size + size - 1, c);
    }
    x += 4 * size;
  }
}

void write_png(const fs::path& path, const Canvas& img, const char* what) {
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  NEUROPS_CHECK(fs::is_directory(parent, ec), "cannot write " << what << " '" << path.string() << "': directory '"
                                                              << parent.string() << "' does not exist");
  const fs::path tmp = temporary_path(path);
  FILE* fp = std::fopen(tmp.c_str(), "wb");
  NEUROPS_CHECK(fp, "cannot write " << what << " '" << path.string() << "': directory '" << parent.string()
                                    << "' is not writable");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  volatile bool ok = png && info;  // volatile: survives libpng's longjmp
  if (ok && setjmp(png_jmpbuf(png))) ok = false;
  if (ok) {
    png_init_io(png, fp);
    png_set_IHDR(png, info, static_cast<png_uint_32>(img.w), static_cast<png_uint_32>(img.h), 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < img.h; ++y)
      png_write_row(png, const_cast<png_bytep>(&img.px[static_cast<std::size_t>(y) * img.w * 3]));
    png_write_end(png, nullptr);
  }
  png_destroy_write_struct(png ? &png : nullptr, info ? &info : nullptr);
  ok = (std::fclose(fp) == 0) && ok;
  if (!ok) {
    fs::remove(tmp, ec);
    NEUROPS_THROW("writing " << what << " '" << path.string() << "' failed");
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    NEUROPS_THROW("cannot move the finished " << what << " onto '" << path.string() << "'");
  }
}

}  // namespace neurops::io::detail
