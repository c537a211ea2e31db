#define BOOST_TEST_MODULE neurops_fno
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>

#include "neurops/io/hdf5.hpp"
#include "neurops/nn/gradcheck.hpp"
#include "neurops/nn/spectral_init.hpp"
#include "neurops/operators/fno.hpp"

using namespace neurops;
using namespace neurops::operators;

BOOST_AUTO_TEST_CASE(fno2d_gradients_with_grid_and_padding) {
  FnoConfig c;
  c.dims = 2;
  c.in_channels = 2;
  c.out_channels = 1;
  c.width = 4;
  c.modes = {3, 2};
  c.layers = 2;
  c.projection_channels = 6;
  c.append_grid = true;
  c.domain_padding = 2;
  c.seed = 3;
  Fno<double> fno(c);
  Rng rng(1);
  const auto x = Tensor<double>::randn({2, 2, 8, 6}, rng);
  nn::GradCheckOptions o;
  o.eps = 1e-4;  // the loss passes through FFTs: a larger step keeps rounding noise below the check
  const auto r = nn::gradcheck(fno, x, o);
  BOOST_TEST_MESSAGE(r.summary());
  BOOST_TEST(r.max_error() < 1e-5, r.summary());
}

BOOST_AUTO_TEST_CASE(fno3d_gradients) {
  FnoConfig c;
  c.dims = 3;
  c.in_channels = 1;
  c.out_channels = 2;
  c.width = 3;
  c.modes = {2};
  c.layers = 2;
  c.projection_channels = 4;
  Fno<double> fno(c);
  Rng rng(2);
  // The step and the tolerance from the measured finite-difference error (worst of 24 entries per
  // tensor; -O3, -O2, and -O2 with ASan/UBSan): at h = 1e-4 it is rounding on an entry with a small
  // gradient (blocks.1.spectral.weight2) and depends on the build: 3.8e-6 / 3.8e-6 / 8.9e-6 (the audit
  // saw 1.40e-5 under the sanitizers against the former tolerance 1e-5); at h = 1e-3 it is the
  // O(h^2) truncation of GELU, 5.27e-6 in all three builds (4.7e-5 at 3e-3, 2e-4 at 1e-5). So h = 1e-3
  // and a tolerance of 4x that; a wrong gradient gives O(1). The adjoint tests keep their own strict
  // bound (measured 1.4e-9 and 5.8e-10, 9.9e-10 under the sanitizers).
  nn::GradCheckOptions o;
  o.eps = 1e-3;
  const auto r = nn::gradcheck(fno, Tensor<double>::randn({1, 1, 4, 4, 6}, rng), o);
  BOOST_TEST(r.max_error() < 2e-5, r.summary());
  BOOST_TEST(std::max(r.adjoint_input_error, r.adjoint_parameter_error) < 1e-8, r.summary());
}

BOOST_AUTO_TEST_CASE(names_counts_and_resolution_change) {
  FnoConfig c;
  c.in_channels = 3;
  c.width = 8;
  c.modes = {4};
  c.layers = 3;
  c.projection_channels = 16;
  Fno<float> fno(c);
  const auto params = fno.named_parameters();
  BOOST_TEST(params.front().name == "lifting.weight");
  BOOST_TEST(fno.parameter("blocks.2.spectral.weight1").value.shape() == Shape({8, 8, 4, 4, 2}));
  BOOST_TEST(fno.submodule("blocks.1.skip").type_name() == "Conv2d");
  // lifting 3*8+8, 3 blocks of (2 corners * 8*8*16*2 + 8*8+8), projection 8*16+16 + 16*1+1
  const index_t expected = (3 * 8 + 8) + 3 * (2 * 8 * 8 * 16 * 2 + 8 * 8 + 8) + (8 * 16 + 16) + (16 + 1);
  BOOST_TEST(fno.parameter_count() == expected);
  fno.eval();
  Rng rng(3);
  BOOST_TEST(fno.forward(Tensor<float>::randn({2, 3, 16, 16}, rng)).shape() == Shape({2, 1, 16, 16}));
  BOOST_TEST(fno.forward(Tensor<float>::randn({1, 3, 32, 24}, rng)).shape() == Shape({1, 1, 32, 24}));
}

BOOST_AUTO_TEST_CASE(bad_input_names_the_model_and_shapes) {
  FnoConfig c;
  c.in_channels = 3;
  c.modes = {6};
  c.width = 4;
  Fno<float> fno(c);
  try {
    fno.forward(Tensor<float>({1, 2, 16, 16}));
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    const std::string m = e.what();
    BOOST_TEST(m.find("FNO2d") != std::string::npos);
    BOOST_TEST(m.find("(1, 2, 16, 16)") != std::string::npos);
  }
  try {
    fno.forward(Tensor<float>({1, 3, 8, 8}));  // grid smaller than 2*modes
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    const std::string m = e.what();
    BOOST_TEST_MESSAGE(m);
    BOOST_TEST(m.find("blocks.0.spectral") != std::string::npos);
  }
  c.dims = 4;
  BOOST_CHECK_THROW(Fno<float>{c}, Error);
}

namespace {

double mean_square(const Tensor<double>& x) { return x.vec().squaredNorm() / double(x.numel()); }

/// Output variance of each spectral layer of an FNO built from `c` for a white unit-variance input
/// on the training grid (init_grid).
std::vector<double> spectral_output_variances(const FnoConfig& c) {
  Fno<double> fno(c);
  Rng rng(11);
  const auto x = Tensor<double>::randn({2, c.width, c.init_grid[0], c.init_grid[0]}, rng);
  std::vector<double> vars;
  for (index_t l = 0; l < c.layers; ++l) {
    auto& layer = dynamic_cast<nn::SpectralConv<double>&>(fno.submodule("blocks." + std::to_string(l) + ".spectral"));
    layer.eval();
    vars.push_back(mean_square(layer.forward(x)));
  }
  return vars;
}

}  // namespace

BOOST_AUTO_TEST_CASE(vp_init_keeps_the_variance_of_the_spectral_layers_where_naive_collapses) {
  // The reference FNO setting (width 32, 12 modes, 64^2 grid); a white unit-variance input keeps
  // unit variance through a VP layer although only 4 * 12 * 12 of 64 * 64 modes pass.
  FnoConfig c;
  c.width = 32;
  c.modes = {12};
  c.layers = 4;
  c.init_grid = {64};
  c.seed = 4;
  c.init = FnoInit::vp;
  for (double v : spectral_output_variances(c)) {
    BOOST_TEST_MESSAGE("vp: spectral output variance " << v);
    BOOST_TEST(v > 0.5);
    BOOST_TEST(v < 2.0);
  }
  c.init = FnoInit::naive;
  for (double v : spectral_output_variances(c)) {
    BOOST_TEST_MESSAGE("naive: spectral output variance " << v);
    BOOST_TEST(v < 1e-3);
  }
}

BOOST_AUTO_TEST_CASE(vp_init_scales_only_the_spectral_weights) {
  FnoConfig c;
  c.width = 8;
  c.modes = {4};
  c.layers = 2;
  c.init_grid = {16};
  c.domain_padding = 2;
  Fno<double> naive(c);
  c.init = FnoInit::vp;
  Fno<double> vp(c);
  const auto& w = vp.parameter("blocks.1.spectral.weight0").value;
  const double sd = std::sqrt(mean_square(w));
  const double expected = nn::vp_sigma_fno(18 * 18, 8, {4, 4}, nn::SpectralTransform::dft);  // padded grid
  BOOST_TEST(std::abs(sd / expected - 1) < 0.1, "sd " << sd << ", expected " << expected);
  BOOST_TEST((naive.parameter("lifting.weight").value.vec() == vp.parameter("lifting.weight").value.vec()));
  BOOST_TEST((naive.parameter("blocks.1.skip.weight").value.vec() == vp.parameter("blocks.1.skip.weight").value.vec()));
}

BOOST_AUTO_TEST_CASE(the_init_is_saved_and_configs_without_it_load_with_the_naive_default) {
  namespace fs = std::filesystem;
  const fs::path dir = "fno_init_scratch";
  fs::remove_all(dir);
  fs::create_directories(dir);
  FnoConfig c;
  c.init = FnoInit::vp;
  c.init_grid = {48, 40};
  {
    auto f = io::H5File::create(dir / "vp.h5");
    c.save(f, "/config");
    f.commit();
  }
  const FnoConfig back = FnoConfig::load(io::H5File::open(dir / "vp.h5"), "/config");
  BOOST_TEST((back.init == FnoInit::vp));
  BOOST_TEST(back.init_grid == (std::vector<index_t>{48, 40}));
  BOOST_TEST((back == c));
  {
    // A configuration written before the initialisation was saved: no init, no init_grid.
    const FnoConfig d;
    auto f = io::H5File::create(dir / "old.h5");
    f.create_group("/config");
    f.set_attr("/config", "model", std::string("FNO"));
    f.set_attr("/config", "dims", std::int64_t(d.dims));
    f.set_attr("/config", "in_channels", d.in_channels);
    f.set_attr("/config", "out_channels", d.out_channels);
    f.set_attr("/config", "width", d.width);
    f.set_attr("/config", "modes", std::vector<std::int64_t>(d.modes.begin(), d.modes.end()));
    f.set_attr("/config", "layers", d.layers);
    f.set_attr("/config", "projection_channels", d.projection_channels);
    f.set_attr("/config", "append_grid", std::int64_t(d.append_grid));
    f.set_attr("/config", "domain_padding", d.domain_padding);
    f.set_attr("/config", "activation", nn::to_string(d.activation));
    f.set_attr("/config", "seed", std::int64_t(d.seed));
    f.commit();
  }
  const auto old_file = io::H5File::open(dir / "old.h5");
  BOOST_TEST(!old_file.has_attr("/config", "init"));
  const FnoConfig old = FnoConfig::load(old_file, "/config");
  BOOST_TEST((old.init == FnoInit::naive));
  BOOST_TEST((old == FnoConfig()));
  BOOST_CHECK_THROW(fno_init_from_string("kaiming"), Error);
}
