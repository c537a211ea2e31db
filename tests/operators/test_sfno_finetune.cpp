#define BOOST_TEST_MODULE neurops_sfno_finetune
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <limits>

#include "neurops/core/random.hpp"
#include "neurops/nn/trajectory_error.hpp"
#include "neurops/operators/fno.hpp"
#include "neurops/operators/model_io.hpp"
#include "neurops/operators/sfno.hpp"
#include "neurops/operators/sfno_finetune.hpp"

#include "../support/expect_error.hpp"

using namespace neurops;
using namespace neurops::operators;
namespace fs = std::filesystem;

namespace {

/// A small SFNO: 6 input frames, 4 output frames, modes (3, 2, 3), refined on an 8 x 8 grid.
SfnoConfig small_config() {
  SfnoConfig c;
  c.modes_x = 3;
  c.modes_y = 2;
  c.modes_t = 3;
  c.width = 4;
  c.layers = 2;
  c.input_steps = 6;
  c.latent_steps = 5;
  c.output_steps = 4;
  c.channel_expansion = 2;
  c.seed = 7;
  return c;
}

/// Trained biases are zero at construction: random ones make the copy (and its delta) visible.
void random_biases(Sfno<double>& m, std::uint64_t seed) {
  Rng rng(seed);
  nn::SpectralConv<double>& conv = m.output_layer().conv();
  for (int c = 0; c < conv.corners(); ++c)
    for (auto& v : conv.spectral_bias(c).value) v = rng.uniform(-1, 1);
}

Tensor<double> smooth_frames(index_t batch, index_t frames, index_t n, std::uint64_t seed) {
  Rng rng(seed);
  Tensor<double> x({batch, frames, n, n});
  const double a = rng.uniform(0.5, 1.5), b = rng.uniform(-1, 1);
  for (index_t s = 0; s < batch; ++s)
    for (index_t t = 0; t < frames; ++t)
      for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < n; ++j)
          x(s, t, i, j) = a * std::sin(2 * M_PI * (i + 0.1 * t) / n) * std::cos(2 * M_PI * j / n) +
                          b * std::cos(4 * M_PI * (i + j) / n + 0.05 * t * (s + 1)) + 0.1 * rng.normal();
  return x;
}

SpectralRefinerSettings small_settings() {
  SpectralRefinerSettings s;
  s.modes = {4, 3, 4};
  s.seed = 11;
  return s;
}

double max_abs_diff(const Tensor<double>& a, const Tensor<double>& b) {
  double d = 0;
  for (index_t i = 0; i < a.numel(); ++i) d = std::max(d, std::abs(a.data()[i] - b.data()[i]));
  return d;
}

}  // namespace

BOOST_AUTO_TEST_CASE(trajectory_errors_relative_and_time_averaged_bochner) {
  Tensor<double> y = smooth_frames(2, 4, 8, 1), pred = y;
  // Sample 0: pred = 1.5 y -> relative 0.5; sample 1: exact.
  for (index_t i = 0; i < y.numel() / 2; ++i) pred.data()[i] *= 1.5;
  const nn::TrajectoryErrors e = nn::trajectory_errors(pred, y);
  BOOST_TEST(e.relative_l2.data()[0] == 0.5, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(e.relative_l2.data()[1] == 0.0);
  BOOST_TEST(e.bochner_l2.data()[0] == 0.25, boost::test_tools::tolerance(1e-12));  // 0.5 / sqrt(4 frames)
  BOOST_TEST(e.mean_relative_l2 == 0.25, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(e.mean_bochner_l2 == 0.125, boost::test_tools::tolerance(1e-12));
  expect_error([&] { nn::trajectory_errors(pred, Tensor<double>({2, 3, 8, 8})); }, {"(2, 4, 8, 8)", "(2, 3, 8, 8)"});
}

// keep_trained_delta with zero added modes: the fine-tuning layer reproduces the trained model.
BOOST_AUTO_TEST_CASE(initial_layer_reproduces_the_trained_output) {
  Sfno<double> model(small_config());
  random_biases(model, 3);
  const Tensor<double> x = smooth_frames(2, 6, 8, 2);
  model.eval();
  const Tensor<double> trained = model.forward(x);
  SpectralRefinerSettings s = small_settings();
  s.keep_trained_delta = true;
  s.new_modes = NewModes::zero;
  SpectralRefiner exact(model, x, s);
  BOOST_TEST(max_abs_diff(exact.predict(), trained) < 1e-12);
  // The reference's 1e-9 fill of the new modes: the same output up to that perturbation.
  s.new_modes = NewModes::reference;
  SpectralRefiner near(model, x, s);
  const double d = max_abs_diff(near.predict(), trained);
  BOOST_TEST(d > 0);
  BOOST_TEST(d < 1e-6);
  // The notebook's delta 1 with the biases copied unscaled: the biases act 10x stronger.
  SpectralRefiner notebook(model, x, small_settings());
  BOOST_TEST(notebook.layer().conv().spectral_bias_scale() == 1.0);
  BOOST_TEST(max_abs_diff(notebook.predict(), trained) > 1e-3);
  // The model's own output layer is untouched and its backbone frozen.
  BOOST_TEST(model.output_layer().conv().modes() == (std::vector<index_t>{3, 2, 3}));
  for (auto& p : model.backbone_parameters()) BOOST_TEST(!p.param->trainable);
}

/// Worst relative error of central differences of the refiner's loss against its accumulated
/// gradient, over sampled entries of every parameter tensor of the fine-tuning layer.
double loss_gradient_error(SpectralRefiner& refiner) {
  // Unit-scale new modes: the reference's 1e-9 fill would leave their entries' differences at
  // rounding level.
  Rng rng(9);
  for (auto& p : refiner.layer().named_parameters())
    for (auto& v : p.param->value)
      if (std::abs(v) < 1e-6) v = rng.uniform(-0.3, 0.3);
  refiner.layer().zero_grad();
  const double value = refiner.loss_and_gradient();
  BOOST_TEST(std::isfinite(value));
  BOOST_TEST(value > 0);
  double largest = 0;
  for (auto& p : refiner.layer().named_parameters())
    for (index_t i = 0; i < p.param->grad.numel(); ++i) largest = std::max(largest, std::abs(p.param->grad.data()[i]));
  double worst = 0;
  for (auto& p : refiner.layer().named_parameters()) {
    Tensor<double>& w = p.param->value;
    for (int k = 0; k < 12; ++k) {
      const index_t i = static_cast<index_t>(rng.integer(static_cast<std::uint64_t>(w.numel())));
      const double keep = w.data()[i], eps = 1e-5;
      w.data()[i] = keep + eps;
      const double up = refiner.loss();
      w.data()[i] = keep - eps;
      const double down = refiner.loss();
      w.data()[i] = keep;
      const double fd = (up - down) / (2 * eps), g = p.param->grad.data()[i];
      // Relative to the entry, with a floor at 1e-3 of the largest gradient entry (entries far
      // below it are resolved only to the differences' rounding).
      const double err = std::abs(fd - g) / std::max(1e-3 * largest, std::abs(fd) + std::abs(g));
      if (err > worst) BOOST_TEST_MESSAGE(p.name << "[" << i << "]: fd " << fd << " grad " << g);
      worst = std::max(worst, err);
    }
  }
  BOOST_TEST_MESSAGE("loss " << value << ", largest gradient entry " << largest << ", worst error " << worst);
  return worst;
}

// The loss's gradient with respect to the fine-tuning layer, in both time-derivative modes. The
// reference mode's loss is O(dt^2) for bdf weights (1/2, 1/2): at the notebook's dt = 1e-6 it is at
// the level of the frames' rounding on this 8 x 8 problem, so dt = 1 here (the same code path).
BOOST_AUTO_TEST_CASE(loss_gradient_matches_finite_differences) {
  Sfno<double> model(small_config());
  random_biases(model, 4);
  const Tensor<double> x = smooth_frames(2, 6, 8, 5);
  SpectralRefinerSettings s = small_settings();
  s.residual.dt = 1.0;
  SpectralRefiner reference(model, x, s);
  BOOST_TEST(loss_gradient_error(reference) < 1e-5);
  s.residual.time_derivative = pde::NsTimeDerivative::frames;
  s.residual.frame_dt = 0.2;
  SpectralRefiner frames(model, x, s);
  BOOST_TEST(loss_gradient_error(frames) < 1e-5);
}

namespace {

/// Runs `iterations` Adam steps on a small problem; the history of the residual and the errors.
Refinement refine_small(SpectralRefinerSettings s) {
  Sfno<double> model(small_config());
  random_biases(model, 6);
  const Tensor<double> x = smooth_frames(1, 6, 8, 7);
  model.eval();
  const Tensor<double> truth = model.forward(x);  // any trajectory of the right shape: errors are recorded
  SpectralRefiner refiner(model, x, s);
  Refinement r = refiner.run(&truth);
  BOOST_TEST(r.history.residual.size() == std::size_t(s.iterations + 1));
  BOOST_TEST(r.history.bochner_l2.size() == std::size_t(s.iterations + 1));
  BOOST_TEST(r.history.relative_l2[5] == r.history.bochner_l2[5] * 2.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(max_abs_diff(r.initial, r.prediction) > 0);
  BOOST_TEST(std::isfinite(r.history.seconds));
  for (std::size_t i = 0; i < r.history.residual.size(); i += 10)
    BOOST_TEST_MESSAGE(i << ": " << r.history.residual[i]);
  return r;
}

}  // namespace

// The notebook's two Adam groups, with learning rates for this small problem (the notebook's
// 2e-1 for the biases is tuned to its 256^2 trajectories).
BOOST_AUTO_TEST_CASE(residual_decreases_over_the_iterations) {
  SpectralRefinerSettings s = small_settings();
  s.iterations = 30;
  s.bias_lr = 1e-2;
  s.weight_lr = 1e-2;
  s.residual.dt = 1e-2;
  // The reference mode's loss weighs single frames' fine scales: it falls steadily, by 10% here.
  const Refinement ref = refine_small(s);
  for (std::size_t i = 1; i < ref.history.residual.size(); ++i)
    BOOST_TEST(ref.history.residual[i] < ref.history.residual[i - 1]);
  BOOST_TEST(ref.history.residual.back() < 0.95 * ref.history.residual.front());
  // The frames mode's residual (the trajectory's own Navier-Stokes residual) falls by two orders.
  s.residual.time_derivative = pde::NsTimeDerivative::frames;
  s.residual.frame_dt = 0.2;
  const Refinement frames = refine_small(s);
  BOOST_TEST(frames.history.residual.back() < 0.05 * frames.history.residual.front());
}

BOOST_AUTO_TEST_CASE(bad_input_gives_clear_errors) {
  Sfno<double> model(small_config());
  const Tensor<double> x = smooth_frames(1, 6, 8, 8);
  SpectralRefinerSettings s = small_settings();
  // A fine grid coarser than the training grid.
  model.set_training_grid({16, 16});
  expect_error([&] { SpectralRefiner r(model, x, s); }, {"fine grid 8x8", "smaller than the training grid (16, 16)"});
  model.set_training_grid({});
  s.training_grid = 12;
  expect_error([&] { SpectralRefiner r(model, x, s); }, {"fine grid 8x8", "training grid (12, 12)"});
  s = small_settings();
  // Too few frames.
  expect_error([&] { SpectralRefiner r(model, smooth_frames(1, 4, 8, 8), s); }, {"4 frames", "needs 6"});
  // Non-finite frames.
  Tensor<double> bad = x;
  bad.data()[17] = std::numeric_limits<double>::quiet_NaN();
  expect_error([&] { SpectralRefiner r(model, bad, s); }, {"non-finite", "index 17"});
  // Modes the grid cannot hold, and fewer modes than the trained layer.
  s.modes = {8, 3, 4};
  expect_error([&] { SpectralRefiner r(model, x, s); }, {"modes (8, 3, 4)", "at least 16 points"});
  s.modes = {2, 3, 4};
  expect_error([&] { SpectralRefiner r(model, x, s); }, {"modes (2, 3, 4)", "trained layer's (3, 2, 3)"});
  s = small_settings();
  s.iterations = -1;
  expect_error([&] { s.validate(); }, {"iterations", "-1"});
  // A truth of another shape.
  SpectralRefiner ok(model, x, small_settings());
  const Tensor<double> wrong({1, 3, 8, 8});
  expect_error([&] { ok.run(&wrong); }, {"truth (1, 3, 8, 8)", "(1, 4, 8, 8)"});
  // A checkpoint of another model.
  const fs::path dir = "sfno_finetune_scratch";
  fs::create_directories(dir);
  FnoConfig f;
  f.width = 4;
  f.modes = {2};
  f.layers = 1;
  f.projection_channels = 4;
  Fno<double> fno(f);
  save_model(dir / "fno.h5", fno);
  auto loaded = load_model<double>(dir / "fno.h5");
  expect_error([&] { as_sfno(loaded.model(), (dir / "fno.h5").string()); }, {"fno.h5", "needs an SFNO"});
}
