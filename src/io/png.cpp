#include "neurops/io/png.hpp"

#include "canvas.hpp"

#include <png.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>

namespace neurops::io {

namespace fs = std::filesystem;

namespace {

// Viridis sampled at 9 evenly spaced points (matplotlib's table); linear interpolation between them
// stays within 2/255 of the full table.
constexpr double kViridis[9][3] = {{0.267, 0.005, 0.329}, {0.283, 0.141, 0.458}, {0.254, 0.265, 0.530},
                                   {0.207, 0.372, 0.553}, {0.164, 0.471, 0.558}, {0.128, 0.567, 0.551},
                                   {0.135, 0.659, 0.518}, {0.267, 0.749, 0.441}, {0.478, 0.821, 0.318}};
constexpr double kViridisTop[3] = {0.993, 0.906, 0.144};
// Moreland's cool-warm diverging map (blue - light grey - red) for signed errors.
constexpr double kCoolWarm[5][3] = {
    {0.230, 0.299, 0.754}, {0.552, 0.690, 0.996}, {0.866, 0.866, 0.866}, {0.957, 0.604, 0.482}, {0.706, 0.016, 0.150}};

std::string label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

}  // namespace

std::array<std::uint8_t, 3> colormap_rgb(Colormap map, double t) {
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0);
  auto lerp = [](const double* a, const double* b, double f) {
    std::array<std::uint8_t, 3> c{};
    for (int k = 0; k < 3; ++k)
      c[static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(std::lround(255 * (a[k] + f * (b[k] - a[k]))));
    return c;
  };
  if (map == Colormap::coolwarm) {
    const double x = t * 4;
    const int i = std::min(int(x), 3);
    return lerp(kCoolWarm[i], kCoolWarm[i + 1], x - i);
  }
  const double x = t * 9;
  const int i = std::min(int(x), 8);
  return lerp(kViridis[i], i < 8 ? kViridis[i + 1] : kViridisTop, x - i);
}

template <class T>
void write_png(const fs::path& path, TensorView<const T> field, const PngOptions& opt) {
  NEUROPS_CHECK(field.rank() >= 2,
                "PNG preview '" << path.string() << "': expected a 2-D field, found shape " << field.shape());
  for (int i = 0; i + 2 < field.rank(); ++i)
    NEUROPS_CHECK(field.shape()[i] == 1, "PNG preview '" << path.string()
                                                         << "': expected a 2-D field (leading extents 1), found shape "
                                                         << field.shape());
  const int H = static_cast<int>(field.size(-2)), W = static_cast<int>(field.size(-1));
  NEUROPS_CHECK(H > 0 && W > 0, "PNG preview '" << path.string() << "': empty field " << field.shape());
  double lo = opt.vmin, hi = opt.vmax;
  if (std::isnan(lo) || std::isnan(hi)) {
    double mn = INFINITY, mx = -INFINITY;
    for (const T v : field)
      if (std::isfinite(static_cast<double>(v))) {
        mn = std::min(mn, double(v));
        mx = std::max(mx, double(v));
      }
    if (!std::isfinite(mn)) mn = mx = 0;
    if (std::isnan(lo)) lo = mn;
    if (std::isnan(hi)) hi = mx;
  }
  const double range = hi > lo ? hi - lo : 1.0;
  const int s = opt.scale > 0 ? opt.scale : std::max(1, (256 + std::max(H, W) - 1) / std::max(H, W));
  const int fw = W * s, fh = H * s;
  const int font = std::max(1, fh / 128);
  const int bar_w = opt.colorbar ? std::max(12, fw / 20) : 0;
  const int gap = opt.colorbar ? std::max(6, fw / 40) : 0;
  const int label_w = opt.colorbar ? 4 * font * 10 + gap : 0;
  const int pad = opt.colorbar ? 4 * font : 0;
  detail::Canvas img(fw + gap + bar_w + label_w, fh + 2 * pad);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const double v = double(field.data()[static_cast<index_t>(y) * W + x]);
      const auto c =
          std::isfinite(v) ? colormap_rgb(opt.colormap, (v - lo) / range) : std::array<std::uint8_t, 3>{255, 0, 255};
      for (int dy = 0; dy < s; ++dy)
        for (int dx = 0; dx < s; ++dx) img.set(x * s + dx, pad + (H - 1 - y) * s + dy, c);  // y up
    }
  if (opt.colorbar) {
    const int x0 = fw + gap;
    for (int y = 0; y < fh; ++y) {
      const auto c = colormap_rgb(opt.colormap, 1.0 - double(y) / std::max(fh - 1, 1));
      for (int x = 0; x < bar_w; ++x) img.set(x0 + x, pad + y, c);
    }
    img.text(x0 + bar_w + gap / 2, pad, label(hi), font);
    img.text(x0 + bar_w + gap / 2, pad + fh - 5 * font, label(lo), font);
  }
  detail::write_png(path, img, "PNG");
}

RgbImage read_png(const fs::path& path) {
  FILE* fp = std::fopen(path.c_str(), "rb");
  NEUROPS_CHECK(fp, "cannot open PNG '" << path.string() << "'");
  std::unique_ptr<FILE, int (*)(FILE*)> guard(fp, std::fclose);
  png_byte sig[8];
  NEUROPS_CHECK(std::fread(sig, 1, 8, fp) == 8 && png_sig_cmp(sig, 0, 8) == 0,
                "'" << path.string() << "' is not a PNG file");
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  RgbImage out;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    NEUROPS_THROW("PNG '" << path.string() << "' is corrupt or truncated");
  }
  png_init_io(png, fp);
  png_set_sig_bytes(png, 8);
  png_read_info(png, info);
  png_set_strip_16(png);
  png_set_palette_to_rgb(png);
  png_set_gray_to_rgb(png);
  png_set_strip_alpha(png);
  png_read_update_info(png, info);
  out.width = static_cast<int>(png_get_image_width(png, info));
  out.height = static_cast<int>(png_get_image_height(png, info));
  out.rgb.resize(static_cast<std::size_t>(out.width) * out.height * 3);
  std::vector<png_bytep> rows(static_cast<std::size_t>(out.height));
  for (int y = 0; y < out.height; ++y)
    rows[static_cast<std::size_t>(y)] = &out.rgb[static_cast<std::size_t>(y) * out.width * 3];
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return out;
}

template void write_png<float>(const fs::path&, TensorView<const float>, const PngOptions&);
template void write_png<double>(const fs::path&, TensorView<const double>, const PngOptions&);

}  // namespace neurops::io
