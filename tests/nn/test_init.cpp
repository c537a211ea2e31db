// Initialisers: empirical mean/variance of the draws against the formulas, bounds, seeding.
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "neurops/nn/conv.hpp"
#include "neurops/nn/init.hpp"
#include "neurops/nn/linear.hpp"

using namespace neurops;
using namespace neurops::nn;

namespace {
struct Moments {
  double mean, var, max_abs;
};
template <class T>
Moments moments(const Tensor<T>& t) {
  double m = 0, v = 0, a = 0;
  for (T x : t) m += x;
  m /= double(t.numel());
  for (T x : t) {
    v += (x - m) * (x - m);
    a = std::max(a, std::abs(double(x)));
  }
  return {m, v / double(t.numel() - 1), a};
}
// With ~300k draws the sample variance is within ~1% of the truth; 3% leaves room for every seed.
void check_variance(const Moments& m, double expected_var) {
  BOOST_TEST(std::abs(m.mean) < 0.02 * std::sqrt(expected_var));
  BOOST_TEST(std::abs(m.var / expected_var - 1) < 0.03, "variance " << m.var << ", expected " << expected_var);
}
const Shape kConvWeight{64, 48, 3, 3, 3};  // fan_in 1296, fan_out 1728, 82944 draws
const Shape kBig{256, 128, 3, 3};          // fan_in 1152, fan_out 2304, 294912 draws
}  // namespace

BOOST_AUTO_TEST_SUITE(initialisers)

BOOST_AUTO_TEST_CASE(fans_and_gains) {
  const auto f = init::compute_fans(kConvWeight);
  BOOST_TEST(f.fan_in == 48.0 * 27);
  BOOST_TEST(f.fan_out == 64.0 * 27);
  BOOST_TEST(init::gain("relu") == std::sqrt(2.0));
  BOOST_TEST(init::gain("tanh") == 5.0 / 3.0);
  BOOST_TEST(std::abs(init::gain("leaky_relu", std::sqrt(5.0)) - std::sqrt(1.0 / 3.0)) < 1e-15);
  BOOST_CHECK_THROW(init::compute_fans(Shape({5})), Error);
  BOOST_CHECK_THROW(init::gain("softplus"), Error);
}

BOOST_AUTO_TEST_CASE(glorot) {
  Rng rng(1);
  Tensor<double> w(kBig);
  const double fi = 128 * 9, fo = 256 * 9;
  init::glorot_uniform(w, rng);
  auto m = moments(w);
  check_variance(m, 2.0 / (fi + fo));
  BOOST_TEST(m.max_abs <= std::sqrt(6.0 / (fi + fo)));
  init::glorot_normal(w, rng, 2.0);
  check_variance(moments(w), 4.0 * 2.0 / (fi + fo));
}

BOOST_AUTO_TEST_CASE(kaiming) {
  Rng rng(2);
  Tensor<float> w(kBig);
  const double fi = 128 * 9, fo = 256 * 9;
  init::kaiming_normal(w, rng, 0.0, init::FanMode::FanIn, "relu");
  check_variance(moments(w), 2.0 / fi);
  init::kaiming_normal(w, rng, 0.0, init::FanMode::FanOut, "relu");
  check_variance(moments(w), 2.0 / fo);
  init::kaiming_uniform(w, rng, 0.0, init::FanMode::FanIn, "relu");
  auto m = moments(w);
  check_variance(m, 2.0 / fi);  // bound sqrt(6 / fan_in), variance bound^2 / 3
  BOOST_TEST(m.max_abs <= std::sqrt(6.0 / fi) * (1 + 1e-6));
  init::kaiming_uniform(w, rng, 0.0, init::FanMode::FanOut, "linear");
  check_variance(moments(w), 1.0 / fo);
}

BOOST_AUTO_TEST_CASE(pytorch_default_layer_init) {
  Rng rng(3);
  // nn.Linear / nn.Conv: U(+-1/sqrt(fan_in)) for weight and bias: variance 1 / (3 fan_in).
  Linear<double> lin(400, 700, rng);
  auto m = moments(lin.weight().value);
  check_variance(m, 1.0 / (3 * 400));
  BOOST_TEST(m.max_abs <= 1.0 / std::sqrt(400.0));
  BOOST_TEST(moments(lin.bias().value).max_abs <= 1.0 / std::sqrt(400.0));
  Conv<double> conv(3, 48, 64, {3}, rng);
  check_variance(moments(conv.weight().value), 1.0 / (3 * 48 * 27));
  BOOST_TEST(moments(conv.bias().value).max_abs <= 1.0 / std::sqrt(48.0 * 27));
  // Bias variance from many small layers.
  Tensor<double> biases({20000});
  for (index_t i = 0; i < 20000; i += 100) {
    Linear<double> l(25, 100, rng);
    std::copy(l.bias().value.begin(), l.bias().value.end(), biases.begin() + i);
  }
  check_variance(moments(biases), 1.0 / (3 * 25));
}

BOOST_AUTO_TEST_CASE(seeded_and_reproducible) {
  Rng a(42), b(42), c(43);
  Conv<float> ca(2, 3, 4, {3}, a), cb(2, 3, 4, {3}, b), cc(2, 3, 4, {3}, c);
  BOOST_TEST((ca.weight().value.vec() - cb.weight().value.vec()).norm() == 0.0f);
  BOOST_TEST((ca.bias().value.vec() - cb.bias().value.vec()).norm() == 0.0f);
  BOOST_TEST((ca.weight().value.vec() - cc.weight().value.vec()).norm() > 0.0f);
}

BOOST_AUTO_TEST_SUITE_END()
