// DCDM training pieces: sine-mode data (exact eigenvectors of the assembled matrix, the reference's
// mode weighting, resumable HDF5) and the scale-invariant loss with its gradient.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <set>

#include "neurops/io/hdf5.hpp"
#include "neurops/pde/linear_systems.hpp"
#include "neurops/solvers/dcdm_training.hpp"

using namespace neurops;
using namespace neurops::solvers;
namespace fs = std::filesystem;

namespace {

double eigenvalue(index_t n, const std::array<int, 3>& k) {
  double s = 0;
  for (int a = 0; a < 3; ++a) s += 2 - 2 * std::cos(M_PI * k[std::size_t(a)] / double(n + 1));
  return s;
}

/// ||A v - lambda v|| for v given in natural (z, y, x) order on a sequential DMDA.
double eigen_residual(Mat A, const std::vector<double>& v, double lambda) {
  PetscVec x, y;
  NEUROPS_PETSC(MatCreateVecs(A, x.out(), y.out()));
  PetscScalar* a = nullptr;
  NEUROPS_PETSC(VecGetArray(x, &a));
  for (std::size_t i = 0; i < v.size(); ++i) a[i] = v[i];
  NEUROPS_PETSC(VecRestoreArray(x, &a));
  NEUROPS_PETSC(MatMult(A, x, y));
  NEUROPS_PETSC(VecAXPY(y, -lambda, x));
  PetscReal r = 0;
  NEUROPS_PETSC(VecNorm(y, NORM_2, &r));
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dcdm_training)

BOOST_AUTO_TEST_CASE(selected_modes_are_distinct_sorted_and_cover_both_ends) {
  const index_t n = 8, m = 100;
  const auto modes = dcdm_select_modes(n, m);
  BOOST_TEST(modes.size() == std::size_t(m));
  std::set<std::array<int, 3>> unique(modes.begin(), modes.end());
  BOOST_TEST(unique.size() == modes.size());
  for (std::size_t j = 1; j < modes.size(); ++j)
    BOOST_TEST(eigenvalue(n, modes[j - 1]) <= eigenvalue(n, modes[j]) + 1e-12);
  BOOST_TEST((modes.front() == std::array<int, 3>{1, 1, 1}));
  BOOST_TEST((modes.back() == std::array<int, 3>{8, 8, 8}));
}

BOOST_AUTO_TEST_CASE(synthesised_modes_are_eigenvectors_of_the_assembled_laplacian) {
  const index_t n = 6;
  PetscDM dm = pde::dirichlet_grid_3d(PETSC_COMM_SELF, n, n, n);
  PetscMat A = pde::assemble_laplacian(dm);
  for (std::array<int, 3> k : {std::array<int, 3>{1, 1, 1}, {2, 5, 3}, {6, 1, 4}}) {
    std::vector<double> c(std::size_t(n * n * n), 0.0);
    c[std::size_t(((k[2] - 1) * n + (k[1] - 1)) * n + (k[0] - 1))] = 1.0;
    const auto v = dcdm_synthesise(n, c);
    double norm = 0;
    for (double x : v) norm += x * x;
    BOOST_TEST(std::abs(norm - 1) < 1e-12);
    BOOST_TEST(eigen_residual(A, v, eigenvalue(n, k)) < 1e-12, "mode " << k[0] << k[1] << k[2]);
  }
}

BOOST_AUTO_TEST_CASE(data_file_resumes_and_rejects_other_settings) {
  const auto dir = fs::temp_directory_path() / ("neurops_test_dcdm_data_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  DcdmDataConfig c;
  c.n = 8;
  c.modes = 60;
  c.samples = 3;
  c.seed = 4;
  generate_dcdm_box_data(dir / "a.h5", c, false);
  c.samples = 6;
  generate_dcdm_box_data(dir / "a.h5", c, false);  // resumes after sample 3
  generate_dcdm_box_data(dir / "b.h5", c, false);  // in one go
  const auto a = io::H5File::open(dir / "a.h5").read<float>("/b");
  const auto b = io::H5File::open(dir / "b.h5").read<float>("/b");
  BOOST_TEST(a.shape() == Shape({6, 1, 8, 8, 8}));
  BOOST_TEST(std::equal(a.begin(), a.end(), b.begin()));
  double norm = 0;
  for (index_t i = 0; i < 512; ++i) norm += double(a[i]) * a[i];
  BOOST_TEST(std::abs(norm - 1) < 1e-5);
  c.seed = 5;
  BOOST_CHECK_EXCEPTION(generate_dcdm_box_data(dir / "a.h5", c, false), Error,
                        [](const Error& e) { return std::string(e.what()).find("seed") != std::string::npos; });
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(loss_is_scale_invariant_zero_at_the_solution_and_has_the_right_gradient) {
  const index_t n = 4;
  PetscDM dm = pde::dirichlet_grid_3d(PETSC_COMM_SELF, n, n, n);
  PetscMat A = pde::assemble_laplacian(dm);
  DcdmLoss<double> loss(A);
  Rng rng(9);
  const auto q = Tensor<double>::randn({2, 1, n, n, n}, rng);
  const auto b = Tensor<double>::randn({2, 1, n, n, n}, rng);
  Tensor<double> grad;
  const double l = loss.evaluate(q, b, &grad);
  Tensor<double> q3 = q;
  for (auto& v : q3) v *= -3.0;
  BOOST_TEST(std::abs(loss.evaluate(q3, b) - l) < 1e-12 * l);
  // Central differences on a few entries.
  for (index_t i : {0, 17, 63, 64, 101}) {
    Tensor<double> qp = q, qm = q;
    qp[i] += 1e-6;
    qm[i] -= 1e-6;
    const double fd = (loss.evaluate(qp, b) - loss.evaluate(qm, b)) / 2e-6;
    BOOST_TEST(std::abs(fd - grad[i]) < 1e-6 * (1 + std::abs(fd)), "entry " << i << ": " << fd << " vs " << grad[i]);
  }
  // An eigenvector b with q = b: alpha A q = b exactly.
  std::vector<double> c(std::size_t(n * n * n), 0.0);
  c[5] = 1;
  const auto v = dcdm_synthesise(n, c);
  Tensor<double> e({1, 1, n, n, n});
  std::copy(v.begin(), v.end(), e.begin());
  BOOST_TEST(loss.evaluate(e, e) < 1e-25);
}

BOOST_AUTO_TEST_SUITE_END()
