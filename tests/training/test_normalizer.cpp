#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>

#include "neurops/io/hdf5.hpp"
#include "neurops/nn/normalizer.hpp"

using namespace neurops;
using namespace neurops::nn;

BOOST_AUTO_TEST_SUITE(normalizer)

BOOST_AUTO_TEST_CASE(pointwise_gaussian_gives_zero_mean_unit_std_per_point) {
  Rng rng(1);
  Tensor<double> x({400, 2, 3, 3});
  for (index_t s = 0; s < 400; ++s)
    for (index_t c = 0; c < 2; ++c)
      for (index_t p = 0; p < 9; ++p) x[(s * 2 + c) * 9 + p] = 5.0 * double(p) + (1.0 + double(c + p)) * rng.normal();
  const auto nz = Normalizer<double>::unit_gaussian(x.view(), false, 0.0);
  BOOST_TEST(nz.statistics_shape() == Shape({2, 3, 3}));
  Tensor<double> z = x;
  nz.encode(z);
  for (index_t c = 0; c < 2; ++c)
    for (index_t p = 0; p < 9; ++p) {
      double m = 0, v = 0;
      for (index_t s = 0; s < 400; ++s) m += z[(s * 2 + c) * 9 + p];
      m /= 400;
      for (index_t s = 0; s < 400; ++s) v += std::pow(z[(s * 2 + c) * 9 + p] - m, 2);
      BOOST_TEST(std::abs(m) < 1e-12);
      BOOST_TEST(std::sqrt(v / 399) == 1.0, boost::test_tools::tolerance(1e-12));
    }
  nz.decode(z);
  for (index_t i = 0; i < x.numel(); ++i) BOOST_TEST(z[i] == x[i], boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(per_channel_and_min_max) {
  Rng rng(2);
  auto x = Tensor<float>::rand({50, 3, 8, 8}, rng, -2, 6);
  const auto g = Normalizer<float>::unit_gaussian(x.view(), true);
  BOOST_TEST(g.statistics_shape() == Shape({3}));
  const auto mm = Normalizer<float>::min_max(x.view(), -1, 1);
  Tensor<float> z = x;
  mm.encode(z);
  BOOST_TEST(*std::min_element(z.begin(), z.end()) == -1.0f, boost::test_tools::tolerance(1e-5f));
  BOOST_TEST(*std::max_element(z.begin(), z.end()) == 1.0f, boost::test_tools::tolerance(1e-5f));
  // decode_backward is the derivative of decode: d(decode(z))/dz = scale
  Tensor<float> ones({1, 3, 8, 8}, 1.0f), a({1, 3, 8, 8}, 0.0f), b({1, 3, 8, 8}, 1.0f);
  mm.decode(a);
  mm.decode(b);
  mm.decode_backward(ones);
  for (index_t i = 0; i < ones.numel(); ++i) BOOST_TEST(ones[i] == b[i] - a[i], boost::test_tools::tolerance(1e-5f));
}

BOOST_AUTO_TEST_CASE(grid_and_channel_mismatch_are_errors) {
  Rng rng(3);
  auto x = Tensor<float>::randn({10, 2, 8, 8}, rng);
  const auto pw = Normalizer<float>::unit_gaussian(x.view(), false);
  Tensor<float> other({1, 2, 16, 16});
  BOOST_CHECK_THROW(pw.encode(other), Error);
  const auto pc = Normalizer<float>::unit_gaussian(x.view(), true);
  BOOST_CHECK_NO_THROW(pc.encode(other));  // per-channel statistics work at any resolution
  Tensor<float> three({1, 3, 8, 8});
  BOOST_CHECK_THROW(pc.encode(three), Error);
}

BOOST_AUTO_TEST_CASE(save_and_load) {
  std::filesystem::create_directories("training_scratch");
  Rng rng(4);
  auto x = Tensor<double>::randn({10, 2, 4, 4}, rng);
  const auto nz = Normalizer<double>::unit_gaussian(x.view(), false);
  {
    auto f = io::H5File::create("training_scratch/norm.h5");
    nz.save(f, "/normalizers/input");
    Normalizer<double>().save(f, "/normalizers/output");
    f.commit();
  }
  auto f = io::H5File::open("training_scratch/norm.h5");
  const auto back = Normalizer<double>::load(f, "/normalizers/input");
  BOOST_TEST(back.kind_name() == "unit_gaussian_pointwise");
  Tensor<double> a = x, b = x;
  nz.encode(a);
  back.encode(b);
  BOOST_TEST(std::equal(a.begin(), a.end(), b.begin()));
  BOOST_TEST(Normalizer<double>::load(f, "/normalizers/output").kind_name() == "identity");
  BOOST_CHECK_THROW(Normalizer<double>::load(f, "/normalizers/missing"), Error);
}

BOOST_AUTO_TEST_SUITE_END()
