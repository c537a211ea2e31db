#define BOOST_TEST_MODULE neurops_io
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>
#include <limits>

#include "neurops/io/hdf5.hpp"

using namespace neurops;
using namespace neurops::io;
namespace fs = std::filesystem;

namespace {
fs::path scratch(const std::string& name) {
  fs::create_directories("io_scratch");
  fs::path p = fs::path("io_scratch") / name;
  fs::remove(p);
  return p;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(hdf5)

using RealTypes = boost::mpl::list<float, double>;
BOOST_AUTO_TEST_CASE_TEMPLATE(round_trip_is_bit_exact, T, RealTypes) {
  Rng rng(11);
  auto t = Tensor<T>::randn({3, 2, 5, 7}, rng);
  t[0] = std::numeric_limits<T>::denorm_min();
  t[1] = -std::numeric_limits<T>::max();
  t[2] = std::numeric_limits<T>::infinity();
  const auto path = scratch("roundtrip.h5");
  {
    auto f = H5File::create(path);
    f.write("/group/sub/x", t);
    f.commit();
  }
  auto f = H5File::open(path);
  BOOST_TEST(f.dtype("/group/sub/x") == dtype_of<T>());
  const auto back = f.read<T>("/group/sub/x");
  BOOST_TEST(back.shape() == t.shape());
  BOOST_TEST(std::memcmp(back.data(), t.data(), sizeof(T) * t.numel()) == 0);
  // float <-> double conversion on read
  const auto other = f.read<std::conditional_t<std::is_same_v<T, float>, double, float>>("/group/sub/x");
  BOOST_TEST(double(other[5]) == double(t[5]), boost::test_tools::tolerance(1e-6));
}

BOOST_AUTO_TEST_CASE(integer_datasets) {
  const auto path = scratch("ints.h5");
  auto f = H5File::create(path, false);
  Tensor<std::int64_t> idx({4}, {3, 1, 4, 1});
  f.write("/idx", idx);
  BOOST_TEST(f.read<std::int64_t>("/idx")(2) == 4);
}

BOOST_AUTO_TEST_CASE(attributes_of_every_kind) {
  const auto path = scratch("attrs.h5");
  auto f = H5File::create(path);
  f.write("/u", Tensor<float>({2, 2}));
  f.set_attr("/", "title", std::string("Darcy 64x64"));
  f.set_attr("/", "seed", std::int64_t(-42));
  f.set_attr("/u", "viscosity", 1e-3);
  f.set_attr("/u", "domain", std::vector<double>{0, 1, 0, 2});
  f.set_attr("/u", "grid", std::vector<std::int64_t>{64, 64});
  f.set_attr("/u", "viscosity", 2e-3);  // replaced, not duplicated
  f.commit();
  auto g = H5File::open(path);
  BOOST_TEST(g.attr_string("/", "title") == "Darcy 64x64");
  BOOST_TEST(g.attr_int("/", "seed") == -42);
  BOOST_TEST(g.attr_real("/u", "viscosity") == 2e-3);
  BOOST_TEST((g.attr_reals("/u", "domain") == std::vector<double>{0, 1, 0, 2}));
  BOOST_TEST((g.attr_ints("/u", "grid") == std::vector<std::int64_t>{64, 64}));
  BOOST_TEST((g.attrs("/u") == std::vector<std::string>{"domain", "grid", "viscosity"}));
  BOOST_TEST(g.has_attr("/", "seed"));
  BOOST_TEST(!g.has_attr("/", "nope"));
  BOOST_CHECK_THROW(g.attr_int("/", "title"), Error);
}

BOOST_AUTO_TEST_CASE(listing_datasets) {
  const auto path = scratch("list.h5");
  auto f = H5File::create(path);
  f.write("/b", Tensor<float>({1}));
  f.write("/a/x", Tensor<float>({1}));
  f.write("/a/y/z", Tensor<double>({2}));
  BOOST_TEST((f.datasets() == std::vector<std::string>{"/a/x", "/a/y/z", "/b"}));
  BOOST_TEST((f.datasets("/a/y") == std::vector<std::string>{"/a/y/z"}));
  BOOST_TEST(f.exists("/a/y"));
  BOOST_TEST(!f.is_dataset("/a/y"));
  BOOST_TEST(!f.exists("/c/d"));
  BOOST_CHECK_THROW(f.write("/b", Tensor<float>({1})), Error);  // no silent overwrite
  BOOST_CHECK_NO_THROW(f.write("/b", Tensor<float>({3}), true));
  BOOST_TEST(f.shape("/b") == Shape({3}));
}

BOOST_AUTO_TEST_CASE(append_and_extend) {
  const auto path = scratch("append.h5");
  {
    auto f = H5File::create(path, false);
    f.create_extendable<float>("/inputs", {2, 4, 4}, 3);
    Rng rng(1);
    for (int chunk = 0; chunk < 4; ++chunk) {
      Tensor<float> s({2, 2, 4, 4});
      for (index_t i = 0; i < s.numel(); ++i) s[i] = float(chunk * 1000 + i);
      f.append("/inputs", s);
    }
    BOOST_TEST(f.shape("/inputs") == Shape({8, 2, 4, 4}));
    f.commit();
  }
  auto f = H5File::open(path, FileMode::read_write);
  const auto rows = f.read_rows<float>("/inputs", 2, 3);
  BOOST_TEST(rows.shape() == Shape({3, 2, 4, 4}));
  BOOST_TEST(rows(0, 0, 0, 0) == 1000.0f);                // first sample of the second chunk
  BOOST_TEST(rows(2, 1, 3, 3) == float(2000 + 16 + 15));  // row 4 = first sample of the third chunk
  f.resize_rows("/inputs", 5);                            // drop unfinished samples
  BOOST_TEST(f.shape("/inputs")[0] == 5);
  Tensor<float> late({1, 2, 4, 4}, 7.0f);
  f.write_rows("/inputs", 6, late);  // leaves a gap that gets filled later
  BOOST_TEST(f.shape("/inputs")[0] == 7);
  BOOST_TEST(f.read<float>("/inputs")(6, 1, 2, 2) == 7.0f);
  BOOST_CHECK_THROW(f.append("/inputs", Tensor<float>({1, 3, 4, 4})), Error);
  BOOST_CHECK_THROW(f.read_rows<float>("/inputs", 5, 3), Error);
}

BOOST_AUTO_TEST_CASE(atomic_create_keeps_old_file_on_failure) {
  const auto path = scratch("atomic.h5");
  {
    auto f = H5File::create(path);
    f.write("/version", Tensor<double>({1}, 1.0));
    f.commit();
  }
  try {
    auto f = H5File::create(path);
    f.write("/version", Tensor<double>({1}, 2.0));
    throw std::runtime_error("crash before commit");
  } catch (const std::runtime_error&) {
  }
  BOOST_TEST(H5File::open(path).read<double>("/version")[0] == 1.0);
  // and no temporary is left behind
  int leftovers = 0;
  for (const auto& e : fs::directory_iterator(path.parent_path()))
    leftovers += e.path().filename().string().find(".atomic.h5.tmp") == 0;
  BOOST_TEST(leftovers == 0);
}

BOOST_AUTO_TEST_SUITE_END()
