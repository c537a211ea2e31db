#pragma once
// KSPGuess "neurops": the initial guess of a Krylov solve from a trained operator that maps the
// right-hand side to the solution, x0 = model(b), in an unmodified PETSc program:
//
//   ./ex45 -dll_append libneurops.so -ksp_type cg -ksp_guess_type neurops -ksp_guess_neurops_model best.h5
//
// The grid comes from the KSP's DMDA (KSPSetDM); the model must take and give one channel per dof on
// that grid (checked, with an error naming the file and both shapes). The right-hand side is gathered
// on rank 0 in natural order, the model runs there, and the guess is scattered back, so the guess does
// not depend on the number of ranks. Models for PETSc's ex45 and its 2-D analogue come from
// `neurops_generate -gen_problem poisson` (pde/poisson.hpp) and `fno_train`.
//
// Dirichlet rows: a network is only approximately right on the boundary, where the answer is known. With
// -ksp_guess_neurops_dirichlet box (the default) the guess on the DMDA's box faces is b_i / A_ii, exact for
// rows that hold only a diagonal entry (ex45's boundary rows); `none` keeps the prediction.
//
// Smoothing: an L2-accurate prediction can carry a large residual in the high frequencies, which Krylov
// methods pay for in iterations. -ksp_guess_neurops_smooth k applies k damped Jacobi sweeps
// x <- x + omega D^-1 (b - A x) to the guess (omega: -ksp_guess_neurops_omega, 2/3), which damp exactly those.
//
// Options (prefix as the KSP's, listed by -help):
//   -ksp_guess_neurops_model <file.h5>            trained operator b -> x (required)
//   -ksp_guess_neurops_dirichlet box|none         (box)
//   -ksp_guess_neurops_smooth <k>                 (0)     -ksp_guess_neurops_omega <w>  (0.666667)
//   -ksp_guess_neurops_boundary_only              no model: x0 = b_i/A_ii on the box faces, 0 inside (a
//                                                 baseline: what the boundary values alone save)
//   -ksp_guess_neurops_view                       one line per guess: ||b - A x0|| / ||b||
#include <petscksp.h>

namespace neurops::solvers {

inline constexpr const char* KSPGUESSNEUROPS = "neurops";

/// PETSc's create function of the type (registered by register_petsc_types()).
PetscErrorCode KSPGuessCreate_Neurops(KSPGuess guess);

}  // namespace neurops::solvers
