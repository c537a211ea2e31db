// SOR and SSOR-PCG against the reference iteration counts, a direct solve, Young's formula, and bad input.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <numbers>

#include "fixture.hpp"
#include "neurops/pde/linear_systems.hpp"
#include "neurops/solvers/bandits.hpp"
#include "neurops/solvers/linear_solver.hpp"
#include "neurops/solvers/sor.hpp"

using namespace neurops;
using namespace neurops::solvers;

namespace {
// Mean SOR iterations over `samples` right-hand sides of A + c I, as the reference table averages.
double mean_sor_iterations(double c, double omega, int samples, std::uint64_t seed = 11) {
  const auto family = pde::ShiftedLaplacianFamily::high_variance();
  PetscMat A;
  family.instance(c, A);
  PetscVec b, x;
  NEUROPS_PETSC(MatCreateVecs(A, x.out(), b.out()));
  Rng rng(seed);
  double total = 0;
  for (int s = 0; s < samples; ++s) {
    family.sample_rhs(rng, b);
    const auto r = sor_solve(A, b, x, omega);
    BOOST_REQUIRE(r.converged);
    BOOST_TEST(r.relative_residual < 1e-8);
    total += double(r.iterations);
  }
  BOOST_TEST_MESSAGE("c = " << c << ", omega = " << omega << ": mean " << total / samples << " SOR iterations over "
                            << samples << " right-hand sides");
  return total / samples;
}

// Solution of A x = b by PETSc's LU (MATSOLVERPETSC).
void direct_solve(Mat A, Vec b, Vec x) {
  PetscKSP ksp;
  NEUROPS_PETSC(KSPCreate(PETSC_COMM_SELF, ksp.out()));
  NEUROPS_PETSC(KSPSetOperators(ksp, A, A));
  NEUROPS_PETSC(KSPSetType(ksp, KSPPREONLY));
  PC pc = nullptr;
  NEUROPS_PETSC(KSPGetPC(ksp, &pc));
  NEUROPS_PETSC(PCSetType(pc, PCLU));
  NEUROPS_PETSC(PCFactorSetMatSolverType(pc, MATSOLVERPETSC));
  NEUROPS_PETSC(KSPSolve(ksp, b, x));
}
}  // namespace
using neurops::test::relative_difference;

BOOST_AUTO_TEST_SUITE(sor)

BOOST_AUTO_TEST_CASE(iteration_counts_match_the_reference_table) {
  // Reference (C replica of sor.m, 40 right-hand sides): c = 0: omega = 1 -> 190, omega = 1.55 -> 40;
  // c = 0.45: omega = 1 -> 55, omega = 1.35 -> 24; c = -0.15: omega = 1.85 -> 144.
  BOOST_TEST(mean_sor_iterations(0.0, 1.0, 40) == 190.0, boost::test_tools::tolerance(0.03));
  BOOST_TEST(mean_sor_iterations(0.0, 1.55, 40) == 40.0, boost::test_tools::tolerance(0.06));
  BOOST_TEST(mean_sor_iterations(0.45, 1.0, 40) == 55.0, boost::test_tools::tolerance(0.05));
  BOOST_TEST(mean_sor_iterations(0.45, 1.35, 40) == 24.0, boost::test_tools::tolerance(0.08));
  BOOST_TEST(mean_sor_iterations(-0.15, 1.85, 10) == 144.0, boost::test_tools::tolerance(0.06));
}

BOOST_AUTO_TEST_CASE(young_omega_is_the_grid_minimum) {
  const auto family = pde::ShiftedLaplacianFamily::high_variance();
  for (double c : {0.0, 0.45}) {
    PetscMat A;
    family.instance(c, A);
    // rho(Jacobi) of the shifted 10x10 Laplacian is known in closed form: 4 cos(pi/11) / (4 + c).
    const double rho = jacobi_spectral_radius(A);
    BOOST_TEST(rho == 4.0 * std::cos(std::numbers::pi / 11.0) / (4.0 + c), boost::test_tools::tolerance(1e-10));
    const double star = young_optimal_omega(rho);
    double best_omega = 0, best = 1e300;
    for (double w = 1.0; w < 1.9; w += 0.02) {
      const double its = mean_sor_iterations(c, w, 8);
      if (its < best) best = its, best_omega = w;
    }
    BOOST_TEST_MESSAGE("c = " << c << ": Young omega* = " << star << ", grid minimum at " << best_omega);
    BOOST_TEST(std::abs(best_omega - star) <= 0.05);
    BOOST_TEST(mean_sor_iterations(c, star, 8) <= best * 1.1);
  }
  BOOST_TEST(young_optimal_omega(4.0 * std::cos(std::numbers::pi / 11.0) / 4.0) == 1.560,
             boost::test_tools::tolerance(2e-3));
  BOOST_CHECK_THROW(young_optimal_omega(1.0), Error);
}

BOOST_AUTO_TEST_CASE(lanczos_spectral_radius_matches_the_dense_one) {
  // 40 x 40 heat system (1521 unknowns) takes the Lanczos path.
  pde::HeatSequence heat(PETSC_COMM_SELF, 40);
  for (int step = 0; step < 750; ++step) heat.advance(heat.state());  // to kappa = 10
  PetscMat A;
  PetscVec b;
  heat.system(A, b);
  const double rho = jacobi_spectral_radius(A);
  // A = I - cl L_h with cl' = cl / h^2: diagonal 1 + 4 cl', Jacobi radius 4 cl' cos(pi h) / (1 + 4 cl').
  const double cl = 0.5 * pde::HeatSequence::default_coefficient(0.7505) * 1e-3 * 1600.0;
  BOOST_TEST(rho == 4.0 * cl * std::cos(std::numbers::pi / 40.0) / (1.0 + 4.0 * cl),
             boost::test_tools::tolerance(1e-6));
}

BOOST_AUTO_TEST_CASE(ssor_pcg_agrees_with_a_direct_solve) {
  pde::HeatSequence heat(PETSC_COMM_SELF, 24);
  PetscMat A;
  PetscVec b, x, exact;
  for (int step = 0; step < 700; ++step) heat.advance(heat.state());  // into the kappa = 10 part: harder systems
  heat.system(A, b);
  NEUROPS_PETSC(VecDuplicate(b, x.out()));
  NEUROPS_PETSC(VecDuplicate(b, exact.out()));
  direct_solve(A, b, exact);
  PetscInt previous = 1 << 30;
  for (double omega : {1.0, 1.5}) {
    const auto r = ssor_pcg_solve(A, b, x, omega);
    BOOST_TEST(r.converged);
    BOOST_TEST(!r.breakdown);
    BOOST_TEST(relative_difference(x, exact) < 1e-7);
    BOOST_TEST_MESSAGE("omega " << omega << ": " << r.iterations << " SSOR-PCG iterations");
    BOOST_TEST(r.iterations < previous);  // omega = 1.5 beats symmetric Gauss-Seidel here
    previous = r.iterations;
  }
  // A warm start from the exact solution converges at once.
  NEUROPS_PETSC(VecCopy(exact, x));
  const auto warm = ssor_pcg_solve(A, b, x, 1.5, {.nonzero_guess = true});
  BOOST_TEST(warm.converged);
  BOOST_TEST(warm.iterations <= 1);
  // Plain SOR reaches the same solution.
  const auto s = sor_solve(A, b, x, 1.5);
  BOOST_TEST(s.converged);
  BOOST_TEST(relative_difference(x, exact) < 1e-6);
}

BOOST_AUTO_TEST_CASE(petsc_richardson_sor_counts_like_the_in_house_kernel) {
  // The facade with Richardson + forward SOR (with the monitor that keeps PETSc testing convergence)
  // stops on |r| < 1e-8 |b| = 1e-8 |r0| at x0 = 0: the same count as sor_solve.
  const auto family = pde::ShiftedLaplacianFamily::low_variance();
  PetscMat A;
  family.instance(0.1, A);
  PetscVec b, x;
  NEUROPS_PETSC(MatCreateVecs(A, x.out(), b.out()));
  Rng rng(3);
  family.sample_rhs(rng, b);
  const auto mine = sor_solve(A, b, x, 1.6);
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-rich_pc_sor_omega", "1.6"));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-rich_pc_sor_forward", nullptr));
  LinearSolver solver(PETSC_COMM_SELF, "rich_", {.ksp_type = KSPRICHARDSON, .pc_type = PCSOR});
  BOOST_TEST(solver.ksp_type() == KSPRICHARDSON);
  solver.set_operator(A);
  const auto r = solver.solve(b, x);
  BOOST_TEST(r.converged);
  BOOST_TEST(r.reason_name == "CONVERGED_RTOL");
  BOOST_TEST(std::abs(r.iterations - mine.iterations) <= 1);
  BOOST_TEST(r.residual_history.size() == static_cast<std::size_t>(r.iterations) + 1);
  BOOST_TEST(r.residual_history.back() < 1e-8 * r.residual_history.front());
  NEUROPS_PETSC(PetscOptionsClearValue(nullptr, "-rich_pc_sor_omega"));
  NEUROPS_PETSC(PetscOptionsClearValue(nullptr, "-rich_pc_sor_forward"));
}

BOOST_AUTO_TEST_CASE(bare_richardson_sor_skips_the_convergence_test) {
  // The pitfall the facade's monitor avoids: without a monitor PETSc's Richardson hands the whole
  // solve to PCApplyRichardson_SOR, which runs max_it sweeps without testing convergence.
  const auto family = pde::ShiftedLaplacianFamily::low_variance();
  PetscMat A;
  family.instance(0.1, A);
  PetscVec b, x;
  NEUROPS_PETSC(MatCreateVecs(A, x.out(), b.out()));
  NEUROPS_PETSC(VecSet(b, 1.0));
  PetscKSP ksp;
  NEUROPS_PETSC(KSPCreate(PETSC_COMM_SELF, ksp.out()));
  NEUROPS_PETSC(KSPSetType(ksp, KSPRICHARDSON));
  PC pc = nullptr;
  NEUROPS_PETSC(KSPGetPC(ksp, &pc));
  NEUROPS_PETSC(PCSetType(pc, PCSOR));
  NEUROPS_PETSC(KSPSetTolerances(ksp, 1e-8, 1e-50, PETSC_DEFAULT, 700));
  NEUROPS_PETSC(KSPSetOperators(ksp, A, A));
  NEUROPS_PETSC(KSPSolve(ksp, b, x));
  PetscInt its = 0;
  NEUROPS_PETSC(KSPGetIterationNumber(ksp, &its));
  BOOST_TEST(its == 700);
  LinearSolver facade(PETSC_COMM_SELF, "", {.ksp_type = KSPRICHARDSON, .pc_type = PCSOR, .max_it = 700});
  facade.set_operator(A);
  const auto r = facade.solve(b, x);
  BOOST_TEST(r.converged);
  BOOST_TEST(r.iterations < 200);
}

BOOST_AUTO_TEST_CASE(facade_takes_options_under_its_prefix) {
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-opt_ksp_type", "gmres"));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-opt_pc_type", "jacobi"));
  LinearSolver solver(PETSC_COMM_SELF, "opt_");
  BOOST_TEST(solver.ksp_type() == KSPGMRES);
  BOOST_TEST(solver.pc_type() == PCJACOBI);
  const auto family = pde::ShiftedLaplacianFamily::low_variance();
  PetscMat A;
  family.instance(0.2, A);
  PetscVec b, x;
  NEUROPS_PETSC(MatCreateVecs(A, x.out(), b.out()));
  NEUROPS_PETSC(VecSet(b, 1.0));
  solver.set_operator(A);
  const auto r = solver.solve(b, x);
  BOOST_TEST(r.converged);
  BOOST_TEST(r.seconds >= 0.0);
  NEUROPS_PETSC(PetscOptionsClearValue(nullptr, "-opt_ksp_type"));
  NEUROPS_PETSC(PetscOptionsClearValue(nullptr, "-opt_pc_type"));
}

BOOST_AUTO_TEST_CASE(bad_input_is_reported) {
  const auto family = pde::ShiftedLaplacianFamily::low_variance();
  PetscMat A;
  family.instance(0.0, A);
  PetscVec b, x;
  NEUROPS_PETSC(MatCreateVecs(A, x.out(), b.out()));
  NEUROPS_PETSC(VecSet(b, 1.0));
  // omega outside (0, 2)
  for (double w : {0.0, 2.0, -0.5, 2.5}) {
    BOOST_CHECK_EXCEPTION(sor_solve(A, b, x, w), Error,
                          [](const Error& e) { return std::string(e.what()).find("(0, 2)") != std::string::npos; });
    BOOST_CHECK_THROW(ssor_pcg_solve(A, b, x, w), Error);
  }
  BOOST_CHECK_THROW(make_tuner({.omega_min = 0.5, .omega_max = 2.1}), Error);
  // non-square
  PetscMat R;
  NEUROPS_PETSC(MatCreateSeqAIJ(PETSC_COMM_SELF, 4, 5, 2, nullptr, R.out()));
  for (PetscInt i = 0; i < 4; ++i) NEUROPS_PETSC(MatSetValue(R, i, i, 2.0, INSERT_VALUES));
  NEUROPS_PETSC(MatAssemblyBegin(R, MAT_FINAL_ASSEMBLY));
  NEUROPS_PETSC(MatAssemblyEnd(R, MAT_FINAL_ASSEMBLY));
  BOOST_CHECK_EXCEPTION(sor_solve(R, b, x, 1.2), Error,
                        [](const Error& e) { return std::string(e.what()).find("4 x 5") != std::string::npos; });
  // non-SPD: A - 1 I has negative eigenvalues (lambda_min(A) = 0.16); CG must stop and say so.
  PetscMat N;
  family.instance(-1.0, N);
  NEUROPS_PETSC(VecSet(b, 1.0));
  const auto r = ssor_pcg_solve(N, b, x, 1.0);
  BOOST_TEST(!r.converged);
  BOOST_TEST(r.breakdown);
  BOOST_TEST(r.message.find("not symmetric positive definite") != std::string::npos);
  // Not converging within the cap: reported, no exception.
  PetscMat S;
  family.instance(-0.15, S);
  const auto capped = sor_solve(S, b, x, 1.0, {.max_it = 50});
  BOOST_TEST(!capped.converged);
  BOOST_TEST(capped.iterations == 50);
  BOOST_TEST(capped.message.find("did not converge in 50") != std::string::npos);
  // Zero diagonal
  PetscMat Z;
  NEUROPS_PETSC(MatCreateSeqAIJ(PETSC_COMM_SELF, 3, 3, 2, nullptr, Z.out()));
  NEUROPS_PETSC(MatSetValue(Z, 0, 1, 1.0, INSERT_VALUES));
  NEUROPS_PETSC(MatSetValue(Z, 1, 1, 1.0, INSERT_VALUES));
  NEUROPS_PETSC(MatSetValue(Z, 2, 2, 1.0, INSERT_VALUES));
  NEUROPS_PETSC(MatAssemblyBegin(Z, MAT_FINAL_ASSEMBLY));
  NEUROPS_PETSC(MatAssemblyEnd(Z, MAT_FINAL_ASSEMBLY));
  PetscVec z3, y3;
  NEUROPS_PETSC(MatCreateVecs(Z, z3.out(), y3.out()));
  BOOST_CHECK_EXCEPTION(sor_solve(Z, y3, z3, 1.0), Error,
                        [](const Error& e) { return std::string(e.what()).find("row 0") != std::string::npos; });
}

BOOST_AUTO_TEST_SUITE_END()
