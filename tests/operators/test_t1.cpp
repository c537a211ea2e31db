#define BOOST_TEST_MODULE neurops_t1
#include <boost/test/unit_test.hpp>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "neurops/core/petsc.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/nn/dct_loss.hpp"
#include "neurops/nn/gradcheck.hpp"
#include "neurops/nn/spectral_init.hpp"
#include "neurops/nn/transforms.hpp"
#include "neurops/operators/fno.hpp"
#include "neurops/operators/model_io.hpp"
#include "neurops/operators/t1.hpp"
#include "neurops/pde/navier_stokes_pairs.hpp"

#include "../support/expect_error.hpp"

using namespace neurops;
using namespace neurops::operators;
namespace fs = std::filesystem;

namespace {

struct PetscFixture {
  PetscSession session;
};

T1Config small_config() {
  T1Config c;
  c.in_channels = 2;
  c.out_channels = 2;
  c.width = 4;
  c.modes = {3, 2};
  c.layers = 2;
  c.head_channels = 5;
  c.grid = {8, 6};
  c.seed = 7;
  return c;
}

/// The reference's 1e-8 head makes every gradient but the head's vanish; a unit-scale head lets
/// the finite differences see the whole network.
template <class T>
void unit_head(T1<T>& model) {
  Rng rng(99);
  nn::init_normal(model.parameter("head.0.weight"), 0.5, rng);
  nn::init_normal(model.parameter("head.2.weight"), 0.5, rng);
}

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::path("t1_scratch") / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

double mean_square(const Tensor<double>& x) { return x.vec().squaredNorm() / double(x.numel()); }

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(PetscFixture);

BOOST_AUTO_TEST_CASE(t1_block_passes_gradient_and_adjoint_checks) {
  struct Case {
    nn::ActivationKind act;
    bool residual;
  };
  for (const Case c : {Case{nn::ActivationKind::GELU, true}, Case{nn::ActivationKind::Sin, false},
                       Case{nn::ActivationKind::Identity, true}}) {
    Rng rng(3);
    T1Block<double> block(3, 4, 5, c.act, c.residual, 0.7, rng);
    const auto x = Tensor<double>::randn({3, 4, 2, 5}, rng);
    // Step from the measured error (worst entry of the three cases, -O3 -march=native and -O2 with
    // ASan+UBSan): at h = 1e-6 rounding gives up to 4.4e-6 (sin, one build only); at 1e-5 at most
    // 1.4e-8 (input) and 1.2e-7 (parameters) in both builds; at 1e-3 GELU's and sin's curvature 9.5e-6.
    nn::GradCheckOptions o;
    o.eps = 1e-5;
    const auto r = nn::gradcheck(block, x, o);
    BOOST_TEST_MESSAGE(nn::to_string(c.act) << " residual " << c.residual << ": " << r.summary());
    BOOST_TEST(r.max_error() < 1e-6, r.summary());
  }
}

BOOST_AUTO_TEST_CASE(t1_block_matches_its_definition) {
  // One mode pair and channel by hand: out = x + F2 F1 act(W x) with identity activation.
  Rng rng(5);
  const index_t m1 = 2, m2 = 3, n = 2, C = 3;
  T1Block<double> block(m1, m2, C, nn::ActivationKind::Identity, true, 1.0, rng);
  const auto x = Tensor<double>::randn({m1, m2, n, C}, rng);
  const auto y = block.forward(x);
  const auto& W = block.parameter("channel_mixing").value;
  const auto& F1 = block.parameter("frequency_mixing_1").value;
  const auto& F2 = block.parameter("frequency_mixing_2").value;
  double worst = 0;
  for (index_t kx = 0; kx < m1; ++kx)
    for (index_t ky = 0; ky < m2; ++ky)
      for (index_t s = 0; s < n; ++s)
        for (index_t o = 0; o < C; ++o) {
          double v = x(kx, ky, s, o);
          for (index_t i = 0; i < m1; ++i)
            for (index_t j = 0; j < m2; ++j) {
              double z = 0;
              for (index_t c = 0; c < C; ++c) z += x(i, j, s, c) * W(i, j, c, o);
              v += F1(i, kx, o) * F2(j, ky, o) * z;
            }
          worst = std::max(worst, std::abs(v - y(kx, ky, s, o)));
        }
  BOOST_TEST(worst < 1e-12);
}

BOOST_AUTO_TEST_CASE(threaded_block_gradients_are_the_same_bits_every_run) {
  // The frequency-mixing gradients are summed from per-thread partials; added as threads finished,
  // they changed in the last bits from run to run with three or more threads (two partials added to a
  // zero gradient commute). Large enough for the parallel path (> 2^15).
  const int threads = omp_get_max_threads();
  omp_set_num_threads(4);
  Rng rng(21);
  const index_t m1 = 16, m2 = 16, n = 8, C = 12;
  const auto x = Tensor<double>::randn({m1, m2, n, C}, rng);
  const auto dy = Tensor<double>::randn({m1, m2, n, C}, rng);
  auto gradients = [&] {
    Rng init(3);
    T1Block<double> block(m1, m2, C, nn::ActivationKind::GELU, true, 1.0, init);
    (void)block.forward(x);
    (void)block.backward(dy);
    return std::vector<Tensor<double>>{block.parameter("frequency_mixing_1").grad,
                                       block.parameter("frequency_mixing_2").grad,
                                       block.parameter("channel_mixing").grad};
  };
  const auto first = gradients();
  for (int run = 0; run < 20; ++run) {
    const auto again = gradients();
    for (std::size_t i = 0; i < first.size(); ++i)
      BOOST_TEST(std::memcmp(first[i].data(), again[i].data(), sizeof(double) * first[i].numel()) == 0,
                 "gradient " << i << " differs in run " << run);
  }
  omp_set_num_threads(threads);
}

BOOST_AUTO_TEST_CASE(t1_model_passes_gradient_and_adjoint_checks) {
  struct Case {
    bool inverse, keep_high, energy;
  };
  for (const Case c :
       {Case{false, false, false}, Case{true, false, false}, Case{true, true, false}, Case{false, false, true}}) {
    T1Config cfg = small_config();
    cfg.init = T1Init::vp_first;  // unit-scale activations: finite differences well above rounding
    cfg.perform_inverse = c.inverse;
    cfg.keep_high = c.keep_high;
    if (c.energy) {  // a selection without the constant mode on axis 0: the lift's bias then has no effect
      cfg.selection = "energy";
      cfg.selected = {{1, 4, 6}, {0, 5}};
    }
    T1<double> model(cfg);
    unit_head(model);
    Rng rng(11);
    const auto x = Tensor<double>::randn({2, 2, 8, 6}, rng);
    nn::GradCheckOptions o;
    o.eps = 1e-5;  // rounding through the DCTs and mode sums stays below the check, and so does curvature
    const auto r = nn::gradcheck(model, x, o);
    BOOST_TEST_MESSAGE("inverse " << c.inverse << " keep_high " << c.keep_high << " energy " << c.energy << ": "
                                  << r.summary());
    BOOST_TEST(r.max_error() < 5e-6, r.summary());
  }
}

BOOST_AUTO_TEST_CASE(t1_spectrum_is_zero_outside_the_kept_modes_and_inverse_gives_the_field) {
  T1Config cfg = small_config();
  T1<double> model(cfg);
  unit_head(model);
  model.eval();
  Rng rng(2);
  const auto x = Tensor<double>::randn({2, 2, 8, 6}, rng);
  const auto spectrum = model.forward(x);
  for (index_t s = 0; s < 2; ++s)
    for (index_t c = 0; c < 2; ++c)
      for (index_t i = 0; i < 8; ++i)
        for (index_t j = 0; j < 6; ++j)
          if (i >= 3 || j >= 2) BOOST_TEST(spectrum(s, c, i, j) == 0.0);
  BOOST_TEST(spectrum.vec().norm() > 0);
  model.set_perform_inverse(true);
  const auto field = model.forward(x);
  BOOST_TEST((field.vec() - nn::dct_ortho(spectrum, 2, true).vec()).norm() < 1e-12);
}

BOOST_AUTO_TEST_CASE(lifting_in_the_frequency_domain_equals_lifting_then_transforming) {
  // The model lifts the DCT of the input; lifting the field with the same Linear (bias included)
  // and transforming `width` channels must give the same kept spectrum.
  T1Config cfg = small_config();
  cfg.layers = 1;
  T1<double> model(cfg);
  Rng rng(4);
  const auto x = Tensor<double>::randn({1, 2, 8, 6}, rng);
  const auto xg = append_grid_coordinates(x, 2);
  const auto& W = model.parameter("lifting.weight").value;  // (width, in + 2)
  const auto& b = model.parameter("lifting.bias").value;
  Tensor<double> lifted(Shape{1, cfg.width, 8, 6});
  for (index_t o = 0; o < cfg.width; ++o)
    for (index_t p = 0; p < 48; ++p) {
      double v = b[o];
      for (index_t c = 0; c < 4; ++c) v += W(o, c) * xg[c * 48 + p];
      lifted[o * 48 + p] = v;
    }
  const auto expected = gather_modes(nn::dct_ortho(lifted, 2, false), {0, 1, 6, 7, 12, 13});
  // Through the model: zero the first block's mixing so the block is the identity (residual).
  model.parameter("blocks.0.channel_mixing").value.zero();
  auto& head1 = model.parameter("head.0.weight").value;  // make the head read channel 0 only
  head1.zero();
  head1(0, 0) = 1e-4;  // 1e4 sin(1e-4 v) = v (1 - O(1e-8 v^2))
  auto& head2 = model.parameter("head.2.weight").value;
  head2.zero();
  head2(0, 0) = 1e4;
  model.eval();
  const auto y = model.forward(x);
  const std::vector<index_t> kept{0, 1, 6, 7, 12, 13};
  for (std::size_t k = 0; k < kept.size(); ++k) {
    const double e = expected(index_t(k), 0, 0), got = y[kept[k]];
    BOOST_TEST(std::abs(got - e) <= 1e-5 * std::max(1.0, std::abs(e)),
               "mode " << kept[k] << ": " << got << " vs " << e);
  }
}

BOOST_AUTO_TEST_CASE(vp_first_keeps_the_variance_through_8_blocks_where_naive_collapses) {
  // The reference setting (64^2 grid, 24^2 modes, width 48), blocks linear (identity activation,
  // no residual) so that the initialisation alone decides the variance. The input is white in
  // physical space, hence in DCT space; the physical variance of a block's output is, by Parseval,
  // the mean square of its full 64^2 spectrum = (kept / N) * mean square of the kept modes.
  const index_t n_grid = 64 * 64, m = 24, width = 48, batch = 8, K = m * m;
  Rng rng(1);
  const auto x = Tensor<double>::randn({m, m, batch, width}, rng);  // the kept modes of a unit-variance field
  auto physical_variance = [&](const Tensor<double>& v) { return mean_square(v) * double(K) / double(n_grid); };
  auto run = [&](T1Init init) {
    T1Config c;
    c.width = width;
    c.modes = {m};
    c.grid = {64, 64};
    c.init = init;
    std::vector<double> vars;
    Tensor<double> v = x;
    for (index_t l = 0; l < 8; ++l) {
      Rng brng = Rng::stream(5, std::uint64_t(l));
      T1Block<double> block(m, m, width, nn::ActivationKind::Identity, false, t1_channel_sigma(c, l), brng);
      block.eval();
      v = block.forward(v);
      vars.push_back(physical_variance(v));
    }
    return vars;
  };
  // The input field has unit variance, so its kept modes do too and physical_variance(x) = K / N.
  const auto vp_first = run(T1Init::vp_first);
  for (std::size_t l = 0; l < vp_first.size(); ++l) {
    BOOST_TEST_MESSAGE("vp_first block " << l << ": variance " << vp_first[l]);
    BOOST_TEST(vp_first[l] > 0.5);
    BOOST_TEST(vp_first[l] < 2.0);
  }
  const auto naive = run(T1Init::naive);
  BOOST_TEST_MESSAGE("naive after 8 blocks: " << naive.back());
  BOOST_TEST(naive.back() < 1e-6);
  // VP in every block (the reference NS config) compensates the truncation again in each block:
  // in a linear stack the variance grows by N / (m1 m2) per block after the first.
  const auto vp_all = run(T1Init::vp);
  BOOST_TEST_MESSAGE("vp in every block after 8 blocks: " << vp_all.back());
  BOOST_TEST(vp_all.back() > 1e3);
}

BOOST_AUTO_TEST_CASE(the_t1_model_uses_the_vp_scale_of_its_config) {
  T1Config c;
  c.width = 16;
  c.modes = {8};
  c.grid = {32, 32};
  c.layers = 2;
  c.init = T1Init::vp_first;
  T1<double> model(c);
  auto sd = [](const Tensor<double>& w) { return std::sqrt(mean_square(w)); };
  const double vp = nn::vp_sigma_t1(32 * 32, 16, 64, nn::SpectralTransform::dct);
  BOOST_TEST(std::abs(sd(model.parameter("blocks.0.channel_mixing").value) / vp - 1) < 0.05);
  BOOST_TEST(std::abs(sd(model.parameter("blocks.1.channel_mixing").value) / std::sqrt(1.0 / 16) - 1) < 0.05);
  BOOST_TEST(std::abs(sd(model.parameter("blocks.1.frequency_mixing_1").value) / std::sqrt(1.0 / 8) - 1) < 0.1);
  BOOST_TEST(sd(model.parameter("head.0.weight").value) < 1e-7);
}

BOOST_AUTO_TEST_CASE(relative_l2_dct_loss_equals_the_physical_relative_l2_and_has_the_right_gradient) {
  Rng rng(8);
  const auto y = Tensor<double>::randn({3, 2, 8, 6}, rng);
  const auto p = Tensor<double>::randn({3, 2, 8, 6}, rng);  // a predicted spectrum
  nn::RelativeL2DctLoss<double> loss(2);
  Tensor<double> g;
  const double l = loss.evaluate(p, y, &g);
  const double physical = nn::LpLoss<double>(2).evaluate(nn::dct_ortho(p, 2, true), y);
  BOOST_TEST(std::abs(l - physical) < 1e-12);
  const double eps = 1e-6;
  double worst = 0;
  for (index_t i : {0, 17, 95, 200, 287}) {
    Tensor<double> a = p, b = p;
    a[i] += eps;
    b[i] -= eps;
    const double fd = (loss.evaluate(a, y) - loss.evaluate(b, y)) / (2 * eps);
    worst = std::max(worst, std::abs(fd - g[i]) / std::max(1e-8, std::abs(fd)));
  }
  BOOST_TEST(worst < 1e-6);
  BOOST_TEST(loss.evaluate(nn::dct_ortho(y, 2, false), y) < 1e-12);
}

BOOST_AUTO_TEST_CASE(energy_selection_finds_the_modes_that_carry_the_targets) {
  // Targets whose spectrum lives on kx in {0, 5, 7} and ky in {1, 2, 9}.
  Rng rng(6);
  Tensor<double> spectrum(Shape{4, 1, 12, 10});
  for (index_t s = 0; s < 4; ++s)
    for (index_t i : {0, 5, 7})
      for (index_t j : {1, 2, 9}) spectrum(s, 0, i, j) = rng.normal();
  const auto targets = nn::dct_ortho(spectrum, 2, true);
  const auto kept = select_modes_by_energy(targets, {3});
  BOOST_TEST(kept[0] == (std::vector<index_t>{0, 5, 7}), boost::test_tools::per_element());
  BOOST_TEST(kept[1] == (std::vector<index_t>{1, 2, 9}), boost::test_tools::per_element());
  expect_error([&] { select_modes_by_energy(targets, {13, 3}); }, {"modes", "12 x 10"});
}

BOOST_AUTO_TEST_CASE(checkpoints_keep_the_selected_modes_and_load_through_load_model) {
  const auto dir = scratch("roundtrip");
  T1Config cfg = small_config();
  cfg.selection = "energy";
  cfg.selected = {{0, 2, 5}, {1, 4}};
  T1<float> model(cfg);
  Rng rng(9);
  nn::init_normal(model.parameter("head.0.weight"), 0.5, rng);
  nn::init_normal(model.parameter("head.2.weight"), 0.5, rng);
  model.eval();
  const auto x = Tensor<float>::randn({3, 2, 8, 6}, rng);
  const auto y = model.forward(x);
  save_model(dir / "t1.h5", model);
  auto loaded = load_model<float>(dir / "t1.h5");
  BOOST_TEST(loaded.type() == "T1_2d");
  const auto& back = dynamic_cast<T1<float>&>(loaded.model()).config();
  BOOST_TEST((back == cfg));
  BOOST_TEST(back.kept_indices()[0] == (std::vector<index_t>{0, 2, 5}), boost::test_tools::per_element());
  const auto y2 = loaded.predict(x);
  BOOST_TEST((y.vec() - y2.vec()).norm() <= 1e-6 * y.vec().norm());
}

BOOST_AUTO_TEST_CASE(bad_input_gives_errors_that_say_what_was_expected) {
  // More modes than the grid holds.
  T1Config c = small_config();
  c.modes = {9, 2};
  expect_error([&] { T1<float> t(c); }, {"modes", "grid", "axis 0", "found 9"});
  // An input grid smaller than the kept modes.
  T1<double> model(small_config());
  Rng rng(1);
  const auto small = Tensor<double>::randn({1, 2, 2, 6}, rng);
  expect_error([&] { model.forward(small); }, {"more modes than the input grid", "2 x 6"});
  // Wrong channel count.
  expect_error([&] { model.forward(Tensor<double>::randn({1, 3, 8, 6}, rng)); }, {"expected input (N, 2"});
  // Selected modes that do not fit their axis.
  c = small_config();
  c.selected = {{0, 1, 8}, {0, 1}};
  expect_error([&] { c.validate(); }, {"ascending in [0, 8)"});
  // A checkpoint of another model read as a T1 configuration.
  const auto dir = scratch("other_model");
  FnoConfig f;
  f.width = 4;
  f.modes = {2};
  f.layers = 1;
  f.projection_channels = 4;
  Fno<float> fno(f);
  save_model(dir / "fno.h5", fno);
  const auto file = io::H5File::open(dir / "fno.h5");
  expect_error([&] { T1Config::load(file, "/config"); }, {"fno.h5", "holds a FNO model, expected T1"});
}

BOOST_AUTO_TEST_CASE(navier_stokes_pairs_pick_the_target_frame_or_say_what_is_missing) {
  const auto dir = scratch("ns_pairs");
  Rng rng(3);
  const auto w0 = Tensor<double>::randn({3, 1, 4, 4}, rng);
  const auto frames = Tensor<double>::randn({3, 2, 4, 4}, rng);
  {
    auto f = io::H5File::create(dir / "ns.h5");
    f.write("/inputs", w0);
    f.write("/outputs", frames);
    f.set_attr("/", "times", std::vector<double>{10, 50});
    f.commit();
  }
  const auto d = pde::load_navier_stokes_pairs<double>(dir / "ns.h5", 50.0, 1, 2);
  BOOST_TEST(d.inputs.shape() == (Shape{2, 1, 4, 4}));
  BOOST_TEST(d.targets(1, 0, 2, 3) == frames(2, 1, 2, 3));
  BOOST_TEST(d.inputs(0, 0, 1, 1) == w0(1, 0, 1, 1));
  expect_error([&] { pde::load_navier_stokes_pairs<double>(dir / "ns.h5", 20.0); },
               {"ns.h5", "no snapshot at t = 20", "10, 50"});
  expect_error([&] { pde::load_navier_stokes_pairs<double>(dir / "ns.h5", 50.0, 2, 5); }, {"holds 3 samples"});
  {
    auto f = io::H5File::create(dir / "fields.h5");
    f.write("/inputs", w0);
    f.commit();
  }
  expect_error([&] { pde::load_navier_stokes_pairs<double>(dir / "fields.h5", 50.0); },
               {"fields.h5", "no dataset /outputs"});
}
