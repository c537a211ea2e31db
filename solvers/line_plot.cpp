#include "neurops/solvers/line_plot.hpp"

#include <png.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>

#include "neurops/core/error.hpp"

namespace neurops::solvers {

namespace fs = std::filesystem;

namespace {
// 3x5 glyphs, one byte per row, bit 2 = left column. Lower case prints as upper case.
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

using Rgb = std::array<std::uint8_t, 3>;

struct Canvas {
  int w, h;
  std::vector<std::uint8_t> px;
  Canvas(int w_, int h_) : w(w_), h(h_), px(static_cast<std::size_t>(w_) * h_ * 3, 255) {}
  void set(int x, int y, Rgb c) {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    std::memcpy(&px[(static_cast<std::size_t>(y) * w + x) * 3], c.data(), 3);
  }
  void rect(int x0, int y0, int x1, int y1, Rgb c) {
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) set(x, y, c);
  }
  void line(double x0, double y0, double x1, double y1, Rgb c, int thickness) {
    const int steps = static_cast<int>(std::ceil(std::max(std::abs(x1 - x0), std::abs(y1 - y0)))) + 1;
    for (int s = 0; s <= steps; ++s) {
      const double f = double(s) / steps;
      const int x = static_cast<int>(std::lround(x0 + f * (x1 - x0)));
      const int y = static_cast<int>(std::lround(y0 + f * (y1 - y0)));
      for (int dy = 0; dy < thickness; ++dy)
        for (int dx = 0; dx < thickness; ++dx) set(x + dx - thickness / 2, y + dy - thickness / 2, c);
    }
  }
  static int text_width(const std::string& s, int size) { return static_cast<int>(s.size()) * 4 * size; }
  void text(int x, int y, const std::string& s, int size, Rgb c = {0, 0, 0}) {
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
};

std::string tick_label(double v) {
  char buf[32];
  if (std::abs(v) >= 1e4 || (std::abs(v) < 1e-2 && v != 0))
    std::snprintf(buf, sizeof buf, "%.2g", v);
  else
    std::snprintf(buf, sizeof buf, "%.4g", v);
  std::string s = buf;
  // "1e+06" -> "1E6": the font has no lower case and the plus adds nothing.
  const auto e = s.find("e+");
  if (e != std::string::npos) s = s.substr(0, e) + "E" + std::to_string(std::stoi(s.substr(e + 2)));
  return s;
}

// Round tick spacing (1, 2 or 5 times a power of ten) giving about `target` ticks.
double nice_step(double range, int target) {
  const double raw = range / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

void write_png_rgb(const fs::path& path, const Canvas& img) {
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  NEUROPS_CHECK(fs::is_directory(parent, ec),
                "cannot write plot '" << path.string() << "': directory '" << parent.string() << "' does not exist");
  const fs::path tmp = parent / ("." + path.filename().string() + ".tmp-" + std::to_string(getpid()));
  FILE* fp = std::fopen(tmp.c_str(), "wb");
  NEUROPS_CHECK(fp,
                "cannot write plot '" << path.string() << "': directory '" << parent.string() << "' is not writable");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  volatile bool ok = png && info;
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
    NEUROPS_THROW("writing plot '" << path.string() << "' failed");
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    NEUROPS_THROW("cannot move the finished plot onto '" << path.string() << "'");
  }
}
}  // namespace

std::array<std::uint8_t, 3> plot_color(int index) {
  static constexpr std::uint8_t tab10[10][3] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                                {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                                {188, 189, 34},  {23, 190, 207}};
  const auto& c = tab10[((index % 10) + 10) % 10];
  return {c[0], c[1], c[2]};
}

void write_line_plot(const fs::path& path, const std::vector<PlotSeries>& series, const PlotOptions& o) {
  NEUROPS_CHECK(!series.empty(), "write_line_plot '" << path.string() << "': no series to draw");
  NEUROPS_CHECK(o.width >= 200 && o.height >= 150,
                "write_line_plot: canvas " << o.width << " x " << o.height << " is too small (min 200 x 150)");
  double xmin = 1e300, xmax = -1e300, ymin = 1e300, ymax = -1e300;
  for (const auto& s : series) {
    NEUROPS_CHECK(!s.x.empty() && s.x.size() == s.y.size(), "write_line_plot: series '" << s.name << "' has "
                                                                                        << s.x.size() << " x and "
                                                                                        << s.y.size() << " y values");
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      NEUROPS_CHECK(std::isfinite(s.x[i]) && std::isfinite(s.y[i]),
                    "write_line_plot: series '" << s.name << "' has a non-finite value at point " << i);
      xmin = std::min(xmin, s.x[i]);
      xmax = std::max(xmax, s.x[i]);
      ymin = std::min(ymin, s.y[i]);
      ymax = std::max(ymax, s.y[i]);
    }
  }
  if (ymin > 0 && ymin < 0.3 * ymax) ymin = 0;  // start counts at zero
  if (xmax == xmin) xmax = xmin + 1;
  if (ymax == ymin) ymax = ymin + 1;
  const double xstep = nice_step(xmax - xmin, 6), ystep = nice_step(ymax - ymin, 6);
  ymax = std::ceil(ymax / ystep) * ystep;

  Canvas c(o.width, o.height);
  const int text = 2;  // font scale
  const int left = 100, right = 30, top = 50, bottom = 70;
  const int pw = o.width - left - right, ph = o.height - top - bottom;
  auto X = [&](double x) { return left + (x - xmin) / (xmax - xmin) * pw; };
  auto Y = [&](double y) { return top + ph - (y - ymin) / (ymax - ymin) * ph; };
  const Rgb grid{225, 225, 225}, black{0, 0, 0};
  for (double t = std::ceil(xmin / xstep) * xstep; t <= xmax + 1e-9 * xstep; t += xstep) {
    c.line(X(t), top, X(t), top + ph, grid, 1);
    const auto s = tick_label(t);
    c.text(static_cast<int>(X(t)) - Canvas::text_width(s, text) / 2, top + ph + 10, s, text);
  }
  for (double t = std::ceil(ymin / ystep) * ystep; t <= ymax + 1e-9 * ystep; t += ystep) {
    c.line(left, Y(t), left + pw, Y(t), grid, 1);
    const auto s = tick_label(t);
    c.text(left - 8 - Canvas::text_width(s, text), static_cast<int>(Y(t)) - 5, s, text);
  }
  c.line(left, top, left, top + ph, black, 2);
  c.line(left, top + ph, left + pw, top + ph, black, 2);
  for (const auto& s : series)
    for (std::size_t i = 1; i < s.x.size(); ++i) c.line(X(s.x[i - 1]), Y(s.y[i - 1]), X(s.x[i]), Y(s.y[i]), s.color, 2);
  // Legend in the upper-left corner of the plot area.
  int ly = top + 12;
  for (const auto& s : series) {
    c.rect(left + 14, ly + 2, left + 38, ly + 7, s.color);
    c.text(left + 46, ly, s.name, text);
    ly += 18;
  }
  c.text(left + pw / 2 - Canvas::text_width(o.title, 3) / 2, 12, o.title, 3);
  c.text(left + pw / 2 - Canvas::text_width(o.x_label, text) / 2, o.height - 26, o.x_label, text);
  c.text(8, top - 22, o.y_label, text);
  write_png_rgb(path, c);
}

}  // namespace neurops::solvers
