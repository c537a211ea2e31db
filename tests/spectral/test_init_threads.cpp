// Spectral initialisers (formulas, statistics, seeding) and concurrent use of the FFTW plan cache.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <thread>

#include "neurops/nn/spectral_conv.hpp"
#include "neurops/nn/spectral_init.hpp"
#include "neurops/nn/transforms.hpp"

using namespace neurops;
using namespace neurops::nn;

BOOST_AUTO_TEST_SUITE(spectral_init)

BOOST_AUTO_TEST_CASE(vp_formulas) {
  // T1: gain sqrt(N / (fan_in m)), gain 1 for DCT and 1/2 for DFT.
  BOOST_TEST(std::abs(vp_sigma_t1(64 * 64, 48, 24 * 24, SpectralTransform::dct) - std::sqrt(4096.0 / (48.0 * 576))) <
             1e-15);
  BOOST_TEST(std::abs(vp_sigma_t1(64 * 64, 48, 24 * 24, SpectralTransform::dft) -
                      0.5 * std::sqrt(4096.0 / (48.0 * 576))) < 1e-15);
  // FNO with VP: DFT sqrt(N / (fan_in (4 m1 m2 + 4))), DCT sqrt(N / (2 fan_in m1 m2)).
  BOOST_TEST(std::abs(vp_sigma_fno(4096, 32, {12, 12}, SpectralTransform::dft) -
                      std::sqrt(4096.0 / (32.0 * (4 * 144 + 4)))) < 1e-15);
  BOOST_TEST(std::abs(vp_sigma_fno(4096, 32, {12, 12}, SpectralTransform::dct) - std::sqrt(4096.0 / (2 * 32.0 * 144))) <
             1e-15);
  BOOST_CHECK_THROW(vp_sigma_t1(0, 1, 1, SpectralTransform::dct), Error);
}

BOOST_AUTO_TEST_CASE(initialisers_are_seeded_and_have_the_stated_statistics) {
  SpectralConv<double> a(16, 16, {8, 8}, false, 42), b(16, 16, {8, 8}, false, 42), c(16, 16, {8, 8}, false, 43);
  BOOST_TEST((a.weight(1).value.vec() - b.weight(1).value.vec()).norm() == 0.0);
  BOOST_TEST((a.weight(1).value.vec() - c.weight(1).value.vec()).norm() > 0.0);
  // FNO: U[0,1)/(in*out): mean 1/(2*256), maximum below 1/256.
  const auto& w = a.weight(0).value;
  BOOST_TEST(std::abs(w.vec().mean() - 0.5 / 256) < 0.02 / 256);
  BOOST_TEST(w.vec().maxCoeff() < 1.0 / 256);
  BOOST_TEST(w.vec().minCoeff() >= 0.0);
  // VP: zero-mean normal with the formula's standard deviation (32768 samples per corner).
  Rng rng(7);
  vp_spectral_init(a, 4096, SpectralTransform::dft, rng);
  const double sigma = vp_sigma_fno(4096, 16, {8, 8}, SpectralTransform::dft);
  const auto& v = a.weight(1).value;
  const double mean = v.vec().mean();
  const double sd = std::sqrt((v.vec().array() - mean).square().mean());
  BOOST_TEST(std::abs(mean) < 0.03 * sigma);
  BOOST_TEST(std::abs(sd / sigma - 1) < 0.02);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(plan_cache)

BOOST_AUTO_TEST_CASE(concurrent_layers_agree_with_serial_results) {
  // Several threads create plans for new shapes and execute shared ones at the same time.
  const std::vector<std::vector<index_t>> grids = {{20, 18}, {24, 22}, {28, 26}, {20, 18}};
  std::vector<Tensor<double>> inputs, serial;
  SpectralConv<double> layer(3, 2, {4, 5}, true, 5);
  Rng rng(8);
  for (const auto& g : grids) {
    inputs.push_back(Tensor<double>::randn(Shape{2, 3, g[0], g[1]}, rng));
    auto copy = layer;
    serial.push_back(copy.forward(inputs.back()));
  }
  std::vector<Tensor<double>> results(grids.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < grids.size(); ++i)
    threads.emplace_back([&, i]() {
      auto copy = layer;
      for (int rep = 0; rep < 3; ++rep) results[i] = copy.forward(inputs[i]);
      // New shapes planned concurrently.
      Dct<double> dct(2);
      dct.forward(Tensor<double>(Shape{1, 1, 9 + index_t(i), 7}));
    });
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < grids.size(); ++i)
    BOOST_TEST((results[i].vec() - serial[i].vec()).cwiseAbs().maxCoeff() < 1e-13);
}

BOOST_AUTO_TEST_CASE(unaligned_arrays_use_unaligned_plans) {
  // Odd grids put later signals at addresses FFTW's SIMD code cannot assume; results must not change.
  SpectralConv<float> layer(1, 1, {2, 2}, false, 1);
  Rng rng(3);
  const auto x = Tensor<float>::randn(Shape{3, 1, 5, 5}, rng);  // 25 floats per signal: misaligned offsets
  const auto y = layer.forward(x);
  for (index_t b = 0; b < 3; ++b) {
    Tensor<float> one(x.sample(b));
    const auto yb = layer.forward(one);
    for (index_t i = 0; i < 25; ++i) BOOST_TEST(std::abs(yb[i] - y[b * 25 + i]) < 1e-6f);
  }
}

BOOST_AUTO_TEST_SUITE_END()
