#pragma once
// What the bandit PC types (sorbandit, configbandit) do when they are destroyed with a state file:
// rank 0 writes the learner's state, and every rank learns whether that worked, so that a failed
// write is a PETSc error on the whole communicator instead of a hang or a silent loss.
#include <petscpc.h>

#include <exception>
#include <string>

namespace neurops::solvers {

/// Calls `save` (which writes `path` atomically) on rank 0 of the PC's communicator; a failure is a
/// PETSc error on every rank naming `option` and `path`, and a previous file of that name is unchanged.
template <class Save>
PetscErrorCode write_learner_state(PC pc, const char* option, const std::string& path, Save&& save) {
  PetscFunctionBeginUser;
  const MPI_Comm comm = PetscObjectComm(reinterpret_cast<PetscObject>(pc));
  PetscMPIInt rank = 0;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  std::string failure;
  if (rank == 0) {
    try {
      save();
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }
  int failed = failure.empty() ? 0 : 1;
  PetscCallMPI(MPI_Bcast(&failed, 1, MPI_INT, 0, comm));
  PetscCheck(!failed, comm, PETSC_ERR_FILE_WRITE,
             "pc %s: %s %s: the learner state was not written (%s); a previous file of that name is unchanged",
             reinterpret_cast<PetscObject>(pc)->type_name, option, path.c_str(),
             rank == 0 ? failure.c_str() : "see rank 0");
  PetscFunctionReturn(0);
}

}  // namespace neurops::solvers
