#pragma once
// KSP "dcdm": the Deep Conjugate Direction Method (Kaneda et al., ICML 2023; the reference's
// lib/conjugate_gradient.py::dcdm). Each iteration
//   q  = f(r / ||r||)                                   the trained network (DcdmDirection)
//   q -= sum_{j in last 2} (q.A p_j / p_j.A p_j) p_j    A-orthogonal to the previous 2 directions
//   alpha = q.r / q.Aq;  x += alpha q;  r = b - A x     (true residual; or r -= alpha Aq)
// The KSP's PC is not used: unless -pc_type is given, it is set to none (no factorisation is built).
// The grid comes from the KSP's DMDA.
// Convergence: PETSc's test on the unpreconditioned 2-norm (default: ||r|| < rtol ||b||, as CG with a
// zero guess), monitors and -ksp_view as any KSP. q.Aq <= 0 stops with KSP_DIVERGED_INDEFINITE_MAT,
// a non-finite or zero direction with KSP_DIVERGED_BREAKDOWN.
// Options (prefix as the KSP's, shown by -help):
//   -ksp_dcdm_model <file.h5>             (the shipped model, see default_dcdm_model())
//   -ksp_dcdm_precision single|double     network arithmetic (single)
//   -ksp_dcdm_true_residual <bool>        recompute r = b - Ax every iteration, as the reference (true)
#include <petscksp.h>

namespace neurops::solvers {

class DcdmDirection;

inline constexpr const char* KSPDCDM = "dcdm";

/// PETSc's create function of the type (registered by register_petsc_types()).
PetscErrorCode KSPCreate_DCDM(KSP ksp);

/// The network of a dcdm KSP (throws if ksp is another type).
const DcdmDirection& ksp_dcdm_direction(KSP ksp);

}  // namespace neurops::solvers
