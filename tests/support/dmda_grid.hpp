#pragma once
// DMDA helpers of the PETSc-interoperability tests: the rank in PETSC_COMM_WORLD and a 2-D/3-D grid
// with `dof` fields split over all ranks.
#include <petscdmda.h>

#include "neurops/core/petsc.hpp"

inline int world_rank() {
  PetscMPIInt r = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &r);
  return r;
}

inline neurops::PetscDM make_grid(int dim, PetscInt nx, PetscInt ny, PetscInt nz, PetscInt dof) {
  neurops::PetscDM dm;
  if (dim == 2)
    NEUROPS_PETSC(DMDACreate2d(PETSC_COMM_WORLD, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, nx, ny,
                               PETSC_DECIDE, PETSC_DECIDE, dof, 1, nullptr, nullptr, dm.out()));
  else
    NEUROPS_PETSC(DMDACreate3d(PETSC_COMM_WORLD, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE,
                               DMDA_STENCIL_STAR, nx, ny, nz, PETSC_DECIDE, PETSC_DECIDE, PETSC_DECIDE, dof, 1, nullptr,
                               nullptr, nullptr, dm.out()));
  NEUROPS_PETSC(DMSetUp(dm));
  return dm;
}
