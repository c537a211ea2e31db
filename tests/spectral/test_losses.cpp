// Losses: values against their definitions on analytic fields, gradients against central
// differences (double).
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <numbers>

#include "neurops/nn/loss.hpp"

using namespace neurops;
using namespace neurops::nn;
using std::numbers::pi;

namespace {

/// Largest relative error of the analytic gradient against central differences over all entries.
double gradient_error(const Loss<double>& loss, const Tensor<double>& pred, const Tensor<double>& target) {
  Tensor<double> grad;
  loss.evaluate(pred, target, &grad);
  Tensor<double> x = pred;
  double worst = 0;
  const double h = 1e-6, scale = std::max(1e-8, grad.vec().cwiseAbs().maxCoeff());
  for (index_t i = 0; i < x.numel(); ++i) {
    const double keep = x[i];
    x[i] = keep + h;
    const double fp = loss.evaluate(x, target);
    x[i] = keep - h;
    const double fm = loss.evaluate(x, target);
    x[i] = keep;
    worst = std::max(worst, std::abs((fp - fm) / (2 * h) - grad[i]) / scale);
  }
  return worst;
}

Tensor<double> randn(const Shape& s, std::uint64_t seed) {
  Rng rng(seed);
  return Tensor<double>::randn(s, rng);
}

/// (1, 1, n) samples of f on the periodic grid x_i = L i / n.
template <class F>
Tensor<double> grid1d(index_t n, double L, F&& f) {
  Tensor<double> t(Shape{1, 1, n});
  for (index_t i = 0; i < n; ++i) t[i] = f(L * double(i) / double(n));
  return t;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(losses)

BOOST_AUTO_TEST_CASE(mse_value_and_gradient) {
  Tensor<double> p(Shape{2, 2}, std::vector<double>{1, 2, 3, 4}), y(Shape{2, 2}, std::vector<double>{0, 2, 5, 4});
  BOOST_TEST(std::abs(MseLoss<double>()(p, y) - 5.0 / 4) < 1e-15);
  BOOST_TEST(std::abs(MseLoss<double>(Reduction::sum)(p, y) - 5.0) < 1e-15);
  BOOST_TEST(gradient_error(MseLoss<double>(), randn({3, 4}, 1), randn({3, 4}, 2)) < 1e-7);
}

BOOST_AUTO_TEST_CASE(lp_loss_definition) {
  // Relative L2 per sample: y = sin, prediction = 1.1 sin in sample 0 and sin + cos in sample 1.
  const index_t n = 32;
  Tensor<double> y(Shape{2, 1, n}), p(Shape{2, 1, n});
  for (index_t i = 0; i < n; ++i) {
    const double x = double(i) / n;
    y(0, 0, i) = y(1, 0, i) = std::sin(2 * pi * x);
    p(0, 0, i) = 1.1 * std::sin(2 * pi * x);
    p(1, 0, i) = std::sin(2 * pi * x) + std::cos(2 * pi * x);
  }
  const double expected = (0.1 + 1.0) / 2;  // ||0.1 sin|| / ||sin||, ||cos|| / ||sin||
  BOOST_TEST(std::abs(LpLoss<double>(1)(p, y) - expected) < 1e-12);
  BOOST_TEST(std::abs(LpLoss<double>(1, 2, true, Reduction::sum)(p, y) - 2 * expected) < 1e-12);
  // Absolute L2 with quadrature: ||cos||_{L2(0,1)} = sqrt(1/2) exactly on the grid.
  Tensor<double> zero(Shape{1, 1, n});
  const auto c = grid1d(n, 1.0, [](double x) { return std::cos(2 * pi * x); });
  BOOST_TEST(std::abs(LpLoss<double>(1, 2, false)(c, zero) - std::sqrt(0.5)) < 1e-12);
  // p = 1: sum |e| / sum |y|
  Tensor<double> a(Shape{1, 3}, std::vector<double>{1, -2, 3}), b(Shape{1, 3}, std::vector<double>{2, 0, 3});
  BOOST_TEST(std::abs(LpLoss<double>(1, 1.0)(a, b) - 3.0 / 5.0) < 1e-15);
  for (double p_norm : {1.5, 2.0, 3.0})
    for (bool rel : {true, false})
      BOOST_TEST(gradient_error(LpLoss<double>(2, p_norm, rel), randn({2, 2, 3, 4}, 3), randn({2, 2, 3, 4}, 4)) < 1e-6,
                 "p " << p_norm << " relative " << rel);
}

BOOST_AUTO_TEST_CASE(h1_loss_definition) {
  // Periodic central differences of sin(2 pi k x) are exactly (sin(2 pi k h)/h) cos(2 pi k x), so
  // ||e||_H1^2 = 1/2 + 1/2 (sin(2 pi k h)/h)^2 on [0,1], which tends to 1/2 (1 + 4 pi^2 k^2).
  const index_t k = 2;
  Tensor<double> zero(Shape{1, 1, 64});
  for (index_t n : {16, 64}) {
    const auto e = grid1d(n, 1.0, [&](double x) { return std::sin(2 * pi * double(k) * x); });
    const double h = 1.0 / double(n);
    const double expected = std::sqrt(0.5 + 0.5 * std::pow(std::sin(2 * pi * double(k) * h) / h, 2));
    Tensor<double> z(Shape{1, 1, n});
    BOOST_TEST(std::abs(H1Loss<double>(1, {}, false)(e, z) - expected) < 1e-12, "n " << n);
  }
  // Relative: prediction 0 gives exactly 1.
  const auto y = grid1d(64, 1.0, [](double x) { return std::cos(2 * pi * x) + 0.2 * std::sin(6 * pi * x); });
  BOOST_TEST(std::abs(H1Loss<double>(1)(zero, y) - 1.0) < 1e-14);
  // Non-periodic, 3 points, h = 1/3: D u = ((u1-u0)/h, (u2-u0)/(2h), (u2-u1)/h).
  Tensor<double> u(Shape{1, 1, 3}, std::vector<double>{1, 2, 4}), z3(Shape{1, 1, 3});
  const double h = 1.0 / 3;
  const double sq = 1 + 4 + 16 + std::pow(1 / h, 2) + std::pow(3 / (2 * h), 2) + std::pow(2 / h, 2);
  BOOST_TEST(std::abs(H1Loss<double>(1, {false}, false)(u, z3) - std::sqrt(h * sq)) < 1e-12);
  for (bool rel : {true, false})
    BOOST_TEST(gradient_error(H1Loss<double>(2, {true, false}, rel), randn({2, 2, 5, 4}, 5), randn({2, 2, 5, 4}, 6)) <
               1e-6);
  BOOST_TEST(gradient_error(H1Loss<double>(3, {false, true, false}), randn({2, 1, 3, 4, 3}, 7),
                            randn({2, 1, 3, 4, 3}, 8)) < 1e-6);
}

BOOST_AUTO_TEST_CASE(sobolev_norm_of_fourier_modes) {
  // ||(alpha - Laplacian)^(s/2) sin(2 pi k x / L)||^2 = L/2 (alpha + (2 pi k / L)^2)^s on [0, L].
  for (double L : {1.0, 2 * pi})
    for (double s : {-1.0, -0.5, 0.0, 1.0, 2.5})
      for (index_t k : {1, 3}) {
        const double alpha = std::pow(10.0, -1.5);
        const auto e = grid1d(16, L, [&](double x) { return std::sin(2 * pi * double(k) * x / L); });
        Tensor<double> zero(e.shape());
        const double expected = std::sqrt(L / 2 * std::pow(alpha + std::pow(2 * pi * double(k) / L, 2), s));
        const double got = SobolevLoss<double>(1, s, alpha, L)(e, zero);
        BOOST_TEST(std::abs(got - expected) < 1e-12 * expected, "L " << L << " s " << s << " k " << k);
      }
  // 2-D: sin(2 pi 2 x) cos(2 pi 3 y) on the unit square: ||.||^2 = 1/4 (alpha + 4 pi^2 13)^s; the
  // Nyquist mode of an even grid and a constant are included as well.
  const index_t n = 12;
  Tensor<double> f(Shape{1, 1, n, n}), zero(Shape{1, 1, n, n});
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j)
      f(0, 0, i, j) = std::sin(2 * pi * 2 * double(i) / n) * std::cos(2 * pi * 3 * double(j) / n) + 0.5 +
                      0.25 * std::cos(pi * double(j));  // cos(2 pi 6 y): Nyquist along y
  const double s = -1, alpha = 0.1;
  const double expected = 0.25 * std::pow(alpha + 4 * pi * pi * 13, s) + 0.25 * std::pow(alpha, s) +
                          0.0625 * std::pow(alpha + 4 * pi * pi * 36, s);
  BOOST_TEST(std::abs(SobolevLoss<double>(2, s, alpha)(f, zero) - std::sqrt(expected)) < 1e-12);
  // Several channels add up per sample; relative divides by the target's norm.
  const auto y = randn({2, 3, 6, 8}, 9);
  const SobolevLoss<double> rel(2, -1, 0.5, 1.0, true);
  BOOST_TEST(std::abs(rel(Tensor<double>(y.shape()), y) - 1.0) < 1e-14);
}

BOOST_AUTO_TEST_CASE(sobolev_gradients) {
  for (double s : {-1.0, 0.5, 2.0})
    for (bool relative : {false, true}) {
      BOOST_TEST(gradient_error(SobolevLoss<double>(2, s, std::pow(10.0, -1.5), 1.0, relative), randn({2, 2, 6, 5}, 10),
                                randn({2, 2, 6, 5}, 11)) < 1e-6,
                 "s " << s << " relative " << relative);
      BOOST_TEST(gradient_error(SobolevLoss<double>(1, s, 1.0, 2 * pi, relative, Reduction::sum), randn({3, 1, 7}, 12),
                                randn({3, 1, 7}, 13)) < 1e-6);
    }
  BOOST_TEST(gradient_error(SobolevLoss<double>(3, -1, 0.3), randn({1, 1, 4, 3, 6}, 14), randn({1, 1, 4, 3, 6}, 15)) <
             1e-6);
}

BOOST_AUTO_TEST_CASE(loss_input_errors) {
  Tensor<double> a(Shape{2, 1, 8}), b(Shape{2, 1, 9});
  BOOST_CHECK_THROW(MseLoss<double>()(a, b), Error);
  BOOST_CHECK_THROW(LpLoss<double>(1)(a, a), Error);  // zero target: relative norm undefined
  BOOST_CHECK_THROW(SobolevLoss<double>(1, -1, 0.0), Error);
  try {
    H1Loss<double>(2)(a, a);
    BOOST_ERROR("expected an Error");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("(2, 1, 8)") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_SUITE_END()
