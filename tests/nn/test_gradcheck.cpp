// Double-precision central-difference gradient checks and adjoint tests of every layer, over a table
// of configurations (dimension 1/2/3, padding modes, strides, kernel sizes, bias on/off).
#define BOOST_TEST_MODULE neurops_nn_gradcheck
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <functional>

#include "neurops/nn/activation.hpp"
#include "neurops/nn/conv.hpp"
#include "neurops/nn/conv_transpose.hpp"
#include "neurops/nn/gradcheck.hpp"
#include "neurops/nn/linear.hpp"
#include "neurops/nn/norm.hpp"
#include "neurops/nn/pooling.hpp"

using namespace neurops;
using namespace neurops::nn;
namespace bdata = boost::unit_test::data;

namespace {

struct Case {
  std::string name;
  std::function<std::unique_ptr<Module<double>>(Rng&)> make;
  Shape input;
  double kink_margin = 0;  // moves inputs at least this far from 0 (the kink of ReLU)
  double tolerance = 1e-6;
  double eps = 1e-5;  // finite-difference step (convolutions: kLinearStep)
};
std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name << " on " << c.input; }

Shape grid(index_t n, index_t c, int dims, index_t extent) {
  std::vector<index_t> s = {n, c};
  for (int a = 0; a < dims; ++a) s.push_back(extent + (a % 2));  // unequal extents catch axis mix-ups
  return Shape(s);
}

// Convolutions are linear in the input and in the weights: the central difference has no truncation
// error, only rounding in the loss, which falls like 1/h. So they take a large step. Measured on
// "Conv2d k4 s2 p2 circular" (48 entries; -O3, -O2, and -O2 with ASan/UBSan): 6.5e-9 (all three
// builds) at h = 1e-5, 7.1e-11 / 7.1e-11 / 4.2e-11 at h = 1e-3, 2.8e-12 / 2.8e-12 / 9.0e-12 at 1e-2;
// under the sanitizer flags the audit had seen 1.52e-6 at h = 1e-5 against the tolerance 1e-6.
constexpr double kLinearStep = 1e-3;

std::vector<Case> conv_cases() {
  std::vector<Case> v;
  for (int d : {1, 2, 3})
    for (auto mode : {PaddingMode::Zeros, PaddingMode::Circular, PaddingMode::Reflect, PaddingMode::Replicate})
      for (index_t k : {1, 3, 4})
        for (index_t s : {1, 2})
          for (bool bias : {true, false}) {
            if (k == 1 && mode != PaddingMode::Zeros && s == 1) continue;  // no padding: same as zeros
            const index_t p = k == 1 ? s - 1 : k / 2;
            std::ostringstream name;
            name << "Conv" << d << "d k" << k << " s" << s << " p" << p << " " << to_string(mode)
                 << (bias ? "" : " nobias");
            v.push_back({name.str(),
                         [=](Rng& rng) {
                           return std::make_unique<Conv<double>>(d, 2, 3, std::vector<index_t>{k}, rng,
                                                                 ConvOptions{{s}, {p}, mode, bias});
                         },
                         grid(2, 2, d, d == 3 ? 4 : 6)});
          }
  // Anisotropic kernel/stride/padding.
  v.push_back({"Conv2d k(3,2) s(1,2) p(1,0) circular",
               [](Rng& rng) {
                 return std::make_unique<Conv<double>>(2, 2, 2, std::vector<index_t>{3, 2}, rng,
                                                       ConvOptions{{1, 2}, {1, 0}, PaddingMode::Circular, true});
               },
               Shape({1, 2, 5, 6})});
  for (auto& c : v) c.eps = kLinearStep;
  return v;
}

std::vector<Case> transpose_cases() {
  std::vector<Case> v;
  for (int d : {1, 2, 3})
    for (index_t k : {1, 3, 4})
      for (index_t s : {1, 2})
        for (bool bias : {true, false}) {
          const index_t p = k / 2 > 0 ? 1 : 0, op = s - 1;
          std::ostringstream name;
          name << "ConvTranspose" << d << "d k" << k << " s" << s << " p" << p << " op" << op
               << (bias ? "" : " nobias");
          v.push_back({name.str(),
                       [=](Rng& rng) {
                         return std::make_unique<ConvTranspose<double>>(d, 2, 3, std::vector<index_t>{k}, rng,
                                                                        ConvTransposeOptions{{s}, {p}, {op}, bias});
                       },
                       grid(2, 2, d, d == 3 ? 3 : 5)});
        }
  for (auto& c : v) c.eps = kLinearStep;
  return v;
}

std::vector<Case> other_cases() {
  std::vector<Case> v;
  for (int d : {1, 2, 3}) {
    const std::string D = std::to_string(d) + "d";
    v.push_back(
        {"AvgPool" + D + " k2", [=](Rng&) { return std::make_unique<AvgPool<double>>(d, 2); }, grid(2, 2, d, 4)});
    v.push_back(
        {"AvgPool" + D + " k3", [=](Rng&) { return std::make_unique<AvgPool<double>>(d, 3); }, grid(1, 2, d, 7)});
    for (index_t f : {2, 3}) {
      v.push_back({"UpsampleNearest" + D + " x" + std::to_string(f),
                   [=](Rng&) { return std::make_unique<Upsample<double>>(d, f, UpsampleMode::Nearest); },
                   grid(1, 2, d, 3)});
      v.push_back({"UpsampleLinear" + D + " x" + std::to_string(f),
                   [=](Rng&) { return std::make_unique<Upsample<double>>(d, f, UpsampleMode::Linear); },
                   grid(1, 2, d, 3)});
    }
    v.push_back({"LayerNorm over channels " + D,
                 [](Rng& rng) {
                   auto ln = std::make_unique<LayerNorm<double>>(LayerNorm<double>::over_channels(4));
                   ln->weight().value = Tensor<double>::randn({4}, rng);
                   ln->bias().value = Tensor<double>::randn({4}, rng);
                   return ln;
                 },
                 grid(2, 4, d, 3)});
    v.push_back({"GroupNorm(2, 4) " + D,
                 [](Rng& rng) {
                   auto gn = std::make_unique<GroupNorm<double>>(2, 4);
                   gn->weight().value = Tensor<double>::randn({4}, rng);
                   gn->bias().value = Tensor<double>::randn({4}, rng);
                   return gn;
                 },
                 grid(2, 4, d, 3)});
  }
  v.push_back({"LayerNorm over trailing (4, 3, 4)",
               [](Rng& rng) {
                 auto ln = std::make_unique<LayerNorm<double>>(LayerNorm<double>::over_trailing(Shape({4, 3, 4})));
                 ln->weight().value = Tensor<double>::randn({4, 3, 4}, rng);
                 return ln;
               },
               Shape({2, 4, 3, 4})});
  v.push_back(
      {"LayerNorm over channels, no affine",
       [](Rng&) { return std::make_unique<LayerNorm<double>>(LayerNorm<double>::over_channels(5, 1e-5, false)); },
       Shape({3, 5, 4})});
  v.push_back({"Linear", [](Rng& rng) { return std::make_unique<Linear<double>>(5, 4, rng); }, Shape({2, 3, 5})});
  v.push_back(
      {"Linear nobias", [](Rng& rng) { return std::make_unique<Linear<double>>(5, 4, rng, false); }, Shape({7, 5})});
  for (auto k : {ActivationKind::Identity, ActivationKind::GELU, ActivationKind::Tanh, ActivationKind::Sin}) {
    v.push_back(
        {"Activation " + to_string(k), [=](Rng&) { return std::make_unique<Activation<double>>(k); }, Shape({3, 8})});
    v.push_back({"MLP " + to_string(k) + " activate_last",
                 [=](Rng& rng) {
                   return std::make_unique<Sequential<double>>(
                       make_mlp<double>({3, 8, 8, 2}, rng, {.activation = k, .activate_last = true}));
                 },
                 Shape({4, 3})});
  }
  // ReLU: inputs are shifted so that no entry sits within the finite-difference step of the kink.
  v.push_back({"Activation relu", [](Rng&) { return std::make_unique<Activation<double>>(ActivationKind::ReLU); },
               Shape({3, 8}), 0.1});
  v.push_back({"Residual(Conv-GELU-Conv) + ConvTranspose + LayerNorm",
               [](Rng& rng) {
                 auto inner = std::make_unique<Sequential<double>>();
                 inner->emplace<Conv<double>>(2, 3, 3, std::vector<index_t>{3}, rng,
                                              ConvOptions{{1}, {1}, PaddingMode::Circular, true});
                 inner->emplace<Activation<double>>(ActivationKind::GELU);
                 inner->emplace<Conv<double>>(2, 3, 3, std::vector<index_t>{1}, rng);
                 auto net = std::make_unique<Sequential<double>>();
                 net->push_back(std::make_unique<Residual<double>>(std::move(inner)));
                 net->emplace<ConvTranspose<double>>(2, 3, 4, std::vector<index_t>{4}, rng,
                                                     ConvTransposeOptions{{2}, {1}, {0}, true});
                 net->push_back(std::make_unique<LayerNorm<double>>(LayerNorm<double>::over_channels(4)));
                 return net;
               },
               Shape({2, 3, 4, 5}), 0, 1e-6,
               // LayerNorm over 4 channels is strongly curved: the central difference's O(h^2) truncation
               // error measured 1.1e-6, 9.4e-6 and 1.0e-4 at h = 1e-5, 3e-5 and 1e-4 (a correct gradient).
               3e-6});
  return v;
}

void run(const Case& c) {
  // Seeded by the case's name (FNV-1a: the same on every platform, unlike std::hash).
  Rng rng(seed_from_name(c.name));
  auto m = c.make(rng);
  Tensor<double> x = Tensor<double>::randn(c.input, rng);
  for (auto& e : x) e += e > 0 ? c.kink_margin : -c.kink_margin;
  // The step: 1e-5 for the nonlinear layers (truncation against rounding), kLinearStep for the linear.
  const auto r = gradcheck(*m, x, {.eps = c.eps, .entries_per_tensor = 48});
  BOOST_TEST(r.max_error() < c.tolerance, c.name << ": " << r.summary());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gradcheck_layers)
BOOST_DATA_TEST_CASE(conv, bdata::make(conv_cases()), c) { run(c); }
BOOST_DATA_TEST_CASE(conv_transpose, bdata::make(transpose_cases()), c) { run(c); }
BOOST_DATA_TEST_CASE(layers, bdata::make(other_cases()), c) { run(c); }
BOOST_AUTO_TEST_SUITE_END()
