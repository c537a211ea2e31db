// The linear-system families: structure, symmetry, known spectra, obstacle decoupling, heat steps.
#include <Eigen/Dense>
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "neurops/pde/linear_systems.hpp"

using namespace neurops;

namespace {
Eigen::MatrixXd dense(Mat A) {
  PetscInt m = 0, n = 0;
  NEUROPS_PETSC(MatGetSize(A, &m, &n));
  Eigen::MatrixXd D = Eigen::MatrixXd::Zero(m, n);
  for (PetscInt i = 0; i < m; ++i) {
    PetscInt nc = 0;
    const PetscInt* c = nullptr;
    const PetscScalar* v = nullptr;
    NEUROPS_PETSC(MatGetRow(A, i, &nc, &c, &v));
    for (PetscInt k = 0; k < nc; ++k) D(i, c[k]) = v[k];
    NEUROPS_PETSC(MatRestoreRow(A, i, &nc, &c, &v));
  }
  return D;
}
Eigen::VectorXd eigenvalues(const Eigen::MatrixXd& D) {
  return Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(D, Eigen::EigenvaluesOnly).eigenvalues();
}
}  // namespace

BOOST_AUTO_TEST_SUITE(linear_systems)

BOOST_AUTO_TEST_CASE(laplacian_2d_spectrum_matches_the_formula) {
  auto da = pde::dirichlet_grid_2d(PETSC_COMM_SELF, 7, 5);
  auto A = pde::assemble_laplacian(da);
  const auto D = dense(A);
  BOOST_TEST((D - D.transpose()).norm() == 0.0);
  const auto ev = eigenvalues(D);
  const auto [lo, hi] = pde::laplacian_eigenvalue_bounds(7, 5);
  BOOST_TEST(ev.minCoeff() == lo, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(ev.maxCoeff() == hi, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(D(17, 17) == 4.0);
}

BOOST_AUTO_TEST_CASE(laplacian_3d_spectrum_matches_the_formula) {
  auto da = pde::dirichlet_grid_3d(PETSC_COMM_SELF, 4, 3, 5);
  auto A = pde::assemble_laplacian(da, {}, 2.0);
  const auto D = dense(A);
  BOOST_TEST((D - D.transpose()).norm() == 0.0);
  const auto ev = eigenvalues(D);
  const auto [lo, hi] = pde::laplacian_eigenvalue_bounds(4, 3, 5);
  BOOST_TEST(ev.minCoeff() == 2.0 * lo, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(ev.maxCoeff() == 2.0 * hi, boost::test_tools::tolerance(1e-12));
  BOOST_TEST((D.row(1 + 4 * (1 + 3 * 2)).array() != 0).count() == 7);  // interior node: 7-point stencil
  BOOST_TEST(D(29, 29) == 12.0);
}

BOOST_AUTO_TEST_CASE(solid_cells_are_decoupled) {
  const PetscInt nx = 6, ny = 5;
  std::vector<std::uint8_t> solid(nx * ny, 0);
  solid[2 + nx * 2] = solid[3 + nx * 2] = 1;  // a 2-cell obstacle
  auto da = pde::dirichlet_grid_2d(PETSC_COMM_SELF, nx, ny);
  for (auto face : {pde::SolidFace::dirichlet, pde::SolidFace::neumann}) {
    auto A = pde::assemble_laplacian(da, solid, 1.0, face);
    const auto D = dense(A);
    BOOST_TEST((D - D.transpose()).norm() == 0.0);
    for (PetscInt s : {2 + nx * 2, 3 + nx * 2}) {
      BOOST_TEST(D(s, s) == 1.0);
      BOOST_TEST(D.row(s).cwiseAbs().sum() == 1.0);
      BOOST_TEST(D.col(s).cwiseAbs().sum() == 1.0);
    }
    const PetscInt above = 2 + nx * 3;  // fluid neighbour of the obstacle
    BOOST_TEST(D(above, above) == (face == pde::SolidFace::dirichlet ? 4.0 : 3.0));
    BOOST_TEST(eigenvalues(D).minCoeff() > 0.0);  // still SPD
  }
  BOOST_CHECK_THROW(pde::assemble_laplacian(da, std::vector<std::uint8_t>(7, 0)), Error);
}

BOOST_AUTO_TEST_CASE(learning_to_relax_family_is_delsq_plus_shift) {
  const auto family = pde::ShiftedLaplacianFamily::high_variance();
  const auto D = dense(family.base());
  BOOST_TEST(D.rows() == 100);
  BOOST_TEST((D.diagonal().array() == 4.0).all());
  BOOST_TEST((D - D.transpose()).norm() == 0.0);
  BOOST_TEST(((D.array() != 0).count()) == 460);  // 100 + 4 * 90 neighbours of delsq(numgrid('S',12))
  BOOST_TEST(D(0, 1) == -1.0);
  BOOST_TEST(D(0, 10) == -1.0);
  BOOST_TEST(D(9, 10) == 0.0);  // no wrap-around between grid rows
  PetscMat At;
  family.instance(0.25, At);
  const auto Dt = dense(At);
  BOOST_TEST((Dt - D - 0.25 * Eigen::MatrixXd::Identity(100, 100)).norm() == 0.0);
  const auto [lo, hi] = pde::laplacian_eigenvalue_bounds(10, 10);
  BOOST_TEST(eigenvalues(D).minCoeff() == lo, boost::test_tools::tolerance(1e-12));
  // Offsets: high variance Beta(0.5, 1.5) has mean 0.25 -> c mean -0.15 + 0.15 = 0; low variance mean 0.25 too.
  Rng rng(7);
  double sum = 0, lo_c = 1, hi_c = -1;
  for (int i = 0; i < 20000; ++i) {
    const double c = family.sample_shift(rng);
    sum += c;
    lo_c = std::min(lo_c, c);
    hi_c = std::max(hi_c, c);
  }
  BOOST_TEST(sum / 20000 == 0.0, boost::test_tools::tolerance(0.01));
  BOOST_TEST(lo_c >= -0.15);
  BOOST_TEST(hi_c <= 0.45);
  // Right-hand sides are truncated to |b| <= sqrt(n).
  PetscVec b;
  NEUROPS_PETSC(VecCreateSeq(PETSC_COMM_SELF, 100, b.out()));
  for (int i = 0; i < 50; ++i) {
    family.sample_rhs(rng, b);
    PetscReal nb = 0;
    NEUROPS_PETSC(VecNorm(b, NORM_2, &nb));
    BOOST_TEST(nb <= 10.0);
    BOOST_TEST(nb > 5.0);
  }
}

BOOST_AUTO_TEST_CASE(heat_sequence_builds_crank_nicolson_systems) {
  pde::HeatSequence heat(PETSC_COMM_SELF, 12);
  BOOST_TEST(heat.unknowns() == 121);
  BOOST_TEST(pde::HeatSequence::default_coefficient(0.25) == 0.1, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(pde::HeatSequence::default_coefficient(0.75) == 10.0, boost::test_tools::tolerance(1e-12));
  PetscMat A;
  PetscVec b;
  PetscVec u;
  for (int step = 0; step < 3; ++step) {
    heat.system(A, b);
    const auto D = dense(A);
    BOOST_TEST((D - D.transpose()).norm() == 0.0);
    const double half = heat.time() + 0.5e-3;
    const double cl = 0.5 * pde::HeatSequence::default_coefficient(half) * 1e-3 * 144.0;  // 1/h^2 = 144
    BOOST_TEST(D(60, 60) == 1.0 + 4.0 * cl, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(D(60, 61) == -cl, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(eigenvalues(D).minCoeff() >= 1.0 - 1e-12);
    if (!u) NEUROPS_PETSC(VecDuplicate(b, u.out()));
    NEUROPS_PETSC(VecCopy(b, u));
    heat.advance(u);
  }
  BOOST_TEST(heat.step() == 3);
  BOOST_TEST(heat.time() == 3e-3, boost::test_tools::tolerance(1e-12));
  BOOST_CHECK_THROW(pde::HeatSequence(PETSC_COMM_SELF, 2), Error);
}

BOOST_AUTO_TEST_SUITE_END()
