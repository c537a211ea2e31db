#define BOOST_TEST_MODULE neurops_core
#include <boost/test/unit_test.hpp>

#include "neurops/core/tensor.hpp"

using namespace neurops;

BOOST_AUTO_TEST_SUITE(tensor)

BOOST_AUTO_TEST_CASE(shape_and_strides) {
  Tensor<float> t({2, 3, 4, 5});
  BOOST_TEST(t.rank() == 4);
  BOOST_TEST(t.numel() == 120);
  BOOST_TEST(t.size(-1) == 5);
  const auto s = t.strides();
  BOOST_TEST(s[0] == 60);
  BOOST_TEST(s[1] == 20);
  BOOST_TEST(s[2] == 5);
  BOOST_TEST(s[3] == 1);
  BOOST_TEST(t.shape().str() == "(2, 3, 4, 5)");
  BOOST_TEST(Shape({7}).str() == "(7,)");
  for (float v : t) BOOST_TEST(v == 0.0f);  // zero-initialised
  BOOST_TEST(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0u);
}

BOOST_AUTO_TEST_CASE(row_major_indexing) {
  Tensor<double> t({2, 3, 4});
  for (index_t i = 0; i < t.numel(); ++i) t[i] = double(i);
  BOOST_TEST(t(1, 2, 3) == 23.0);
  BOOST_TEST(t(0, 1, 0) == 4.0);
  t(1, 0, 2) = -1;
  BOOST_TEST(t[14] == -1.0);
}

BOOST_AUTO_TEST_CASE(rank_limits) {
  BOOST_CHECK_NO_THROW(Tensor<float>({1, 1, 1, 1, 1, 2}));
  BOOST_CHECK_THROW(Shape({1, 1, 1, 1, 1, 1, 1}), Error);
  BOOST_CHECK_THROW(Shape({2, -1}), Error);
}

BOOST_AUTO_TEST_CASE(value_semantics) {
  Rng rng(1);
  auto a = Tensor<float>::randn({3, 4}, rng);
  Tensor<float> b = a;  // deep copy
  b[0] += 1;
  BOOST_TEST(a[0] != b[0]);
  const float* p = a.data();
  Tensor<float> c = std::move(a);  // move keeps the buffer
  BOOST_TEST(c.data() == p);
  c = b;
  BOOST_TEST(c[0] == b[0]);
}

BOOST_AUTO_TEST_CASE(reshape_without_copy) {
  Tensor<float> t({4, 6});
  const float* p = t.data();
  t.reshape({2, 2, 6});
  BOOST_TEST(t.data() == p);
  BOOST_TEST(t.shape() == Shape({2, 2, 6}));
  auto v = t.reshaped({24});
  BOOST_TEST(v.data() == p);
  BOOST_CHECK_THROW(t.reshape({5, 5}), Error);
}

BOOST_AUTO_TEST_CASE(slices_share_storage) {
  Tensor<int> t({5, 2});
  for (index_t i = 0; i < 10; ++i) t[i] = int(i);
  auto s = t.slice(1, 3);
  BOOST_TEST(s.shape() == Shape({2, 2}));
  BOOST_TEST(s(0, 0) == 2);
  s(1, 1) = 100;
  BOOST_TEST(t(2, 1) == 100);
  BOOST_TEST(t.sample(4)(0, 1) == 9);
  BOOST_CHECK_THROW(t.slice(3, 6), Error);
  Tensor<int> copy(s);  // owning copy of a view
  copy[0] = -5;
  BOOST_TEST(t(1, 0) == 2);
}

BOOST_AUTO_TEST_CASE(eigen_views) {
  Tensor<double> t({2, 3});
  t.matrix() << 1, 2, 3, 4, 5, 6;
  BOOST_TEST(t(1, 0) == 4.0);  // row-major
  BOOST_TEST(t.vec().sum() == 21.0);
  Eigen::Vector3d x(1, 1, 1);
  Eigen::Vector2d y = t.matrix() * x;
  BOOST_TEST(y(1) == 15.0);
  const Tensor<double>& ct = t;
  BOOST_TEST(ct.matrix(3, 2)(2, 1) == 6.0);
}

BOOST_AUTO_TEST_CASE(fill_and_factories) {
  auto f = Tensor<float>::full({3, 3}, 2.5f);
  for (float v : f) BOOST_TEST(v == 2.5f);
  f.zero();
  BOOST_TEST(f.vec().squaredNorm() == 0.0f);
  Rng a(42), b(42);
  auto x = Tensor<double>::rand({100}, a, -1, 1), y = Tensor<double>::rand({100}, b, -1, 1);
  BOOST_TEST(std::equal(x.begin(), x.end(), y.begin()));
  for (double v : x) BOOST_TEST((v >= -1 && v < 1));
  auto z = x.cast<float>();
  BOOST_TEST(z[3] == float(x[3]));
}

BOOST_AUTO_TEST_CASE(shape_checks_name_what_was_expected) {
  try {
    check_shape(Shape({2, 3, 8}), {-1, 4, -1}, "FNO input");
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    const std::string m = e.what();
    BOOST_TEST(m.find("FNO input") != std::string::npos);
    BOOST_TEST(m.find("(*, 4, *)") != std::string::npos);
    BOOST_TEST(m.find("(2, 3, 8)") != std::string::npos);
    BOOST_TEST(m.find("test_tensor.cpp") == std::string::npos);  // location is where it was thrown
    BOOST_TEST(m.find("tensor.cpp:") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
