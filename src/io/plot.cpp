#include "neurops/io/plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "canvas.hpp"
#include "neurops/core/error.hpp"

namespace neurops::io {

namespace fs = std::filesystem;

namespace {
using detail::Canvas;
using detail::Rgb;

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
  detail::write_png(path, c, "plot");
}

}  // namespace neurops::io
