#pragma once
// neurops' PETSc types. Register them from a host program with register_petsc_types(), or bring
// them into an unmodified PETSc program with `-dll_append /path/to/libneurops.so` (PETSc then calls
// PetscDLLibraryRegister_neurops, the name it derives from the library file name).
//
// Types (one header each, named after the type):
//   PC "sorbandit"   solvers/pc_sorbandit.hpp   SOR/SSOR with omega tuned online by a bandit learner
//   PC "configbandit" solvers/pc_configbandit.hpp  online choice among whole PC configurations (option sets)
//   KSP "dcdm"       solvers/ksp_dcdm.hpp       Deep Conjugate Direction Method (trained CNN directions)
//   PC "dcdm"        solvers/pc_dcdm.hpp        the DCDM network as a nonlinear PC (for -ksp_type fcg)
//   KSPGuess "neurops" solvers/ksp_guess_neurops.hpp  initial guess x0 = model(b) from a trained operator
#include <petscksp.h>

#include "neurops/solvers/ksp_dcdm.hpp"
#include "neurops/solvers/ksp_guess_neurops.hpp"
#include "neurops/solvers/pc_configbandit.hpp"
#include "neurops/solvers/pc_dcdm.hpp"
#include "neurops/solvers/pc_sorbandit.hpp"

namespace neurops::solvers {

/// Registers every neurops PETSc type (idempotent). Needs PETSc to be initialised.
void register_petsc_types();

}  // namespace neurops::solvers

extern "C" PetscErrorCode PetscDLLibraryRegister_neurops(void);
