#pragma once
// PC "dcdm": the DCDM network as a nonlinear preconditioner, y = f(x / ||x||), for the flexible
// Krylov methods (-ksp_type fcg, fgmres, gcr). With -ksp_type fcg -ksp_fcg_mmax 2
// -ksp_fcg_truncation_type standard -ksp_norm_type unpreconditioned it reproduces KSP "dcdm" with
// the recursive residual (-ksp_dcdm_true_residual false) iterate by iterate.
// The grid comes from the PC's DMDA (KSPSetDM passes it on).
// Options (prefix as the PC's, shown by -help):
//   -pc_dcdm_model <file.h5>   (the shipped model)   -pc_dcdm_precision single|double (single)
#include <petscksp.h>

namespace neurops::solvers {

class DcdmDirection;

inline constexpr const char* PCDCDM = "dcdm";

/// PETSc's create function of the type (registered by register_petsc_types()).
PetscErrorCode PCCreate_DCDM(PC pc);

/// The network of a dcdm PC (throws if pc is another type).
const DcdmDirection& pc_dcdm_direction(PC pc);

}  // namespace neurops::solvers
