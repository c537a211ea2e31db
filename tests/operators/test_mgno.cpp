#define BOOST_TEST_MODULE neurops_mgno
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>

#include "neurops/io/hdf5.hpp"
#include "neurops/nn/checkpoint.hpp"
#include "neurops/nn/data.hpp"
#include "neurops/nn/gradcheck.hpp"
#include "neurops/nn/loss.hpp"
#include "neurops/nn/optim.hpp"
#include "neurops/operators/fno.hpp"
#include "neurops/operators/mgno.hpp"

using namespace neurops;
using namespace neurops::operators;

namespace {

MgnoConfig small_config() {
  MgnoConfig c;
  c.in_channels = 2;
  c.out_channels = 2;
  c.width = 3;
  c.layers = 2;
  c.pre_smoothing = {2, 1, 2};
  c.post_smoothing = {1, 1, 0};
  c.seed = 5;
  return c;
}

void check(nn::Model<double>& m, const Tensor<double>& x) {
  nn::GradCheckOptions o;
  o.eps = 1e-6;
  o.entries_per_tensor = 4;  // dozens of kernels: a few entries each keep the check fast
  const auto r = nn::gradcheck(m, x, o);
  BOOST_TEST_MESSAGE(r.summary());
  BOOST_TEST(r.max_error() < 1e-5, r.summary());
}

}  // namespace

BOOST_AUTO_TEST_CASE(gradients_in_every_padding_mode) {
  Rng rng(1);
  const auto x = Tensor<double>::randn({2, 2, 8, 12}, rng);
  for (auto [mode, residual] :
       {std::pair{nn::PaddingMode::Zeros, false}, std::pair{nn::PaddingMode::Zeros, true},
        std::pair{nn::PaddingMode::Circular, true}, std::pair{nn::PaddingMode::Reflect, false}}) {
    BOOST_TEST_CONTEXT(nn::to_string(mode) << ", use_residual " << residual) {
      MgnoConfig c = small_config();
      c.padding_mode = mode;
      c.use_residual = residual;
      Mgno<double> m(c);
      check(m, x);
    }
  }
}

BOOST_AUTO_TEST_CASE(vcycle_is_linear_and_has_the_reference_structure) {
  MgnoConfig c = small_config();
  c.use_residual = true;
  Rng rng(2);
  MgVCycle<double> v(c, 2, rng);
  // Linear in f: V(a f + b g) = a V(f) + b V(g).
  const auto f = Tensor<double>::randn({1, 2, 8, 8}, rng), g = Tensor<double>::randn({1, 2, 8, 8}, rng);
  Tensor<double> h = f;
  h.vec() = 2.0 * f.vec() - 3.0 * g.vec();
  v.eval();
  const auto vf = v.forward(f), vg = v.forward(g), vh = v.forward(h);
  BOOST_TEST((vh.vec() - (2.0 * vf.vec() - 3.0 * vg.vec())).cwiseAbs().maxCoeff() < 1e-12);
  // Level 0 starts with u = S f (no A), every other step has its own A and S; transfers hold
  // Pi, R, the residual A and the 4x4 transposed prolongation.
  BOOST_TEST(v.submodule("levels.0.pre.0").named_parameters().size() == 1u);
  BOOST_TEST(v.parameter("levels.0.pre.1.A.weight").value.shape() == Shape({2, 3, 3, 3}));
  BOOST_TEST(v.parameter("levels.0.pre.1.S.weight").value.shape() == Shape({3, 2, 3, 3}));
  BOOST_TEST(v.parameter("levels.1.post.0.S.weight").value.shape() == Shape({3, 2, 3, 3}));
  BOOST_TEST(v.parameter("transfers.0.Pi.weight").value.shape() == Shape({3, 3, 3, 3}));
  BOOST_TEST(v.parameter("transfers.1.R.weight").value.shape() == Shape({2, 2, 3, 3}));
  BOOST_TEST(v.parameter("transfers.1.A.weight").value.shape() == Shape({2, 3, 3, 3}));
  BOOST_TEST(v.parameter("transfers.1.P.weight").value.shape() == Shape({3, 3, 4, 4}));
  // 3x3 kernels: 9 u f each for S and A (7 smoothing steps, one without A), Pi 9 u^2, R 9 f^2, A 9 u f
  // and P 16 u^2 per transfer.
  const index_t u = 3, fc = 2;
  BOOST_TEST(v.parameter_count() == 9 * u * fc * (7 * 2 - 1) + 2 * (9 * u * u + 9 * fc * fc + 9 * u * fc + 16 * u * u));
}

BOOST_AUTO_TEST_CASE(model_parameter_count_matches_the_reference_formula) {
  // MgNO_DC with 1 input channel, width 24, 4 layers, [[1,0]x5, [2,0]]: 572,661 parameters.
  MgnoConfig c;
  c.width = 24;
  c.layers = 4;
  c.pre_smoothing = {1, 1, 1, 1, 1, 2};
  c.post_smoothing = {0, 0, 0, 0, 0, 0};
  Mgno<float> m(c);
  BOOST_TEST(m.parameter_count() == 572661);
}

BOOST_AUTO_TEST_CASE(checkpoint_round_trip_and_other_model_type) {
  const auto dir = std::filesystem::temp_directory_path() / "neurops_test_mgno";
  std::filesystem::create_directories(dir);
  Mgno<float> m(small_config());
  nn::CheckpointContents<float> c;
  c.model = &m;
  nn::save_checkpoint(dir / "mgno.h5", c);
  {
    auto file = io::H5File::open(dir / "mgno.h5");
    const auto loaded = MgnoConfig::load(file, "/config");
    BOOST_TEST((loaded == m.config()));
    Mgno<float> restored(loaded);
    nn::CheckpointContents<float> r;
    r.model = &restored;
    nn::load_checkpoint(dir / "mgno.h5", r);
    Rng rng(3);
    const auto x = Tensor<float>::randn({1, 2, 16, 8}, rng);
    m.eval();
    restored.eval();
    BOOST_TEST((m.forward(x).vec() - restored.forward(x).vec()).cwiseAbs().maxCoeff() == 0.0f);
  }
  // An FNO checkpoint is refused by the MgNO reader and by load_checkpoint, naming the model found.
  FnoConfig fc;
  fc.width = 4;
  fc.modes = {2};
  Fno<float> fno(fc);
  nn::CheckpointContents<float> fcp;
  fcp.model = &fno;
  nn::save_checkpoint(dir / "fno.h5", fcp);
  try {
    auto file = io::H5File::open(dir / "fno.h5");
    (void)MgnoConfig::load(file, "/config");
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("holds a FNO model, expected MgNO") != std::string::npos, e.what());
  }
  nn::CheckpointContents<float> wrong;
  wrong.model = &m;
  try {
    nn::load_checkpoint(dir / "fno.h5", wrong);
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("FNO2d") != std::string::npos, e.what());
  }
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(bad_grids_and_configurations) {
  Mgno<float> m(small_config());  // 3 levels: extents divisible by 4, at least 8
  auto expect = [](auto&& f, const std::string& a, const std::string& b) {
    try {
      f();
      BOOST_FAIL("no error");
    } catch (const Error& e) {
      const std::string msg = e.what();
      BOOST_TEST(msg.find(a) != std::string::npos, msg);
      BOOST_TEST(msg.find(b) != std::string::npos, msg);
    }
  };
  expect([&] { m.forward(Tensor<float>({1, 2, 4, 4})); }, "grid 4 x 4", "3 levels");
  expect([&] { m.forward(Tensor<float>({1, 2, 10, 8})); }, "grid 10 x 8", "2^(levels-1) = 4");
  expect([&] { m.forward(Tensor<float>({1, 3, 8, 8})); }, "(N, 2, H, W)", "(1, 3, 8, 8)");
  MgnoConfig bad = small_config();
  bad.post_smoothing = {0, 0, 1};
  expect([&] { Mgno<float> x(bad); }, "coarsest level", "[0, 0, 1]");
  bad = small_config();
  bad.post_smoothing = {0, 0};
  expect([&] { Mgno<float> x(bad); }, "[2, 1, 2]", "[0, 0]");
}

BOOST_AUTO_TEST_CASE(trained_at_64_runs_accurately_at_128) {
  // A smooth problem: f = sum of low sine modes vanishing on the boundary, target -Laplacian^{-1}-like
  // smoothing replaced by a pointwise map u = f + 0.5 f^2 that has the same meaning on every grid.
  auto make = [](index_t n, index_t count, std::uint64_t seed) {
    Rng rng(seed);
    nn::FieldDataset<float> d;
    d.inputs = Tensor<float>({count, 1, n, n});
    d.targets = Tensor<float>({count, 1, n, n});
    for (index_t s = 0; s < count; ++s) {
      double c[3][3];
      for (auto& row : c)
        for (double& v : row) v = rng.normal() / 3.0;
      for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < n; ++j) {
          const double y = (i + 0.5) / n, x = (j + 0.5) / n;
          double f = 0;
          for (int k = 0; k < 3; ++k)
            for (int l = 0; l < 3; ++l) f += c[k][l] * std::sin(M_PI * (k + 1) * x) * std::sin(M_PI * (l + 1) * y);
          d.inputs.data()[(s * n + i) * n + j] = float(f);
          d.targets.data()[(s * n + i) * n + j] = float(f + 0.5 * f * f);
        }
    }
    return d;
  };
  MgnoConfig c;
  c.width = 6;
  c.layers = 2;
  c.pre_smoothing = {1, 1, 1};
  c.post_smoothing = {0, 0, 0};
  c.seed = 2;
  Mgno<float> m(c);
  const auto train = make(64, 8, 1), test64 = make(64, 4, 2), test128 = make(128, 4, 2);
  nn::Adam<float> adam(m, {.lr = 3e-3});
  nn::LpLoss<float> rel(2);
  Tensor<float> grad;
  const double initial = rel(m.forward(test64.inputs), test64.targets);
  for (int it = 0; it < 150; ++it) {
    m.train();
    rel.evaluate(m.forward(train.inputs), train.targets, &grad);
    m.backward(grad);
    adam.step();
    adam.zero_grad();
  }
  m.eval();
  const double e64 = rel(m.forward(test64.inputs), test64.targets);
  const double e128 = rel(m.forward(test128.inputs), test128.targets);
  BOOST_TEST_MESSAGE("relative L2: initial " << initial << ", 64^2 " << e64 << ", 128^2 " << e128);
  BOOST_TEST(e64 < 0.1 * initial);
  BOOST_TEST(e64 < 0.08);
  BOOST_TEST(e128 < 0.1);
  BOOST_TEST(e128 < 1.5 * e64 + 0.01);
}
