// Fields exchanged with PETSc's own HDF5 viewer: PETSc writes (VecView, with and without
// timestepping) and neurops reads; neurops writes and PETSc reads (VecLoad into a DMDA Vec). Runs on
// one rank and on two (test_petsc_fields_mpi), where PETSc writes and reads in parallel.
#include <boost/test/unit_test.hpp>

#include <petscdmda.h>
#include <petscviewerhdf5.h>

#include <filesystem>
#include <string>

#include "neurops/core/petsc.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/io/petsc_fields.hpp"
#include "neurops/nn/data.hpp"

#include "../support/dmda_grid.hpp"
#include "../support/expect_error.hpp"

using namespace neurops;
namespace fs = std::filesystem;

namespace {

double code(PetscInt t, PetscInt c, PetscInt z, PetscInt y, PetscInt x) {
  return 10000.0 * t + 1000.0 * c + 100.0 * z + 10.0 * y + x;
}

/// v(c, z, y, x) = code(t, c, z, y, x) through PETSc's own indexing.
void fill(DM dm, Vec v, PetscInt t) {
  PetscInt dim = 0, dof = 0, xs, ys, zs, xm, ym, zm;
  NEUROPS_PETSC(DMDAGetInfo(dm, &dim, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, &dof, nullptr, nullptr,
                            nullptr, nullptr, nullptr));
  NEUROPS_PETSC(DMDAGetCorners(dm, &xs, &ys, &zs, &xm, &ym, &zm));
  if (dim == 2) {
    PetscScalar*** a = nullptr;
    NEUROPS_PETSC(DMDAVecGetArrayDOF(dm, v, &a));
    for (PetscInt j = ys; j < ys + ym; ++j)
      for (PetscInt i = xs; i < xs + xm; ++i)
        for (PetscInt c = 0; c < dof; ++c) a[j][i][c] = code(t, c, 0, j, i);
    NEUROPS_PETSC(DMDAVecRestoreArrayDOF(dm, v, &a));
  } else {
    PetscScalar**** a = nullptr;
    NEUROPS_PETSC(DMDAVecGetArrayDOF(dm, v, &a));
    for (PetscInt k = zs; k < zs + zm; ++k)
      for (PetscInt j = ys; j < ys + ym; ++j)
        for (PetscInt i = xs; i < xs + xm; ++i)
          for (PetscInt c = 0; c < dof; ++c) a[k][j][i][c] = code(t, c, k, j, i);
    NEUROPS_PETSC(DMDAVecRestoreArrayDOF(dm, v, &a));
  }
}

/// PETSc writes `steps` fields of `dm` named `name` (timestepping when steps > 1).
void petsc_writes(const fs::path& file, DM dm, const char* name, PetscInt steps, PetscFileMode mode = FILE_MODE_WRITE) {
  PetscVec v;
  NEUROPS_PETSC(DMCreateGlobalVector(dm, v.out()));
  NEUROPS_PETSC(PetscObjectSetName(reinterpret_cast<PetscObject>(v.get()), name));
  PetscViewerHandle viewer;
  NEUROPS_PETSC(PetscViewerHDF5Open(PETSC_COMM_WORLD, file.c_str(), mode, viewer.out()));
  if (steps > 1) NEUROPS_PETSC(PetscViewerHDF5PushTimestepping(viewer));
  for (PetscInt t = 0; t < steps; ++t) {
    if (steps > 1) NEUROPS_PETSC(PetscViewerHDF5SetTimestep(viewer, t));
    fill(dm, v, t);
    NEUROPS_PETSC(VecView(v, viewer));
  }
  if (steps > 1) NEUROPS_PETSC(PetscViewerHDF5PopTimestepping(viewer));
}

/// Max |PETSc's VecLoad of step t - code(t, ...)|.
double petsc_reads(const fs::path& file, DM dm, const char* name, PetscInt t, bool timestepping) {
  PetscVec v, expected;
  NEUROPS_PETSC(DMCreateGlobalVector(dm, v.out()));
  NEUROPS_PETSC(VecDuplicate(v, expected.out()));
  NEUROPS_PETSC(PetscObjectSetName(reinterpret_cast<PetscObject>(v.get()), name));
  PetscViewerHandle viewer;
  NEUROPS_PETSC(PetscViewerHDF5Open(PETSC_COMM_WORLD, file.c_str(), FILE_MODE_READ, viewer.out()));
  if (timestepping) {
    NEUROPS_PETSC(PetscViewerHDF5PushTimestepping(viewer));
    NEUROPS_PETSC(PetscViewerHDF5SetTimestep(viewer, t));
  }
  NEUROPS_PETSC(VecLoad(v, viewer));
  if (timestepping) NEUROPS_PETSC(PetscViewerHDF5PopTimestepping(viewer));
  fill(dm, expected, t);
  NEUROPS_PETSC(VecAXPY(v, -1.0, expected));
  PetscReal m = 0;
  NEUROPS_PETSC(VecNorm(v, NORM_INFINITY, &m));
  return m;
}

fs::path scratch(const std::string& name) {
  const fs::path dir = "petsc_fields_scratch";
  fs::create_directories(dir);
  return dir / (name + "_np" + std::to_string(PetscSession().size()) + ".h5");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(petsc_fields)

BOOST_AUTO_TEST_CASE(a_2d_field_with_two_dof_written_by_vecview_reads_channel_first) {
  const fs::path file = scratch("vecview_2d");
  PetscDM dm = make_grid(2, 7, 5, 0, 2);
  petsc_writes(file, dm, "velocity", 1);
  const auto layout = io::petsc_field_layout(file, "/velocity", 2);
  BOOST_TEST(layout.str() == "(y 5, x 7, dof 2)");
  const Tensor<double> u = io::read_petsc_field<double>(file, "/velocity", 2);
  BOOST_TEST(u.shape() == (Shape{1, 2, 5, 7}));
  for (index_t c = 0; c < 2; ++c)
    for (index_t y = 0; y < 5; ++y)
      for (index_t x = 0; x < 7; ++x) BOOST_TEST(u(0, c, y, x) == code(0, c, 0, y, x));
}

BOOST_AUTO_TEST_CASE(timestepped_3d_output_becomes_one_sample_per_step) {
  const fs::path file = scratch("vecview_3d_steps");
  PetscDM dm = make_grid(3, 6, 5, 4, 1);
  petsc_writes(file, dm, "u", 3);
  const auto layout = io::petsc_field_layout(file, "/u", 3);
  BOOST_TEST(layout.str() == "(t 3, z 4, y 5, x 6, dof 1)");
  const Tensor<float> u = io::read_petsc_field<float>(file, "/u", 3);
  BOOST_TEST(u.shape() == (Shape{3, 1, 4, 5, 6}));
  BOOST_TEST(u(2, 0, 3, 4, 5) == float(code(2, 0, 3, 4, 5)));
  BOOST_TEST(u(1, 0, 0, 2, 1) == float(code(1, 0, 0, 2, 1)));
}

BOOST_AUTO_TEST_CASE(a_simulations_output_is_a_field_dataset_without_conversion) {
  const fs::path file = scratch("simulation");
  PetscDM dm = make_grid(2, 8, 8, 0, 1);
  petsc_writes(file, dm, "forcing", 10);  // also the data of fno_train's test (-fno_data_petsc_dim 2)
  petsc_writes(file, dm, "response", 10, FILE_MODE_APPEND);
  const auto d = nn::FieldDataset<float>::load_petsc(file, "/forcing", "/response", 2);
  BOOST_TEST(d.size() == 10);
  BOOST_TEST(d.inputs.shape() == (Shape{10, 1, 8, 8}));
  BOOST_TEST(d.targets(3, 0, 7, 6) == float(code(3, 0, 0, 7, 6)));
  const auto strided = nn::FieldDataset<float>::load_petsc(file, "/forcing", "/response", 2, 2, 3);
  BOOST_TEST(strided.inputs.shape() == (Shape{3, 1, 4, 4}));
}

BOOST_AUTO_TEST_CASE(fields_neurops_writes_load_into_a_dmda_vec_with_vecload) {
  const fs::path file = scratch("for_vecload");
  if (world_rank() == 0) {
    fs::remove(file);
    Tensor<double> one(Shape{1, 3, 6, 7}), steps(Shape{2, 1, 3, 6, 7});
    for (index_t c = 0; c < 3; ++c)
      for (index_t y = 0; y < 6; ++y)
        for (index_t x = 0; x < 7; ++x) one(0, c, y, x) = code(0, c, 0, y, x);
    for (index_t t = 0; t < 2; ++t)
      for (index_t z = 0; z < 3; ++z)
        for (index_t y = 0; y < 6; ++y)
          for (index_t x = 0; x < 7; ++x) steps(t, 0, z, y, x) = code(t, 0, z, y, x);
    io::write_petsc_field(file, "/w", one, 2, false);
    io::write_petsc_field(file, "/p", steps, 3, true);
  }
  MPI_Barrier(PETSC_COMM_WORLD);
  PetscDM dm2 = make_grid(2, 7, 6, 0, 3), dm3 = make_grid(3, 7, 6, 3, 1);
  BOOST_TEST(petsc_reads(file, dm2, "w", 0, false) == 0.0);
  BOOST_TEST(petsc_reads(file, dm3, "p", 0, true) == 0.0);
  BOOST_TEST(petsc_reads(file, dm3, "p", 1, true) == 0.0);
}

BOOST_AUTO_TEST_CASE(a_dataset_that_is_not_a_dmda_field_is_an_error_naming_file_and_dataset) {
  const fs::path file = scratch("not_petsc");
  if (world_rank() == 0) {
    auto f = io::H5File::create(file);
    f.write("/inputs", Tensor<float>(Shape{4, 1, 8, 8}));
    f.write("/flat", Tensor<float>(Shape{10}));
    f.set_attr("/flat", "timestepping", std::int64_t(0));
    f.commit();
  }
  MPI_Barrier(PETSC_COMM_WORLD);
  expect_error([&] { io::read_petsc_field<float>(file, "/inputs", 2); },
               {"not_petsc", "'/inputs' is not a 2-D DMDA field", "found (4, 1, 8, 8)"});
  expect_error([&] { io::read_petsc_field<float>(file, "/flat", 2); },
               {"'/flat' is not a 2-D DMDA field", "(y, x[, dof])", "found (10,)"});
  expect_error([&] { io::read_petsc_field<float>(file, "/missing", 2); }, {"'/missing': no such dataset"});
}

BOOST_AUTO_TEST_SUITE_END()
