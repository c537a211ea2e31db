#include <boost/test/unit_test.hpp>
#include <cmath>
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

BOOST_AUTO_TEST_CASE(xdmf_names_virtual_datasets_on_an_x_y_grid) {
  fs::create_directories("io_scratch");
  const fs::path h5 = "io_scratch/fields.h5";
  Tensor<float> u({4, 2, 16, 32});
  for (index_t i = 0; i < u.numel(); ++i) u.data()[i] = float(i);
  auto f = H5File::create(h5);
  f.write("/u", u);
  f.write("/a", Tensor<double>({16, 32}));
  f.commit();
  auto r = H5File::open(h5);
  write_xdmf("io_scratch/fields.xdmf", h5, UniformGrid{{16, 32}, {0, 0}, {0.1, 0.05}},
             {xdmf_attribute(r, "/u", "u_sample3_ch1", {3, 1}), xdmf_attribute(r, "/a", "a")});
  const std::string x = slurp("io_scratch/fields.xdmf");
  BOOST_TEST(balanced(x));
  // A 2-D grid is one z layer, so ParaView puts it in the x-y plane; origin and spacing are (z, y, x).
  BOOST_TEST(x.find("TopologyType=\"3DCoRectMesh\" Dimensions=\"1 16 32\"") != std::string::npos);
  BOOST_TEST(x.find("ORIGIN_DXDYDZ") != std::string::npos);
  BOOST_TEST(x.find("Dimensions=\"3\">1 0.10000000000000001 0.050000000000000003<") != std::string::npos);
  // No hyperslabs: whole virtual datasets of the sidecar, referenced relative to the XDMF file.
  BOOST_TEST(x.find("HyperSlab") == std::string::npos);
  BOOST_TEST(x.find("Precision=\"4\" Dimensions=\"1 16 32\">fields.xdmf.h5:/u/3_1<") != std::string::npos);
  BOOST_TEST(x.find("Precision=\"8\" Dimensions=\"1 16 32\">fields.xdmf.h5:/a/all<") != std::string::npos);
  BOOST_TEST(xdmf_views_path("io_scratch/fields.xdmf") == fs::path("io_scratch/fields.xdmf.h5"));
  // The virtual dataset reads the slice of the data file, which is not copied.
  auto views = H5File::open("io_scratch/fields.xdmf.h5");
  BOOST_TEST(views.attr_string("/", "source") == "fields.h5");
  const auto slice = views.read<float>("/u/3_1");
  BOOST_TEST(slice.shape() == Shape({1, 16, 32}));
  const index_t offset = (3 * 2 + 1) * 16 * 32;
  bool equal = true;
  for (index_t i = 0; i < slice.numel(); ++i) equal = equal && slice.data()[i] == u.data()[offset + i];
  BOOST_TEST(equal);
  BOOST_TEST(fs::file_size("io_scratch/fields.xdmf.h5") < fs::file_size(h5));
  // Without the data file beside it, a view reads NaN, not plausible zeros.
  fs::rename(h5, "io_scratch/fields_moved.h5");
  const auto missing = H5File::open("io_scratch/fields.xdmf.h5").read<float>("/u/3_1");
  fs::rename("io_scratch/fields_moved.h5", h5);
  BOOST_TEST(std::isnan(missing.data()[0]));
  // Names are XML-escaped.
  write_xdmf("io_scratch/escaped.xdmf", h5, UniformGrid{{16, 32}}, {xdmf_attribute(r, "/a", "p & \"q\" <r>")});
  const std::string escaped = slurp("io_scratch/escaped.xdmf");
  BOOST_TEST(balanced(escaped));
  BOOST_TEST(escaped.find("Name=\"p &amp; &quot;q&quot; &lt;r&gt;\"") != std::string::npos);
  // In another folder the data file is named relative to the sidecars, which HDF5 resolves from
  // the virtual dataset's file, not from the working directory.
  fs::create_directories("io_scratch/views");
  write_xdmf("io_scratch/views/fields.xdmf", h5, UniformGrid{{16, 32}}, {xdmf_attribute(r, "/u", "u", {3, 1})});
  BOOST_TEST(slurp("io_scratch/views/fields.xdmf").find(">fields.xdmf.h5:/u/3_1<") != std::string::npos);
  auto moved = H5File::open("io_scratch/views/fields.xdmf.h5");
  BOOST_TEST(moved.attr_string("/", "source") == "../fields.h5");
  BOOST_TEST(moved.read<float>("/u/3_1").data()[5] == u.data()[offset + 5]);
  BOOST_CHECK_THROW(write_xdmf("io_scratch/bad.xdmf", h5, UniformGrid{{16, 31}}, {xdmf_attribute(r, "/a", "a")}),
                    Error);
  BOOST_CHECK_THROW(
      write_xdmf("io_scratch/bad.xdmf", h5, UniformGrid{{16, 32}}, {xdmf_attribute(r, "/u", "u", {4, 0})}), Error);
  BOOST_TEST(!fs::exists("io_scratch/bad.xdmf"));
  BOOST_TEST(!fs::exists("io_scratch/bad.xdmf.h5"));
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
  BOOST_TEST(count(x, "TopologyType=\"3DCoRectMesh\" Dimensions=\"8 8 8\"") == 5);
  BOOST_TEST(x.find(">series.xdmf.h5:/w/4<") != std::string::npos);
  BOOST_TEST(H5File::open("io_scratch/series.xdmf.h5").datasets().size() == 5u);
}

// A data file of 3 samples: a (3, 1, n, n) input and (3, 4, n, n) outputs at 4 snapshot times.
struct SnapshotFile {
  fs::path h5 = "io_scratch/snapshots.h5";
  SnapshotFile() {
    fs::create_directories("io_scratch");
    auto f = H5File::create(h5);
    f.write("/inputs", Tensor<double>({3, 1, 4, 4}));
    f.write("/outputs", Tensor<double>({3, 4, 4, 4}));
    f.commit();
  }
  std::vector<XdmfAttribute> first() const {
    auto r = H5File::open(h5);
    return {xdmf_attribute(r, "/inputs", "w0", {0, 0}), xdmf_attribute(r, "/outputs", "w", {0, 0})};
  }
};

BOOST_FIXTURE_TEST_CASE(xdmf_sample_steps_step_through_every_sample, SnapshotFile) {
  const auto all = xdmf_sample_steps(first());
  BOOST_TEST(all.size() == 3u);
  BOOST_TEST(all[2].time == 2.0);
  BOOST_TEST(all[2].attributes[1].index == (std::vector<index_t>{2, 0}));
  BOOST_TEST(xdmf_sample_steps(first(), 2).size() == 2u);  // e.g. the completed rows only
  BOOST_CHECK_THROW(xdmf_sample_steps(first(), 4), Error);
  BOOST_CHECK_THROW(xdmf_sample_steps({}), Error);
  write_xdmf_series("io_scratch/samples.xdmf", h5, UniformGrid{{4, 4}}, all);
  BOOST_TEST(count(slurp("io_scratch/samples.xdmf"), "<Time Value=") == 3);
}

BOOST_FIXTURE_TEST_CASE(xdmf_snapshot_blocks_hold_one_sample_each, SnapshotFile) {
  const std::vector<double> times{0.25, 0.5, 0.75, 1.0};
  const auto blocks = xdmf_snapshot_blocks(first(), times);
  BOOST_TEST(blocks.size() == 3u);
  BOOST_TEST(blocks[1].name == "sample_1");
  BOOST_TEST(blocks[1].steps.size() == 4u);
  BOOST_TEST(blocks[1].steps[3].time == 1.0);
  BOOST_TEST(blocks[1].steps[3].attributes[0].index == (std::vector<index_t>{1, 0}));  // one channel: held
  BOOST_TEST(blocks[1].steps[3].attributes[1].index == (std::vector<index_t>{1, 3}));  // snapshot 3
  BOOST_CHECK_THROW(xdmf_snapshot_blocks(first(), {0.5, 1.0}), Error);                 // 4 channels are not 2 snapshots
  write_xdmf_blocks("io_scratch/snapshots.xdmf", h5, UniformGrid{{4, 4}}, blocks);
  const std::string x = slurp("io_scratch/snapshots.xdmf");
  BOOST_TEST(balanced(x));
  BOOST_TEST(count(x, "CollectionType=\"Temporal\"") == 3);
  BOOST_TEST(x.find("<Grid Name=\"sample_2\"") != std::string::npos);
  // One virtual dataset per slice shown, however many steps show it: 3 inputs + 3 x 4 outputs.
  BOOST_TEST(H5File::open("io_scratch/snapshots.xdmf.h5").datasets().size() == 15u);
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
