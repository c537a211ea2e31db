// Registration of every neurops PETSc type, from a host program or through -dll_append.
#include "neurops/solvers/petsc_types.hpp"

#include <exception>

#include "neurops/core/petsc.hpp"

namespace neurops::solvers {

void register_petsc_types() {
  static bool registered = false;
  if (registered) return;
  NEUROPS_PETSC(PCRegister(PCSORBANDIT, PCCreate_SorBandit));
  NEUROPS_PETSC(PCRegister(PCCONFIGBANDIT, PCCreate_ConfigBandit));
  NEUROPS_PETSC(KSPRegister(KSPDCDM, KSPCreate_DCDM));
  NEUROPS_PETSC(PCRegister(PCDCDM, PCCreate_DCDM));
  NEUROPS_PETSC(KSPGuessRegister(KSPGUESSNEUROPS, KSPGuessCreate_Neurops));
  registered = true;
}

}  // namespace neurops::solvers

extern "C" PetscErrorCode PetscDLLibraryRegister_neurops(void) {
  PetscFunctionBeginUser;
  try {
    neurops::solvers::register_petsc_types();
  } catch (const std::exception& e) {
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "neurops: registering PETSc types failed: %s", e.what());
  }
  PetscFunctionReturn(0);
}
