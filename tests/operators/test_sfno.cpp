#define BOOST_TEST_MODULE neurops_sfno
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <limits>
#include <numbers>

#include "neurops/core/petsc.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/nn/gradcheck.hpp"
#include "neurops/nn/loss.hpp"
#include "neurops/nn/optim.hpp"
#include "neurops/nn/pointwise_ffn.hpp"
#include "neurops/nn/space_time_encoding.hpp"
#include "neurops/nn/spectral_init.hpp"
#include "neurops/nn/time_series.hpp"
#include "neurops/nn/trainer.hpp"
#include "neurops/operators/fno.hpp"
#include "neurops/operators/model_io.hpp"
#include "neurops/operators/model_registry.hpp"
#include "neurops/operators/sfno.hpp"
#include "neurops/operators/sfno_output.hpp"

#include "../support/expect_error.hpp"

using namespace neurops;
using namespace neurops::operators;
namespace fs = std::filesystem;

namespace {

struct PetscFixture {
  PetscSession session;
};

/// Small enough for finite differences in seconds; modes_x != modes_y and a non-square grid, so a
/// swapped axis would show.
SfnoConfig small_config() {
  SfnoConfig c;
  c.modes_x = 3;
  c.modes_y = 2;
  c.modes_t = 3;
  c.width = 4;
  c.layers = 3;
  c.input_steps = 6;
  c.latent_steps = 5;
  c.output_steps = 4;
  c.channel_expansion = 2;
  c.beta = -0.05;
  c.seed = 5;
  return c;
}

/// The reference's spectral weights U[0, 1) * 0.5 / (in * out) leave the gradients of the spectral
/// paths at ~1e-8 of the loss, below what entry-wise differences resolve: unit-scale weights let the
/// checks see them.
template <class T>
void unit_spectral(nn::ModuleBase<T>& m, std::uint64_t seed) {
  Rng rng(seed);
  for (auto& p : m.named_parameters())
    if (p.name.find("sconv.weight") != std::string::npos) nn::init_normal(*p.param, 0.3, rng);
}

/// Non-zero spectral biases and norm affine parameters, so that their paths carry gradients that the
/// checks can see (they start at zero and one), and unit-scale spectral weights.
template <class T>
void perturb(Sfno<T>& model, std::uint64_t seed) {
  unit_spectral(model, seed + 100);
  Rng rng(seed);
  for (int c = 0; c < 4; ++c)
    nn::init_normal(model.parameter("output.conv.spectral_bias" + std::to_string(c)), 0.5, rng);
  nn::init_normal(model.parameter("lifting.norm.weight"), 1.0, rng);
  nn::init_normal(model.parameter("lifting.norm.bias"), 0.3, rng);
}

/// Entry-wise central differences carry rounding error of about 1e-16 |loss| / eps relative to the
/// (sometimes small) gradient entry, so they are held to `entry_tol`; the adjoint tests compare whole
/// inner products, where a wrong adjoint shows as an error of order 0.1.
bool passes(const nn::GradCheckResult& r, double entry_tol) {
  return r.input_error < entry_tol && r.parameter_error < entry_tol && r.adjoint_input_error < 1e-7 &&
         r.adjoint_parameter_error < 1e-7;
}

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::path("sfno_scratch") / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(PetscFixture);

BOOST_AUTO_TEST_CASE(spectral_bias_passes_gradient_and_adjoint_checks_on_even_and_odd_time_grids) {
  // Output time grids of 4 (its Nyquist frequency 2 is a kept mode, whose imaginary part c2r drops)
  // and 7 points, from an input of 6 frames.
  for (index_t out_t : {4, 7, 6}) {
    nn::SpectralConv<double> conv(2, 3, {3, 2, 3}, false, 4);
    conv.set_spectral_bias(0.3);
    Rng rng(8);
    for (int c = 0; c < conv.corners(); ++c) nn::init_normal(conv.spectral_bias(c), 1.0, rng);
    conv.set_output_grid({6, 5, out_t});
    const auto x = Tensor<double>::randn({2, 2, 6, 5, 6}, rng);
    const auto r = nn::gradcheck(conv, x);
    BOOST_TEST_MESSAGE("output frames " << out_t << ": " << r.summary());
    BOOST_TEST(passes(r, 1e-5), r.summary());
  }
}

BOOST_AUTO_TEST_CASE(spectral_bias_adds_delta_times_the_bias_to_the_kept_modes) {
  // With zero weights the output is the inverse transform of delta * bias alone: a bias of 1 on the
  // constant mode gives delta / N everywhere (the inverse transform is normalised by 1 / N).
  nn::SpectralConv<double> conv(1, 2, {2, 2, 2}, false, 1);
  for (int c = 0; c < conv.corners(); ++c) conv.weight(c).value.zero();
  conv.set_spectral_bias(0.25);
  conv.spectral_bias(0).value[0] = 1.0;  // mode (0, 0, 0), real part
  Rng rng(2);
  const auto x = Tensor<double>::randn({1, 1, 4, 4, 6}, rng);
  const auto y = conv.forward(x);
  const double expected = 0.25 / (4 * 4 * 6);
  for (index_t i = 0; i < y.numel(); ++i) BOOST_TEST(std::abs(y[i] - expected) < 1e-15);
}

BOOST_AUTO_TEST_CASE(space_time_encoding_matches_its_formula_and_passes_checks) {
  const double beta = -0.02;
  nn::SpaceTimeEncoding<double> pe(6, beta);
  const auto e = pe.encoding(3, 4, 5);
  // x over axis 0 and y over axis 1 with both ends included; t = (j + 1) / 100.
  BOOST_TEST(e(0, 2, 1, 3) == 1.0);
  BOOST_TEST(e(0, 1, 3, 0) == 0.5);
  BOOST_TEST(std::abs(e(1, 0, 2, 4) - 2.0 / 3.0) < 1e-15);
  BOOST_TEST(std::abs(e(2, 1, 1, 4) - 0.05) < 1e-15);
  for (index_t j = 0; j < 5; ++j) {
    const double t = double(j + 1) / 100;
    BOOST_TEST(std::abs(e(3, 2, 3, j) - std::exp(beta * t) * std::sin(std::numbers::pi * t)) < 1e-15);
    BOOST_TEST(std::abs(e(4, 0, 0, j) - std::exp(beta * t) * std::cos(2 * std::numbers::pi * t)) < 1e-15);
    BOOST_TEST(std::abs(e(5, 1, 2, j) - std::exp(beta * t) * std::sin(3 * std::numbers::pi * t)) < 1e-15);
  }
  Rng rng(4);
  const auto x = Tensor<double>::randn({2, 1, 3, 4, 5}, rng);
  const auto y = pe.forward(x);
  BOOST_TEST(std::abs(y(1, 4, 2, 3, 1) - (x(1, 0, 2, 3, 1) + e(4, 2, 3, 1))) < 1e-15);
  const auto r = nn::gradcheck(pe, x);
  BOOST_TEST(passes(r, 1e-5), r.summary());
  expect_error([&] { pe.encoding(3, 4, 101); }, {"101 frames", "max_time_steps = 100"});
  expect_error([&] { nn::SpaceTimeEncoding<double>(5, beta); }, {"even and >= 4", "found 5"});
}

BOOST_AUTO_TEST_CASE(pointwise_ffn_matches_two_convolutions_and_passes_checks) {
  // More points than one tile (256) and a partial last tile, so the tiling shows.
  for (auto act : {nn::ActivationKind::GELU, nn::ActivationKind::Tanh}) {
    Rng rng(5);
    nn::PointwiseFfn<double> ffn(3, 3, 7, 2, act, rng);
    const auto x = Tensor<double>::randn({2, 3, 5, 6, 11}, rng);
    const auto r = nn::gradcheck(ffn, x);
    BOOST_TEST_MESSAGE(nn::to_string(act) << ": " << r.summary());
    BOOST_TEST(passes(r, 1e-6), r.summary());
    // The same map written out point by point.
    const auto y = ffn.forward(x);
    const auto& w1 = ffn.parameter("linear1.weight").value;
    const auto& b1 = ffn.parameter("linear1.bias").value;
    const auto& w2 = ffn.parameter("linear2.weight").value;
    const auto& b2 = ffn.parameter("linear2.bias").value;
    double worst = 0;
    const index_t P = 5 * 6 * 11;
    for (index_t s = 0; s < 2; ++s)
      for (index_t p = 0; p < P; ++p)
        for (index_t o = 0; o < 2; ++o) {
          double v = b2[o];
          for (index_t h = 0; h < 7; ++h) {
            double z = b1[h];
            for (index_t i = 0; i < 3; ++i) z += w1[h * 3 + i] * x[(s * 3 + i) * P + p];
            double a = z;
            nn::activation_forward(act, &z, &a, 1);
            v += w2[o * 7 + h] * a;
          }
          worst = std::max(worst, std::abs(v - y[(s * 2 + o) * P + p]));
        }
    BOOST_TEST(worst < 1e-13);
  }
}

BOOST_AUTO_TEST_CASE(output_layer_passes_gradient_and_adjoint_checks_for_any_number_of_frames) {
  for (index_t frames : {5, 2, 12}) {
    SfnoOutputConv<double> out({3, 2, 3}, 0.1, 3);
    Rng rng(6);
    for (int c = 0; c < 4; ++c) nn::init_normal(out.conv().spectral_bias(c), 1.0, rng);
    out.set_frames(frames);
    const auto x = Tensor<double>::randn({2, 1, 6, 4, 5}, rng);
    const auto r = nn::gradcheck(out, x);
    BOOST_TEST_MESSAGE(frames << " frames: " << r.summary());
    BOOST_TEST(passes(r, 1e-5), r.summary());
    BOOST_TEST(out.forward(x).shape() == (Shape{2, 1, 6, 4, frames}));
  }
}

BOOST_AUTO_TEST_CASE(lifting_and_hidden_block_pass_gradient_and_adjoint_checks) {
  for (bool lift_activation : {true, false}) {
    SfnoConfig c = small_config();
    c.activation = nn::ActivationKind::GELU;
    c.lift_activation = lift_activation;
    SfnoLifting<double> lifting(c);
    unit_spectral(lifting, 2);
    Rng rng(7);
    const auto x = Tensor<double>::randn({2, 1, 6, 4, 6}, rng);
    nn::GradCheckOptions o;
    o.eps = 1e-4;
    const auto r = nn::gradcheck(lifting, x, o);
    BOOST_TEST_MESSAGE("lifting, lift_activation " << lift_activation << ": " << r.summary());
    BOOST_TEST(passes(r, 1e-5), r.summary());
    BOOST_TEST(lifting.forward(x).shape() == (Shape{2, 4, 6, 4, 5}));
  }
  SfnoConfig c = small_config();
  c.activation = nn::ActivationKind::GELU;
  Rng rng(9);
  SfnoBlock<double> block(c, rng);
  unit_spectral(block, 3);
  const auto v = Tensor<double>::randn({2, 4, 6, 4, 5}, rng);
  nn::GradCheckOptions o;
  o.eps = 1e-4;
  const auto r = nn::gradcheck(block, v, o);
  BOOST_TEST(passes(r, 1e-5), r.summary());
}

BOOST_AUTO_TEST_CASE(model_passes_gradient_and_adjoint_checks_at_other_output_steps_and_a_finer_grid) {
  // Entry-wise differences need a smooth activation and a step of 1e-4 (entries of high modes have
  // gradients ~1e-6 of the loss); ReLU's kinks then get crossed, so the ReLU case holds the adjoint
  // tests and the input entries at a small step (test_sfno_torch compares every gradient entry of a
  // ReLU model with PyTorch's autograd to 1e-10).
  struct Case {
    nn::ActivationKind act;
    index_t out_steps, n0, n1, t_in;
  };
  for (const Case k : {Case{nn::ActivationKind::GELU, 4, 6, 4, 6}, Case{nn::ActivationKind::ReLU, 4, 6, 4, 6},
                       Case{nn::ActivationKind::GELU, 9, 6, 4, 6}, Case{nn::ActivationKind::GELU, 3, 12, 8, 5}}) {
    SfnoConfig c = small_config();
    c.activation = k.act;
    Sfno<double> model(c);
    perturb(model, 3);
    model.set_output_steps(k.out_steps);
    Rng rng(12);
    const auto x = Tensor<double>::randn({2, k.t_in, k.n0, k.n1}, rng);
    const bool smooth = k.act != nn::ActivationKind::ReLU;
    nn::GradCheckOptions o;
    o.entries_per_tensor = 12;
    o.eps = smooth ? 1e-4 : 1e-6;
    const auto r = nn::gradcheck(model, x, o);
    BOOST_TEST_MESSAGE(nn::to_string(k.act) << ", " << k.out_steps << " steps, grid " << k.n0 << "x" << k.n1 << ", "
                                            << k.t_in << " frames: " << r.summary());
    // Entry-wise errors of up to 1.8e-4 (-O3) and 4.4e-4 (-O2 with sanitizers) were measured on
    // high-mode entries whose gradients sit near the rounding noise of the loss; a wrong gradient
    // gives O(1). The adjoint tests below and test_sfno_torch are the strict checks.
    if (smooth)
      BOOST_TEST(passes(r, 2e-3), r.summary());
    else
      BOOST_TEST((r.input_error < 1e-5 && r.adjoint_input_error < 1e-8 && r.adjoint_parameter_error < 1e-8),
                 r.summary());
    BOOST_TEST(model.forward(x).shape() == (Shape{2, k.out_steps, k.n0, k.n1}));
  }
}

BOOST_AUTO_TEST_CASE(output_layer_on_a_cached_latent_reproduces_the_model_and_trains_alone) {
  Sfno<double> model(small_config());
  perturb(model, 4);
  Rng rng(1);
  const auto x = Tensor<double>::randn({2, 6, 6, 4}, rng);
  const auto y = model.forward(x);
  const index_t all = model.parameter_count(), head = model.output_layer().parameter_count();
  BOOST_TEST(head == 2 * 4 * 3 * 2 * 3 * 2);  // weights and spectral biases: 4 corners of 3x2x3 complex modes
  model.set_backbone_trainable(false);
  BOOST_TEST(model.parameter_count(true) == head);
  BOOST_TEST(model.backbone_parameters().size() + model.output_parameters().size() == model.named_parameters().size());
  for (auto& p : model.backbone_parameters()) BOOST_TEST(!p.param->trainable);

  const auto z = model.latent(x);
  BOOST_TEST(z.shape() == (Shape{2, 1, 6, 4, 5}));
  const auto y2 = model.output_from_latent(z, x);
  BOOST_TEST((y.vec() - y2.vec()).norm() == 0.0);
  // The head alone is a model in its weights: a gradient check of output_from_latent's weight gradient.
  model.zero_grad();
  const auto w = Tensor<double>::randn(y.shape(), rng);
  model.output_from_latent(z, x);
  model.output_backward(w);
  auto& p = model.parameter("output.conv.weight1");
  const double analytic = p.grad[7];
  const double h = 1e-6, saved = p.value[7];
  p.value[7] = saved + h;
  const double up = model.output_from_latent(z, x).vec().dot(w.vec());
  p.value[7] = saved - h;
  const double down = model.output_from_latent(z, x).vec().dot(w.vec());
  p.value[7] = saved;
  BOOST_TEST(std::abs((up - down) / (2 * h) - analytic) < 1e-7 * std::max(1.0, std::abs(analytic)));
}

BOOST_AUTO_TEST_CASE(fine_tuning_layer_starts_from_the_trained_output_and_checkpoints_load) {
  const auto dir = scratch("fine_tuning");
  SfnoConfig c = small_config();
  c.output_steps = 6;
  Sfno<double> model(c);
  perturb(model, 8);
  model.eval();
  Rng rng(4);
  // Zero-shot on a 2x finer grid; the new layer keeps every spatial mode there (n/2 per axis) and one
  // more temporal mode than the trained layer.
  const auto x = Tensor<double>::randn({2, 6, 12, 8}, rng);
  const auto z = model.latent(x);
  const auto y = model.output_from_latent(z, x);
  const std::vector<index_t> fine{6, 4, 4};
  BOOST_CHECK_THROW(fine_tuning_output_layer(model.output_layer(), {2, 4, 4}), Error);

  // Zero in the new modes: the trained layer's output, up to rounding.
  Sfno<double> exact = model;
  exact.set_output_layer(fine_tuning_output_layer(exact.output_layer(), fine, NewModes::zero));
  const auto y_exact = exact.output_from_latent(z, x);
  BOOST_TEST((y_exact.vec() - y.vec()).norm() <= 1e-13 * y.vec().norm());
  // The reference's xavier(gain 1e-6) in the new modes: the same output to ~1e-8.
  Sfno<double> tuned = model;
  tuned.set_output_layer(fine_tuning_output_layer(tuned.output_layer(), fine, NewModes::reference, 3));
  const auto y_ref = tuned.output_from_latent(z, x);
  const double change = (y_ref.vec() - y.vec()).norm() / y.vec().norm();
  BOOST_TEST(change > 0.0);
  BOOST_TEST(change < 1e-7);
  BOOST_TEST(tuned.output_layer().parameter_count() == 2 * 4 * 6 * 4 * 4 * 2);
  // The copied weights sit at the same frequencies: the negative-x corner's last block entry.
  BOOST_TEST(tuned.parameter("output.conv.weight1").value[((5 * 4 + 0) * 4 + 2) * 2] ==
             model.parameter("output.conv.weight1").value[((2 * 2 + 0) * 3 + 2) * 2]);

  // Only the new layer trains; the fine-tuned model's checkpoint records its modes and loads.
  tuned.set_backbone_trainable(false);
  BOOST_TEST(tuned.parameter_count(true) == tuned.output_layer().parameter_count());
  save_model(dir / "tuned.h5", tuned);
  auto loaded = load_model<double>(dir / "tuned.h5");
  auto& back = dynamic_cast<Sfno<double>&>(loaded.model());
  BOOST_TEST(back.config().output_layer_modes() == fine, boost::test_tools::per_element());
  BOOST_TEST((back.forward(x).vec() - y_ref.vec()).norm() <= 1e-12 * y.vec().norm());
  // A layer with another delta would change what the copied biases do.
  SfnoOutputConv<double> other({3, 2, 3}, 0.05, 1);
  expect_error([&] { tuned.set_output_layer(other); }, {"spectral bias scale 0.05", "delta = 0.1"});
}

BOOST_AUTO_TEST_CASE(trains_on_a_time_series_dataset_with_the_trainer) {
  // Decaying smooth fields u(t) = 0.85^t u0: 6 frames in, 4 out.
  const index_t n = 12, steps = 10, g = 12;
  Rng rng(12);
  Tensor<float> traj({n, steps, g, g});
  for (index_t i = 0; i < n; ++i) {
    const double a = rng.uniform(-1, 1), b = rng.uniform(-1, 1);
    for (index_t t = 0; t < steps; ++t)
      for (index_t y = 0; y < g; ++y)
        for (index_t x = 0; x < g; ++x)
          traj(i, t, y, x) = float(std::pow(0.85, double(t)) * (1 + a * std::sin(2 * std::numbers::pi * x / g) +
                                                                b * std::cos(2 * std::numbers::pi * y / g)));
  }
  const nn::TimeSeriesDataset<float> data(traj, 6, 4);
  Sfno<float> model(small_config());
  nn::Adam<float> adam(model, {.lr = 1e-2});  // the reference's learning rate
  const nn::LpLoss<float> loss(2);
  nn::TrainerOptions o;
  o.epochs = 15;
  o.batch_size = 4;
  o.seed = 5;
  o.verbose = false;
  nn::Trainer<float> trainer(model, adam, nullptr, loss, o);
  const double before = trainer.evaluate(data);
  trainer.fit(data, nullptr);
  const double after = trainer.evaluate(data);
  BOOST_TEST_MESSAGE("relative L2 before " << before << ", after " << after);
  BOOST_TEST(after < 0.5 * before);
  BOOST_TEST((model.training_grid() == std::vector<index_t>{g, g}));
  // Non-finite frames are refused by the dataset before they reach the model.
  traj(7, 3, 2, 5) = std::numeric_limits<float>::quiet_NaN();
  expect_error([&] { nn::TimeSeriesDataset<float>(traj, 6, 4).validate("SFNO training data"); },
               {"trajectory 7", "non-finite"});
}

BOOST_AUTO_TEST_CASE(parameter_count_of_the_reference_configuration) {
  // modes 12/12/5, width 20, 4 spectral layers: four 20x20 spectral convolutions of 4 corners of
  // 12*12*5 complex modes; four FFNs 20->80->20; three 1x1 skips; norm and projection of the lifting;
  // the reduction; the output layer's 4 corners of weights and of spectral biases.
  SfnoConfig c;
  Sfno<float> model(c);
  const index_t modes = 12 * 12 * 5 * 2;
  const index_t expected = 4 * (4 * 20 * 20 * modes) + 4 * ((20 * 80 + 80) + (80 * 20 + 20)) + 3 * (20 * 20 + 20) +
                           (2 * 20 + 20 * 20 + 20) + (20 + 1) + 2 * 4 * modes;
  BOOST_TEST(model.parameter_count() == expected);
  BOOST_TEST_MESSAGE("SFNO 12/12/5, width 20, 4 layers: " << model.parameter_count() << " parameters");
}

BOOST_AUTO_TEST_CASE(checkpoint_round_trip_through_load_model) {
  const auto dir = scratch("roundtrip");
  SfnoConfig c = small_config();
  c.activation = nn::ActivationKind::GELU;
  c.lift_activation = false;
  Sfno<float> model(c);
  perturb(model, 6);
  model.eval();
  Rng rng(3);
  const auto x = Tensor<float>::randn({3, 6, 6, 4}, rng);
  const auto y = model.forward(x);
  save_model(dir / "sfno.h5", model);
  auto loaded = load_model<float>(dir / "sfno.h5");
  BOOST_TEST(loaded.type() == "SFNO");
  auto& back = dynamic_cast<Sfno<float>&>(loaded.model());
  BOOST_TEST((back.config() == c));
  const auto y2 = loaded.predict(x);
  // predict runs in batches of its own size: FFTW plans of another batch may round differently.
  BOOST_TEST((y.vec() - y2.vec()).norm() <= 1e-6 * y.vec().norm());
  // Zero-shot on a 2x finer grid and 7 output frames from the loaded model.
  back.set_output_steps(7);
  const auto fine = Tensor<float>::randn({2, 6, 12, 8}, rng);
  BOOST_TEST(back.forward(fine).shape() == (Shape{2, 7, 12, 8}));
}

BOOST_AUTO_TEST_CASE(configured_from_the_options_database) {
  PetscOptionsSetValue(nullptr, "-test_sfno_modes_x", "4");
  PetscOptionsSetValue(nullptr, "-test_sfno_width", "8");
  PetscOptionsSetValue(nullptr, "-test_sfno_output_steps", "7");
  PetscOptionsSetValue(nullptr, "-test_sfno_activation", "gelu");
  PetscOptionsSetValue(nullptr, "-test_sfno_lift_activation", "0");
  auto model = create_model_from_options<float>("SFNO", "test_sfno_");
  const auto& sfno = dynamic_cast<Sfno<float>&>(*model);
  BOOST_TEST(sfno.config().modes_x == 4);
  BOOST_TEST(sfno.config().modes_y == 12);
  BOOST_TEST(sfno.config().width == 8);
  BOOST_TEST(sfno.out_channels() == 7);
  BOOST_TEST((sfno.config().activation == nn::ActivationKind::GELU));
  BOOST_TEST(!sfno.config().lift_activation);
  for (const char* o : {"-test_sfno_modes_x", "-test_sfno_width", "-test_sfno_output_steps", "-test_sfno_activation",
                        "-test_sfno_lift_activation"})
    PetscOptionsClearValue(nullptr, o);
  PetscOptionsSetValue(nullptr, "-test_sfno_width", "7");
  expect_error([&] { create_model_from_options<float>("SFNO", "test_sfno_"); }, {"width", "found 7"});
  PetscOptionsClearValue(nullptr, "-test_sfno_width");
}

BOOST_AUTO_TEST_CASE(bad_input_gives_errors_that_name_the_shape_and_option) {
  Sfno<double> model(small_config());
  Rng rng(1);
  expect_error(
      [&] {
        model.forward(Tensor<double>::randn({1, 4, 6, 4}, rng));
      },
      {"(1, 4, 6, 4)", "4 frames", "latent_steps = 5"});
  expect_error([&] { model.forward(Tensor<double>::randn({1, 101, 6, 4}, rng)); }, {"101 frames", "100"});
  expect_error(
      [&] {
        model.forward(Tensor<double>::randn({1, 6, 5, 4}, rng));
      },
      {"5 x 4 grid", "modes_x = 3", "at least 6 x 4"});
  expect_error([&] { model.forward(Tensor<double>::randn({1, 6, 6, 3}, rng)); }, {"modes_y = 2"});
  expect_error([&] { model.forward(Tensor<double>::randn({1, 1, 6, 6, 4}, rng)); }, {"(N, t_in, n0, n1)"});
  expect_error([&] { model.set_output_steps(0); }, {"output steps", "found 0"});
  SfnoConfig c = small_config();
  c.latent_steps = 3;
  expect_error([&] { c.validate(); }, {"latent_steps 3", "modes_t 3", ">= 4"});
  c = small_config();
  c.width = 5;
  expect_error([&] { Sfno<float> m(c); }, {"width", "found 5"});
  c = small_config();
  c.input_steps = 4;
  expect_error([&] { c.validate(); }, {"input_steps", "found 4"});
  c = small_config();
  c.layers = 1;
  expect_error([&] { c.validate(); }, {"layers", "found 1"});
  // A checkpoint of another model read as an SFNO configuration.
  const auto dir = scratch("other_model");
  FnoConfig f;
  f.width = 4;
  f.modes = {2};
  f.layers = 1;
  f.projection_channels = 4;
  Fno<float> fno(f);
  save_model(dir / "fno.h5", fno);
  const auto file = io::H5File::open(dir / "fno.h5");
  expect_error([&] { SfnoConfig::load(file, "/config"); }, {"fno.h5", "holds a FNO model, expected SFNO"});
}
