#define BOOST_TEST_MODULE neurops_model_io
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "neurops/core/petsc.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/nn/checkpoint.hpp"
#include "neurops/operators/deeponet.hpp"
#include "neurops/operators/fno.hpp"
#include "neurops/operators/mgno.hpp"
#include "neurops/operators/model_io.hpp"
#include "neurops/operators/model_registry.hpp"

#include "../support/expect_error.hpp"

using namespace neurops;
using namespace neurops::operators;
namespace fs = std::filesystem;

namespace {

struct PetscFixture {
  PetscSession session;
};

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::path("model_io_scratch") / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

FnoConfig fno_config() {
  FnoConfig c;
  c.in_channels = 2;
  c.width = 6;
  c.modes = {3};
  c.layers = 2;
  c.projection_channels = 8;
  c.append_grid = true;
  c.seed = 3;
  return c;
}

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(PetscFixture);

BOOST_AUTO_TEST_CASE(a_saved_field_model_predicts_like_the_original_with_its_normalizers) {
  const auto dir = scratch("fno");
  Rng rng(1);
  const auto train = Tensor<float>::randn({6, 2, 16, 16}, rng), target = Tensor<float>::randn({6, 1, 16, 16}, rng);
  auto in = nn::Normalizer<float>::unit_gaussian(train.view(), false);
  auto out = nn::Normalizer<float>::unit_gaussian(target.view(), true);
  Fno<float> model(fno_config());
  model.set_training_grid({16, 16});
  save_model(dir / "fno.h5", model, in, out);

  auto loaded = load_model<float>(dir / "fno.h5");
  BOOST_TEST(loaded.type() == "FNO2d");
  BOOST_TEST(loaded.in_channels() == 2);
  BOOST_TEST(loaded.out_channels() == 1);
  BOOST_TEST((loaded.grid() == std::vector<index_t>{16, 16}));
  const auto x = Tensor<float>::randn({3, 2, 16, 16}, rng);
  Tensor<float> expected = x;
  in.encode(expected);
  model.eval();
  expected = model.forward(expected);
  out.decode(expected);
  // Two batches: the same function, up to the summation order inside the GEMMs and FFTs.
  const auto y = loaded.predict(x, 2);
  BOOST_TEST((y.vec() - expected.vec()).cwiseAbs().maxCoeff() <= 1e-5f * expected.vec().cwiseAbs().maxCoeff());

  // The same file as a double-precision model: the same function up to float rounding.
  auto as_double = load_model<double>(dir / "fno.h5");
  Tensor<double> xd(x.shape());
  xd.vec() = x.vec().cast<double>();
  const auto yd = as_double.predict(xd);
  BOOST_TEST((yd.vec().cast<float>() - y.vec()).cwiseAbs().maxCoeff() < 1e-4f * (1 + y.vec().cwiseAbs().maxCoeff()));
}

BOOST_AUTO_TEST_CASE(every_library_type_round_trips_through_load_model) {
  const auto dir = scratch("types");
  Rng rng(2);
  MgnoConfig mc;
  mc.width = 4;
  mc.layers = 2;
  mc.pre_smoothing = {1, 1};
  mc.post_smoothing = {1, 0};
  Mgno<float> mgno(mc);
  save_model(dir / "mgno.h5", mgno);
  const auto a = Tensor<float>::randn({2, 1, 8, 8}, rng);
  mgno.eval();
  BOOST_TEST(load_model<float>(dir / "mgno.h5").predict(a).vec() == mgno.forward(a).vec());

  FnoConfig f3;
  f3.dims = 3;
  f3.width = 4;
  f3.modes = {2};
  f3.layers = 1;
  f3.projection_channels = 4;
  Fno<float> fno3(f3);
  save_model(dir / "fno3.h5", fno3);
  BOOST_TEST(load_model<float>(dir / "fno3.h5").type() == "FNO3d");

  DeepOnetConfig dc;
  dc.branch_layers = {5, 6, 4};
  dc.trunk_layers = {1, 6, 4};
  dc.outputs = 2;
  dc.strategy = MultiOutputStrategy::split_both;
  DeepOnet<float> deeponet(dc);
  save_model(dir / "deeponet.h5", deeponet);
  auto loaded = load_model<float>(dir / "deeponet.h5");
  BOOST_TEST((loaded.input_names() == std::vector<std::string>{"branch", "trunk"}));
  const auto u = Tensor<float>::randn({7, 5}, rng);
  const auto grid = Tensor<float>::randn({1, 9, 1}, rng);  // 9 query points shared by the batch
  deeponet.eval();
  const auto y = loaded.predict({u, grid}, 3);
  BOOST_TEST(y.shape() == Shape({7, 9, 2}));
  const auto direct = deeponet.forward({u, grid});
  BOOST_TEST((y.vec() - direct.vec()).cwiseAbs().maxCoeff() <= 1e-5f * (1 + direct.vec().cwiseAbs().maxCoeff()));
}

BOOST_AUTO_TEST_CASE(models_are_configured_from_the_options_database) {
  PetscOptionsSetValue(nullptr, "-test_fno_width", "5");
  PetscOptionsSetValue(nullptr, "-test_fno_modes", "2,3");
  auto model = create_model_from_options<float>("FNO2d", "test_fno_");
  const auto& fno = dynamic_cast<Fno<float>&>(*model);
  BOOST_TEST(fno.config().width == 5);
  BOOST_TEST((fno.config().modes == std::vector<index_t>{2, 3}));
  BOOST_TEST(fno.config().dims == 2);
  PetscOptionsClearValue(nullptr, "-test_fno_width");
  PetscOptionsClearValue(nullptr, "-test_fno_modes");
  const auto names = model_type_names();
  for (const char* t : {"FNO2d", "FNO3d", "MgNO2d", "DeepONet", "PODDeepONet"})
    BOOST_TEST((std::find(names.begin(), names.end(), t) != names.end()), t);
}

BOOST_AUTO_TEST_CASE(bad_files_and_inputs_name_the_file_and_both_values) {
  const auto dir = scratch("bad");
  Fno<float> model(fno_config());
  Rng rng(4);
  auto in = nn::Normalizer<float>::unit_gaussian(Tensor<float>::randn({4, 2, 16, 16}, rng).view(), false);
  save_model(dir / "fno.h5", model, in, nn::Normalizer<float>());
  auto copy = [&](const std::string& name, auto&& change) {
    fs::copy_file(dir / "fno.h5", dir / name, fs::copy_options::overwrite_existing);
    auto f = io::H5File::open(dir / name, io::FileMode::read_write);
    change(f);
    return dir / name;
  };
  const auto unknown = copy("unknown.h5", [](io::H5File& f) { f.set_attr("/", "model_type", std::string("UNet2d")); });
  expect_error([&] { load_model<float>(unknown); }, {"unknown.h5", "UNet2d", "FNO2d", "MgNO2d"});
  const auto newer = copy("newer.h5", [](io::H5File& f) { f.set_attr("/", "format_version", std::int64_t(99)); });
  expect_error([&] { load_model<float>(newer); }, {"newer.h5", "99", "newer neurops"});
  const auto no_norm = copy("no_normalizers.h5", [](io::H5File& f) { f.remove("/normalizers"); });
  expect_error([&] { load_model<float>(no_norm); }, {"no_normalizers.h5", "/normalizers/input"});
  expect_error([&] { load_model<float>(dir / "missing.h5"); }, {"missing.h5"});

  auto loaded = load_model<float>(dir / "fno.h5");
  expect_error([&] { loaded.predict(Tensor<float>({1, 3, 16, 16})); }, {"fno.h5", "(N, 2, grid...)", "(1, 3, 16, 16)"});
  expect_error([&] { loaded.predict(Tensor<float>({2, 16, 16})); }, {"fno.h5", "(2, 16, 16)"});
  // A pointwise normalizer ties the model to its training grid.
  expect_error([&] { loaded.predict(Tensor<float>({1, 2, 32, 32})); }, {"fno.h5", "(2, 16, 16)", "(2, 32, 32)"});
  const Tensor<float> field({1, 2, 16, 16}), extra({1, 2});
  expect_error([&] { loaded.predict({field, extra}); }, {"fno.h5", "expected 1 inputs (x), found 2"});
}
