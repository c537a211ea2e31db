// Malformed system files (PETSc binary and HDF5) are clear Errors before PETSc sees them, and SOR is
// right for matrices whose rows are stored with unsorted columns (a PETSc binary file may hold them).
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "neurops/io/hdf5.hpp"
#include "neurops/solvers/sor.hpp"
#include "neurops/solvers/system_io.hpp"

using namespace neurops;
using namespace neurops::solvers;
namespace fs = std::filesystem;

namespace {
/// A matrix in CSR form as the PETSc binary format stores it (row lengths, columns, values) plus b.
struct Csr {
  std::vector<std::int64_t> lengths, columns;
  std::vector<double> values, b;
  std::int64_t rows = 0, cols = 0, nnz_header = -2;  // -2: the real nnz
};

/// The 1-D Dirichlet Laplacian tridiag(-1, 2.5, -1) on n points, columns in decreasing order when asked.
Csr laplacian(std::int64_t n, bool decreasing = false) {
  Csr m;
  m.rows = m.cols = n;
  for (std::int64_t i = 0; i < n; ++i) {
    std::vector<std::pair<std::int64_t, double>> row;
    if (i > 0) row.push_back({i - 1, -1.0});
    row.push_back({i, 2.5});
    if (i + 1 < n) row.push_back({i + 1, -1.0});
    if (decreasing) std::reverse(row.begin(), row.end());
    m.lengths.push_back(std::int64_t(row.size()));
    for (auto [c, v] : row) m.columns.push_back(c), m.values.push_back(v);
    m.b.push_back(1.0 + 0.1 * double(i % 7));
  }
  return m;
}

template <class T>
void put(std::ofstream& out, T x) {
  unsigned char b[sizeof(T)];
  std::memcpy(b, &x, sizeof(T));
  std::reverse(b, b + sizeof(T));  // big-endian, as PETSc writes
  out.write(reinterpret_cast<const char*>(b), sizeof(T));
}

/// Writes `m` in PETSc's binary layout (MatView + VecView); `cut` drops that many trailing bytes.
void write_binary(const fs::path& p, const Csr& m, std::size_t cut = 0) {
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    put<PetscInt>(out, MAT_FILE_CLASSID);
    put<PetscInt>(out, PetscInt(m.rows));
    put<PetscInt>(out, PetscInt(m.cols));
    put<PetscInt>(out, PetscInt(m.nnz_header == -2 ? std::int64_t(m.columns.size()) : m.nnz_header));
    for (auto l : m.lengths) put<PetscInt>(out, PetscInt(l));
    for (auto c : m.columns) put<PetscInt>(out, PetscInt(c));
    for (auto v : m.values) put<double>(out, v);
    put<PetscInt>(out, VEC_FILE_CLASSID);
    put<PetscInt>(out, PetscInt(m.b.size()));
    for (auto v : m.b) put<double>(out, v);
  }
  if (cut) fs::resize_file(p, fs::file_size(p) - cut);
}

fs::path scratch() {
  const fs::path d = fs::absolute("system_files_scratch");
  fs::create_directories(d);
  return d;
}

void expect_error(const fs::path& p, const std::vector<std::string>& parts) {
  try {
    read_system(PETSC_COMM_SELF, p);
    BOOST_ERROR("no error for " << p);
  } catch (const Error& e) {
    const std::string m = e.what();
    BOOST_TEST_MESSAGE(m);
    BOOST_TEST_INFO(m);
    BOOST_TEST(m.find(p.filename().string()) != std::string::npos);
    for (const auto& part : parts) {
      BOOST_TEST_INFO(m << " should contain " << part);
      BOOST_TEST(m.find(part) != std::string::npos);
    }
  }
}
}  // namespace

BOOST_AUTO_TEST_SUITE(system_files)

BOOST_AUTO_TEST_CASE(malformed_binary_matrices_are_clear_errors) {
  // Each of these crashed MatMult or the SOR kernel, or gave wrong results silently.
  const fs::path d = scratch();
  write_binary(d / "good.bin", laplacian(6));
  BOOST_CHECK_NO_THROW(read_system(PETSC_COMM_SELF, d / "good.bin"));

  Csr m = laplacian(6);
  m.columns[4] = 17;
  write_binary(d / "col_high.bin", m);
  expect_error(d / "col_high.bin", {"column index 17", "[0, 6)"});
  m = laplacian(6);
  m.columns[2] = -1;
  write_binary(d / "col_negative.bin", m);
  expect_error(d / "col_negative.bin", {"column index -1"});
  m = laplacian(6);
  m.columns[3] = m.columns[4];  // row 1 holds column 1 twice
  write_binary(d / "col_twice.bin", m);
  expect_error(d / "col_twice.bin", {"twice"});
  m = laplacian(6);
  m.lengths[1] = -3;
  write_binary(d / "len_negative.bin", m);
  expect_error(d / "len_negative.bin", {"row 1 has length -3"});
  m = laplacian(6);
  m.lengths[2] += 1;  // lengths sum past nnz
  write_binary(d / "len_sum.bin", m);
  expect_error(d / "len_sum.bin", {"nnz"});
  m = laplacian(6);
  m.nnz_header = 1 << 30;  // a runaway allocation for MatLoad
  write_binary(d / "nnz_huge.bin", m);
  expect_error(d / "nnz_huge.bin", {"1073741824"});
  m = laplacian(6);
  m.b.pop_back();
  write_binary(d / "short_rhs.bin", m);
  expect_error(d / "short_rhs.bin", {"bytes"});
  write_binary(d / "truncated.bin", laplacian(6), 12);
  expect_error(d / "truncated.bin", {"bytes"});
  m = laplacian(6);
  m.values[5] = std::nan("");
  write_binary(d / "nan.bin", m);
  expect_error(d / "nan.bin", {"nan", "entry 5"});
  m = laplacian(6);
  m.cols = 7;
  write_binary(d / "rect.bin", m);
  expect_error(d / "rect.bin", {"square", "6 x 7"});
}

BOOST_AUTO_TEST_CASE(hdf5_column_count_is_read_as_64_bits) {
  // MATLAB_sparse = 2^32 + 100 was cast to 100 while PETSc read it whole (a runaway allocation).
  const fs::path p = scratch() / "huge_cols.h5";
  {
    auto f = io::H5File::create(p);
    Tensor<std::int64_t> jc({101}), ir({100});
    for (index_t i = 0; i < 100; ++i) jc[i + 1] = i + 1, ir[i] = i;
    f.write("/A/jc", jc);
    f.write("/A/ir", ir);
    f.write("/A/data", Tensor<double>({100}, 1.0));
    f.set_attr("/A", "MATLAB_sparse", std::int64_t((1LL << 32) + 100));
    f.write("/b", Tensor<double>({100}, 1.0));
    f.commit();
  }
  expect_error(p, {"4294967396", "square"});
}

BOOST_AUTO_TEST_CASE(sor_is_right_for_unsorted_columns) {
  // A file with decreasing column order "diverged" after 326 SOR iterations instead of converging in
  // 41: the kernel took the entries before the diagonal as L. The same matrix stored both ways must
  // take the same iterations to the same solution.
  const fs::path d = scratch();
  write_binary(d / "sorted.bin", laplacian(40));
  write_binary(d / "decreasing.bin", laplacian(40, true));
  auto a = read_system(PETSC_COMM_SELF, d / "sorted.bin");
  auto b = read_system(PETSC_COMM_SELF, d / "decreasing.bin");
  PetscVec xa, xb;
  NEUROPS_PETSC(MatCreateVecs(a.A, xa.out(), nullptr));
  NEUROPS_PETSC(MatCreateVecs(b.A, xb.out(), nullptr));
  for (const double omega : {1.0, 1.5}) {
    const auto ra = sor_solve(a.A, a.b, xa, omega);
    const auto rb = sor_solve(b.A, b.b, xb, omega);
    BOOST_TEST(ra.converged);
    BOOST_TEST(rb.converged);
    BOOST_TEST(ra.iterations == rb.iterations);
    NEUROPS_PETSC(VecAXPY(xb, -1.0, xa));
    PetscReal diff = 0, size = 0;
    NEUROPS_PETSC(VecNorm(xb, NORM_INFINITY, &diff));
    NEUROPS_PETSC(VecNorm(xa, NORM_INFINITY, &size));
    BOOST_TEST(diff <= 1e-12 * size);
    const auto pa = ssor_pcg_solve(a.A, a.b, xa, omega);
    const auto pb = ssor_pcg_solve(b.A, b.b, xb, omega);
    BOOST_TEST(pa.iterations == pb.iterations);
  }
}

BOOST_AUTO_TEST_CASE(binary_writes_leave_no_temporary) {
  const fs::path d = scratch() / "atomic";
  fs::remove_all(d);
  fs::create_directories(d);
  write_binary(d / "src.bin", laplacian(5));
  auto sys = read_system(PETSC_COMM_SELF, d / "src.bin");
  write_system(d / "copy.bin", sys.A, sys.b);
  auto again = read_system(PETSC_COMM_SELF, d / "copy.bin");
  PetscBool same = PETSC_FALSE;
  NEUROPS_PETSC(MatEqual(sys.A, again.A, &same));
  BOOST_TEST(bool(same));
  for (const auto& e : fs::directory_iterator(d))
    BOOST_TEST(e.path().filename().string().find(".tmp") == std::string::npos);
  // PETSc's format has no checksum; neurops' trailer makes a flipped bit in a value an Error.
  {
    std::fstream f(d / "copy.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-40, std::ios::end);  // inside the right-hand side's values
    char c = 0;
    f.read(&c, 1);
    c ^= 0x01;
    f.seekp(-40, std::ios::end);
    f.write(&c, 1);
  }
  expect_error(d / "copy.bin", {"checksum mismatch"});
}

BOOST_AUTO_TEST_SUITE_END()
