#pragma once
// Linear systems A x = b on disk, one system per file, read back through PETSc's own loaders.
//
// HDF5 (.h5): the matrix in the MATLAB v7.3 sparse layout that PETSc's MatLoad (HDF5 viewer,
// format PETSC_VIEWER_HDF5_MAT) reads — group /A with datasets jc (row pointers), ir (column
// indices) and data (values), attribute MATLAB_sparse = number of columns; the right-hand side as
// dataset /b, as VecView/VecLoad with an HDF5 viewer write and read it; an optional attribute
// "context" on "/" (e.g. the diagonal shift c or the diffusion coefficient). PETSc 3.18 cannot
// write AIJ matrices to HDF5 itself, so write_system produces the layout with neurops' HDF5 layer.
// PETSc binary (.bin, .petsc): MatView + VecView with a binary viewer, loaded the same way.
// Files are written atomically (temporary + rename).
#include <filesystem>
#include <optional>

#include "neurops/core/petsc.hpp"

namespace neurops::solvers {

struct LinearSystem {
  PetscMat A;
  PetscVec b;
  std::optional<double> context;
};

/// Writes a sequential or parallel AIJ system (gathered to rank 0 for HDF5).
void write_system(const std::filesystem::path& path, Mat A, Vec b, std::optional<double> context = std::nullopt);
/// Loads a system on `comm`. Missing, truncated or malformed files, a non-square matrix or a vector
/// of the wrong length are Errors naming the file and what was expected.
LinearSystem read_system(MPI_Comm comm, const std::filesystem::path& path);

}  // namespace neurops::solvers
