// RK45 and the diffusion-reaction finite differences against exact solutions; DeepONet samples.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "neurops/pde/deeponet_data.hpp"
#include "neurops/pde/rk45.hpp"

using namespace neurops;
using namespace neurops::pde;

BOOST_AUTO_TEST_SUITE(deeponet_data)

BOOST_AUTO_TEST_CASE(rk45_fifth_order_with_fixed_steps) {
  // s' = -s^2 + u with u = cos t + sin^2 t has s = sin t.
  auto u = [](double t) { return std::cos(t) + std::sin(t) * std::sin(t); };
  auto err = [&](double h) {
    Rk45Settings s;
    s.fixed_step = h;
    const auto y = solve_deeponet_ode(DeepOnetProblem::ode, u, {1.0}, s);
    return std::abs(y[0] - std::sin(1.0));
  };
  const double e1 = err(0.1), e2 = err(0.05), e3 = err(0.025);
  BOOST_TEST_MESSAGE("RK45 fixed-step errors " << e1 << " " << e2 << " " << e3);
  BOOST_TEST(std::log2(e1 / e2) > 4.6);
  BOOST_TEST(std::log2(e2 / e3) > 4.6);
}

BOOST_AUTO_TEST_CASE(rk45_adaptive_meets_tolerance) {
  // Antiderivative of cos is sin; the pendulum with u = 0 conserves s2^2/2 - cos s1 (start it moving
  // through u on [0, 0.5] and check conservation after).
  std::vector<double> times;
  for (int i = 1; i <= 10; ++i) times.push_back(0.1 * i);
  for (double tol : {1e-6, 1e-9}) {
    Rk45Settings s;
    s.rtol = tol;
    s.atol = tol * 1e-2;
    Rk45Stats stats;
    const auto y = solve_deeponet_ode(
        DeepOnetProblem::antiderivative, [](double t) { return std::cos(t); }, times, s, &stats);
    double e = 0;
    for (std::size_t i = 0; i < times.size(); ++i) e = std::max(e, std::abs(y[i] - std::sin(times[i])));
    BOOST_TEST_MESSAGE("rtol " << tol << ": error " << e << ", " << stats.accepted << " steps, " << stats.rejected
                               << " rejected");
    BOOST_TEST(e < 10 * tol);
  }
  Rk45Settings s;
  s.rtol = 1e-10;
  s.atol = 1e-12;
  auto u = [](double t) { return t < 0.5 ? 2.0 : 0.0; };
  std::vector<double> t_out{0.5, 1.0, 3.0};
  const auto y = solve_deeponet_ode(DeepOnetProblem::pendulum, u, t_out, s);
  auto energy = [&](int i) {
    return 0.5 * y[std::size_t(2 * i + 1)] * y[std::size_t(2 * i + 1)] - std::cos(y[std::size_t(2 * i)]);
  };
  BOOST_TEST(std::abs(energy(1) - energy(0)) < 1e-8);
  BOOST_TEST(std::abs(energy(2) - energy(0)) < 1e-8);
}

BOOST_AUTO_TEST_CASE(rk45_rejects_bad_tolerances) {
  Rk45Settings s;
  s.rtol = 0;
  BOOST_CHECK_THROW(solve_deeponet_ode(
                        DeepOnetProblem::ode, [](double) { return 1.0; }, {1.0}, s),
                    Error);
  s.rtol = 1e-6;
  s.atol = -1;
  BOOST_CHECK_THROW(solve_deeponet_ode(
                        DeepOnetProblem::ode, [](double) { return 1.0; }, {1.0}, s),
                    Error);
  DeepOnetDataSettings ds;
  ds.rk45.rtol = -1e-3;
  BOOST_CHECK_THROW(DeepOnetData(DeepOnetProblem::ode, ds), Error);
}

BOOST_AUTO_TEST_CASE(diffusion_reaction_second_order) {
  // s = sin(pi x)(1 - e^{-t}) with the source that makes it exact, D = k = 0.01 ... and a larger
  // reaction k = 1 so the linearised reaction term is exercised.
  for (double k : {0.01, 1.0}) {
    const double D = 0.01, pi = M_PI;
    auto exact = [](double x, double t) { return std::sin(M_PI * x) * (1 - std::exp(-t)); };
    auto source = [&](double x, double t) {
      const double s = exact(x, t);
      return std::sin(pi * x) * std::exp(-t) + D * pi * pi * s - k * s * s;
    };
    auto err = [&](index_t n) {
      const Tensor<double> s = solve_diffusion_reaction(source, D, k, n, n, 1.0);
      double e = 0;
      for (index_t it = 0; it < n; ++it)
        for (index_t ix = 0; ix < n; ++ix)
          e = std::max(e, std::abs(s(it, ix) - exact(double(ix) / double(n - 1), double(it) / double(n - 1))));
      return e;
    };
    const double e1 = err(21), e2 = err(41), e3 = err(81);
    BOOST_TEST_MESSAGE("diffusion-reaction k = " << k << ": errors " << e1 << " " << e2 << " " << e3);
    BOOST_TEST(std::log2(e1 / e2) > 1.8);
    BOOST_TEST(std::log2(e2 / e3) > 1.8);
  }
}

BOOST_AUTO_TEST_CASE(samples_have_reference_layout) {
  DeepOnetDataSettings s;
  s.grf_points = 200;
  for (auto p : {DeepOnetProblem::antiderivative, DeepOnetProblem::ode, DeepOnetProblem::pendulum,
                 DeepOnetProblem::diffusion_reaction}) {
    DeepOnetData data(p, s);
    Rng r1(4), r2(4);
    const DeepOnetSample a = data.sample(r1), b = data.sample(r2);
    BOOST_TEST(a.input.shape() == Shape({1, 100}));
    BOOST_TEST(a.dense.shape() == data.dense_shape());
    BOOST_TEST(std::equal(a.dense.begin(), a.dense.end(), b.dense.begin()));  // same seed, same bits
    if (p == DeepOnetProblem::diffusion_reaction) {
      BOOST_TEST(a.query_points.shape() == Shape({100, 2}));
      BOOST_TEST(a.dense.shape() == Shape({1, 100, 100}));
      for (index_t q = 0; q < 100; ++q) {  // query values are the dense solution at those grid points
        const auto ix = index_t(std::llround(a.query_points(q, 0) * 99)),
                   it = index_t(std::llround(a.query_points(q, 1) * 99));
        BOOST_TEST_REQUIRE(a.query_values(q, 0) == a.dense(0, it, ix));
      }
    } else {
      BOOST_TEST(a.query_points.shape() == Shape({1, 1}));
      BOOST_TEST(a.dense(0, 0) == 0.0);  // s(0) = 0
      const double t = a.query_points(0, 0);
      BOOST_TEST((t >= 0 && t <= 1));
    }
    if (p == DeepOnetProblem::antiderivative) {
      // s(1) = integral of u: compare with the trapezoidal rule on the 100 sensors.
      double integral = 0;
      for (index_t i = 0; i + 1 < 100; ++i) integral += 0.5 * (a.input(0, i) + a.input(0, i + 1)) / 99.0;
      BOOST_TEST(a.dense(0, 99) == integral, boost::test_tools::tolerance(1e-3));
    }
  }
}

BOOST_AUTO_TEST_CASE(problem_names) {
  BOOST_TEST(to_string(parse_deeponet_problem("pendulum")) == "pendulum");
  BOOST_CHECK_THROW(parse_deeponet_problem("heat"), Error);
}

BOOST_AUTO_TEST_SUITE_END()
