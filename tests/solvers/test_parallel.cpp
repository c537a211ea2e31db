// Two ranks: SOR/SSOR-PCG with block-Jacobi (rank-local) sweeps on an MPIAIJ heat system, checked
// against PETSc's CG, the Lanczos Jacobi radius, and the sorbandit PC inside a parallel KSP.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <numbers>

#include "fixture.hpp"
#include "neurops/pde/linear_systems.hpp"
#include "neurops/solvers/bandits.hpp"
#include "neurops/solvers/linear_solver.hpp"
#include "neurops/solvers/petsc_types.hpp"
#include "neurops/solvers/sor.hpp"

using namespace neurops;
using namespace neurops::solvers;

using neurops::test::relative_difference;

BOOST_AUTO_TEST_SUITE(parallel)

BOOST_AUTO_TEST_CASE(block_jacobi_sweeps_solve_the_distributed_system) {
  PetscMPIInt size = 1;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  BOOST_TEST_MESSAGE("ranks: " << size);
  pde::HeatSequence heat(PETSC_COMM_WORLD, 40);
  for (int step = 0; step < 750; ++step) heat.advance(heat.state());  // kappa = 10
  PetscMat A;
  PetscVec b, x, reference;
  heat.system(A, b);
  MatType type = nullptr;
  NEUROPS_PETSC(MatGetType(A, &type));
  BOOST_TEST(std::string(type) == (size > 1 ? MATMPIAIJ : MATSEQAIJ));
  NEUROPS_PETSC(VecDuplicate(b, x.out()));
  NEUROPS_PETSC(VecDuplicate(b, reference.out()));
  LinearSolver cg(PETSC_COMM_WORLD, "par_", {.ksp_type = KSPCG, .pc_type = PCJACOBI, .rtol = 1e-13});
  cg.set_operator(A);
  BOOST_REQUIRE(cg.solve(b, reference).converged);
  const auto pcg = ssor_pcg_solve(A, b, x, 1.5);
  BOOST_TEST(pcg.converged);
  BOOST_TEST(relative_difference(x, reference) < 1e-7);
  const auto sor = sor_solve(A, b, x, 1.5);
  BOOST_TEST(sor.converged);
  BOOST_TEST(relative_difference(x, reference) < 1e-6);
  // Jacobi radius through Lanczos on the distributed operator (closed form, see test_sor).
  const double cl = 0.5 * pde::HeatSequence::default_coefficient(0.7505) * 1e-3 * 1600.0;
  BOOST_TEST(jacobi_spectral_radius(A) == 4.0 * cl * std::cos(std::numbers::pi / 40.0) / (1.0 + 4.0 * cl),
             boost::test_tools::tolerance(1e-6));
  BOOST_TEST(diagonal_shift_estimate(A) == 1.0, boost::test_tools::tolerance(1e-12));  // interior row sums
}

BOOST_AUTO_TEST_CASE(sorbandit_runs_in_parallel) {
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-pb_pc_sorbandit_learner", "binned"));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-pb_pc_sorbandit_context", "diagonal"));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-pb_pc_sorbandit_context_range", "1,50"));
  LinearSolver solver(PETSC_COMM_WORLD, "pb_", {.ksp_type = KSPCG, .pc_type = PCSORBANDIT});
  pde::HeatSequence heat(PETSC_COMM_WORLD, 24);
  for (int step = 0; step < 600; ++step) heat.advance(heat.state());
  PetscMat A;
  PetscVec b, x;
  for (int step = 0; step < 20; ++step) {
    heat.system(A, b);
    if (!x) NEUROPS_PETSC(VecDuplicate(b, x.out()));
    NEUROPS_PETSC(VecCopy(heat.state(), x));
    solver.set_operator(A);
    const auto r = solver.solve(b, x, true);
    BOOST_TEST(r.converged);
    heat.advance(x);
  }
  const auto* tuner = sorbandit_tuner(solver.pc());
  BOOST_REQUIRE(tuner);
  BOOST_TEST(tuner->rounds() == 20);
  for (const char* o : {"-pb_pc_sorbandit_learner", "-pb_pc_sorbandit_context", "-pb_pc_sorbandit_context_range"})
    NEUROPS_PETSC(PetscOptionsClearValue(nullptr, o));
}

BOOST_AUTO_TEST_SUITE_END()
