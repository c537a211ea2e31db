#define BOOST_TEST_MODULE neurops_deeponet
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>

#include "neurops/io/hdf5.hpp"
#include "neurops/nn/checkpoint.hpp"
#include "neurops/nn/gradcheck.hpp"
#include "neurops/operators/deeponet.hpp"
#include "neurops/operators/mgno.hpp"

using namespace neurops;
using namespace neurops::operators;

namespace {

DeepOnetConfig small_config(index_t outputs = 1, MultiOutputStrategy strategy = MultiOutputStrategy::independent,
                            bool stacked = false) {
  DeepOnetConfig c;
  c.branch_layers = {5, 6, 4};
  c.trunk_layers = {2, 5, 4};
  c.branch_activation = nn::ActivationKind::Tanh;  // smooth activations: central differences stay accurate
  c.trunk_activation = nn::ActivationKind::GELU;
  c.outputs = outputs;
  c.strategy = strategy;
  c.stacked = stacked;
  c.seed = 7;
  return c;
}

/// Gives every parameter (b0 included, which DeepXDE starts at zero) a non-trivial value.
void randomise_bias(DeepOnet<double>& m) {
  Rng rng(99);
  for (auto& p : m.named_parameters())
    if (p.name == "bias")
      for (index_t i = 0; i < p.param->value.numel(); ++i) p.param->value[i] = rng.normal();
}

void check(nn::Model<double>& m, const nn::Inputs<double>& x, double tol = 1e-6) {
  nn::GradCheckOptions o;
  o.eps = 1e-5;
  const auto r = nn::gradcheck(m, x, o);
  BOOST_TEST_MESSAGE(r.summary());
  BOOST_TEST(r.max_error() < tol, r.summary());
}

}  // namespace

BOOST_AUTO_TEST_CASE(triples_gradients_every_variant) {
  Rng rng(1);
  const auto branch = Tensor<double>::randn({6, 5}, rng);  // 5 sensors
  const auto trunk = Tensor<double>::randn({6, 2}, rng);   // one 2-D query point per row
  for (bool stacked : {false, true})
    for (auto [k, s] : {std::pair{index_t(1), MultiOutputStrategy::independent},
                        std::pair{index_t(2), MultiOutputStrategy::independent},
                        std::pair{index_t(3), MultiOutputStrategy::split_both},
                        std::pair{index_t(2), MultiOutputStrategy::split_branch},
                        std::pair{index_t(2), MultiOutputStrategy::split_trunk}}) {
      BOOST_TEST_CONTEXT("stacked " << stacked << ", " << k << " outputs, " << to_string(s)) {
        DeepOnet<double> m(small_config(k, s, stacked));
        randomise_bias(m);
        BOOST_TEST(m.forward({branch, trunk}).shape() == Shape({6, k}));
        check(m, {branch, trunk});
      }
    }
}

BOOST_AUTO_TEST_CASE(cartesian_gradients_and_agreement_with_triples) {
  Rng rng(2);
  const auto branch = Tensor<double>::randn({3, 5}, rng);
  const auto trunk = Tensor<double>::randn({4, 2}, rng);
  Tensor<double> shared = trunk;
  shared.reshape({1, 4, 2});  // the 4 query points shared by the batch
  for (bool stacked : {false, true})
    for (auto [k, s] : {std::pair{index_t(1), MultiOutputStrategy::independent},
                        std::pair{index_t(2), MultiOutputStrategy::independent},
                        std::pair{index_t(2), MultiOutputStrategy::split_both},
                        std::pair{index_t(3), MultiOutputStrategy::split_trunk}}) {
      BOOST_TEST_CONTEXT("stacked " << stacked << ", " << k << " outputs, " << to_string(s)) {
        DeepOnet<double> m(small_config(k, s, stacked));
        randomise_bias(m);
        check(m, {branch, shared});
        // One GEMM over the shared grid equals the triples form on every (function, point) pair.
        m.eval();
        const auto y = m.forward({branch, shared});
        BOOST_TEST(y.shape() == (k == 1 ? Shape({3, 4}) : Shape({3, 4, k})));
        Tensor<double> b({12, 5}), t({12, 2});
        for (index_t i = 0; i < 3; ++i)
          for (index_t q = 0; q < 4; ++q) {
            b.matrix().row(i * 4 + q) = branch.matrix().row(i);
            t.matrix().row(i * 4 + q) = trunk.matrix().row(q);
          }
        const auto yt = m.forward({b, t});
        BOOST_TEST((yt.vec() - y.vec()).cwiseAbs().maxCoeff() < 1e-12);
        m.train();
      }
    }
}

BOOST_AUTO_TEST_CASE(deepxde_initialisation_and_trunk_activation) {
  DeepOnetConfig c;  // [100, 40, 40] nets as in the reference setup
  c.trunk_activation = nn::ActivationKind::ReLU;
  DeepOnet<float> m(c);
  double sum2 = 0;
  index_t n = 0;
  for (auto& p : m.named_parameters()) {
    if (p.name.find("bias") != std::string::npos) {
      BOOST_TEST(p.param->value.vec().cwiseAbs().maxCoeff() == 0.0f, p.name);
    } else if (p.name == "branch.0.0.weight") {
      sum2 = p.param->value.vec().squaredNorm();
      n = p.param->value.numel();
    }
  }
  // Glorot normal on (40, 100): variance 2 / (100 + 40).
  BOOST_TEST(std::abs(sum2 / double(n) - 2.0 / 140.0) < 0.15 * 2.0 / 140.0);
  // ReLU after the trunk's last layer: every trunk output is >= 0.
  Rng rng(3);
  m.eval();
  const auto u = Tensor<float>::randn({50, 100}, rng), y = Tensor<float>::randn({50, 1}, rng);
  (void)m.forward({u, y});
  BOOST_TEST(m.parameter_count() == (100 * 40 + 40 + 40 * 40 + 40) + (1 * 40 + 40 + 40 * 40 + 40) + 1);
}

BOOST_AUTO_TEST_CASE(pod_basis_reproduces_a_low_rank_family) {
  // Outputs in the span of three grid functions: three POD modes capture all the variance, and a
  // branch output equal to the POD coefficients reproduces them.
  const index_t n = 40, P = 30;
  Rng rng(4);
  Tensor<double> y({n, P});
  for (index_t i = 0; i < n; ++i) {
    const double a = rng.normal(), b = rng.normal(), c = rng.normal();
    for (index_t q = 0; q < P; ++q) {
      const double x = double(q) / (P - 1);
      y.matrix()(i, q) = 1.0 + a * std::sin(M_PI * x) + b * std::sin(2 * M_PI * x) + 0.3 * c * x * x;
    }
  }
  DeepOnetConfig c = small_config();
  c.pod = true;
  c.branch_layers = {5, 6, 3};
  c.trunk_layers = {1};
  DeepOnet<double> m(c);
  const double captured = m.set_pod_basis(y);
  BOOST_TEST(captured > 1 - 1e-10);
  BOOST_TEST(m.config().pod_points == P);
  BOOST_TEST(m.parameter("pod_basis").trainable == false);
  Rng r2(5);
  const auto branch = Tensor<double>::randn({3, 5}, r2);
  const auto grid = Tensor<double>({1, P, 1});
  check(m, {branch, grid});
  const auto dx = m.backward(Tensor<double>({3, P}, 1.0));
  BOOST_TEST(dx[1].shape() == grid.shape());
  BOOST_TEST(dx[1].vec().cwiseAbs().maxCoeff() == 0.0);  // the POD trunk input only fixes P
  try {
    const Tensor<double> other_grid({1, P + 1, 1});
    m.forward({branch, other_grid});
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("31 query points") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(checkpoint_round_trip_and_wrong_model) {
  const auto dir = std::filesystem::temp_directory_path() / "neurops_test_deeponet";
  std::filesystem::create_directories(dir);
  DeepOnet<float> m(small_config(2, MultiOutputStrategy::split_both, true));
  for (auto& p : m.named_parameters()) p.param->value.vec().array() += 0.25f;
  nn::CheckpointContents<float> c;
  c.model = &m;
  nn::save_checkpoint(dir / "deeponet.h5", c);

  auto file = io::H5File::open(dir / "deeponet.h5", io::FileMode::read_only);
  const DeepOnetConfig loaded = DeepOnetConfig::load(file, "/config");
  BOOST_TEST((loaded == m.config()));
  DeepOnet<float> restored(loaded);
  nn::CheckpointContents<float> r;
  r.model = &restored;
  nn::load_checkpoint(dir / "deeponet.h5", r);
  Rng rng(6);
  const auto u = Tensor<float>::randn({4, 5}, rng), y = Tensor<float>::randn({4, 2}, rng);
  m.eval();
  restored.eval();
  BOOST_TEST((m.forward({u, y}).vec() - restored.forward({u, y}).vec()).cwiseAbs().maxCoeff() == 0.0f);

  // The DeepONet checkpoint is not an MgNO: both readers name what they found.
  try {
    (void)MgnoConfig::load(file, "/config");
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("holds a DeepONet model, expected MgNO") != std::string::npos, e.what());
  }
  Mgno<float> mgno(MgnoConfig{});
  nn::CheckpointContents<float> wrong;
  wrong.model = &mgno;
  BOOST_CHECK_THROW(nn::load_checkpoint(dir / "deeponet.h5", wrong), Error);
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(bad_input_names_both_sizes) {
  DeepOnet<double> m(small_config());
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
  const Tensor<double> b4({3, 4}), b5({3, 5}), t2({3, 2}), t3({3, 3}), grid1({1, 8, 1}), grid_batched({2, 8, 2});
  expect([&] { m.forward({b4, t2}); }, "4 sensor values", "takes 5 sensors");
  expect([&] { m.forward({b5, t3}); }, "have 3 coordinates", "query points of dimension 2");
  expect([&] { m.forward({b5, grid1}); }, "have 1 coordinates", "dimension 2");
  expect([&] { m.forward({b5, grid_batched}); }, "(1, P, d)", "(2, 8, 2)");
  expect([&] { m.forward(Tensor<double>({3, 9})); }, "expected 2 inputs (branch, trunk)", "found 1");
  DeepOnetConfig bad = small_config();
  bad.trunk_layers = {2, 5, 3};
  expect([&] { DeepOnet<double> x(bad); }, "[5, 6, 4]", "[2, 5, 3]");
}

BOOST_AUTO_TEST_CASE(training_restores_the_best_step) {
  // Antiderivative of u(x) = a + b x at query y: a y + b y^2 / 2, u sampled at 5 sensors on [0, 1].
  Rng rng(8);
  auto make = [&](index_t n) {
    nn::OperatorTriples<double> d;
    d.branch = Tensor<double>({n, 5});
    d.trunk = Tensor<double>({n, 1});
    d.values = Tensor<double>({n, 1});
    for (index_t i = 0; i < n; ++i) {
      const double a = rng.normal(), b = rng.normal(), y = rng.uniform();
      for (index_t s = 0; s < 5; ++s) d.branch.matrix()(i, s) = a + b * s / 4.0;
      d.trunk[i] = y;
      d.values[i] = a * y + b * y * y / 2;
    }
    return d;
  };
  const auto train = make(200), test = make(100);
  DeepOnetConfig c;
  c.branch_layers = {5, 20, 10};
  c.trunk_layers = {1, 20, 10};
  c.seed = 1;
  DeepOnet<double> m(c);
  const double before = deeponet_mse(m, test);
  DeepOnetTrainingOptions o;
  o.iterations = 600;
  o.batch_size = 50;
  o.display_every = 100;
  o.verbose = false;
  const auto report = train_deeponet(m, train, test, o);
  BOOST_TEST(report.steps.size() == 6u);
  BOOST_TEST(report.best_test_loss < 0.05 * before, "before " << before << ", after " << report.best_test_loss);
  // The parameters of the best step are restored.
  BOOST_TEST(std::abs(deeponet_mse(m, train) - report.best_train_loss) < 1e-12 * (1 + report.best_train_loss));
  // Same seed, same result.
  DeepOnet<double> m2(c);
  const auto report2 = train_deeponet(m2, train, test, o);
  BOOST_TEST(report2.best_train_loss == report.best_train_loss);
}
