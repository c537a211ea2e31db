#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "neurops/io/hdf5.hpp"
#include "neurops/io/png.hpp"
#include "neurops/io/xdmf.hpp"

using namespace neurops;
using namespace neurops::io;
namespace fs = std::filesystem;

namespace {
// Runs f, expects neurops::Error, and checks the message names every piece in `must_name`.
template <class F>
void expect_error(F&& f, std::initializer_list<std::string> must_name) {
  try {
    f();
    BOOST_FAIL("expected a neurops::Error");
  } catch (const Error& e) {
    const std::string m = e.what();
    BOOST_TEST_MESSAGE(m);
    for (const auto& s : must_name)
      BOOST_TEST(m.find(s) != std::string::npos, "'" << m << "' should name '" << s << "'");
  }
}
fs::path good_file() {
  fs::create_directories("io_scratch");
  const fs::path p = "io_scratch/good.h5";
  auto f = H5File::create(p);
  Rng rng(2);
  f.write("/u", Tensor<double>::randn({64, 1, 32, 32}, rng));
  f.write("/labels", Tensor<std::int32_t>({64}));
  f.commit();
  return p;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(bad_input)

BOOST_AUTO_TEST_CASE(missing_file) {
  expect_error([] { H5File::open("io_scratch/nope.h5"); }, {"io_scratch/nope.h5", "does not exist"});
}

BOOST_AUTO_TEST_CASE(missing_dataset) {
  const auto p = good_file();
  auto f = H5File::open(p);
  expect_error([&] { f.read<double>("/v"); }, {"good.h5", "/v", "no dataset"});
}

BOOST_AUTO_TEST_CASE(wrong_shape_and_rank) {
  auto f = H5File::open(good_file());
  expect_error([&] { f.read<double>("/u", {-1, 3, 32, 32}); }, {"good.h5:/u", "(*, 3, 32, 32)", "(64, 1, 32, 32)"});
  expect_error([&] { f.read<double>("/u", {-1, 32, 32}); }, {"good.h5:/u", "(*, 32, 32)", "(64, 1, 32, 32)"});
}

BOOST_AUTO_TEST_CASE(wrong_dtype) {
  auto f = H5File::open(good_file());
  expect_error([&] { f.read<float>("/labels"); }, {"good.h5:/labels", "float32", "int32"});
  expect_error([&] { f.read<std::int64_t>("/u"); }, {"good.h5:/u", "int64", "float64"});
}

BOOST_AUTO_TEST_CASE(truncated_file) {
  const auto p = good_file();
  const fs::path cut = "io_scratch/truncated.h5";
  fs::copy_file(p, cut, fs::copy_options::overwrite_existing);
  fs::resize_file(cut, fs::file_size(p) / 2);
  expect_error(
      [&] {
        auto f = H5File::open(cut);
        f.read<double>("/u");
      },
      {"truncated.h5"});
}

BOOST_AUTO_TEST_CASE(corrupt_file) {
  const auto p = good_file();
  const fs::path bad = "io_scratch/corrupt.h5";
  fs::copy_file(p, bad, fs::copy_options::overwrite_existing);
  {
    std::fstream io(bad, std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(0);
    io.write("garbage!", 8);  // destroy the signature
  }
  expect_error([&] { H5File::open(bad); }, {"corrupt.h5", "not a readable HDF5 file"});
  std::ofstream("io_scratch/text.h5") << "this is not hdf5\n";
  expect_error([&] { H5File::open("io_scratch/text.h5"); }, {"text.h5", "not a readable HDF5 file"});
}

BOOST_AUTO_TEST_CASE(unwritable_path) {
  expect_error([] { H5File::create("io_scratch/no/such/dir/out.h5"); }, {"out.h5", "does not exist"});
  expect_error([] { write_text_atomically("io_scratch/no/such/x.xdmf", "x"); }, {"x.xdmf", "does not exist"});
  expect_error([] { write_png("io_scratch/no/such/x.png", Tensor<float>({4, 4})); }, {"x.png", "does not exist"});
  if (geteuid() != 0) {  // root ignores permission bits
    fs::create_directories("io_scratch/readonly");
    fs::permissions("io_scratch/readonly", fs::perms::owner_read | fs::perms::owner_exec);
    expect_error([] { H5File::create("io_scratch/readonly/out.h5"); }, {"out.h5", "not writable"});
    fs::permissions("io_scratch/readonly", fs::perms::owner_all);
  } else {
    // A path whose parent is a regular file cannot be created by anyone, root included.
    std::ofstream("io_scratch/plainfile") << "x";
    expect_error([] { H5File::create("io_scratch/plainfile/out.h5"); }, {"out.h5"});
  }
}

BOOST_AUTO_TEST_CASE(existing_file_survives_a_failed_write) {
  const auto p = good_file();
  const auto before = fs::file_size(p);
  try {
    auto f = H5File::create(p);
    f.write("/u", Tensor<double>({1}));
    f.write("/u", Tensor<double>({1}));  // duplicate: throws before commit
  } catch (const Error&) {
  }
  BOOST_TEST(fs::file_size(p) == before);
  BOOST_TEST(H5File::open(p).shape("/u") == Shape({64, 1, 32, 32}));
}

BOOST_AUTO_TEST_SUITE_END()
