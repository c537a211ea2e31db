#pragma once
// A thin facade over PETSc's KSP: code defaults first, then the options database under a prefix
// (KSPSetOptionsPrefix + KSPSetFromOptions), so `-<prefix>ksp_type gmres -<prefix>pc_type gamg`
// overrides anything the program chose. Each solve reports iterations, PETSc's converged reason,
// the residual history and the wall time.
//
// Two PETSc pitfalls are handled here: a residual monitor is always attached, which keeps
// KSPRICHARDSON + PCSOR on the path that applies the convergence test (without a monitor PETSc
// runs max_it sweeps); and when the preconditioner is SOR with omega != 1 the operator's inode
// routines are switched off (MAT_USE_INODES false), which PETSc's SOR needs for omega != 1.
#include <string>
#include <vector>

#include "neurops/core/petsc.hpp"

namespace neurops::solvers {

struct SolverDefaults {
  std::string ksp_type = KSPCG;
  std::string pc_type = PCICC;
  double rtol = 1e-8;
  double atol = 1e-50;
  PetscInt max_it = 10000;
  /// Converge on the unpreconditioned (true recursive) residual norm.
  bool unpreconditioned_norm = true;
};

struct SolveReport {
  PetscInt iterations = 0;
  KSPConvergedReason reason = KSP_CONVERGED_ITERATING;
  std::string reason_name;
  bool converged = false;
  std::vector<double> residual_history;  ///< the norm KSP tests, one entry per iteration (0 first)
  double seconds = 0;
};

class LinearSolver {
 public:
  LinearSolver(MPI_Comm comm, const std::string& prefix, const SolverDefaults& defaults = {});
  /// Sets (or replaces) the operator; the preconditioner is rebuilt on the next solve.
  void set_operator(Mat A);
  /// Solves A x = b; with nonzero_guess the incoming x is the initial guess (warm start).
  SolveReport solve(Vec b, Vec x, bool nonzero_guess = false);
  KSP ksp() const { return ksp_; }
  PC pc() const;
  std::string ksp_type() const;
  std::string pc_type() const;

 private:
  PetscKSP ksp_;
  std::vector<PetscReal> history_;
  Mat op_ = nullptr;
};

/// Name of a KSPConvergedReason ("CONVERGED_RTOL", "DIVERGED_ITS", ...).
std::string converged_reason_name(KSPConvergedReason reason);

}  // namespace neurops::solvers
