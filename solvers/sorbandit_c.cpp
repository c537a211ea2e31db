// The C interface of the sorbandit preconditioner (sorbandit_c.h) over its C++ accessors.
#include "neurops/solvers/sorbandit_c.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <string>

#include "neurops/solvers/bandits.hpp"
#include "neurops/solvers/pc_sorbandit.hpp"

namespace {
using neurops::solvers::OmegaTuner;

// The learner of `pc`, or a PETSc error code (exceptions must not reach C callers).
PetscErrorCode learner_of(PC pc, const OmegaTuner** tuner) {
  PetscFunctionBeginUser;
  PetscCheck(pc && tuner, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "neurops sorbandit: null PC or output pointer");
  PetscBool same = PETSC_FALSE;
  PetscCall(PetscObjectTypeCompare(reinterpret_cast<PetscObject>(pc), neurops::solvers::PCSORBANDIT, &same));
  PetscCheck(same, PetscObjectComm(reinterpret_cast<PetscObject>(pc)), PETSC_ERR_ARG_WRONG,
             "neurops sorbandit: expected a PC of type sorbandit");
  try {
    *tuner = neurops::solvers::sorbandit_tuner(pc);
  } catch (const std::exception& e) {
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "neurops sorbandit: %s", e.what());
  }
  PetscCheck(*tuner, PetscObjectComm(reinterpret_cast<PetscObject>(pc)), PETSC_ERR_ORDER,
             "neurops sorbandit: no learner yet (the PC has not been set up)");
  PetscFunctionReturn(0);
}
}  // namespace

extern "C" PetscErrorCode NeuropsPCSorBanditGetOmega(PC pc, double* omega) {
  PetscFunctionBeginUser;
  const OmegaTuner* tuner = nullptr;
  PetscCheck(omega, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "neurops sorbandit: null output pointer");
  PetscCall(learner_of(pc, &tuner));
  *omega = neurops::solvers::sorbandit_omega(pc);
  PetscFunctionReturn(0);
}

extern "C" PetscErrorCode NeuropsPCSorBanditGetRounds(PC pc, int64_t* rounds) {
  PetscFunctionBeginUser;
  const OmegaTuner* tuner = nullptr;
  PetscCheck(rounds, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "neurops sorbandit: null output pointer");
  PetscCall(learner_of(pc, &tuner));
  *rounds = tuner->rounds();
  PetscFunctionReturn(0);
}

extern "C" PetscErrorCode NeuropsPCSorBanditGetSummary(PC pc, char* buffer, size_t len, size_t* needed) {
  PetscFunctionBeginUser;
  const OmegaTuner* tuner = nullptr;
  PetscCall(learner_of(pc, &tuner));
  std::string text;
  try {
    text = tuner->summary();
  } catch (const std::exception& e) {
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "neurops sorbandit: %s", e.what());
  }
  if (needed) *needed = text.size();
  if (buffer && len > 0) {
    const size_t n = std::min(len - 1, text.size());
    std::memcpy(buffer, text.data(), n);
    buffer[n] = '\0';
  }
  PetscFunctionReturn(0);
}
