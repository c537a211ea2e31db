// DMDA Vec <-> Tensor and a trained model applied to a DMDA Vec. The same checks run on one rank and
// under mpiexec -n 2 (test_dmda_bridge_mpi): the expected values are computed from the grid indices
// and from model.predict on the whole field, so the two runs are compared with the serial result.
#include <boost/test/unit_test.hpp>

#include <petscdmda.h>

#include <filesystem>
#include <string>

#include "neurops/operators/fno.hpp"
#include "neurops/operators/model_io.hpp"
#include "neurops/solvers/dmda_bridge.hpp"

#include "../support/dmda_grid.hpp"
#include "../support/expect_error.hpp"

using namespace neurops;
using namespace neurops::solvers;
namespace fs = std::filesystem;

namespace {

double code(PetscInt c, PetscInt z, PetscInt y, PetscInt x) { return 1000.0 * c + 100.0 * z + 10.0 * y + x; }

/// Fills v with code(c, z, y, x) through PETSc's own (k, j, i, c) indexing.
void fill_coded(DM dm, Vec v) {
  PetscInt dim = 0, xs, ys, zs, xm, ym, zm, dof = 0;
  NEUROPS_PETSC(DMDAGetInfo(dm, &dim, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, &dof, nullptr, nullptr,
                            nullptr, nullptr, nullptr));
  NEUROPS_PETSC(DMDAGetCorners(dm, &xs, &ys, &zs, &xm, &ym, &zm));
  if (dim == 2) {
    PetscScalar*** a = nullptr;
    NEUROPS_PETSC(DMDAVecGetArrayDOF(dm, v, &a));
    for (PetscInt j = ys; j < ys + ym; ++j)
      for (PetscInt i = xs; i < xs + xm; ++i)
        for (PetscInt c = 0; c < dof; ++c) a[j][i][c] = code(c, 0, j, i);
    NEUROPS_PETSC(DMDAVecRestoreArrayDOF(dm, v, &a));
  } else {
    PetscScalar**** a = nullptr;
    NEUROPS_PETSC(DMDAVecGetArrayDOF(dm, v, &a));
    for (PetscInt k = zs; k < zs + zm; ++k)
      for (PetscInt j = ys; j < ys + ym; ++j)
        for (PetscInt i = xs; i < xs + xm; ++i)
          for (PetscInt c = 0; c < dof; ++c) a[k][j][i][c] = code(c, k, j, i);
    NEUROPS_PETSC(DMDAVecRestoreArrayDOF(dm, v, &a));
  }
}

double max_abs_difference(Vec x, Vec y) {
  PetscVec d;
  NEUROPS_PETSC(VecDuplicate(x, d.out()));
  NEUROPS_PETSC(VecWAXPY(d, -1.0, y, x));
  PetscReal m = 0;
  NEUROPS_PETSC(VecNorm(d, NORM_INFINITY, &m));
  return m;
}

/// A small untrained FNO saved and loaded the way users get models (one file per rank: no shared writes).
TrainedModel<double> small_fno(index_t in_channels, index_t out_channels, std::vector<index_t> grid) {
  operators::FnoConfig c;
  c.in_channels = in_channels;
  c.out_channels = out_channels;
  c.width = 4;
  c.modes = {2};
  c.layers = 1;
  c.projection_channels = 6;
  c.seed = 7;
  operators::Fno<double> fno(c);
  fno.set_training_grid(std::move(grid));
  const fs::path dir = "dmda_bridge_scratch";
  fs::create_directories(dir);
  const fs::path path = dir / ("fno_rank" + std::to_string(world_rank()) + ".h5");
  save_model(path, fno);
  return load_model<double>(path);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dmda_bridge)

BOOST_AUTO_TEST_CASE(a_2d_vec_with_two_dof_becomes_a_channel_first_tensor_on_every_rank) {
  PetscDM dm = make_grid(2, 7, 5, 0, 2);
  PetscVec v;
  NEUROPS_PETSC(DMCreateGlobalVector(dm, v.out()));
  fill_coded(dm, v);
  const Tensor<float> t = to_tensor<float>(dm, v);
  BOOST_TEST(t.shape() == (Shape{1, 2, 5, 7}));
  for (index_t c = 0; c < 2; ++c)
    for (index_t y = 0; y < 5; ++y)
      for (index_t x = 0; x < 7; ++x) BOOST_TEST(t(0, c, y, x) == float(code(c, 0, y, x)));
}

BOOST_AUTO_TEST_CASE(a_3d_field_gathers_on_rank_0_only_and_scatters_back_unchanged) {
  PetscDM dm = make_grid(3, 5, 4, 3, 1);
  PetscVec v, back;
  NEUROPS_PETSC(DMCreateGlobalVector(dm, v.out()));
  NEUROPS_PETSC(VecDuplicate(v, back.out()));
  fill_coded(dm, v);
  DmdaBridge bridge(dm, Ranks::root);
  const Tensor<double> t = bridge.to_tensor<double>(v);
  if (world_rank() == 0) {
    BOOST_TEST(t.shape() == (Shape{1, 1, 3, 4, 5}));
    BOOST_TEST(t(0, 0, 2, 3, 4) == code(0, 2, 3, 4));
    BOOST_TEST(t(0, 0, 1, 0, 2) == code(0, 1, 0, 2));
  } else {
    BOOST_TEST(t.empty());
  }
  bridge.from_tensor(t, back);
  BOOST_TEST(max_abs_difference(back, v) == 0.0);
}

BOOST_AUTO_TEST_CASE(every_rank_writes_its_own_box_from_the_whole_field) {
  PetscDM dm = make_grid(2, 6, 9, 0, 3);
  PetscVec v, back;
  NEUROPS_PETSC(DMCreateGlobalVector(dm, v.out()));
  NEUROPS_PETSC(VecDuplicate(v, back.out()));
  fill_coded(dm, v);
  const Tensor<double> t = to_tensor<double>(dm, v);
  Tensor<double> unbatched = t;
  unbatched.reshape(t.shape().tail(1));  // (dof, grid...) is accepted too
  from_tensor(dm, unbatched, back);
  BOOST_TEST(max_abs_difference(back, v) == 0.0);
}

BOOST_AUTO_TEST_CASE(a_field_of_the_wrong_shape_is_an_error_naming_both_shapes) {
  PetscDM dm = make_grid(2, 6, 9, 0, 1);
  PetscVec v;
  NEUROPS_PETSC(DMCreateGlobalVector(dm, v.out()));
  expect_error(
      [&] {
        from_tensor(dm, Tensor<double>(Shape{1, 1, 6, 9}), v);
      },
      {"2-D DMDA 9 x 6 (y, x) with 1 dof", "(1, 1, 9, 6)", "found (1, 1, 6, 9)"});
}

BOOST_AUTO_TEST_CASE(apply_gives_the_prediction_on_the_whole_field_with_dirichlet_nodes_replaced) {
  const PetscInt n = 12;
  PetscDM dm = make_grid(2, n, n, 0, 1);
  auto model = small_fno(1, 1, {n, n});
  PetscVec x, y, g, expected;
  NEUROPS_PETSC(DMCreateGlobalVector(dm, x.out()));
  NEUROPS_PETSC(VecDuplicate(x, y.out()));
  NEUROPS_PETSC(VecDuplicate(x, g.out()));
  NEUROPS_PETSC(VecDuplicate(x, expected.out()));
  fill_coded(dm, x);
  NEUROPS_PETSC(VecScale(x, 0.01));
  NEUROPS_PETSC(VecSet(g, 3.5));
  apply(model, dm, x, y, DirichletNodes::box(g));

  // The expectation, computed on every rank from the whole field as one process would.
  Tensor<double> u = model.predict(to_tensor<double>(dm, x));
  for (index_t j = 0; j < n; ++j)
    for (index_t i = 0; i < n; ++i)
      if (i == 0 || j == 0 || i == n - 1 || j == n - 1) u(0, 0, j, i) = 3.5;
  from_tensor(dm, u, expected);
  BOOST_TEST(max_abs_difference(y, expected) < 1e-12);
  PetscReal norm = 0;
  NEUROPS_PETSC(VecNorm(y, NORM_INFINITY, &norm));
  BOOST_TEST(norm > 0.0);

  // A mask marks single entries; without values they become zero.
  PetscVec mask;
  NEUROPS_PETSC(VecDuplicate(x, mask.out()));
  NEUROPS_PETSC(VecSet(mask, 0.0));
  NEUROPS_PETSC(VecSetValue(mask, 0, 1.0, INSERT_VALUES));  // global index 0: node (0, 0) on rank 0
  NEUROPS_PETSC(VecAssemblyBegin(mask));
  NEUROPS_PETSC(VecAssemblyEnd(mask));
  apply(model, dm, x, y, DirichletNodes::masked(mask));
  const Tensor<double> masked = to_tensor<double>(dm, y);
  BOOST_TEST(masked(0, 0, 0, 0) == 0.0);
  BOOST_TEST(std::abs(masked(0, 0, 1, 1) - u(0, 0, 1, 1)) < 1e-12);
}

BOOST_AUTO_TEST_CASE(a_model_that_does_not_fit_the_dmda_is_an_error_naming_the_file_and_both_shapes) {
  PetscDM dm = make_grid(2, 12, 12, 0, 2), other = make_grid(2, 10, 12, 0, 1);
  PetscVec x, y, z;
  NEUROPS_PETSC(DMCreateGlobalVector(dm, x.out()));
  NEUROPS_PETSC(VecDuplicate(x, y.out()));
  NEUROPS_PETSC(DMCreateGlobalVector(other, z.out()));
  auto one_channel = small_fno(1, 1, {12, 12});
  expect_error([&] { apply(one_channel, dm, x, y); },
               {"fno_rank", "takes 1 input channels", "2-D DMDA 12 x 12 (y, x) with 2 dof"});
  auto two_channels = small_fno(2, 2, {16, 16});
  expect_error([&] { apply(two_channels, dm, x, y); },
               {"trained on the grid 16 x 16", "the input is a 2-D DMDA 12 x 12 (y, x) with 2 dof"});
  auto mixed = small_fno(2, 1, {12, 12});
  expect_error([&] { apply(mixed, dm, x, other, z); }, {"must have the same grid", "12 x 10"});
}

BOOST_AUTO_TEST_CASE(a_dm_that_is_not_a_dmda_is_an_error) {
  PetscDM plex;
  NEUROPS_PETSC(DMCreate(PETSC_COMM_WORLD, plex.out()));
  NEUROPS_PETSC(DMSetType(plex, DMPLEX));
  expect_error([&] { dmda_layout(plex, "my solver"); }, {"my solver", "of type plex", "expected a 2-D or 3-D DMDA"});
}

BOOST_AUTO_TEST_SUITE_END()
