// Spectral layers: forward against a naive DFT/DCT written out in the test, gradient and adjoint
// checks (double) over SpectralConv 1/2/3-D, the DCT and FFT layers, and shape errors.
#include <omp.h>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <complex>
#include <numbers>

#include "neurops/nn/gradcheck.hpp"
#include "neurops/nn/spectral_conv.hpp"
#include "neurops/nn/spectral_init.hpp"
#include "neurops/nn/transforms.hpp"

using namespace neurops;
using namespace neurops::nn;
namespace bdata = boost::unit_test::data;
using cd = std::complex<double>;

namespace {

struct ConvCase {
  std::vector<index_t> grid, modes, out_grid;
  bool bias;
  const char* label;
};
std::ostream& operator<<(std::ostream& os, const ConvCase& c) { return os << c.label; }

const std::vector<ConvCase> kConvCases = {
    {{8}, {3}, {}, false, "1d even truncated"},
    {{7}, {3}, {}, true, "1d odd"},
    {{8}, {5}, {}, false, "1d no truncation"},
    {{8}, {3}, {13}, true, "1d output 13"},
    {{10}, {4}, {6}, false, "1d output 6 (truncated)"},
    {{6, 8}, {2, 3}, {}, false, "2d even"},
    {{7, 9}, {3, 4}, {}, true, "2d odd"},
    {{6, 8}, {3, 5}, {}, false, "2d no truncation"},
    {{6, 8}, {2, 3}, {10, 7}, true, "2d output (10, 7)"},
    {{6, 6, 8}, {2, 2, 3}, {}, false, "3d even"},
    {{5, 6, 7}, {2, 3, 3}, {8, 6, 11}, true, "3d odd, output (8, 6, 11)"},
    {{6, 4, 6}, {3, 2, 4}, {}, false, "3d no truncation"},
    {{8, 6, 8}, {2, 2, 3}, {4, 5, 5}, false, "3d output (4, 5, 5) smaller"},
};

/// Signed frequency of kept mode k in the positive (false) or negative (true) block.
index_t signed_freq(index_t k, index_t m, bool negative) { return negative ? k - m : k; }

/// y[b,o,n'] = bias + (1/O) sum over kept modes of mult * Re(Y e^{+i 2pi kappa.n'/o}),
/// Y = sum_i X W, X = sum_n x e^{-i 2pi kappa.n/g}: the definition, written out.
Tensor<double> naive_spectral_conv(SpectralConv<double>& layer, const Tensor<double>& x, std::vector<index_t> o) {
  const int d = layer.dim();
  const index_t B = x.size(0), I = layer.in_channels(), O = layer.out_channels();
  std::vector<index_t> g = x.shape().tail(2).dims();
  if (o.empty()) o = g;
  index_t G = 1, No = 1;
  for (int a = 0; a < d; ++a) G *= g[a], No *= o[a];
  std::vector<index_t> out_dims{B, O};
  out_dims.insert(out_dims.end(), o.begin(), o.end());
  Tensor<double> y{Shape(out_dims)};
  const auto& m = layer.modes();
  index_t M = 1;
  for (auto e : m) M *= e;
  auto multi = [](index_t flat, const std::vector<index_t>& ext) {
    std::vector<index_t> idx(ext.size());
    for (int a = int(ext.size()) - 1; a >= 0; --a) idx[a] = flat % ext[a], flat /= ext[a];
    return idx;
  };
  for (int c = 0; c < layer.corners(); ++c)
    for (index_t q = 0; q < M; ++q) {
      const auto k = multi(q, m);
      std::vector<double> kappa(d);
      for (int a = 0; a < d; ++a) kappa[a] = double(signed_freq(k[a], m[a], a < d - 1 && ((c >> a) & 1)));
      const double mult = (k[d - 1] == 0 || 2 * k[d - 1] == o[d - 1]) ? 1.0 : 2.0;
      const Tensor<double>& w = layer.weight(c).value;
      for (index_t b = 0; b < B; ++b) {
        std::vector<cd> X(I);
        for (index_t i = 0; i < I; ++i)
          for (index_t n = 0; n < G; ++n) {
            const auto nn = multi(n, g);
            double ph = 0;
            for (int a = 0; a < d; ++a) ph += kappa[a] * double(nn[a]) / double(g[a]);
            X[i] += x[(b * I + i) * G + n] * std::exp(cd(0, -2 * std::numbers::pi * ph));
          }
        for (index_t oc = 0; oc < O; ++oc) {
          cd Y = 0;
          for (index_t i = 0; i < I; ++i)
            Y += X[i] * cd(w[((i * O + oc) * M + q) * 2], w[((i * O + oc) * M + q) * 2 + 1]);
          for (index_t n = 0; n < No; ++n) {
            const auto nn = multi(n, o);
            double ph = 0;
            for (int a = 0; a < d; ++a) ph += kappa[a] * double(nn[a]) / double(o[a]);
            y[(b * O + oc) * No + n] += mult / double(No) * (Y * std::exp(cd(0, 2 * std::numbers::pi * ph))).real();
          }
        }
      }
    }
  if (layer.has_bias())
    for (index_t b = 0; b < B; ++b)
      for (index_t oc = 0; oc < O; ++oc)
        for (index_t n = 0; n < No; ++n) y[(b * O + oc) * No + n] += layer.bias().value[oc];
  return y;
}

/// Entry-wise central differences carry rounding error of about 1e-16 * |loss| / eps relative to
/// the (sometimes small) gradient entry; the adjoint tests compare whole inner products. A wrong
/// adjoint shows up as errors of order 0.1.
bool gradcheck_passes(const GradCheckResult& r) {
  return r.input_error < 1e-5 && r.parameter_error < 1e-5 && r.adjoint_input_error < 1e-6 &&
         r.adjoint_parameter_error < 1e-6;
}

Tensor<double> random_input(index_t B, index_t C, const std::vector<index_t>& grid, std::uint64_t seed) {
  std::vector<index_t> dims{B, C};
  dims.insert(dims.end(), grid.begin(), grid.end());
  Rng rng(seed);
  return Tensor<double>::randn(Shape(dims), rng);
}

double max_abs_diff(const Tensor<double>& a, const Tensor<double>& b) {
  BOOST_REQUIRE(a.shape() == b.shape());
  return (a.vec() - b.vec()).cwiseAbs().maxCoeff();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(spectral_conv)

BOOST_DATA_TEST_CASE(forward_matches_naive_dft, bdata::make(kConvCases), c) {
  SpectralConv<double> layer(2, 3, c.modes, c.bias, 11);
  if (c.bias) {
    Rng rng(5);
    for (auto& v : layer.bias().value) v = rng.normal();
  }
  layer.set_output_grid(c.out_grid);
  const auto x = random_input(2, 2, c.grid, 3);
  const auto y = layer.forward(x);
  const auto ref = naive_spectral_conv(layer, x, c.out_grid);
  BOOST_TEST(max_abs_diff(y, ref) < 1e-12 * (1 + ref.vec().cwiseAbs().maxCoeff()),
             c.label << ": " << max_abs_diff(y, ref));
}

// Evaluation of a single sample mixes the modes straight from the parameter layout, not through the
// packed weights of the batched and training paths: the same function.
BOOST_DATA_TEST_CASE(evaluating_one_sample_matches_naive_dft, bdata::make(kConvCases), c) {
  SpectralConv<double> layer(2, 3, c.modes, c.bias, 13);
  if (c.bias) {
    Rng rng(6);
    for (auto& v : layer.bias().value) v = rng.normal();
  }
  layer.set_output_grid(c.out_grid);
  layer.eval();
  const auto x = random_input(1, 2, c.grid, 5);
  const auto y = layer.forward(x);
  const auto ref = naive_spectral_conv(layer, x, c.out_grid);
  BOOST_TEST(max_abs_diff(y, ref) < 1e-12 * (1 + ref.vec().cwiseAbs().maxCoeff()),
             c.label << ": " << max_abs_diff(y, ref));
}

BOOST_DATA_TEST_CASE(gradient_and_adjoint, bdata::make(kConvCases), c) {
  SpectralConv<double> layer(2, 3, c.modes, c.bias, 7);
  Rng rng(9);
  vp_spectral_init(layer, 64, SpectralTransform::dft, rng);
  if (c.bias) init_normal(layer.bias(), 0.5, rng);
  layer.set_output_grid(c.out_grid);
  const auto r = gradcheck(layer, random_input(2, 2, c.grid, 4));
  BOOST_TEST_MESSAGE(c.label << ": " << r.summary());
  BOOST_TEST(gradcheck_passes(r), c.label << ": " << r.summary());
}

BOOST_AUTO_TEST_CASE(float_matches_double) {
  SpectralConv<double> ld(3, 4, {4, 5}, true, 21);
  SpectralConv<float> lf(3, 4, {4, 5}, true, 21);
  const auto x = random_input(3, 3, {12, 10}, 8);
  const auto yd = ld.forward(x);
  const auto yf = lf.forward(x.cast<float>()).cast<double>();
  BOOST_TEST(max_abs_diff(yd, yf) < 1e-5 * (1 + yd.vec().cwiseAbs().maxCoeff()));
  Rng rng(2);
  const auto dy = Tensor<double>::randn(yd.shape(), rng);
  const auto dxd = ld.backward(dy);
  const auto dxf = lf.backward(dy.cast<float>()).cast<double>();
  BOOST_TEST(max_abs_diff(dxd, dxf) < 1e-4 * (1 + dxd.vec().cwiseAbs().maxCoeff()));
  for (int c = 0; c < 2; ++c)
    BOOST_TEST(max_abs_diff(ld.weight(c).grad, lf.weight(c).grad.cast<double>()) <
               1e-4 * (1 + ld.weight(c).grad.vec().cwiseAbs().maxCoeff()));
}

BOOST_AUTO_TEST_CASE(resolution_agnostic_weights) {
  // The same weights on a finer grid: a band-limited input sampled at 16 and at 32 points gives the
  // same band-limited output sampled at 16 and 32 points.
  SpectralConv<double> layer(1, 1, {4}, false, 3);
  auto sample = [](index_t n) {
    Tensor<double> x(Shape{1, 1, n});
    for (index_t i = 0; i < n; ++i) {
      const double t = double(i) / double(n);
      x[i] = std::sin(2 * std::numbers::pi * t) + 0.5 * std::cos(2 * std::numbers::pi * 3 * t);
    }
    return x;
  };
  const auto y16 = layer.forward(sample(16));
  const auto y32 = layer.forward(sample(32));
  double err = 0;
  for (index_t i = 0; i < 16; ++i) err = std::max(err, std::abs(y16[i] - y32[2 * i]));
  BOOST_TEST(err < 1e-12);
}

BOOST_AUTO_TEST_CASE(parameter_names_and_shapes) {
  SpectralConv<float> layer(4, 5, {3, 2, 6}, true);
  const auto params = layer.named_parameters();
  BOOST_REQUIRE_EQUAL(params.size(), 5u);
  BOOST_TEST(params[0].name == "weight0");
  BOOST_TEST(params[3].name == "weight3");
  BOOST_TEST(params[4].name == "bias");
  BOOST_TEST(params[0].param->complex);
  BOOST_TEST(params[0].param->value.shape() == (Shape{4, 5, 3, 2, 6, 2}));
  // FNO init: U[0,1) / (in*out).
  for (float v : params[1].param->value) BOOST_TEST((v >= 0.f && v < 1.f / 20.f));
}

BOOST_AUTO_TEST_CASE(bad_shapes_name_layer_and_shapes) {
  SpectralConv<float> layer(3, 2, {4, 4});
  auto message = [&](const Tensor<float>& x) {
    try {
      layer.forward(x);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string channels = message(Tensor<float>(Shape{1, 2, 8, 8}));
  BOOST_TEST(channels.find("SpectralConv2d") != std::string::npos, channels);
  BOOST_TEST(channels.find("(1, 2, 8, 8)") != std::string::npos, channels);
  BOOST_TEST(channels.find("expected 3") != std::string::npos, channels);
  const std::string rank = message(Tensor<float>(Shape{1, 3, 8}));
  BOOST_TEST(rank.find("rank 4") != std::string::npos, rank);
  const std::string small = message(Tensor<float>(Shape{1, 3, 7, 8}));
  BOOST_TEST(small.find("modes (4, 4)") != std::string::npos, small);
  BOOST_TEST(small.find("(7, 8)") != std::string::npos, small);
  BOOST_TEST(small.find("needs at least 8") != std::string::npos, small);
  layer.set_output_grid({8, 4});
  const std::string out = message(Tensor<float>(Shape{1, 3, 8, 8}));
  BOOST_TEST(out.find("output grid (8, 4)") != std::string::npos, out);
  BOOST_CHECK_THROW(SpectralConv<float>(3, 2, {4, 4, 4, 4}), Error);
}

BOOST_AUTO_TEST_CASE(backward_without_forward_is_an_error) {
  SpectralConv<double> layer(1, 1, {2});
  BOOST_CHECK_THROW(layer.backward(Tensor<double>(Shape{1, 1, 8})), Error);
  layer.eval();
  layer.forward(random_input(1, 1, {8}, 1));
  BOOST_CHECK_THROW(layer.backward(Tensor<double>(Shape{1, 1, 8})), Error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(transforms)

BOOST_AUTO_TEST_CASE(dct_matches_definition) {
  const auto x = random_input(2, 1, {5, 6}, 12);  // (2, 1, 5, 6): DCT over the last two axes
  const auto X = dct_ortho(x, 2, false);
  double err = 0;
  for (index_t b = 0; b < 2; ++b)
    for (index_t k1 = 0; k1 < 5; ++k1)
      for (index_t k2 = 0; k2 < 6; ++k2) {
        double s = 0;
        for (index_t n1 = 0; n1 < 5; ++n1)
          for (index_t n2 = 0; n2 < 6; ++n2)
            s += x(b, 0, n1, n2) * std::cos(std::numbers::pi * (n1 + 0.5) * k1 / 5.0) *
                 std::cos(std::numbers::pi * (n2 + 0.5) * k2 / 6.0);
        s *= std::sqrt(2.0 / 5) * std::sqrt(2.0 / 6) * (k1 == 0 ? std::sqrt(0.5) : 1.0) *
             (k2 == 0 ? std::sqrt(0.5) : 1.0);
        err = std::max(err, std::abs(s - X(b, 0, k1, k2)));
      }
  BOOST_TEST(err < 1e-12);
  // Orthonormal: DCT-III inverts DCT-II, norms are kept.
  BOOST_TEST(max_abs_diff(dct_ortho(X, 2, true), x) < 1e-12);
  BOOST_TEST(std::abs(X.vec().norm() - x.vec().norm()) < 1e-12);
}

BOOST_AUTO_TEST_CASE(rfft_matches_definition) {
  const auto x = random_input(1, 2, {3, 5}, 13);
  Rfft<double> f(2);
  const auto X = f.forward(x);
  BOOST_TEST(X.shape() == (Shape{1, 2, 3, 3, 2}));
  double err = 0;
  for (index_t c = 0; c < 2; ++c)
    for (index_t k1 = 0; k1 < 3; ++k1)
      for (index_t k2 = 0; k2 < 3; ++k2) {
        cd s = 0;
        for (index_t n1 = 0; n1 < 3; ++n1)
          for (index_t n2 = 0; n2 < 5; ++n2)
            s += x(0, c, n1, n2) * std::exp(cd(0, -2 * std::numbers::pi * (double(k1 * n1) / 3 + double(k2 * n2) / 5)));
        err = std::max({err, std::abs(s.real() - X(0, c, k1, k2, 0)), std::abs(s.imag() - X(0, c, k1, k2, 1))});
      }
  BOOST_TEST(err < 1e-12);
  Irfft<double> inv(2, 5);
  BOOST_TEST(max_abs_diff(inv.forward(X), x) < 1e-12);
}

struct TransformCase {
  int kind;  // 0 DCT-II, 1 DCT-III, 2 rFFT, 3 irFFT
  int axes;
  std::vector<index_t> shape;
  index_t last_size;
  const char* label;
};
std::ostream& operator<<(std::ostream& os, const TransformCase& c) { return os << c.label; }

BOOST_DATA_TEST_CASE(transform_gradients,
                     bdata::make(std::vector<TransformCase>{
                         {0, 1, {3, 7}, 0, "DCT-II 1 axis"},
                         {0, 2, {2, 2, 5, 4}, 0, "DCT-II 2 axes"},
                         {0, 3, {2, 3, 4, 5}, 0, "DCT-II 3 axes"},
                         {1, 2, {2, 1, 6, 3}, 0, "DCT-III 2 axes"},
                         {2, 1, {2, 3, 8}, 0, "rFFT 1 axis even"},
                         {2, 2, {2, 2, 5, 7}, 0, "rFFT 2 axes odd"},
                         {2, 3, {1, 4, 3, 6}, 0, "rFFT 3 axes"},
                         {3, 1, {2, 3, 5, 2}, 8, "irFFT 1 axis to 8"},
                         {3, 1, {2, 3, 5, 2}, 9, "irFFT 1 axis to 9"},
                         {3, 2, {2, 4, 4, 2}, 6, "irFFT 2 axes to (4, 6)"},
                         {3, 2, {1, 5, 4, 2}, 7, "irFFT 2 axes to (5, 7)"},
                     }),
                     c) {
  std::unique_ptr<Module<double>> m;
  if (c.kind <= 1) m = std::make_unique<Dct<double>>(c.axes, c.kind == 1);
  if (c.kind == 2) m = std::make_unique<Rfft<double>>(c.axes);
  if (c.kind == 3) m = std::make_unique<Irfft<double>>(c.axes, c.last_size);
  Rng rng(17);
  const auto x = Tensor<double>::randn(Shape(c.shape), rng);
  const auto r = gradcheck(*m, x);
  BOOST_TEST_MESSAGE(c.label << ": " << r.summary());
  BOOST_TEST(gradcheck_passes(r), c.label << ": " << r.summary());
}

BOOST_AUTO_TEST_CASE(plans_are_reused) {
  const auto x = random_input(4, 3, {16, 16}, 1).cast<float>();
  Rfft<float> f(2);
  f.forward(x);
  const std::size_t after_first = fft_plan_count();
  for (int i = 0; i < 3; ++i) f.forward(x);
  BOOST_TEST(fft_plan_count() == after_first);
}

BOOST_AUTO_TEST_CASE(threaded_paths_give_serial_results) {
  // Large enough for the OpenMP loops and the split transforms to run in parallel.
  const auto x = random_input(8, 8, {32, 24}, 2);
  Rng rng(4);
  auto run = [&](int threads, FftThreading mode) {
    omp_set_num_threads(threads);
    set_fft_threading(mode);
    SpectralConv<double> layer(8, 8, {6, 7}, true, 1);
    const auto y = layer.forward(x);
    Rng r(4);
    const auto dx = layer.backward(Tensor<double>::randn(y.shape(), r));
    Rfft<double> f(2);
    const auto spectrum = f.forward(x);
    const auto dct = dct_ortho(x, 2, false);
    std::vector<Tensor<double>> out{y, dx, layer.weight(1).grad, spectrum, dct};
    return out;
  };
  const int threads = omp_get_max_threads();
  const auto serial = run(1, FftThreading::openmp_split);
  for (auto mode : {FftThreading::openmp_split, FftThreading::fftw_threads}) {
    const auto parallel = run(std::max(threads, 2), mode);
    for (std::size_t i = 0; i < serial.size(); ++i)
      BOOST_TEST(max_abs_diff(serial[i], parallel[i]) < 1e-12 * (1 + serial[i].vec().cwiseAbs().maxCoeff()),
                 "output " << i << " mode " << int(mode));
  }
  omp_set_num_threads(threads);
  set_fft_threading(FftThreading::openmp_split);
}

BOOST_AUTO_TEST_CASE(transform_shape_errors) {
  Irfft<float> inv(1, 7);
  BOOST_CHECK_THROW(inv.forward(Tensor<float>(Shape{1, 5, 2})), Error);  // 7 points need 4 entries
  Rfft<float> f(2);
  BOOST_CHECK_THROW(f.forward(Tensor<float>(Shape{8, 8})), Error);  // no batch axis
  BOOST_CHECK_THROW(Dct<float>(4), Error);
}

BOOST_AUTO_TEST_SUITE_END()
