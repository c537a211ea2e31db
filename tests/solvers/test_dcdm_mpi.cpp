// KSP "dcdm" on a DMDA split over the ranks of PETSC_COMM_WORLD against the same solve on one rank:
// the network is applied to the residual gathered in natural order, so the iterates agree up to
// rounding and the iteration counts match.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <petscdmda.h>

#include <filesystem>
#include <string>
#include <vector>

#include "dcdm_models.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/nn/checkpoint.hpp"
#include "neurops/operators/dcdm_net.hpp"
#include "neurops/pde/linear_systems.hpp"
#include "neurops/solvers/petsc_types.hpp"

using namespace neurops;
namespace fs = std::filesystem;

namespace {

/// Residual history of KSP dcdm on an n^3 grid over `comm`, b drawn in natural order (split-independent).
std::vector<PetscReal> solve(MPI_Comm comm, PetscInt n, const std::string& model) {
  PetscDM dm = pde::dirichlet_grid_3d(comm, n, n, n);
  PetscMat A = pde::assemble_laplacian(dm);
  PetscVec natural, b, x;
  NEUROPS_PETSC(DMDACreateNaturalVector(dm, natural.out()));
  NEUROPS_PETSC(DMCreateGlobalVector(dm, b.out()));
  NEUROPS_PETSC(VecDuplicate(b, x.out()));
  PetscInt lo = 0, hi = 0;
  NEUROPS_PETSC(VecGetOwnershipRange(natural, &lo, &hi));
  Rng rng(5);
  PetscScalar* a = nullptr;
  NEUROPS_PETSC(VecGetArray(natural, &a));
  for (PetscInt i = 0; i < n * n * n; ++i) {
    const double v = rng.normal();
    if (i >= lo && i < hi) a[i - lo] = v;
  }
  NEUROPS_PETSC(VecRestoreArray(natural, &a));
  NEUROPS_PETSC(DMDANaturalToGlobalBegin(dm, natural, INSERT_VALUES, b));
  NEUROPS_PETSC(DMDANaturalToGlobalEnd(dm, natural, INSERT_VALUES, b));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-m_ksp_type", "dcdm"));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-m_ksp_dcdm_model", model.c_str()));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-m_ksp_dcdm_precision", "double"));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-m_ksp_rtol", "1e-8"));
  PetscKSP ksp;
  NEUROPS_PETSC(KSPCreate(comm, ksp.out()));
  NEUROPS_PETSC(KSPSetOptionsPrefix(ksp, "m_"));
  NEUROPS_PETSC(KSPSetOperators(ksp, A, A));
  NEUROPS_PETSC(KSPSetDM(ksp, dm));
  NEUROPS_PETSC(KSPSetDMActive(ksp, PETSC_FALSE));
  NEUROPS_PETSC(KSPSetFromOptions(ksp));
  std::vector<PetscReal> h(2000);
  NEUROPS_PETSC(KSPSetResidualHistory(ksp, h.data(), PetscInt(h.size()), PETSC_TRUE));
  NEUROPS_PETSC(KSPSolve(ksp, b, x));
  PetscInt count = 0;
  NEUROPS_PETSC(KSPGetResidualHistory(ksp, nullptr, &count));
  h.resize(std::size_t(count));
  return h;
}

}  // namespace

BOOST_AUTO_TEST_CASE(two_ranks_give_the_iterates_of_one_rank) {
  int size = 0;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  BOOST_REQUIRE(size >= 2);
  const std::string model = test::linear_dcdm_model();  // converges: a meaningful iteration count
  const auto split = solve(PETSC_COMM_WORLD, 12, model);
  const auto single = solve(PETSC_COMM_SELF, 12, model);
  BOOST_TEST(split.size() == single.size());
  BOOST_TEST(split.size() > 3);
  for (std::size_t i = 0; i < std::min(split.size(), single.size()); ++i)
    BOOST_TEST(std::abs(split[i] - single[i]) <= 1e-8 * single[0], "iteration " << i);
}
