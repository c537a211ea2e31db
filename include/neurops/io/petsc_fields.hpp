#pragma once
// Fields in the layout of PETSc's HDF5 viewer, so a simulation's own output is training data without
// conversion and neurops' fields load straight into a DMDA Vec.
//
// VecView of a global Vec of a DMDA with PETSc's HDF5 viewer writes one dataset, named after the Vec
// (PetscObjectSetName), inside the viewer's current group:
//     ([t,] [z,] y, x[, dof])      channel last; the dof axis only when dof > 1
// with t present when the viewer was timestepping (PetscViewerHDF5PushTimestepping: one row per
// PetscViewerHDF5SetTimestep), marked by the integer attribute `timestepping` = 1 on the dataset.
// neurops' fields are (N, C, grid...), channel first; the functions below convert between the two.
//
//   Tensor<float> u = io::read_petsc_field<float>("run.h5", "/velocity", 2);  // (steps, dof, ny, nx)
//   io::write_petsc_field("init.h5", "/u", u0, /*timestepping=*/false);       // VecLoad reads it
//
// A PETSc field has no batch or channel axes, so the number of spatial dimensions cannot be read from
// the file (a 2-D field with dof 9 and a 3-D field with 9 planes look the same): the caller states it.
#include <filesystem>
#include <string>

#include "neurops/core/tensor.hpp"

namespace neurops::io {

/// What a PETSc field dataset holds.
struct PetscFieldLayout {
  int dim = 0;                // spatial dimensions (2 or 3)
  bool timestepping = false;  // a leading time axis
  index_t steps = 1;          // rows of the time axis (1 without timestepping)
  index_t dof = 1;
  std::vector<index_t> grid;  // (ny, nx) or (nz, ny, nx)
  /// "(t 4, y 33, x 33, dof 2)".
  std::string str() const;
};

/// The layout of dataset `dataset` of `file` as a `dim`-D DMDA field. Errors name the file and the
/// dataset when it is not one: a missing dataset, a rank that fits no ([t,] grid[, dof]) layout (e.g. a
/// neurops (N, C, grid...) dataset), or a non-real element type.
PetscFieldLayout petsc_field_layout(const std::filesystem::path& file, const std::string& dataset, int dim);

/// Reads a PETSc field as (steps, dof, grid...): one sample per time step (one sample without
/// timestepping), dof as channels.
template <class T>
Tensor<T> read_petsc_field(const std::filesystem::path& file, const std::string& dataset, int dim);

/// Writes (N, dof, grid...) — or (dof, grid...) for one field — in PETSc's layout, with the
/// `timestepping` attribute, so VecLoad reads it into a DMDA Vec (timestepping: one step per sample,
/// read with PetscViewerHDF5PushTimestepping + PetscViewerHDF5SetTimestep; without it N must be 1).
/// `dim` is the number of spatial axes. An existing file is opened and the dataset added (replaced when
/// it exists); the file is written atomically when new.
template <class T>
void write_petsc_field(const std::filesystem::path& file, const std::string& dataset, const Tensor<T>& field, int dim,
                       bool timestepping);

}  // namespace neurops::io
