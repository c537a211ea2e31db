// Two ranks: the configbandit PC makes the same choice on every rank, with the time cost (which each
// rank measures for itself) reduced to one value.
#include <boost/test/unit_test.hpp>

#include "neurops/pde/linear_systems.hpp"
#include "neurops/solvers/bandits.hpp"
#include "neurops/solvers/pc_configbandit.hpp"

using namespace neurops;
using namespace neurops::solvers;

BOOST_AUTO_TEST_SUITE(configbandit_parallel)

BOOST_AUTO_TEST_CASE(every_rank_chooses_the_same_arms) {
  const char* options[][2] = {{"-cbm_ksp_type", "cg"},
                              {"-cbm_pc_type", "configbandit"},
                              {"-cbm_pc_configbandit_configs", "jacobi;bjacobi;sor -pc_sor_local_symmetric"},
                              {"-cbm_pc_configbandit_seed", "3"}};
  for (auto& o : options) NEUROPS_PETSC(PetscOptionsSetValue(nullptr, o[0], o[1]));
  pde::HeatSequence heat(PETSC_COMM_WORLD, 24);
  PetscMat A;
  PetscVec b, x;
  PetscKSP ksp;
  NEUROPS_PETSC(KSPCreate(PETSC_COMM_WORLD, ksp.out()));
  NEUROPS_PETSC(KSPSetOptionsPrefix(ksp, "cbm_"));
  NEUROPS_PETSC(KSPSetFromOptions(ksp));
  PC pc = nullptr;
  NEUROPS_PETSC(KSPGetPC(ksp, &pc));
  const int solves = 40;
  std::vector<int> arms;
  for (int t = 0; t < solves; ++t) {
    heat.system(A, b);
    if (!x) NEUROPS_PETSC(VecDuplicate(b, x.out()));
    NEUROPS_PETSC(VecCopy(heat.state(), x));
    NEUROPS_PETSC(KSPSetInitialGuessNonzero(ksp, PETSC_TRUE));
    NEUROPS_PETSC(KSPSetOperators(ksp, A, A));
    NEUROPS_PETSC(KSPSolve(ksp, b, x));
    KSPConvergedReason reason;
    NEUROPS_PETSC(KSPGetConvergedReason(ksp, &reason));
    BOOST_TEST(reason > 0);
    arms.push_back(configbandit_arm(pc));
    heat.advance(x);
  }
  std::vector<int> lowest(arms), highest(arms);
  MPI_Allreduce(MPI_IN_PLACE, lowest.data(), solves, MPI_INT, MPI_MIN, PETSC_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, highest.data(), solves, MPI_INT, MPI_MAX, PETSC_COMM_WORLD);
  BOOST_TEST(lowest == highest, boost::test_tools::per_element());
  // The learners observed the same costs: their cost sums agree to the bit.
  const auto means = configbandit_learner(pc)->mean_costs();
  for (double m : means) {
    double low = m, high = m;
    MPI_Allreduce(MPI_IN_PLACE, &low, 1, MPI_DOUBLE, MPI_MIN, PETSC_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &high, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD);
    if (!std::isnan(m)) BOOST_TEST(low == high);
  }
  int distinct = 0;
  for (auto p : configbandit_learner(pc)->pulls()) distinct += p > 0;
  BOOST_TEST(distinct >= 2);  // it explored, so the agreement is not that of one arm played throughout
  for (auto& o : options) NEUROPS_PETSC(PetscOptionsClearValue(nullptr, o[0]));
}

BOOST_AUTO_TEST_SUITE_END()
