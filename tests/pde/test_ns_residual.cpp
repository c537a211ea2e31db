// Navier-Stokes residual estimator (Spectral-Refiner loss): closed form on Taylor-Green modes, the
// order of the IMEX evaluation step, perturbed trajectories, the adjoint gradient against central
// differences, bad input.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <numbers>
#include <string>

#include "neurops/core/error.hpp"
#include "neurops/pde/grf.hpp"
#include "neurops/pde/navier_stokes.hpp"
#include "neurops/pde/ns_residual.hpp"

using namespace neurops;
using namespace neurops::pde;

namespace {
constexpr double kTwoPi = 2 * std::numbers::pi;

/// sin(2 pi k x) sin(2 pi k y) on the n x n grid (rows along y).
Tensor<double> taylor_green(index_t n, int k) {
  Tensor<double> w({n, n});
  for (index_t j = 0; j < n; ++j)
    for (index_t i = 0; i < n; ++i)
      w(j, i) = std::sin(kTwoPi * k * double(i) / double(n)) * std::sin(kTwoPi * k * double(j) / double(n));
  return w;
}

/// A solver trajectory (frames at `times`) from a GRF initial vorticity.
Tensor<double> solver_trajectory(index_t n, std::uint64_t seed, const std::vector<double>& times, double dt = 2e-3) {
  PeriodicGrf grf(n, {.alpha = 2.5, .tau = 7.0});
  Rng rng(seed);
  NavierStokes2d ns({.n = n, .viscosity = 1e-3, .dt = dt, .threads = 1});
  ns.set_vorticity(grf.sample(rng));
  return ns.run(times);
}

double max_abs(const Tensor<double>& a) {
  double m = 0;
  for (double v : a) m = std::max(m, std::abs(v));
  return m;
}

/// The solver's trajectory recorded after every step of size dt up to t_end, shape (steps + 1, n, n), from a
/// mean-free GRF vorticity without Nyquist content (where the solver's derivative conventions and the
/// estimator's, which are the reference's, differ).
Tensor<double> stepped_trajectory(index_t n, std::uint64_t seed, double dt, double t_end) {
  PeriodicGrf grf(n, {.alpha = 2.5, .tau = 7.0});
  Rng rng(seed);
  Tensor<double> w0 = NavierStokes2d::coarsen(grf.sample(rng), n, Coarsening::spectral);
  double mean = 0;
  for (double v : w0) mean += v / double(w0.numel());
  for (double& v : w0) v -= mean;
  NavierStokes2d ns({.n = n, .viscosity = 1e-3, .dt = dt, .threads = 1});
  ns.set_vorticity(w0);
  const auto steps = index_t(std::lround(t_end / dt));
  Tensor<double> w({steps + 1, n, n});
  for (index_t k = 0; k <= steps; ++k) {
    if (k > 0) ns.step();
    const Tensor<double> frame = ns.vorticity();
    std::copy(frame.begin(), frame.end(), w.data() + k * n * n);
  }
  return w;
}

/// cos(2 pi (3 x + y)) on the n x n grid: a smooth error.
Tensor<double> smooth_mode(index_t n) {
  Tensor<double> m({n, n});
  for (index_t j = 0; j < n; ++j)
    for (index_t i = 0; i < n; ++i) m(j, i) = std::cos(kTwoPi * (3.0 * double(i) + double(j)) / double(n));
  return m;
}

/// Trajectory w (T, n, n) plus amplitude(t) max|w| smooth_mode on frame t.
template <class Amplitude>
Tensor<double> with_smooth_error(const Tensor<double>& w, Amplitude amplitude) {
  const index_t T = w.size(0), n = w.size(1);
  const Tensor<double> mode = smooth_mode(n);
  const double scale = max_abs(w);
  Tensor<double> out = w;
  for (index_t t = 0; t < T; ++t)
    for (index_t p = 0; p < n * n; ++p) out[t * n * n + p] += amplitude(t) * scale * mode[p];
  return out;
}

bool message_has(const Error& e, const std::string& text) {
  const bool ok = e.message().find(text) != std::string::npos;
  if (!ok) BOOST_TEST_MESSAGE("message: " << e.message());
  return ok;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(ns_residual)

BOOST_AUTO_TEST_CASE(taylor_green_modes_match_the_closed_form) {
  // On w = W sin sin (one |k|^2 shell) and forcing F sin sin, u . grad w = 0 exactly, every operator
  // is a scalar on the mode, and R = M G - A w_bar - F with G = F + A W, w_bar = (a+b) W + dt Pm G,
  // M = a/(1 + dt A/2) + b/(1 - dt A/2), Pm = b/(1 - dt A/2) - a/(1 + dt A/2), A = -8 pi^2 k^2 nu.
  // q = (alpha + 8 pi^2 k^2)^p n^2 |r| / 2 through Parseval (sum of sin^2 sin^2 over the grid n^2/4).
  const index_t n = 32;
  const int k = 2;
  const double nu = 1e-2, dt = 1e-2;
  const std::vector<double> amplitudes{1.5, -0.7, 0.2};  // W of three frames
  for (const auto [a, b] : {std::pair{0.5, 0.5}, std::pair{0.0, 1.0}, std::pair{0.3, 0.9}}) {
    for (const double F : {0.0, 0.37}) {
      NsResidualSettings s{.viscosity = nu, .dt = dt, .weight_minus = a, .weight_plus = b, .threads = 2};
      NsResidual est(n, s);
      const Tensor<double> mode = taylor_green(n, k);
      Tensor<double> f({n, n});
      for (index_t p = 0; p < f.numel(); ++p) f[p] = F * mode[p];
      est.set_forcing(f);
      Tensor<double> w({1, index_t(amplitudes.size()), n, n});
      for (std::size_t t = 0; t < amplitudes.size(); ++t)
        for (index_t p = 0; p < n * n; ++p) w[index_t(t) * n * n + p] = amplitudes[t] * mode[p];
      const Tensor<double> R = est.residual(w);
      const NsResidualNorms q = est.norms(w);
      const double A = -8 * std::numbers::pi * std::numbers::pi * k * k * nu, h = 0.5 * dt * A;
      const double M = a / (1 + h) + b / (1 - h), Pm = b / (1 - h) - a / (1 + h);
      double sum_q2 = 0;
      for (std::size_t t = 0; t < amplitudes.size(); ++t) {
        const double W = amplitudes[t], G = F + A * W;
        const double r = M * G - A * ((a + b) * W + dt * Pm * G) - F;
        double err = 0;
        for (index_t p = 0; p < n * n; ++p) err = std::max(err, std::abs(R[index_t(t) * n * n + p] - r * mode[p]));
        BOOST_TEST(err <= 1e-13 * std::max(1.0, std::abs(W)));
        const double expected = std::pow(s.alpha + 8 * std::numbers::pi * std::numbers::pi * k * k, s.power) *
                                double(n * n) * std::abs(r) / 2;
        BOOST_TEST(q.per_step(0, index_t(t)) == expected, boost::test_tools::tolerance(1e-10));
        sum_q2 += expected * expected;
      }
      BOOST_TEST(q.total == std::sqrt(sum_q2 / double(amplitudes.size())), boost::test_tools::tolerance(1e-10));
    }
  }
  // The steady Taylor-Green flow (F = -A W, a + b = 1) is an exact solution: R = 0.
  NsResidual est(n, {.viscosity = nu, .dt = dt, .threads = 1});
  const Tensor<double> mode = taylor_green(n, k);
  const double A = -8 * std::numbers::pi * std::numbers::pi * k * k * nu;
  Tensor<double> f({n, n});
  for (index_t p = 0; p < f.numel(); ++p) f[p] = -A * 2.0 * mode[p];
  est.set_forcing(f);
  Tensor<double> w({1, n, n});
  for (index_t p = 0; p < w.numel(); ++p) w[p] = 2.0 * mode[p];
  BOOST_TEST(max_abs(est.residual(w)) < 1e-13 * max_abs(f));
}

BOOST_AUTO_TEST_CASE(falls_at_the_order_of_the_evaluation_step) {
  // A solver trajectory: R = O(dt^2) with the weights (1/2, 1/2), O(dt) with (0, 1) (see the header:
  // each frame's w_t is the rate of one IMEX step of size -+dt). Measured orders asserted in a band.
  const index_t n = 64;
  const Tensor<double> w = solver_trajectory(n, 11, {0.2, 0.4, 0.6});
  for (const auto [a, b, order] : {std::tuple{0.5, 0.5, 2.0}, std::tuple{0.0, 1.0, 1.0}}) {
    std::vector<double> totals;
    for (const double dt : {4e-3, 2e-3, 1e-3, 5e-4}) {
      NsResidual est(n, {.dt = dt, .weight_minus = a, .weight_plus = b, .threads = 2});
      totals.push_back(est.norms(w).total);
    }
    for (std::size_t i = 1; i < totals.size(); ++i) {
      const double measured = std::log2(totals[i - 1] / totals[i]);
      BOOST_TEST_MESSAGE("weights (" << a << ", " << b << "): " << totals[i - 1] << " -> " << totals[i] << ", order "
                                     << measured);
      BOOST_TEST(measured > order - 0.15);
      BOOST_TEST(measured < order + 0.15);
    }
  }
  // The trajectory's own accuracy barely matters (the frames are evaluated one by one): solver steps
  // 2e-3 and 5e-4 give indicators within 1% of each other.
  const Tensor<double> finer = solver_trajectory(n, 11, {0.2, 0.4, 0.6}, 5e-4);
  NsResidual est(n, {.dt = 1e-3, .threads = 2});
  const double coarse_total = est.norms(w).total, fine_total = est.norms(finer).total;
  BOOST_TEST_MESSAGE("solver dt 2e-3: " << coarse_total << ", 5e-4: " << fine_total);
  BOOST_TEST(std::abs(coarse_total - fine_total) < 0.01 * fine_total);
}

BOOST_AUTO_TEST_CASE(perturbed_trajectory_gives_a_larger_residual) {
  // The notebook's setting (dt 1e-6, weights (1/2, 1/2), alpha 10^-1.5) on a solver trajectory and on
  // the same trajectory with 1% grid-scale noise. A smooth 5% perturbation of mode (3, 1) is only
  // reported: the indicator weighs fine scales (A^2, A^3 terms) and barely sees it.
  const index_t n = 64;
  const Tensor<double> w = solver_trajectory(n, 5, {0.5, 1.0});
  NsResidual est(n, {.threads = 2});
  const double clean = est.norms(w).total;
  Rng rng(99);
  const double scale = max_abs(w);
  Tensor<double> noisy = w, smooth = w;
  for (index_t p = 0; p < w.numel(); ++p) noisy[p] += 0.01 * scale * rng.normal();
  for (index_t t = 0; t < 2; ++t)
    for (index_t j = 0; j < n; ++j)
      for (index_t i = 0; i < n; ++i)
        smooth(t, j, i) += 0.05 * scale * std::cos(kTwoPi * (3.0 * double(i) + double(j)) / double(n));
  const double with_noise = est.norms(noisy).total, with_mode = est.norms(smooth).total;
  BOOST_TEST_MESSAGE("clean " << clean << ", 1% noise " << with_noise << ", 5% mode (3,1) " << with_mode);
  BOOST_TEST(clean > 0);
  BOOST_TEST(with_noise > 10 * clean);
}

BOOST_AUTO_TEST_CASE(gradient_matches_central_differences) {
  // Double precision: the adjoint gradient against central differences along random directions and
  // for single entries, on a batch (B, T) = (2, 2) of non-mean-free fields with Nyquist content,
  // with and without dealiasing, unequal weights and the grid-mean normalisation.
  const index_t n = 12;
  Rng rng(7);
  const Tensor<double> w = Tensor<double>::randn(Shape({2, 2, n, n}), rng, 0.3, 1.0);
  const std::vector<NsResidualSettings> settings{{.viscosity = 1e-2, .dt = 1e-2, .threads = 2},
                                                 {.viscosity = 3e-3,
                                                  .power = -0.5,
                                                  .dt = 2e-2,
                                                  .weight_minus = 0.2,
                                                  .weight_plus = 0.7,
                                                  .dealias = false,
                                                  .grid_mean = true,
                                                  .threads = 1}};
  for (const auto& s : settings) {
    NsResidual est(n, s);
    Tensor<double> g;
    const double value = est.value_and_gradient(w, g);
    BOOST_TEST(value == est.norms(w).total, boost::test_tools::tolerance(1e-14));
    BOOST_TEST(g.shape() == w.shape());
    const auto total_at = [&](const Tensor<double>& x) { return est.norms(x).total; };
    for (int trial = 0; trial < 3; ++trial) {
      const Tensor<double> v = Tensor<double>::randn(w.shape(), rng);
      const double eps = 1e-5;
      Tensor<double> plus = w, minus = w;
      for (index_t p = 0; p < w.numel(); ++p) {
        plus[p] += eps * v[p];
        minus[p] -= eps * v[p];
      }
      const double fd = (total_at(plus) - total_at(minus)) / (2 * eps);
      double adjoint = 0;
      for (index_t p = 0; p < w.numel(); ++p) adjoint += g[p] * v[p];
      BOOST_TEST_MESSAGE("directional derivative: adjoint " << adjoint << ", central differences " << fd);
      BOOST_TEST(std::abs(adjoint - fd) <= 1e-7 * std::abs(fd));
    }
    for (const index_t p : {index_t(0), index_t(5 * n + 7), index_t(n * n + n / 2), w.numel() - 1}) {
      const double eps = 1e-5;
      Tensor<double> plus = w, minus = w;
      plus[p] += eps;
      minus[p] -= eps;
      const double fd = (total_at(plus) - total_at(minus)) / (2 * eps);
      BOOST_TEST(std::abs(g[p] - fd) <= 1e-6 * max_abs(g));
    }
  }
}

BOOST_AUTO_TEST_CASE(single_precision_trajectories) {
  // A float trajectory gives the value of its double copy and the double gradient rounded to float.
  const index_t n = 16;
  Rng rng(8);
  const Tensor<double> wd = Tensor<double>::randn(Shape({2, n, n}), rng);
  Tensor<float> wf(wd.shape());
  for (index_t p = 0; p < wd.numel(); ++p) wf[p] = float(wd[p]);
  Tensor<double> exact(wd.shape());
  for (index_t p = 0; p < wd.numel(); ++p) exact[p] = double(wf[p]);
  NsResidual est(n, {.dt = 1e-2, .threads = 1});
  Tensor<double> gd;
  Tensor<float> gf;
  const double vd = est.value_and_gradient(exact, gd), vf = est.value_and_gradient(wf, gf);
  BOOST_TEST(vd == vf);
  BOOST_TEST(est.norms(wf).total == vd);
  for (index_t p = 0; p < gd.numel(); ++p) BOOST_TEST(gf[p] == float(gd[p]));
}

BOOST_AUTO_TEST_CASE(threads_do_not_change_the_result) {
  const index_t n = 32;
  const Tensor<double> w = solver_trajectory(n, 3, {0.1, 0.2, 0.3});
  NsResidual one(n, {.threads = 1}), two(n, {.threads = 2});
  const auto a = one.norms(w), b = two.norms(w);
  for (index_t t = 0; t < 3; ++t) BOOST_TEST(a.per_step(0, t) == b.per_step(0, t));
  BOOST_TEST(a.total == b.total);
  // The frames mode, value and gradient (each frame's gradient sums its stencil terms in a fixed order).
  NsResidual f1(n, {.time_derivative = NsTimeDerivative::frames, .frame_dt = 0.1, .threads = 1});
  NsResidual f2(n, {.time_derivative = NsTimeDerivative::frames, .frame_dt = 0.1, .threads = 2});
  Tensor<double> g1, g2;
  BOOST_TEST(f1.value_and_gradient(w, g1) == f2.value_and_gradient(w, g2));
  for (index_t p = 0; p < w.numel(); ++p) BOOST_TEST(g1[p] == g2[p]);
}

BOOST_AUTO_TEST_CASE(bad_input_gives_clear_errors) {
  BOOST_CHECK_EXCEPTION(NsResidual(33), Error, [](const Error& e) { return message_has(e, "even grid size"); });
  BOOST_CHECK_EXCEPTION(NsResidual(2), Error, [](const Error& e) { return message_has(e, "n >= 4, found n = 2"); });
  BOOST_CHECK_EXCEPTION(NsResidual(16, {.viscosity = -1}), Error,
                        [](const Error& e) { return message_has(e, "viscosity > 0"); });
  BOOST_CHECK_EXCEPTION(NsResidual(16, {.dt = 0}), Error, [](const Error& e) { return message_has(e, "dt > 0"); });
  BOOST_CHECK_EXCEPTION(NsResidual(64, {.viscosity = 1, .dt = 2 / (8 * std::numbers::pi * std::numbers::pi)}), Error,
                        [](const Error& e) { return message_has(e, "take a smaller dt"); });
  NsResidual est(16, {.threads = 1});
  BOOST_CHECK_EXCEPTION(est.norms(Tensor<double>({16, 16})), Error,
                        [](const Error& e) { return message_has(e, "expected (T, n, n) or (B, T, n, n)"); });
  BOOST_CHECK_EXCEPTION(est.norms(Tensor<double>({2, 16, 8})), Error,
                        [](const Error& e) { return message_has(e, "expected frames of 16 x 16"); });
  BOOST_CHECK_EXCEPTION(est.norms(Tensor<double>({1, 0, 16, 16})), Error,
                        [](const Error& e) { return message_has(e, "holds no frame"); });
  Tensor<double> w({2, 16, 16});
  w(1, 3, 4) = std::nan("");
  BOOST_CHECK_EXCEPTION(est.norms(w), Error, [](const Error& e) { return message_has(e, "non-finite value"); });
  Tensor<double> g;
  BOOST_CHECK_EXCEPTION(est.value_and_gradient(w, g), Error,
                        [](const Error& e) { return message_has(e, "non-finite value"); });
  BOOST_CHECK_EXCEPTION(est.set_forcing(Tensor<double>({8, 8})), Error,
                        [](const Error& e) { return message_has(e, "forcing of shape"); });
}

// ---- time_derivative = frames: w_t from the frames by second-order differences ----

BOOST_AUTO_TEST_CASE(frames_mode_matches_the_closed_form) {
  // A single Taylor-Green mode W(t) sin sin with forcing F sin sin has C = 0 and R = W_t^fd - A W - F on
  // the mode, W_t^fd the difference formula (central inside, one-sided at the ends) of the W(t_k).
  // (1) W quadratic in t: the formulas are exact, R = W'(t) - A W - F. (2) The exact solution
  // W = -F/A + (W0 + F/A) e^(A t): R is the formulas' error only, matched to the closed form.
  const index_t n = 16;
  const int k = 1;
  const double nu = 2e-2, h = 0.05, F = 0.3;
  const double A = -8 * std::numbers::pi * std::numbers::pi * k * k * nu;
  const Tensor<double> mode = taylor_green(n, k);
  NsResidualSettings s{.viscosity = nu, .time_derivative = NsTimeDerivative::frames, .frame_dt = h, .threads = 2};
  NsResidual est(n, s);
  Tensor<double> f({n, n});
  for (index_t p = 0; p < f.numel(); ++p) f[p] = F * mode[p];
  est.set_forcing(f);
  const index_t T = 5;
  const auto quadratic = [](double t) { return 0.4 - 1.3 * t + 2.1 * t * t; };
  const auto exact = [&](double t) { return -F / A + (1.2 + F / A) * std::exp(A * t); };
  for (const bool is_quadratic : {true, false}) {
    std::vector<double> W(std::size_t(T), 0.0);
    for (index_t t = 0; t < T; ++t) W[std::size_t(t)] = is_quadratic ? quadratic(double(t) * h) : exact(double(t) * h);
    Tensor<double> w({T, n, n});
    for (index_t t = 0; t < T; ++t)
      for (index_t p = 0; p < n * n; ++p) w[t * n * n + p] = W[std::size_t(t)] * mode[p];
    Tensor<double> w_t;
    const Tensor<double> R = est.residual(w, &w_t);
    const NsResidualNorms q = est.norms(w);
    double sum_q2 = 0;
    for (index_t t = 0; t < T; ++t) {
      const auto Wt = [&](index_t i) { return W[std::size_t(i)]; };
      const double fd = t == 0       ? (-3 * Wt(0) + 4 * Wt(1) - Wt(2)) / (2 * h)
                        : t == T - 1 ? (3 * Wt(T - 1) - 4 * Wt(T - 2) + Wt(T - 3)) / (2 * h)
                                     : (Wt(t + 1) - Wt(t - 1)) / (2 * h);
      if (is_quadratic) BOOST_TEST(fd == -1.3 + 4.2 * double(t) * h, boost::test_tools::tolerance(1e-12));
      const double r = fd - A * Wt(t) - F;
      double err_r = 0, err_wt = 0;
      for (index_t p = 0; p < n * n; ++p) {
        err_r = std::max(err_r, std::abs(R[t * n * n + p] - r * mode[p]));
        err_wt = std::max(err_wt, std::abs(w_t[t * n * n + p] - fd * mode[p]));
      }
      BOOST_TEST(err_r <= 1e-12);
      BOOST_TEST(err_wt <= 1e-12);
      const double expected = std::pow(s.alpha + 8 * std::numbers::pi * std::numbers::pi * k * k, s.power) *
                              double(n * n) * std::abs(r) / 2;
      BOOST_TEST(q.per_step(0, t) == expected, boost::test_tools::tolerance(1e-10));
      sum_q2 += expected * expected;
    }
    BOOST_TEST(q.total == std::sqrt(sum_q2 / double(T)), boost::test_tools::tolerance(1e-10));
  }
}

BOOST_AUTO_TEST_CASE(frames_mode_falls_at_the_solver_order) {
  // The solver's own trajectory, recorded every step (frame_dt = solver dt): its steps are second
  // order, so the residual of its frames falls as dt^2. Measured orders asserted in [1.7, 2.3].
  const index_t n = 64;
  const double t_end = 0.1;
  std::vector<double> totals;
  for (const double dt : {2e-3, 1e-3, 5e-4}) {
    const Tensor<double> w = stepped_trajectory(n, 21, dt, t_end);
    NsResidual est(n, {.time_derivative = NsTimeDerivative::frames, .frame_dt = dt, .threads = 2});
    totals.push_back(est.norms(w).total);
  }
  for (std::size_t i = 1; i < totals.size(); ++i) {
    const double measured = std::log2(totals[i - 1] / totals[i]);
    BOOST_TEST_MESSAGE("frames mode, solver trajectory: " << totals[i - 1] << " -> " << totals[i] << ", order "
                                                          << measured);
    BOOST_TEST(measured >= 1.7);
    BOOST_TEST(measured <= 2.3);
  }
}

BOOST_AUTO_TEST_CASE(frames_mode_sees_a_smooth_perturbation) {
  // 5% of the smooth mode (3, 1) added to every frame of a solver trajectory: the frames no longer
  // evolve by the equations and the frames mode's residual grows by orders of magnitude; the
  // reference mode, which looks at each frame on its own, changes by far less.
  const index_t n = 64;
  const double dt = 1e-3;
  const Tensor<double> w = stepped_trajectory(n, 21, dt, 0.1);
  const Tensor<double> perturbed = with_smooth_error(w, [](index_t) { return 0.05; });
  NsResidual frames(n, {.time_derivative = NsTimeDerivative::frames, .frame_dt = dt, .threads = 2});
  NsResidual reference(n, {.threads = 2});
  const double frames_ratio = frames.norms(perturbed).total / frames.norms(w).total;
  const double reference_ratio = reference.norms(perturbed).total / reference.norms(w).total;
  BOOST_TEST_MESSAGE("5% mode (3,1): frames mode x" << frames_ratio << ", reference mode x" << reference_ratio);
  BOOST_TEST(frames_ratio >= 10);
  BOOST_TEST(reference_ratio < 2);
  BOOST_TEST(frames_ratio > 10 * reference_ratio);
}

BOOST_AUTO_TEST_CASE(frames_mode_indicates_the_error_of_spaced_frames) {
  // Frames 10 solver steps apart (as a model's predicted rollout would be), the exact trajectory
  // against copies with an error e(t) = eps (t / t_end) max|w| cos(2 pi (3 x + y)) that grows along the
  // rollout: the indicator grows with eps, in proportion once the error dominates the difference
  // formula's own O(frame_dt^2) part.
  const index_t n = 64;
  const double dt = 1e-3, t_end = 0.2;
  const index_t stride = 10;
  const Tensor<double> every_step = stepped_trajectory(n, 21, dt, t_end);
  const index_t T = (every_step.size(0) - 1) / stride + 1;
  Tensor<double> w({T, n, n});
  for (index_t t = 0; t < T; ++t)
    std::copy(every_step.data() + t * stride * n * n, every_step.data() + (t * stride + 1) * n * n,
              w.data() + t * n * n);
  NsResidual est(n, {.time_derivative = NsTimeDerivative::frames, .frame_dt = double(stride) * dt, .threads = 2});
  const double clean = est.norms(w).total;
  std::vector<double> totals;
  for (const double eps : {0.005, 0.01, 0.02, 0.04}) {
    const Tensor<double> drifted = with_smooth_error(w, [&](index_t t) { return eps * double(t) / double(T - 1); });
    totals.push_back(est.norms(drifted).total);
    BOOST_TEST_MESSAGE("frames " << stride << " steps apart, drift " << eps << ": indicator " << totals.back()
                                 << " (exact frames " << clean << ")");
  }
  BOOST_TEST(totals.front() > 10 * clean);
  for (std::size_t i = 1; i < totals.size(); ++i) {
    BOOST_TEST(totals[i] / totals[i - 1] > 1.9);  // eps doubles
    BOOST_TEST(totals[i] / totals[i - 1] < 2.1);
  }
}

BOOST_AUTO_TEST_CASE(frames_mode_gradient_matches_central_differences) {
  // The adjoint, difference stencil included, against central differences in double precision on
  // batches of non-mean-free fields with Nyquist content: (B, T) = (2, 4) and (1, 3) (the smallest
  // trajectory, where both one-sided formulas meet), with and without dealiasing and grid_mean.
  Rng rng(17);
  const index_t n = 12;
  const std::vector<NsResidualSettings> settings{
      {.viscosity = 1e-2, .time_derivative = NsTimeDerivative::frames, .frame_dt = 0.1, .threads = 2},
      {.viscosity = 3e-3,
       .power = -0.5,
       .time_derivative = NsTimeDerivative::frames,
       .frame_dt = 0.03,
       .dealias = false,
       .grid_mean = true,
       .threads = 1}};
  for (const Shape& shape : {Shape({2, 4, n, n}), Shape({3, n, n})}) {
    const Tensor<double> w = Tensor<double>::randn(shape, rng, 0.3, 1.0);
    for (const auto& s : settings) {
      NsResidual est(n, s);
      Tensor<double> g;
      const double value = est.value_and_gradient(w, g);
      BOOST_TEST(value == est.norms(w).total, boost::test_tools::tolerance(1e-14));
      BOOST_TEST(g.shape() == w.shape());
      const auto total_at = [&](const Tensor<double>& x) { return est.norms(x).total; };
      const double eps = 1e-5;
      for (int trial = 0; trial < 3; ++trial) {
        const Tensor<double> v = Tensor<double>::randn(w.shape(), rng);
        Tensor<double> plus = w, minus = w;
        for (index_t p = 0; p < w.numel(); ++p) {
          plus[p] += eps * v[p];
          minus[p] -= eps * v[p];
        }
        const double fd = (total_at(plus) - total_at(minus)) / (2 * eps);
        double adjoint = 0;
        for (index_t p = 0; p < w.numel(); ++p) adjoint += g[p] * v[p];
        BOOST_TEST_MESSAGE("frames mode directional derivative: adjoint " << adjoint << ", central differences " << fd);
        BOOST_TEST(std::abs(adjoint - fd) <= 1e-7 * std::abs(fd));
      }
      // Single entries in the first, an inner and the last frame.
      const index_t T = w.size(w.rank() - 3);
      for (const index_t p :
           {index_t(3), index_t(n * n + 5 * n + 7), index_t((T - 1) * n * n + n / 2), w.numel() - 1}) {
        Tensor<double> plus = w, minus = w;
        plus[p] += eps;
        minus[p] -= eps;
        const double fd = (total_at(plus) - total_at(minus)) / (2 * eps);
        BOOST_TEST(std::abs(g[p] - fd) <= 1e-6 * max_abs(g));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(frames_mode_bad_input_gives_clear_errors) {
  for (const double h : {0.0, -1e-3, std::nan("")})
    BOOST_CHECK_EXCEPTION(NsResidual(16, {.time_derivative = NsTimeDerivative::frames, .frame_dt = h}), Error,
                          [](const Error& e) { return message_has(e, "time_derivative = frames needs frame_dt > 0"); });
  // frame_dt left at its default.
  BOOST_CHECK_EXCEPTION(NsResidual(16, {.time_derivative = NsTimeDerivative::frames}), Error,
                        [](const Error& e) { return message_has(e, "frame_dt > 0"); });
  NsResidual est(16, {.time_derivative = NsTimeDerivative::frames, .frame_dt = 0.1, .threads = 1});
  BOOST_CHECK_EXCEPTION(est.norms(Tensor<double>({2, 16, 16})), Error,
                        [](const Error& e) { return message_has(e, "shape (2, 16, 16) has 2 frames"); });
  Tensor<double> g;
  BOOST_CHECK_EXCEPTION(est.value_and_gradient(Tensor<double>({3, 1, 16, 16}), g), Error,
                        [](const Error& e) { return message_has(e, "needs T >= 3"); });
  BOOST_CHECK_EXCEPTION(est.residual(Tensor<double>({1, 2, 16, 16})), Error,
                        [](const Error& e) { return message_has(e, "has 2 frames"); });
  // The reference mode takes single frames and ignores frame_dt.
  NsResidual reference(16, {.threads = 1});
  BOOST_CHECK_NO_THROW(reference.norms(Tensor<double>({1, 16, 16})));
}

BOOST_AUTO_TEST_SUITE_END()
