#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "neurops/io/plot.hpp"
#include "neurops/io/png.hpp"
#include "neurops/io/xdmf.hpp"

using namespace neurops;
using namespace neurops::io;
namespace fs = std::filesystem;

namespace {
std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (std::size_t pos = s.find(what); pos != std::string::npos; pos = s.find(what, pos + 1)) ++n;
  return n;
}
// Minimal well-formedness check: every opened element is closed in order.
bool balanced(const std::string& xml) {
  std::vector<std::string> stack;
  std::regex tag("<(/?)([A-Za-z]+)[^>]*?(/?)>");
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), tag); it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    if (m.str(0).rfind("<?", 0) == 0 || m.str(0).rfind("<!", 0) == 0) continue;
    if (m.str(3) == "/") continue;
    if (m.str(1) == "/") {
      if (stack.empty() || stack.back() != m.str(2)) return false;
      stack.pop_back();
    } else {
      stack.push_back(m.str(2));
    }
  }
  return stack.empty();
}
}  // namespace

BOOST_AUTO_TEST_SUITE(xdmf_png)

BOOST_AUTO_TEST_CASE(xdmf_names_datasets_and_dimensions) {
  fs::create_directories("io_scratch");
  const fs::path h5 = "io_scratch/fields.h5";
  auto f = H5File::create(h5);
  f.write("/u", Tensor<float>({4, 2, 16, 32}));
  f.write("/a", Tensor<double>({16, 32}));
  f.commit();
  auto r = H5File::open(h5);
  write_xdmf("io_scratch/fields.xdmf", h5, UniformGrid{{16, 32}, {0, 0}, {0.1, 0.05}},
             {xdmf_attribute(r, "/u", "u_sample3_ch1", {3, 1}), xdmf_attribute(r, "/a", "a")});
  const std::string x = slurp("io_scratch/fields.xdmf");
  BOOST_TEST(balanced(x));
  BOOST_TEST(x.find("TopologyType=\"2DCoRectMesh\" Dimensions=\"16 32\"") != std::string::npos);
  BOOST_TEST(x.find("ORIGIN_DXDY") != std::string::npos);
  BOOST_TEST(x.find(">fields.h5:/u<") != std::string::npos);  // relative to the XDMF file
  BOOST_TEST(x.find(">fields.h5:/a<") != std::string::npos);
  BOOST_TEST(x.find("Dimensions=\"4 2 16 32\"") != std::string::npos);
  BOOST_TEST(x.find("3 1 0 0 1 1 1 1 1 1 16 32") != std::string::npos);  // start, stride, count
  BOOST_TEST(x.find("Precision=\"8\" Dimensions=\"16 32\">fields.h5:/a") != std::string::npos);
  BOOST_CHECK_THROW(write_xdmf("io_scratch/bad.xdmf", h5, UniformGrid{{16, 31}}, {xdmf_attribute(r, "/a", "a")}),
                    Error);
  BOOST_CHECK_THROW(
      write_xdmf("io_scratch/bad.xdmf", h5, UniformGrid{{16, 32}}, {xdmf_attribute(r, "/u", "u", {4, 0})}), Error);
}

BOOST_AUTO_TEST_CASE(xdmf_time_series_3d) {
  const fs::path h5 = "io_scratch/series.h5";
  auto f = H5File::create(h5);
  f.write("/w", Tensor<float>({5, 8, 8, 8}));
  f.commit();
  auto r = H5File::open(h5);
  std::vector<XdmfStep> steps;
  for (index_t t = 0; t < 5; ++t) steps.push_back({0.1 * double(t), {xdmf_attribute(r, "/w", "w", {t})}});
  write_xdmf_series("io_scratch/series.xdmf", h5, UniformGrid{{8, 8, 8}}, steps);
  const std::string x = slurp("io_scratch/series.xdmf");
  BOOST_TEST(balanced(x));
  BOOST_TEST(x.find("CollectionType=\"Temporal\"") != std::string::npos);
  BOOST_TEST(count(x, "<Time Value=") == 5);
  BOOST_TEST(x.find("<Time Value=\"0.40000000000000002\"/>") != std::string::npos);
  BOOST_TEST(count(x, "3DCoRectMesh") == 5);
  BOOST_TEST(x.find("ORIGIN_DXDYDZ") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(png_decodes_to_the_right_size_and_colours) {
  Tensor<double> field({16, 24});
  for (index_t j = 0; j < 16; ++j)
    for (index_t i = 0; i < 24; ++i) field(j, i) = double(i);  // increases left to right
  write_png("io_scratch/field.png", field, {.scale = 4, .colorbar = false});
  const auto img = read_png("io_scratch/field.png");
  BOOST_TEST(img.width == 96);
  BOOST_TEST(img.height == 64);
  const auto lo = colormap_rgb(Colormap::viridis, 0.0), hi = colormap_rgb(Colormap::viridis, 1.0);
  BOOST_TEST(img.rgb[0] == lo[0]);  // top-left pixel: minimum
  const std::size_t last = (static_cast<std::size_t>(img.width) - 1) * 3;
  BOOST_TEST(img.rgb[last + 1] == hi[1]);  // top-right: maximum
  write_png("io_scratch/field_bar.png", field, {.vmin = -1, .vmax = 30});
  const auto bar = read_png("io_scratch/field_bar.png");
  BOOST_TEST(bar.width > 256);  // auto scale: the longer side >= 256 px, plus the colour bar
  BOOST_TEST(bar.height >= 16 * 11);
  BOOST_CHECK_THROW(write_png("io_scratch/x.png", Tensor<float>({2, 3, 4})), Error);
}

BOOST_AUTO_TEST_CASE(viridis_is_perceptually_ordered) {
  // Luminance must increase monotonically along the map.
  double prev = -1;
  for (int i = 0; i <= 50; ++i) {
    const auto c = colormap_rgb(Colormap::viridis, i / 50.0);
    const double lum = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    BOOST_TEST(lum > prev);
    prev = lum;
  }
}

BOOST_AUTO_TEST_CASE(line_plot_draws_every_series) {
  PlotSeries a{"tsallis", {0, 1, 2, 3}, {0, 10, 15, 30}, plot_color(0)};
  PlotSeries b{"omega = 1.8", {0, 1, 2, 3}, {0, 5, 25, 26}, plot_color(1)};
  write_line_plot("io_scratch/plot.png", {a, b}, {.title = "cumulative iterations", .width = 400, .height = 300});
  const auto img = read_png("io_scratch/plot.png");
  BOOST_TEST(img.width == 400);
  BOOST_TEST(img.height == 300);
  int seen0 = 0, seen1 = 0;  // pixels in each series' colour
  for (std::size_t p = 0; p + 2 < img.rgb.size(); p += 3) {
    seen0 += img.rgb[p] == a.color[0] && img.rgb[p + 1] == a.color[1] && img.rgb[p + 2] == a.color[2];
    seen1 += img.rgb[p] == b.color[0] && img.rgb[p + 1] == b.color[1] && img.rgb[p + 2] == b.color[2];
  }
  BOOST_TEST(seen0 > 100);
  BOOST_TEST(seen1 > 100);
  BOOST_CHECK_THROW(write_line_plot("io_scratch/bad.png", {}), Error);
  PlotSeries bad{"short", {0, 1}, {0}, plot_color(2)};
  BOOST_CHECK_THROW(write_line_plot("io_scratch/bad.png", {bad}), Error);
  BOOST_CHECK_THROW(write_line_plot("io_scratch/no/dir/plot.png", {a}), Error);
}

BOOST_AUTO_TEST_SUITE_END()
