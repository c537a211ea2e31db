#define BOOST_TEST_MODULE neurops_fno
#include <boost/test/unit_test.hpp>

#include "neurops/nn/gradcheck.hpp"
#include "neurops/operators/fno.hpp"

using namespace neurops;
using namespace neurops::operators;

BOOST_AUTO_TEST_CASE(fno2d_gradients_with_grid_and_padding) {
  FnoConfig c;
  c.dims = 2;
  c.in_channels = 2;
  c.out_channels = 1;
  c.width = 4;
  c.modes = {3, 2};
  c.layers = 2;
  c.projection_channels = 6;
  c.append_grid = true;
  c.domain_padding = 2;
  c.seed = 3;
  Fno<double> fno(c);
  Rng rng(1);
  const auto x = Tensor<double>::randn({2, 2, 8, 6}, rng);
  nn::GradCheckOptions o;
  o.eps = 1e-4;  // the loss passes through FFTs: a larger step keeps rounding noise below the check
  const auto r = nn::gradcheck(fno, x, o);
  BOOST_TEST_MESSAGE(r.summary());
  BOOST_TEST(r.max_error() < 1e-5, r.summary());
}

BOOST_AUTO_TEST_CASE(fno3d_gradients) {
  FnoConfig c;
  c.dims = 3;
  c.in_channels = 1;
  c.out_channels = 2;
  c.width = 3;
  c.modes = {2};
  c.layers = 2;
  c.projection_channels = 4;
  Fno<double> fno(c);
  Rng rng(2);
  nn::GradCheckOptions o;
  o.eps = 1e-4;
  const auto r = nn::gradcheck(fno, Tensor<double>::randn({1, 1, 4, 4, 6}, rng), o);
  BOOST_TEST(r.max_error() < 1e-5, r.summary());
}

BOOST_AUTO_TEST_CASE(names_counts_and_resolution_change) {
  FnoConfig c;
  c.in_channels = 3;
  c.width = 8;
  c.modes = {4};
  c.layers = 3;
  c.projection_channels = 16;
  Fno<float> fno(c);
  const auto params = fno.named_parameters();
  BOOST_TEST(params.front().name == "lifting.weight");
  BOOST_TEST(fno.parameter("blocks.2.spectral.weight1").value.shape() == Shape({8, 8, 4, 4, 2}));
  BOOST_TEST(fno.submodule("blocks.1.skip").type_name() == "Conv2d");
  // lifting 3*8+8, 3 blocks of (2 corners * 8*8*16*2 + 8*8+8), projection 8*16+16 + 16*1+1
  const index_t expected = (3 * 8 + 8) + 3 * (2 * 8 * 8 * 16 * 2 + 8 * 8 + 8) + (8 * 16 + 16) + (16 + 1);
  BOOST_TEST(fno.parameter_count() == expected);
  fno.eval();
  Rng rng(3);
  BOOST_TEST(fno.forward(Tensor<float>::randn({2, 3, 16, 16}, rng)).shape() == Shape({2, 1, 16, 16}));
  BOOST_TEST(fno.forward(Tensor<float>::randn({1, 3, 32, 24}, rng)).shape() == Shape({1, 1, 32, 24}));
}

BOOST_AUTO_TEST_CASE(bad_input_names_the_model_and_shapes) {
  FnoConfig c;
  c.in_channels = 3;
  c.modes = {6};
  c.width = 4;
  Fno<float> fno(c);
  try {
    fno.forward(Tensor<float>({1, 2, 16, 16}));
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    const std::string m = e.what();
    BOOST_TEST(m.find("FNO2d") != std::string::npos);
    BOOST_TEST(m.find("(1, 2, 16, 16)") != std::string::npos);
  }
  try {
    fno.forward(Tensor<float>({1, 3, 8, 8}));  // grid smaller than 2*modes
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    const std::string m = e.what();
    BOOST_TEST_MESSAGE(m);
    BOOST_TEST(m.find("blocks.0.spectral") != std::string::npos);
  }
  c.dims = 4;
  BOOST_CHECK_THROW(Fno<float>{c}, Error);
}
