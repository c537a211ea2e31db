// Two ranks: SOR/SSOR-PCG with block-Jacobi (rank-local) sweeps on an MPIAIJ heat system, checked
// against PETSc's CG, the Lanczos Jacobi radius, and the sorbandit PC inside a parallel KSP, also
// continued from a learner state file that rank 0 writes and every rank reads.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>
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

BOOST_AUTO_TEST_CASE(sorbandit_state_is_written_by_rank_0_and_continued_on_every_rank) {
  PetscMPIInt rank = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  const std::string state = "sorbandit_state_mpi.h5";  // the test's working directory: one path for all ranks
  if (rank == 0) std::filesystem::remove(state);
  MPI_Barrier(PETSC_COMM_WORLD);
  for (const auto& [k, v] : {std::pair<const char*, const char*>{"-ms_ksp_type", "cg"},
                             {"-ms_pc_type", "sorbandit"},
                             {"-ms_pc_sorbandit_learner", "tsallis"},
                             {"-ms_pc_sorbandit_seed", "9"}})
    NEUROPS_PETSC(PetscOptionsSetValue(nullptr, k, v));
  pde::HeatSequence heat(PETSC_COMM_WORLD, 16);
  PetscMat A;
  PetscVec b, x;
  heat.system(A, b);
  NEUROPS_PETSC(VecDuplicate(b, x.out()));
  // `solves` solves of the same system from x = 0 in one KSP, destroyed at the end (writing the state).
  auto run = [&](int solves, bool with_state) {
    if (with_state) NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-ms_pc_sorbandit_state", state.c_str()));
    PetscKSP ksp;
    NEUROPS_PETSC(KSPCreate(PETSC_COMM_WORLD, ksp.out()));
    NEUROPS_PETSC(KSPSetOptionsPrefix(ksp, "ms_"));
    NEUROPS_PETSC(KSPSetFromOptions(ksp));
    NEUROPS_PETSC(KSPSetOperators(ksp, A, A));
    PC pc = nullptr;
    NEUROPS_PETSC(KSPGetPC(ksp, &pc));
    std::vector<double> omegas;
    for (int t = 0; t < solves; ++t) {
      NEUROPS_PETSC(VecSet(x, 0.0));
      NEUROPS_PETSC(KSPSolve(ksp, b, x));
      const double omega = sorbandit_omega(pc);
      double lowest = omega, highest = omega;  // every rank's learner chose the same omega
      MPI_Allreduce(&omega, &lowest, 1, MPI_DOUBLE, MPI_MIN, PETSC_COMM_WORLD);
      MPI_Allreduce(&omega, &highest, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD);
      BOOST_TEST(lowest == highest);
      omegas.push_back(omega);
    }
    KSP raw = ksp.release();
    NEUROPS_PETSC(KSPDestroy(&raw));
    NEUROPS_PETSC(PetscOptionsClearValue(nullptr, "-ms_pc_sorbandit_state"));
    return omegas;
  };
  const auto whole = run(20, false);
  auto split = run(12, true);
  BOOST_TEST(std::filesystem::exists(state));
  const auto rest = run(8, true);
  split.insert(split.end(), rest.begin(), rest.end());
  BOOST_TEST(split == whole);
  for (const char* o : {"-ms_ksp_type", "-ms_pc_type", "-ms_pc_sorbandit_learner", "-ms_pc_sorbandit_seed"})
    NEUROPS_PETSC(PetscOptionsClearValue(nullptr, o));
  MPI_Barrier(PETSC_COMM_WORLD);
  if (rank == 0) std::filesystem::remove(state);
}

BOOST_AUTO_TEST_SUITE_END()
