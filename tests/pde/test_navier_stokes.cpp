// Navier-Stokes vorticity solver: Taylor-Green decay, second order in time, dealiasing, diagnostics.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <numbers>

#include "neurops/pde/grf.hpp"
#include "neurops/pde/navier_stokes.hpp"

using namespace neurops;
using namespace neurops::pde;

namespace {
constexpr double kTwoPi = 2 * std::numbers::pi;

Tensor<double> taylor_green(index_t n, int k, double amplitude) {
  Tensor<double> w({n, n});
  for (index_t j = 0; j < n; ++j)
    for (index_t i = 0; i < n; ++i)
      w(j, i) = amplitude * std::sin(kTwoPi * k * double(i) / double(n)) * std::sin(kTwoPi * k * double(j) / double(n));
  return w;
}

double max_abs_diff(const Tensor<double>& a, const Tensor<double>& b) {
  double e = 0;
  for (index_t p = 0; p < a.numel(); ++p) e = std::max(e, std::abs(a[p] - b[p]));
  return e;
}

Tensor<double> grf_vorticity(index_t n, std::uint64_t seed) {
  PeriodicGrf grf(n, {.alpha = 2.5, .tau = 7.0});
  Rng rng(seed);
  return grf.sample(rng);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(navier_stokes)

BOOST_AUTO_TEST_CASE(taylor_green_decays_exactly) {
  // w = A sin(2 pi k x) sin(2 pi k y) is a function of psi, so u . grad w = 0 and w decays like
  // exp(-8 pi^2 k^2 nu t); Crank-Nicolson reproduces the decay to O((nu L dt)^3).
  const index_t n = 32;
  const int k = 2;
  const double nu = 1e-2, dt = 1e-3, T = 0.5;
  NavierStokes2d ns({.n = n, .viscosity = nu, .dt = dt, .forcing_amplitude = 0.0, .threads = 1});
  ns.set_vorticity(taylor_green(n, k, 3.0));
  ns.run_to(T);
  BOOST_TEST(ns.steps_taken() == 500);
  // Exact solution: relative error O(dt^2) (here ~1e-7); the Crank-Nicolson amplification factor
  // ((1 - z/2)/(1 + z/2))^steps, z = nu L dt, to rounding (advection vanishes identically).
  const double decay = std::exp(-2 * kTwoPi * kTwoPi * k * k * nu * T);
  const double z = nu * 2 * kTwoPi * kTwoPi * k * k * dt;
  const double cn_decay = std::pow((1 - z / 2) / (1 + z / 2), 500);
  const double err = max_abs_diff(ns.vorticity(), taylor_green(n, k, 3.0 * decay));
  const double err_cn = max_abs_diff(ns.vorticity(), taylor_green(n, k, 3.0 * cn_decay));
  BOOST_TEST_MESSAGE("Taylor-Green max error " << err << " vs exact, " << err_cn << " vs the CN factor");
  BOOST_TEST(err < 1e-6 * 3.0);
  BOOST_TEST(err_cn < 1e-12 * 3.0);
  // Diagnostics: for w = A sin sin, enstrophy (1/2) mean w^2 = A^2/8 and energy = enstrophy / |2 pi k|^2
  // with |k|^2 = 2 k^2.
  const auto d = ns.diagnostics();
  const double A = 3.0 * cn_decay;
  BOOST_TEST(d.enstrophy == A * A / 8, boost::test_tools::tolerance(1e-10));
  BOOST_TEST(d.energy == A * A / 8 / (2 * kTwoPi * kTwoPi * k * k), boost::test_tools::tolerance(1e-10));
  BOOST_TEST(d.time == T);
}

BOOST_AUTO_TEST_CASE(second_order_in_time) {
  // Forced flow from a GRF vorticity: errors against a fine-step reference fall 4x per halving.
  const index_t n = 32;
  const Tensor<double> w0 = grf_vorticity(n, 4);
  auto solve = [&](double dt) {
    NavierStokes2d ns({.n = n, .viscosity = 1e-3, .dt = dt, .threads = 1});
    ns.set_vorticity(w0);
    ns.run_to(0.5);
    return ns.vorticity();
  };
  const Tensor<double> reference = solve(0.5 / 1600);
  const double e1 = max_abs_diff(solve(0.5 / 50), reference);
  const double e2 = max_abs_diff(solve(0.5 / 100), reference);
  const double e3 = max_abs_diff(solve(0.5 / 200), reference);
  const double p1 = std::log2(e1 / e2), p2 = std::log2(e2 / e3);
  BOOST_TEST_MESSAGE("time errors " << e1 << " " << e2 << " " << e3 << ", orders " << p1 << " " << p2);
  BOOST_TEST(p1 > 1.8);
  BOOST_TEST(p2 > 1.8);
  BOOST_TEST(p2 < 2.3);
}

BOOST_AUTO_TEST_CASE(threads_and_resolution_consistent) {
  // Two threads give the same trajectory as one (to rounding), and a 64^2 run coarsened to 32^2 is
  // close to the 32^2 run for this smooth, strongly damped-in-k field.
  const index_t n = 64;
  const Tensor<double> w0 = grf_vorticity(n, 8);
  NavierStokes2d a({.n = n, .viscosity = 1e-3, .dt = 2e-3, .threads = 1});
  NavierStokes2d b({.n = n, .viscosity = 1e-3, .dt = 2e-3, .threads = 2});
  a.set_vorticity(w0);
  b.set_vorticity(w0);
  const Tensor<double> sa = a.run({0.1, 0.2}, 32);
  const Tensor<double> sb = b.run({0.1, 0.2}, 32);
  BOOST_TEST(sa.shape() == Shape({2, 32, 32}));
  BOOST_TEST(max_abs_diff(sa, sb) < 1e-10);
  // Same time, solved directly at 32^2 from the spectrally truncated initial field.
  NavierStokes2d c({.n = 32, .viscosity = 1e-3, .dt = 2e-3, .threads = 1});
  c.set_vorticity(NavierStokes2d::coarsen(w0, 32, Coarsening::spectral));
  c.run_to(0.2);
  const Tensor<double> last(sa.slice(1, 2).reshaped({32, 32}));
  double scale = 0;
  for (double v : last) scale = std::max(scale, std::abs(v));
  BOOST_TEST(max_abs_diff(c.vorticity(), last) < 0.02 * scale);
}

BOOST_AUTO_TEST_CASE(coarsening_is_exact_for_band_limited_fields) {
  const Tensor<double> fine = taylor_green(64, 3, 1.0);
  const Tensor<double> spectral = NavierStokes2d::coarsen(fine, 16, Coarsening::spectral);
  const Tensor<double> sub = NavierStokes2d::coarsen(fine, 16, Coarsening::subsample);
  const Tensor<double> exact = taylor_green(16, 3, 1.0);
  BOOST_TEST(max_abs_diff(spectral, exact) < 1e-13);
  BOOST_TEST(max_abs_diff(sub, exact) < 1e-13);
}

BOOST_AUTO_TEST_CASE(bilinear_coarsening_averages_as_pytorch) {
  // F.interpolate(bilinear, align_corners=False) from 4m to m samples at 4i + 3/2: the mean of the
  // fine points 4i+1 and 4i+2 in each direction; from 2m to m at 2i + 1/2, the mean of 2i and 2i+1.
  const Tensor<double> fine = grf_vorticity(32, 21);
  const Tensor<double> by4 = NavierStokes2d::coarsen(fine, 8, Coarsening::bilinear);
  const Tensor<double> by2 = NavierStokes2d::coarsen(fine, 16, Coarsening::bilinear);
  double err4 = 0, err2 = 0;
  for (index_t j = 0; j < 8; ++j)
    for (index_t i = 0; i < 8; ++i) {
      const index_t y = 4 * j + 1, x = 4 * i + 1;
      const double mean = 0.25 * (fine(y, x) + fine(y, x + 1) + fine(y + 1, x) + fine(y + 1, x + 1));
      err4 = std::max(err4, std::abs(by4(j, i) - mean));
    }
  for (index_t j = 0; j < 16; ++j)
    for (index_t i = 0; i < 16; ++i) {
      const index_t y = 2 * j, x = 2 * i;
      const double v = 0.25 * (fine(y, x) + fine(y, x + 1) + fine(y + 1, x) + fine(y + 1, x + 1));
      err2 = std::max(err2, std::abs(by2(j, i) - v));
    }
  BOOST_TEST(err4 < 1e-14);
  BOOST_TEST(err2 < 1e-14);
  BOOST_CHECK_THROW(NavierStokes2d::coarsen(fine, 12, Coarsening::bilinear), Error);
}

BOOST_AUTO_TEST_CASE(dealiasing_removes_high_modes_of_the_product) {
  // w = sin(2 pi 10 x) + sin(2 pi 3 y) on 24^2: u . grad w has the modes (+-10, +-3), beyond the
  // 2/3-rule cut-off (2/3)(24/2) = 8 in x, so with dealiasing they stay exactly empty.
  const index_t n = 24;
  Tensor<double> w0({n, n});
  for (index_t j = 0; j < n; ++j)
    for (index_t i = 0; i < n; ++i)
      w0(j, i) = std::sin(kTwoPi * 10.0 * double(i) / double(n)) + std::sin(kTwoPi * 3.0 * double(j) / double(n));
  NavierStokes2d ns({.n = n, .viscosity = 1e-3, .dt = 1e-3, .forcing_amplitude = 0.0, .threads = 1});
  ns.set_vorticity(w0);
  for (int s = 0; s < 3; ++s) ns.step();
  const Tensor<double> w = ns.vorticity();
  auto mode = [&](int kx, int ky) {
    std::complex<double> c = 0;
    for (index_t j = 0; j < n; ++j)
      for (index_t i = 0; i < n; ++i)
        c += w(j, i) * std::exp(std::complex<double>(0, -kTwoPi * (kx * double(i) + ky * double(j)) / double(n)));
    return std::abs(c) / double(n * n);
  };
  BOOST_TEST(mode(10, 3) < 1e-13);
  BOOST_TEST(mode(10, -3) < 1e-13);
  BOOST_TEST(mode(10, 0) > 0.4);  // the initial modes are still there
  BOOST_TEST(mode(0, 3) > 0.4);
}

BOOST_AUTO_TEST_CASE(snapshot_times_must_match_steps) {
  NavierStokes2d ns({.n = 16, .viscosity = 1e-3, .dt = 0.01, .threads = 1});
  ns.set_vorticity(taylor_green(16, 1, 1.0));
  BOOST_CHECK_THROW(ns.run_to(0.015), Error);
  BOOST_CHECK_NO_THROW(ns.run_to(0.03));
  BOOST_TEST(ns.steps_taken() == 3);
}

BOOST_AUTO_TEST_CASE(bad_input_is_reported) {
  auto message_of = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  BOOST_TEST(message_of([] { NavierStokes2d({.n = 16, .viscosity = -1e-3}); }).find("viscosity > 0") !=
             std::string::npos);
  BOOST_TEST(message_of([] { NavierStokes2d({.n = 15}); }).find("even grid size") != std::string::npos);
  BOOST_TEST(message_of([] { NavierStokes2d({.n = 6}); }).find("even grid size >= 8") != std::string::npos);
  BOOST_TEST(message_of([] { NavierStokes2d({.n = 16, .dt = 0.0}); }).find("dt > 0") != std::string::npos);
  // A step violating the CFL limit throws and leaves the state as it was.
  NavierStokes2d ns({.n = 32, .viscosity = 1e-3, .dt = 0.5, .forcing_amplitude = 0.0, .threads = 1});
  ns.set_vorticity(taylor_green(32, 1, 50.0));
  const Tensor<double> before = ns.vorticity();
  const std::string cfl = message_of([&] { ns.step(); });
  BOOST_TEST_MESSAGE(cfl);
  BOOST_TEST(cfl.find("CFL") != std::string::npos);
  BOOST_TEST(cfl.find("reduce dt below") != std::string::npos);
  BOOST_TEST(max_abs_diff(ns.vorticity(), before) == 0.0);
  BOOST_TEST(ns.steps_taken() == 0);
  BOOST_TEST(message_of([&] { ns.set_vorticity(Tensor<double>({16, 16})); }).find("(16, 16)") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
