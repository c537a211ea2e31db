// Layer outputs against direct loops and known values, float-vs-double agreement, bad input.
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "layer_reference.hpp"
#include "neurops/nn/activation.hpp"
#include "neurops/nn/conv.hpp"
#include "neurops/nn/conv_transpose.hpp"
#include "neurops/nn/linear.hpp"
#include "neurops/nn/norm.hpp"
#include "neurops/nn/pooling.hpp"

using namespace neurops;
using namespace neurops::nn;
namespace bdata = boost::unit_test::data;

namespace {

double rel_diff(const Tensor<double>& a, const Tensor<double>& b) {
  BOOST_REQUIRE(a.shape() == b.shape());
  return (a.vec() - b.vec()).norm() / std::max(1e-300, b.vec().norm());
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no exception>";
}

/// Copies every parameter of `from` (double) into `to` (float); the trees must match by name.
void copy_parameters(Module<double>& from, Module<float>& to) {
  auto src = from.named_parameters();
  auto dst = to.named_parameters();
  BOOST_REQUIRE(src.size() == dst.size());
  for (std::size_t i = 0; i < src.size(); ++i) {
    BOOST_REQUIRE(src[i].name == dst[i].name);
    dst[i].param->value = src[i].param->value.cast<float>();
  }
}

/// Forward and backward of the same layer in float and double agree to float precision.
void check_float_matches_double(Module<double>& md, Module<float>& mf, const Shape& in_shape, std::uint64_t seed) {
  copy_parameters(md, mf);
  Rng rng(seed);
  const auto x = Tensor<double>::randn(in_shape, rng);
  const auto yd = md.forward(x);
  const auto yf = mf.forward(x.cast<float>());
  BOOST_TEST(rel_diff(yf.cast<double>(), yd) < 2e-6, md.type_name() << " forward");
  const auto dy = Tensor<double>::randn(yd.shape(), rng);
  md.zero_grad();
  mf.zero_grad();
  const auto dxd = md.backward(dy);
  const auto dxf = mf.backward(dy.cast<float>());
  BOOST_TEST(rel_diff(dxf.cast<double>(), dxd) < 2e-6, md.type_name() << " backward (input)");
  auto pd = md.named_parameters();
  auto pf = mf.named_parameters();
  for (std::size_t i = 0; i < pd.size(); ++i)
    BOOST_TEST(rel_diff(pf[i].param->grad.cast<double>(), pd[i].param->grad) < 1e-5,
               md.type_name() << " gradient of " << pd[i].name);
}

struct ConvCase {
  int dims;
  index_t kernel, stride, padding;
  PaddingMode mode;
  bool bias;
};
std::ostream& operator<<(std::ostream& os, const ConvCase& c) {
  return os << "Conv" << c.dims << "d k" << c.kernel << " s" << c.stride << " p" << c.padding << " "
            << to_string(c.mode) << (c.bias ? " bias" : " no-bias");
}
std::vector<ConvCase> conv_cases() {
  std::vector<ConvCase> v;
  for (int d : {1, 2, 3})
    for (auto m : {PaddingMode::Zeros, PaddingMode::Circular, PaddingMode::Reflect, PaddingMode::Replicate})
      for (index_t k : {1, 3, 4})
        for (index_t s : {1, 2}) v.push_back({d, k, s, k / 2 + (s == 2 && k == 1), m, (k + s) % 2 == 0});
  v.push_back({2, 3, 1, 0, PaddingMode::Zeros, true});  // valid convolution
  v.push_back({3, 2, 2, 0, PaddingMode::Zeros, true});  // restriction-style
  return v;
}

struct TransposeCase {
  int dims;
  index_t kernel, stride, padding, output_padding;
  bool bias;
};
std::ostream& operator<<(std::ostream& os, const TransposeCase& c) {
  return os << "ConvTranspose" << c.dims << "d k" << c.kernel << " s" << c.stride << " p" << c.padding << " op"
            << c.output_padding << (c.bias ? " bias" : " no-bias");
}
std::vector<TransposeCase> transpose_cases() {
  std::vector<TransposeCase> v;
  for (int d : {1, 2, 3}) {
    v.push_back({d, 4, 2, 1, 0, true});  // MgNO prolongation
    v.push_back({d, 3, 2, 1, 1, false});
    v.push_back({d, 3, 1, 1, 0, true});
    v.push_back({d, 1, 1, 0, 0, false});
    v.push_back({d, 2, 2, 0, 0, true});
  }
  return v;
}

Shape spatial_shape(index_t n, index_t c, int dims, index_t extent) {
  std::vector<index_t> s = {n, c};
  for (int a = 0; a < dims; ++a) s.push_back(extent + a);  // unequal extents catch axis mix-ups
  return Shape(s);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(layers)

BOOST_DATA_TEST_CASE(conv_matches_direct_loop, bdata::make(conv_cases()), c) {
  Rng rng(10 + c.dims);
  ConvOptions opt{.stride = {c.stride}, .padding = {c.padding}, .padding_mode = c.mode, .bias = c.bias};
  Conv<double> conv(c.dims, 3, 2, {c.kernel}, rng, opt);
  Conv<float> convf(c.dims, 3, 2, {c.kernel}, rng, opt);
  const auto x = Tensor<double>::randn(spatial_shape(2, 3, c.dims, 5), rng);
  const auto ref =
      test::naive_conv(x, conv.weight().value, c.bias ? &conv.bias().value : nullptr,
                       std::vector<index_t>(c.dims, c.stride), std::vector<index_t>(c.dims, c.padding), c.mode);
  BOOST_TEST(rel_diff(conv.forward(x), ref) < 1e-13);
  check_float_matches_double(conv, convf, x.shape(), 77);
}

BOOST_DATA_TEST_CASE(conv_transpose_matches_direct_loop_and_is_the_adjoint, bdata::make(transpose_cases()), c) {
  Rng rng(20 + c.dims);
  ConvTransposeOptions opt{
      .stride = {c.stride}, .padding = {c.padding}, .output_padding = {c.output_padding}, .bias = c.bias};
  ConvTranspose<double> up(c.dims, 3, 2, {c.kernel}, rng, opt);
  ConvTranspose<float> upf(c.dims, 3, 2, {c.kernel}, rng, opt);
  const auto x = Tensor<double>::randn(spatial_shape(2, 3, c.dims, 4), rng);
  const std::vector<index_t> s(c.dims, c.stride), p(c.dims, c.padding), op(c.dims, c.output_padding);
  const auto y = up.forward(x);
  BOOST_TEST(rel_diff(y, test::naive_conv_transpose(x, up.weight().value, c.bias ? &up.bias().value : nullptr, s, p,
                                                    op)) < 1e-13);
  // <ConvT x, v> = <x, Conv v> for the Conv with the same weight (C_out = 3, C_in = 2), no bias.
  Conv<double> down(c.dims, 2, 3, {c.kernel}, rng, {.stride = s, .padding = p, .bias = false});
  down.weight().value = up.weight().value;
  const auto v = Tensor<double>::randn(y.shape(), rng);
  double bias_term = 0;
  if (c.bias)
    for (index_t i = 0; i < v.numel(); ++i) bias_term += v[i] * up.bias().value[(i / v.shape().tail_numel(2)) % 2];
  const double lhs = y.vec().dot(v.vec()) - bias_term, rhs = x.vec().dot(down.forward(v).vec());
  BOOST_TEST(std::abs(lhs - rhs) < 1e-12 * (std::abs(lhs) + 1));
  check_float_matches_double(up, upf, x.shape(), 78);
}

BOOST_AUTO_TEST_CASE(mgno_prolongation_doubles_the_grid) {
  Rng rng(1);
  ConvTranspose<float> up(2, 4, 4, {4}, rng, {.stride = {2}, .padding = {1}});
  BOOST_TEST(up.forward(Tensor<float>({1, 4, 9, 16})).shape() == Shape({1, 4, 18, 32}));
  ConvTranspose<float> up3(3, 2, 2, {4}, rng, {.stride = {2}, .padding = {1}});
  BOOST_TEST(up3.forward(Tensor<float>({1, 2, 4, 5, 6})).shape() == Shape({1, 2, 8, 10, 12}));
}

BOOST_AUTO_TEST_CASE(linear_acts_on_the_last_axis) {
  Rng rng(2);
  Linear<double> lin(4, 3, rng);
  const auto x = Tensor<double>::randn({2, 5, 4}, rng);
  const auto y = lin.forward(x);
  BOOST_TEST(y.shape() == Shape({2, 5, 3}));
  for (index_t r = 0; r < 10; ++r)
    for (index_t o = 0; o < 3; ++o) {
      double acc = lin.bias().value[o];
      for (index_t i = 0; i < 4; ++i) acc += lin.weight().value(o, i) * x[r * 4 + i];
      BOOST_TEST(std::abs(y[r * 3 + o] - acc) < 1e-14);
    }
  Linear<double> nobias(4, 3, rng, false);
  BOOST_TEST(nobias.parameter_count() == 12);
  Linear<float> linf(4, 3, rng);
  check_float_matches_double(lin, linf, x.shape(), 3);
}

BOOST_AUTO_TEST_CASE(mlp_builder) {
  Rng rng(3);
  auto trunk = make_mlp<double>({2, 16, 16, 8}, rng, {.activation = ActivationKind::Tanh, .activate_last = true});
  BOOST_TEST(trunk.size() == 6u);
  BOOST_TEST(trunk[5].type_name() == "Tanh");
  auto branch = make_mlp<double>({5, 16, 8}, rng, {.activation = ActivationKind::ReLU});
  BOOST_TEST(branch.size() == 3u);
  BOOST_TEST(branch[2].type_name() == "Linear");
  BOOST_TEST(branch.parameter_count() == 5 * 16 + 16 + 16 * 8 + 8);
  const auto y = trunk.forward(Tensor<double>({7, 2}, 0.3));
  BOOST_TEST(y.shape() == Shape({7, 8}));
  BOOST_TEST(y.vec().cwiseAbs().maxCoeff() < 1.0);  // tanh on the last layer
  auto trunkf = make_mlp<float>({2, 16, 16, 8}, rng, {.activation = ActivationKind::Tanh, .activate_last = true});
  check_float_matches_double(trunk, trunkf, Shape({7, 2}), 4);
}

BOOST_AUTO_TEST_CASE(activation_values) {
  const std::vector<double> xs = {-2.0, -0.5, 0.7, 1.5};
  Tensor<double> x({4}, xs);
  auto run = [&](ActivationKind k) { return Activation<double>(k).forward(x); };
  const auto relu = run(ActivationKind::ReLU), gelu = run(ActivationKind::GELU), th = run(ActivationKind::Tanh),
             sn = run(ActivationKind::Sin), id = run(ActivationKind::Identity);
  for (int i = 0; i < 4; ++i) {
    BOOST_TEST(relu[i] == std::max(0.0, xs[i]));
    BOOST_TEST(std::abs(gelu[i] - 0.5 * xs[i] * std::erfc(-xs[i] / std::sqrt(2.0))) < 1e-15);
    BOOST_TEST(th[i] == std::tanh(xs[i]));
    BOOST_TEST(sn[i] == std::sin(xs[i]));
    BOOST_TEST(id[i] == xs[i]);
  }
  BOOST_TEST(std::abs(gelu[2] - 0.5306254) < 1e-6);  // torch.nn.functional.gelu(0.7)
  BOOST_TEST(to_string(activation_from_string("GELU")) == "gelu");
  BOOST_CHECK_THROW(activation_from_string("swish"), Error);
}

BOOST_AUTO_TEST_CASE(upsampling_matches_pytorch) {
  Tensor<double> x({1, 1, 4}, {0, 1, 2, 3});
  // torch.nn.Upsample(scale_factor=2, mode='linear', align_corners=False)
  const auto lin = Upsample<double>(1, 2, UpsampleMode::Linear).forward(x);
  const std::vector<double> expected = {0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3};
  for (int i = 0; i < 8; ++i) BOOST_TEST(std::abs(lin[i] - expected[i]) < 1e-15);
  const auto nearest = Upsample<double>(1, 3, UpsampleMode::Nearest).forward(x);
  for (int i = 0; i < 12; ++i) BOOST_TEST(nearest[i] == double(i / 3));
  // Bilinear of a separable product is the product of the 1-D results.
  Tensor<double> x2({1, 1, 2, 4});
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j) x2(0, 0, i, j) = (1 + i) * j;
  const auto bil = Upsample<double>(2, 2, UpsampleMode::Linear).forward(x2);
  const std::vector<double> rows = {1, 1.25, 1.75, 2};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 8; ++j) BOOST_TEST(std::abs(bil(0, 0, i, j) - rows[i] * expected[j]) < 1e-14);
  BOOST_TEST(Upsample<float>(3, 2, UpsampleMode::Linear).type_name() == "UpsampleTrilinear3d");
}

BOOST_AUTO_TEST_CASE(average_pooling) {
  Rng rng(5);
  const auto x = Tensor<double>::randn({2, 3, 6, 7}, rng);  // 7 is not a multiple of 2: last column dropped
  const auto y = AvgPool<double>(2, 2).forward(x);
  BOOST_TEST(y.shape() == Shape({2, 3, 3, 3}));
  for (index_t n = 0; n < 2; ++n)
    for (index_t c = 0; c < 3; ++c)
      for (index_t i = 0; i < 3; ++i)
        for (index_t j = 0; j < 3; ++j) {
          const double avg = (x(n, c, 2 * i, 2 * j) + x(n, c, 2 * i + 1, 2 * j) + x(n, c, 2 * i, 2 * j + 1) +
                              x(n, c, 2 * i + 1, 2 * j + 1)) /
                             4;
          BOOST_TEST(std::abs(y(n, c, i, j) - avg) < 1e-15);
        }
  AvgPool<double> pd(3, 2);
  AvgPool<float> pf(3, 2);
  check_float_matches_double(pd, pf, Shape({1, 2, 4, 6, 8}), 6);
}

BOOST_AUTO_TEST_CASE(norm_statistics_and_equivalences) {
  Rng rng(6);
  const auto x = Tensor<double>::randn({2, 4, 3, 5}, rng, 2.0, 3.0);
  // Over channels: zero mean, unit (biased) variance at every point.
  const auto y = LayerNorm<double>::over_channels(4).forward(x);
  for (index_t n = 0; n < 2; ++n)
    for (index_t p = 0; p < 15; ++p) {
      double m = 0, v = 0, mx = 0, vx = 0;
      for (index_t c = 0; c < 4; ++c) m += y[(n * 4 + c) * 15 + p] / 4;
      for (index_t c = 0; c < 4; ++c) v += std::pow(y[(n * 4 + c) * 15 + p] - m, 2) / 4;
      for (index_t c = 0; c < 4; ++c) mx += x[(n * 4 + c) * 15 + p] / 4;
      for (index_t c = 0; c < 4; ++c) vx += std::pow(x[(n * 4 + c) * 15 + p] - mx, 2) / 4;
      BOOST_TEST(std::abs(m) < 1e-12);
      BOOST_TEST(std::abs(v - vx / (vx + 1e-5)) < 1e-12);  // biased variance, eps inside the square root
    }
  // over_channels on (N, C, P) equals over_trailing({C}) on the channels-last layout.
  Tensor<double> last({2, 15, 4});
  for (index_t n = 0; n < 2; ++n)
    for (index_t c = 0; c < 4; ++c)
      for (index_t p = 0; p < 15; ++p) last[(n * 15 + p) * 4 + c] = x[(n * 4 + c) * 15 + p];
  auto ln_last = LayerNorm<double>::over_trailing(Shape({4}));
  const auto y_last = ln_last.forward(last);
  for (index_t n = 0; n < 2; ++n)
    for (index_t c = 0; c < 4; ++c)
      for (index_t p = 0; p < 15; ++p)
        BOOST_TEST(std::abs(y_last[(n * 15 + p) * 4 + c] - y[(n * 4 + c) * 15 + p]) < 1e-13);
  // GroupNorm with one group equals LayerNorm over the trailing (C, H, W); with C groups, instance norm.
  const auto g1 = GroupNorm<double>(1, 4).forward(x);
  const auto lt = LayerNorm<double>::over_trailing(Shape({4, 3, 5})).forward(x);
  BOOST_TEST(rel_diff(g1, lt) < 1e-13);
  const auto g4 = GroupNorm<double>(4, 4).forward(x);
  for (index_t r = 0; r < 8; ++r) BOOST_TEST(std::abs(g4.matrix(8, 15).row(r).mean()) < 1e-12);

  auto lnd = LayerNorm<double>::over_channels(4);
  auto lnf = LayerNorm<float>::over_channels(4);
  Rng r2(1);
  lnd.weight().value = Tensor<double>::randn({4}, r2);
  lnd.bias().value = Tensor<double>::randn({4}, r2);
  check_float_matches_double(lnd, lnf, x.shape(), 7);
  GroupNorm<double> gnd(2, 4);
  GroupNorm<float> gnf(2, 4);
  gnd.weight().value = Tensor<double>::randn({4}, r2);
  check_float_matches_double(gnd, gnf, x.shape(), 8);
}

BOOST_AUTO_TEST_CASE(bad_input_names_layer_and_shapes) {
  Rng rng(7);
  Conv<float> conv(2, 4, 8, {3}, rng);
  std::string m = message_of([&] { conv.forward(Tensor<float>({1, 3, 8, 8})); });
  BOOST_TEST(m.find("Conv2d") != std::string::npos, m);
  BOOST_TEST(m.find("(*, 4, *, *)") != std::string::npos, m);
  BOOST_TEST(m.find("(1, 3, 8, 8)") != std::string::npos, m);
  m = message_of([&] { conv.forward(Tensor<float>({1, 4, 8})); });  // wrong rank
  BOOST_TEST(m.find("(1, 4, 8)") != std::string::npos, m);
  m = message_of([&] { conv.forward(Tensor<float>({1, 4, 2, 8})); });  // grid smaller than the kernel
  BOOST_TEST(m.find("Conv2d") != std::string::npos, m);
  BOOST_TEST(m.find("smaller than the kernel") != std::string::npos, m);
  BOOST_TEST(m.find("(2, 8)") != std::string::npos, m);
  Conv<float> reflect(1, 1, 1, {5}, rng, {.padding = {3}, .padding_mode = PaddingMode::Reflect});
  m = message_of([&] { reflect.forward(Tensor<float>({1, 1, 3})); });
  BOOST_TEST(m.find("reflect") != std::string::npos, m);
  BOOST_CHECK_THROW(Conv<float>(2, 4, 8, {3, 3, 3}, rng), Error);  // kernel_size count
  BOOST_CHECK_THROW(Conv<float>(4, 4, 8, {3}, rng), Error);
  BOOST_CHECK_THROW(ConvTranspose<float>(2, 4, 8, {3}, rng, {.stride = {2}, .output_padding = {2}}), Error);
  ConvTranspose<float> up(3, 2, 2, {4}, rng, {.stride = {2}, .padding = {1}});
  m = message_of([&] { up.forward(Tensor<float>({1, 3, 4, 4, 4})); });
  BOOST_TEST(m.find("ConvTranspose3d") != std::string::npos, m);
  BOOST_TEST(m.find("(1, 3, 4, 4, 4)") != std::string::npos, m);
  Linear<float> lin(5, 2, rng);
  m = message_of([&] { lin.forward(Tensor<float>({3, 4})); });
  BOOST_TEST(m.find("Linear") != std::string::npos, m);
  BOOST_TEST(m.find("(3, 4)") != std::string::npos, m);
  auto ln = LayerNorm<float>::over_channels(6);
  m = message_of([&] { ln.forward(Tensor<float>({2, 5, 4})); });
  BOOST_TEST(m.find("LayerNorm") != std::string::npos, m);
  BOOST_TEST(m.find("(2, 5, 4)") != std::string::npos, m);
  BOOST_CHECK_THROW(GroupNorm<float>(3, 4), Error);
  m = message_of([&] { AvgPool<float>(2, 4).forward(Tensor<float>({1, 1, 3, 8})); });
  BOOST_TEST(m.find("AvgPool2d") != std::string::npos, m);
  BOOST_TEST(m.find("(1, 1, 3, 8)") != std::string::npos, m);
  Conv<float> c2(2, 4, 8, {3}, rng, {.padding = {1}});
  c2.forward(Tensor<float>({1, 4, 8, 8}));
  m = message_of([&] { c2.backward(Tensor<float>({1, 8, 7, 8})); });
  BOOST_TEST(m.find("(1, 8, 8, 8)") != std::string::npos, m);
}

BOOST_AUTO_TEST_CASE(multithreaded_conv_is_deterministic) {
  // Two colours of tiles, per-thread weight gradients reduced in a fixed order: same bits each time.
  Rng rng(9);
  Conv<float> conv(2, 8, 8, {3}, rng, {.padding = {1}, .padding_mode = PaddingMode::Circular});
  const auto x = Tensor<float>::randn({3, 8, 40, 40}, rng);
  const auto dy = Tensor<float>::randn({3, 8, 40, 40}, rng);
  conv.forward(x);
  const auto dx1 = conv.backward(dy);
  const Tensor<float> g1 = conv.weight().grad;
  conv.zero_grad();
  conv.forward(x);
  const auto dx2 = conv.backward(dy);
  BOOST_TEST((dx1.vec() - dx2.vec()).norm() == 0.0f);
  BOOST_TEST((g1.vec() - conv.weight().grad.vec()).norm() == 0.0f);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(conv_large_grids)

// Grids large enough for several position blocks per sample and several tiles, on both the direct
// (stride 1) and the im2col (stride 2) paths: forward against the direct loop, backward through the
// exact identities of a bilinear map, <y - b, v> = <x, dx(v)> = <W, dW(v)>.
BOOST_AUTO_TEST_CASE(identities_on_large_grids) {
  for (int dims : {2, 3})
    for (index_t stride : {1, 2})
      for (auto mode : {PaddingMode::Zeros, PaddingMode::Reflect, PaddingMode::Circular}) {
        Rng rng(40 + dims + stride);
        Conv<double> conv(dims, 3, 10, {3}, rng, {.stride = {stride}, .padding = {1}, .padding_mode = mode});
        // Circular runs a large batch of small grids instead (several samples per work item).
        const Shape s = mode == PaddingMode::Circular ? (dims == 2 ? Shape({37, 3, 9, 8}) : Shape({33, 3, 5, 4, 6}))
                        : dims == 2                   ? Shape({2, 3, 75, 70})
                                                      : Shape({1, 3, 22, 21, 23});
        const auto x = Tensor<double>::randn(s, rng);
        const auto y = conv.forward(x);
        const auto ref = test::naive_conv(x, conv.weight().value, &conv.bias().value,
                                          std::vector<index_t>(dims, stride), std::vector<index_t>(dims, 1), mode);
        BOOST_TEST(rel_diff(y, ref) < 1e-13);
        const auto v = Tensor<double>::randn(y.shape(), rng);
        conv.zero_grad();
        const auto dx = conv.backward(v);
        double yv = y.vec().dot(v.vec()), bias_part = 0;
        for (index_t i = 0; i < v.numel(); ++i)
          bias_part += v[i] * conv.bias().value[(i / v.shape().tail_numel(2)) % 10];
        const double linear = yv - bias_part;
        BOOST_TEST(std::abs(x.vec().dot(dx.vec()) - linear) < 1e-10 * std::abs(linear));
        BOOST_TEST(
            std::abs(conv.weight().value.vec().dot(conv.weight().grad.vec()) - linear) < 1e-10 * std::abs(linear),
            "dims " << dims << ", stride " << stride << ", " << to_string(mode));
        BOOST_TEST(std::abs(conv.bias().grad.vec().sum() - v.vec().sum()) < 1e-9);
      }
}

BOOST_AUTO_TEST_SUITE_END()
