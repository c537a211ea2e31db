// Gaussian random fields: empirical spectra/covariances against the prescribed ones.
#include <boost/test/unit_test.hpp>

#include <fftw3.h>
#include <cmath>
#include <complex>

#include "neurops/pde/grf.hpp"

using namespace neurops;
using namespace neurops::pde;

namespace {
// |fft2(u)_k / n^2|^2 for a real (n, n) field, full spectrum, row-major (ky, kx).
std::vector<double> power(const Tensor<double>& u) {
  const index_t n = u.size(0);
  std::vector<std::complex<double>> in(std::size_t(n * n)), out(std::size_t(n * n));
  for (index_t p = 0; p < n * n; ++p) in[std::size_t(p)] = u[p];
  fftw_plan plan = fftw_plan_dft_2d(int(n), int(n), reinterpret_cast<fftw_complex*>(in.data()),
                                    reinterpret_cast<fftw_complex*>(out.data()), FFTW_FORWARD, FFTW_ESTIMATE);
  fftw_execute(plan);
  fftw_destroy_plan(plan);
  std::vector<double> p2(out.size());
  const double nn = double(n * n);
  for (std::size_t p = 0; p < out.size(); ++p) p2[p] = std::norm(out[p] / nn);
  return p2;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(grf)

BOOST_AUTO_TEST_CASE(periodic_spectrum_matches_prescribed) {
  // FNO's Navier-Stokes initial condition: alpha = 2.5, tau = 7, sigma = tau^(0.5(2 alpha - 2)).
  const index_t n = 32, samples = 400;
  PeriodicGrf grf(n, {.alpha = 2.5, .tau = 7.0});
  BOOST_TEST(grf.sigma() == std::pow(7.0, 1.5), boost::test_tools::tolerance(1e-14));
  std::vector<double> mean(std::size_t(n * n), 0.0);
  double pointwise_var = 0;
  for (index_t s = 0; s < samples; ++s) {
    Rng rng = Rng::stream(11, std::uint64_t(s));
    const Tensor<double> u = grf.sample(rng);
    const auto p2 = power(u);
    for (std::size_t p = 0; p < p2.size(); ++p) mean[p] += p2[p] / double(samples);
    for (double v : u) pointwise_var += v * v / double(samples * n * n);
  }
  // Low modes one by one (each averaged over 400 samples: ~5% standard error), then shells.
  double expected_var = 0;
  for (index_t j = 0; j < n; ++j)
    for (index_t i = 0; i < n; ++i) {
      const index_t kx = PeriodicGrf::wavenumber(i, n), ky = PeriodicGrf::wavenumber(j, n);
      const double want = grf.coefficient_variance(kx, ky);
      expected_var += want;
      if (std::abs(kx) <= 3 && std::abs(ky) <= 3 && (kx || ky))
        BOOST_TEST(mean[std::size_t(j * n + i)] == want, boost::test_tools::tolerance(0.25));
    }
  BOOST_TEST(mean[0] < 1e-20);  // the mean mode is removed
  // Pointwise variance = sum of the coefficient variances (Parseval).
  BOOST_TEST(pointwise_var == expected_var, boost::test_tools::tolerance(0.08));
  // The decay exponent: shell averages of |k| = 2 and |k| = 8 follow (4 pi^2 k^2 + tau^2)^(-alpha).
  auto shell = [&](index_t k) {
    double got = 0, want = 0;
    for (index_t j = 0; j < n; ++j)
      for (index_t i = 0; i < n; ++i) {
        const index_t kx = PeriodicGrf::wavenumber(i, n), ky = PeriodicGrf::wavenumber(j, n);
        if (std::llround(std::sqrt(double(kx * kx + ky * ky))) != k) continue;
        got += mean[std::size_t(j * n + i)];
        want += grf.coefficient_variance(kx, ky);
      }
    return got / want;
  };
  BOOST_TEST(shell(2) == 1.0, boost::test_tools::tolerance(0.1));
  BOOST_TEST(shell(8) == 1.0, boost::test_tools::tolerance(0.1));
}

BOOST_AUTO_TEST_CASE(periodic_same_seed_same_bits) {
  PeriodicGrf a(16), b(16);
  Rng r1(5), r2(5), r3(6);
  const auto u1 = a.sample(r1), u2 = b.sample(r2), u3 = a.sample(r3);
  BOOST_TEST(std::equal(u1.begin(), u1.end(), u2.begin()));
  BOOST_TEST(!std::equal(u1.begin(), u1.end(), u3.begin()));
}

BOOST_AUTO_TEST_CASE(dirichlet_coefficients_have_prescribed_variance) {
  const index_t n = 24, samples = 600;
  DirichletGrf grf(n, {.alpha = 2.0, .tau = 3.0});
  BOOST_TEST(grf.sigma() == 3.0, boost::test_tools::tolerance(1e-14));  // tau^(alpha - 1)
  const index_t m = n - 2;
  std::vector<double> var(std::size_t(m * m), 0.0);
  for (index_t s = 0; s < samples; ++s) {
    Rng rng = Rng::stream(3, std::uint64_t(s));
    const Tensor<double> u = grf.sample(rng);
    for (index_t i = 0; i < n; ++i) {  // zero on the boundary
      BOOST_TEST_REQUIRE(u(0, i) == 0.0);
      BOOST_TEST_REQUIRE(u(n - 1, i) == 0.0);
      BOOST_TEST_REQUIRE(u(i, 0) == 0.0);
      BOOST_TEST_REQUIRE(u(i, n - 1) == 0.0);
    }
    const Tensor<double> c = grf.coefficients(u);
    for (index_t p = 0; p < m * m; ++p) var[std::size_t(p)] += c[p] * c[p] / double(samples);
  }
  for (index_t l = 1; l <= 4; ++l)
    for (index_t k = 1; k <= 4; ++k)
      BOOST_TEST(var[std::size_t((l - 1) * m + (k - 1))] == grf.coefficient_variance(k, l),
                 boost::test_tools::tolerance(0.2));
  // The series really is sigma lambda^(-alpha/2) xi 2 sin sin: a single mode evaluated directly.
  Rng rng(9);
  const Tensor<double> u = grf.sample(rng);
  const Tensor<double> c = grf.coefficients(u);
  double direct = 0;
  const double x = 5.0 / double(n - 1), y = 7.0 / double(n - 1);
  for (index_t l = 1; l <= m; ++l)
    for (index_t k = 1; k <= m; ++k)
      direct += c((l - 1), (k - 1)) * 2 * std::sin(M_PI * double(k) * x) * std::sin(M_PI * double(l) * y);
  BOOST_TEST(direct == u(7, 5), boost::test_tools::tolerance(1e-10));
}

BOOST_AUTO_TEST_CASE(rbf_covariance_matches_kernel) {
  const double l = 0.2;
  RbfGrf1d grf(l, 200, 1.0);
  const std::vector<double> x{0.1, 0.25, 0.5, 0.9};
  const index_t samples = 4000;
  std::vector<double> cov(16, 0.0);
  for (index_t s = 0; s < samples; ++s) {
    Rng rng = Rng::stream(21, std::uint64_t(s));
    const auto v = RbfGrf1d::evaluate(grf.sample(rng), x);
    for (int a = 0; a < 4; ++a)
      for (int b = 0; b < 4; ++b)
        cov[std::size_t(4 * a + b)] += v[std::size_t(a)] * v[std::size_t(b)] / double(samples);
  }
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 4; ++b)
      BOOST_TEST(std::abs(cov[std::size_t(4 * a + b)] - grf.kernel(x[std::size_t(a)], x[std::size_t(b)])) < 0.07);
}

BOOST_AUTO_TEST_CASE(rbf_reference_size_factorises) {
  // DeepONet's setting: 1000 points, l = 0.2, jitter 1e-13.
  RbfGrf1d grf(0.2, 1000, 1.0, 1e-13);
  Rng rng(1);
  const auto v = grf.sample_values(rng);
  for (double x : v) BOOST_TEST_REQUIRE(std::isfinite(x));
}

BOOST_AUTO_TEST_CASE(spline_is_exact_for_cubics_and_fourth_order) {
  // Not-a-knot splines reproduce cubics exactly.
  std::vector<double> y(11);
  auto cubic = [](double x) { return 1 - 2 * x + 3 * x * x - 0.5 * x * x * x; };
  for (int i = 0; i <= 10; ++i) y[std::size_t(i)] = cubic(0.1 * i);
  CubicSpline1d s(0, 0.1, y);
  for (double x : {0.0, 0.033, 0.47, 0.951, 1.0}) BOOST_TEST(s(x) == cubic(x), boost::test_tools::tolerance(1e-12));
  // sin on 2x finer knots: error drops ~16x.
  auto err = [](int n) {
    std::vector<double> v(std::size_t(n + 1));
    for (int i = 0; i <= n; ++i) v[std::size_t(i)] = std::sin(3.0 * i / n);
    CubicSpline1d sp(0, 1.0 / n, v);
    double e = 0;
    for (int q = 0; q <= 1000; ++q) e = std::max(e, std::abs(sp(q / 1000.0) - std::sin(3.0 * q / 1000.0)));
    return e;
  };
  const double order = std::log2(err(20) / err(40));
  BOOST_TEST_MESSAGE("spline order " << order);
  BOOST_TEST(order > 3.6);
}

BOOST_AUTO_TEST_SUITE_END()
