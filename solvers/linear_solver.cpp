#include "neurops/solvers/linear_solver.hpp"

#include <cstring>

#include "neurops/core/progress.hpp"

namespace neurops::solvers {

namespace {
PetscErrorCode keep_convergence_tested(KSP, PetscInt, PetscReal, void*) { return 0; }
}  // namespace

std::string converged_reason_name(KSPConvergedReason reason) {
  const char* name = KSPConvergedReasons[reason];
  return name ? name : std::to_string(static_cast<int>(reason));
}

LinearSolver::LinearSolver(MPI_Comm comm, const std::string& prefix, const SolverDefaults& d) {
  NEUROPS_PETSC(KSPCreate(comm, ksp_.out()));
  NEUROPS_PETSC(KSPSetType(ksp_, d.ksp_type.c_str()));
  PC pc = nullptr;
  NEUROPS_PETSC(KSPGetPC(ksp_, &pc));
  NEUROPS_PETSC(PCSetType(pc, d.pc_type.c_str()));
  NEUROPS_PETSC(KSPSetTolerances(ksp_, d.rtol, d.atol, PETSC_DEFAULT, d.max_it));
  if (d.unpreconditioned_norm) NEUROPS_PETSC(KSPSetNormType(ksp_, KSP_NORM_UNPRECONDITIONED));
  if (!prefix.empty()) NEUROPS_PETSC(KSPSetOptionsPrefix(ksp_, prefix.c_str()));
  NEUROPS_PETSC(KSPSetFromOptions(ksp_));
  // A monitor keeps Richardson + SOR on the convergence-tested path (see header).
  NEUROPS_PETSC(KSPMonitorSet(ksp_, keep_convergence_tested, nullptr, nullptr));
  history_.assign(static_cast<std::size_t>(d.max_it) + 2, 0.0);
}

PC LinearSolver::pc() const {
  PC pc = nullptr;
  NEUROPS_PETSC(KSPGetPC(ksp_, &pc));
  return pc;
}

std::string LinearSolver::ksp_type() const {
  KSPType t = nullptr;
  NEUROPS_PETSC(KSPGetType(ksp_, &t));
  return t ? t : "";
}

std::string LinearSolver::pc_type() const {
  PCType t = nullptr;
  NEUROPS_PETSC(PCGetType(pc(), &t));
  return t ? t : "";
}

void LinearSolver::set_operator(Mat A) {
  PetscInt m = 0, n = 0;
  NEUROPS_PETSC(MatGetSize(A, &m, &n));
  NEUROPS_CHECK(m == n, "LinearSolver: expected a square operator, found " << m << " x " << n);
  if (pc_type() == PCSOR) {
    PetscReal omega = 1.0;
    NEUROPS_PETSC(PCSORGetOmega(pc(), &omega));
    if (omega != 1.0) NEUROPS_PETSC(MatSetOption(A, MAT_USE_INODES, PETSC_FALSE));
  }
  NEUROPS_PETSC(KSPSetOperators(ksp_, A, A));
  op_ = A;
}

SolveReport LinearSolver::solve(Vec b, Vec x, bool nonzero_guess) {
  NEUROPS_CHECK(op_ != nullptr, "LinearSolver::solve: no operator set (call set_operator first)");
  PetscInt max_it = 0;
  NEUROPS_PETSC(KSPGetTolerances(ksp_, nullptr, nullptr, nullptr, &max_it));
  if (history_.size() < static_cast<std::size_t>(max_it) + 2) history_.assign(static_cast<std::size_t>(max_it) + 2, 0);
  NEUROPS_PETSC(KSPSetResidualHistory(ksp_, history_.data(), static_cast<PetscInt>(history_.size()), PETSC_TRUE));
  NEUROPS_PETSC(KSPSetInitialGuessNonzero(ksp_, nonzero_guess ? PETSC_TRUE : PETSC_FALSE));
  Timer timer;
  NEUROPS_PETSC(KSPSolve(ksp_, b, x));
  SolveReport r;
  r.seconds = timer.seconds();
  NEUROPS_PETSC(KSPGetIterationNumber(ksp_, &r.iterations));
  NEUROPS_PETSC(KSPGetConvergedReason(ksp_, &r.reason));
  r.converged = r.reason > 0;
  r.reason_name = converged_reason_name(r.reason);
  const PetscReal* hist = nullptr;
  PetscInt count = 0;
  NEUROPS_PETSC(KSPGetResidualHistory(ksp_, &hist, &count));
  r.residual_history.assign(hist, hist + count);
  return r;
}

}  // namespace neurops::solvers
