// KSP "dcdm" and PC "dcdm": the reference loop against FCG(mmax 2) + the network PC, breakdown as a
// divergence reason, and the errors for a missing DM, a 2-D DMDA, an odd grid and bad model files.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "dcdm_models.hpp"
#include "fixture.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/nn/checkpoint.hpp"
#include "neurops/operators/dcdm_net.hpp"
#include "neurops/operators/fno.hpp"
#include "neurops/pde/linear_systems.hpp"
#include "neurops/solvers/dcdm.hpp"
#include "neurops/solvers/petsc_types.hpp"

using namespace neurops;
using namespace neurops::solvers;
namespace fs = std::filesystem;

namespace {

struct Problem {
  PetscDM dm;
  PetscMat A;
  PetscVec b, x;
  Problem(PetscInt n, double scale = 1.0) : dm(pde::dirichlet_grid_3d(PETSC_COMM_WORLD, n, n, n)) {
    A = pde::assemble_laplacian(dm, {}, scale);
    NEUROPS_PETSC(DMCreateGlobalVector(dm, b.out()));
    NEUROPS_PETSC(VecDuplicate(b, x.out()));
    PetscRandom rnd;
    NEUROPS_PETSC(PetscRandomCreate(PETSC_COMM_WORLD, &rnd));
    NEUROPS_PETSC(PetscRandomSetSeed(rnd, 17));
    NEUROPS_PETSC(PetscRandomSeed(rnd));
    NEUROPS_PETSC(VecSetRandom(b, rnd));
    NEUROPS_PETSC(PetscRandomDestroy(&rnd));
  }
};

void set(const std::string& name, const std::string& value) {
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, name.c_str(), value.c_str()));
}

/// A KSP over the problem configured from options under `prefix`.
PetscKSP make_ksp(Problem& p, const std::string& prefix, std::vector<PetscReal>* history = nullptr) {
  PetscKSP ksp;
  NEUROPS_PETSC(KSPCreate(PETSC_COMM_WORLD, ksp.out()));
  NEUROPS_PETSC(KSPSetOptionsPrefix(ksp, prefix.c_str()));
  NEUROPS_PETSC(KSPSetOperators(ksp, p.A, p.A));
  if (p.dm) {
    NEUROPS_PETSC(KSPSetDM(ksp, p.dm));
    NEUROPS_PETSC(KSPSetDMActive(ksp, PETSC_FALSE));
  }
  NEUROPS_PETSC(KSPSetFromOptions(ksp));
  if (history) {
    history->assign(1000, 0.0);
    NEUROPS_PETSC(KSPSetResidualHistory(ksp, history->data(), 1000, PETSC_TRUE));
  }
  return ksp;
}

std::string solve_error(Problem& p, const std::string& prefix) {
  try {
    PetscKSP ksp = make_ksp(p, prefix);
    NEUROPS_PETSC(KSPSolve(ksp, p.b, p.x));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(dcdm_solvers)

BOOST_AUTO_TEST_CASE(ksp_dcdm_and_fcg_mmax2_with_pc_dcdm_give_the_same_iterates) {
  Problem p(8);
  const std::string model = test::random_dcdm_model();
  for (const char* pre : {"d_", "f_"}) {
    set(std::string("-") + pre + "ksp_rtol", "1e-8");
    set(std::string("-") + pre + "ksp_max_it", "12");
  }
  set("-d_ksp_type", "dcdm");
  set("-d_ksp_dcdm_model", model);
  set("-d_ksp_dcdm_precision", "double");
  set("-d_ksp_dcdm_true_residual", "false");  // FCG updates the residual recursively
  set("-f_ksp_type", "fcg");
  set("-f_ksp_fcg_mmax", "2");
  set("-f_ksp_fcg_truncation_type", "standard");
  set("-f_ksp_norm_type", "unpreconditioned");
  set("-f_pc_type", "dcdm");
  set("-f_pc_dcdm_model", model);
  set("-f_pc_dcdm_precision", "double");

  std::vector<PetscReal> hd, hf;
  PetscKSP d = make_ksp(p, "d_", &hd);
  NEUROPS_PETSC(KSPSolve(d, p.b, p.x));
  PetscVec xd;
  NEUROPS_PETSC(VecDuplicate(p.x, xd.out()));
  NEUROPS_PETSC(VecCopy(p.x, xd));
  PetscKSP f = make_ksp(p, "f_", &hf);
  NEUROPS_PETSC(KSPSolve(f, p.b, p.x));

  PetscInt nd = 0, nf = 0;
  NEUROPS_PETSC(KSPGetResidualHistory(d, nullptr, &nd));
  NEUROPS_PETSC(KSPGetResidualHistory(f, nullptr, &nf));
  BOOST_TEST(nd == nf);
  BOOST_TEST(nd > 5);
  for (PetscInt i = 0; i < std::min(nd, nf); ++i)
    BOOST_TEST(std::abs(hd[i] - hf[i]) <= 1e-9 * hd[0], "iteration " << i << ": dcdm " << hd[i] << ", fcg " << hf[i]);
  BOOST_TEST(test::relative_difference(p.x, xd) < 1e-9);
  BOOST_TEST(ksp_dcdm_direction(d).applications() == nd - 1);
}

BOOST_AUTO_TEST_CASE(with_a_linear_spd_network_dcdm_is_preconditioned_cg) {
  // q = (I + P) r: KSP dcdm (true residual, float32 network) against CG with PC dcdm (the same map).
  Problem p(8);
  const std::string model = test::linear_dcdm_model();
  set("-t_ksp_type", "dcdm");
  set("-t_ksp_dcdm_model", model);
  set("-c_ksp_type", "cg");
  set("-c_ksp_norm_type", "unpreconditioned");
  set("-c_pc_type", "dcdm");
  set("-c_pc_dcdm_model", model);
  set("-c_pc_dcdm_precision", "double");
  for (const char* pre : {"-t_", "-c_"}) set(std::string(pre) + "ksp_rtol", "1e-8");
  PetscKSP ksp = make_ksp(p, "t_");
  NEUROPS_PETSC(KSPSolve(ksp, p.b, p.x));
  KSPConvergedReason reason;
  NEUROPS_PETSC(KSPGetConvergedReason(ksp, &reason));
  BOOST_TEST(reason == KSP_CONVERGED_RTOL);
  PetscVec r;
  NEUROPS_PETSC(VecDuplicate(p.b, r.out()));
  NEUROPS_PETSC(MatMult(p.A, p.x, r));
  NEUROPS_PETSC(VecAYPX(r, -1.0, p.b));
  PetscReal nr = 0, nb = 0;
  NEUROPS_PETSC(VecNorm(r, NORM_2, &nr));
  NEUROPS_PETSC(VecNorm(p.b, NORM_2, &nb));
  BOOST_TEST(nr <= 1e-8 * nb);  // relative to ||b||, on the true residual
  PetscInt its_dcdm = 0, its_cg = 0;
  NEUROPS_PETSC(KSPGetIterationNumber(ksp, &its_dcdm));
  PetscKSP cg = make_ksp(p, "c_");
  NEUROPS_PETSC(KSPSolve(cg, p.b, p.x));
  NEUROPS_PETSC(KSPGetIterationNumber(cg, &its_cg));
  BOOST_TEST(std::abs(its_dcdm - its_cg) <= 1, "dcdm " << its_dcdm << ", pcg " << its_cg);
  BOOST_TEST(contains(ksp_dcdm_direction(ksp).describe(), "8 x 8 x 8"));
  BOOST_TEST(contains(ksp_dcdm_direction(ksp).describe(), "single precision"));
  PC pc;
  NEUROPS_PETSC(KSPGetPC(ksp, &pc));
  PCType type;
  NEUROPS_PETSC(PCGetType(pc, &type));
  BOOST_TEST(std::string(type) == "none");  // the network replaces the PC: no ICC/ILU is built
}

BOOST_AUTO_TEST_CASE(indefinite_matrix_is_a_divergence_reason_not_a_crash) {
  Problem p(8, -1.0);  // negative definite
  set("-n_ksp_type", "dcdm");
  set("-n_ksp_dcdm_model", test::random_dcdm_model());
  PetscKSP ksp = make_ksp(p, "n_");
  NEUROPS_PETSC(KSPSolve(ksp, p.b, p.x));
  KSPConvergedReason reason;
  NEUROPS_PETSC(KSPGetConvergedReason(ksp, &reason));
  BOOST_TEST(reason == KSP_DIVERGED_INDEFINITE_MAT);
}

BOOST_AUTO_TEST_CASE(bad_grids_and_model_files_are_clear_errors) {
  const std::string model = test::random_dcdm_model();
  for (const char* pre : {"e1_", "e2_", "e3_", "e4_", "e5_", "e6_"}) set(std::string("-") + pre + "ksp_type", "dcdm");
  // No DM (KSPGetDM then gives an empty DMShell).
  Problem p(8);
  p.dm.reset();
  set("-e1_ksp_dcdm_model", model);
  BOOST_TEST(contains(solve_error(p, "e1_"), "expected a 3-D DMDA"), solve_error(p, "e1_"));
  // Odd grid.
  Problem odd(7);
  set("-e2_ksp_dcdm_model", model);
  const auto e2 = solve_error(odd, "e2_");
  BOOST_TEST((contains(e2, "7 x 7 x 7") && contains(e2, "even")), e2);
  // 2-D DMDA.
  Problem flat(8);
  flat.dm = pde::dirichlet_grid_2d(PETSC_COMM_WORLD, 8, 64);
  set("-e3_ksp_dcdm_model", model);
  BOOST_TEST(contains(solve_error(flat, "e3_"), "2-D, expected 3-D"), solve_error(flat, "e3_"));
  // Missing model file: the option and the file are named.
  set("-e4_ksp_dcdm_model", "no_such_model.h5");
  const auto e4 = solve_error(p = Problem(8), "e4_");
  BOOST_TEST((contains(e4, "-e4_ksp_dcdm_model") && contains(e4, "no_such_model.h5")), e4);
  // A file of another kind: a checkpoint of a 3-D FNO.
  const auto other = fs::path(model).parent_path() / "fno.h5";
  operators::FnoConfig fc;
  fc.dims = 3;
  fc.width = 2;
  fc.modes = {1};
  fc.layers = 1;
  fc.projection_channels = 2;
  operators::Fno<double> fno(fc);
  nn::CheckpointContents<double> c;
  c.model = &fno;
  nn::save_checkpoint(other, c);
  set("-e5_ksp_dcdm_model", other.string());
  const auto e5 = solve_error(p, "e5_");
  BOOST_TEST((contains(e5, "FNO3d") && contains(e5, "DCDMNet3d")), e5);
  // Bad precision value: PETSc's option list names the accepted values.
  set("-e6_ksp_dcdm_precision", "half");
  BOOST_TEST(!solve_error(p, "e6_").empty());
}

BOOST_AUTO_TEST_CASE(shipped_model_is_found_by_default_and_needs_fewer_iterations_than_cg) {
  // A smooth right-hand side (the training data are smooth: the low modes carry 9x weight) on a grid
  // other than the training grid; the same tolerance for both methods.
  const std::string shipped = default_dcdm_model();
  if (shipped.empty()) {
    BOOST_TEST_MESSAGE("no shipped model (models/dcdm_poisson.h5): skipped");
    return;
  }
  Problem p(16);
  PetscInt lo = 0, hi = 0;
  NEUROPS_PETSC(VecGetOwnershipRange(p.b, &lo, &hi));
  PetscScalar* a = nullptr;
  NEUROPS_PETSC(VecGetArray(p.b, &a));
  for (PetscInt id = lo; id < hi; ++id) {  // one rank: natural = global order
    const double x = (id % 16 + 0.5) / 16, y = (id / 16 % 16 + 0.5) / 16, z = (id / 256 + 0.5) / 16;
    a[id - lo] = std::exp(-40 * ((x - 0.3) * (x - 0.3) + (y - 0.6) * (y - 0.6) + (z - 0.5) * (z - 0.5)));
  }
  NEUROPS_PETSC(VecRestoreArray(p.b, &a));
  set("-s_ksp_type", "dcdm");  // no -s_ksp_dcdm_model: the shipped model
  set("-g_ksp_type", "cg");
  set("-g_pc_type", "none");
  set("-g_ksp_norm_type", "unpreconditioned");
  for (const char* pre : {"-s_", "-g_"}) {
    set(std::string(pre) + "ksp_rtol", "1e-4");
    set(std::string(pre) + "ksp_max_it", "200");
  }
  PetscKSP dcdm = make_ksp(p, "s_");
  NEUROPS_PETSC(KSPSolve(dcdm, p.b, p.x));
  PetscKSP cg = make_ksp(p, "g_");
  NEUROPS_PETSC(KSPSolve(cg, p.b, p.x));
  PetscInt its_dcdm = 0, its_cg = 0;
  KSPConvergedReason reason;
  NEUROPS_PETSC(KSPGetIterationNumber(dcdm, &its_dcdm));
  NEUROPS_PETSC(KSPGetIterationNumber(cg, &its_cg));
  NEUROPS_PETSC(KSPGetConvergedReason(dcdm, &reason));
  BOOST_TEST_MESSAGE("shipped model " << shipped << ": DCDM " << its_dcdm << ", CG " << its_cg << " iterations");
  BOOST_TEST(reason == KSP_CONVERGED_RTOL);
  BOOST_TEST(its_dcdm < its_cg);
  BOOST_TEST(ksp_dcdm_direction(dcdm).model_path() == shipped);
  const auto file = io::H5File::open(shipped);  // the training settings travel with the model
  for (const char* a : {"data_n", "data_modes", "train_samples", "epochs", "batch", "lr", "training_seconds"})
    BOOST_TEST(file.has_attr("/", a), "attribute " << a);
}

BOOST_AUTO_TEST_SUITE_END()
