// The sorbandit PC inside a plain KSP loop, and system files read through PETSc's loaders.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "neurops/io/hdf5.hpp"
#include "neurops/pde/linear_systems.hpp"
#include "neurops/solvers/bandits.hpp"
#include "neurops/solvers/petsc_types.hpp"
#include "neurops/solvers/sor.hpp"
#include "neurops/solvers/system_io.hpp"

using namespace neurops;
using namespace neurops::solvers;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_SUITE(petsc_types)

BOOST_AUTO_TEST_CASE(sorbandit_learns_inside_ksp) {
  // CG + sorbandit (SSOR) over a sequence of shifted Laplacians, configured only through options.
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-sb_ksp_type", "cg"));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-sb_pc_type", "sorbandit"));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-sb_pc_sorbandit_learner", "chebcb"));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-sb_pc_sorbandit_context", "shift"));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-sb_pc_sorbandit_seed", "5"));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-sb_ksp_rtol", "1e-8"));
  const auto family = pde::ShiftedLaplacianFamily::high_variance();
  PetscMat A;
  family.instance(0.0, A);
  PetscVec b, x, check;
  NEUROPS_PETSC(MatCreateVecs(A, x.out(), b.out()));
  NEUROPS_PETSC(VecDuplicate(b, check.out()));
  PetscKSP ksp;
  NEUROPS_PETSC(KSPCreate(PETSC_COMM_SELF, ksp.out()));
  NEUROPS_PETSC(KSPSetOptionsPrefix(ksp, "sb_"));
  NEUROPS_PETSC(KSPSetFromOptions(ksp));
  PC pc = nullptr;
  NEUROPS_PETSC(KSPGetPC(ksp, &pc));
  Rng rng(1);
  const int solves = 60;
  for (int t = 0; t < solves; ++t) {
    const double c = family.sample_shift(rng);
    family.instance(c, A);
    family.sample_rhs(rng, b);
    NEUROPS_PETSC(KSPSetOperators(ksp, A, A));
    NEUROPS_PETSC(KSPSolve(ksp, b, x));
    KSPConvergedReason reason;
    NEUROPS_PETSC(KSPGetConvergedReason(ksp, &reason));
    BOOST_TEST(reason > 0);
    // The solution is right: |b - A x| <= 1e-7 |b|.
    NEUROPS_PETSC(MatMult(A, x, check));
    NEUROPS_PETSC(VecAYPX(check, -1.0, b));
    PetscReal nr = 0, nb = 0;
    NEUROPS_PETSC(VecNorm(check, NORM_2, &nr));
    NEUROPS_PETSC(VecNorm(b, NORM_2, &nb));
    BOOST_TEST(nr <= 1e-7 * nb);
    const double omega = sorbandit_omega(pc);
    BOOST_TEST(omega >= 1.0);
    BOOST_TEST(omega <= 1.95);
  }
  const OmegaTuner* tuner = sorbandit_tuner(pc);
  BOOST_REQUIRE(tuner != nullptr);
  BOOST_TEST(tuner->name() == "chebcb");
  BOOST_TEST(tuner->rounds() == solves);
  // KSP iterations were the costs: each mean is a plausible SSOR-PCG count.
  for (double m : tuner->mean_costs())
    if (!std::isnan(m)) BOOST_TEST((m >= 5 && m <= 200));
  PetscViewer viewer = PETSC_VIEWER_STDOUT_SELF;
  NEUROPS_PETSC(PCView(pc, viewer));
  for (const char* o : {"-sb_ksp_type", "-sb_pc_type", "-sb_pc_sorbandit_learner", "-sb_pc_sorbandit_context",
                        "-sb_pc_sorbandit_seed", "-sb_ksp_rtol"})
    NEUROPS_PETSC(PetscOptionsClearValue(nullptr, o));
}

BOOST_AUTO_TEST_CASE(sorbandit_rejects_bad_options) {
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-bad_pc_type", "sorbandit"));
  NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-bad_pc_sorbandit_omega_max", "2.5"));
  PetscKSP ksp;
  NEUROPS_PETSC(KSPCreate(PETSC_COMM_SELF, ksp.out()));
  NEUROPS_PETSC(KSPSetOptionsPrefix(ksp, "bad_"));
  BOOST_CHECK_EXCEPTION(NEUROPS_PETSC(KSPSetFromOptions(ksp)), Error, [](const Error& e) {
    return std::string(e.what()).find("omega_min/max") != std::string::npos;
  });
  NEUROPS_PETSC(PetscOptionsClearValue(nullptr, "-bad_pc_type"));
  NEUROPS_PETSC(PetscOptionsClearValue(nullptr, "-bad_pc_sorbandit_omega_max"));
}

BOOST_AUTO_TEST_CASE(system_files_round_trip) {
  const fs::path dir = fs::temp_directory_path() / ("neurops_sys_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto family = pde::ShiftedLaplacianFamily::low_variance();
  PetscMat A;
  family.instance(0.3, A);
  PetscVec b;
  NEUROPS_PETSC(MatCreateVecs(A, nullptr, b.out()));
  Rng rng(2);
  family.sample_rhs(rng, b);
  for (const char* name : {"sys.h5", "sys.bin"}) {
    write_system(dir / name, A, b, 0.3);
    auto sys = read_system(PETSC_COMM_SELF, dir / name);
    PetscBool same = PETSC_FALSE;
    NEUROPS_PETSC(MatEqual(A, sys.A, &same));
    BOOST_TEST(bool(same));
    NEUROPS_PETSC(VecEqual(b, sys.b, &same));
    BOOST_TEST(bool(same));
    if (std::string(name) == "sys.h5") BOOST_TEST(sys.context.value() == 0.3);
  }
  // Malformed files: clear errors naming the file, and the good file is untouched.
  auto expect_error = [&](const fs::path& p, const std::string& needle) {
    BOOST_CHECK_EXCEPTION(read_system(PETSC_COMM_SELF, p), Error, [&](const Error& e) {
      const std::string m = e.what();
      BOOST_TEST_MESSAGE(m);
      return m.find(p.filename().string()) != std::string::npos && m.find(needle) != std::string::npos;
    });
  };
  expect_error(dir / "missing.h5", "does not exist");
  { std::ofstream(dir / "garbage.h5") << "not an HDF5 file"; }
  expect_error(dir / "garbage.h5", "garbage.h5");
  {
    auto f = io::H5File::create(dir / "nob.h5");
    Tensor<std::int64_t> jc({3});
    jc[1] = 1;
    jc[2] = 2;
    f.write("/A/jc", jc);
    f.write("/A/ir", Tensor<std::int64_t>({2}));
    f.write("/A/data", Tensor<double>({2}));
    f.set_attr("/A", "MATLAB_sparse", std::int64_t(2));
    f.commit();
  }
  expect_error(dir / "nob.h5", "/b is missing");
  {
    auto f = io::H5File::create(dir / "badcols.h5");
    Tensor<std::int64_t> jc({3}), ir({2});
    jc[1] = 1;
    jc[2] = 2;
    ir[1] = 7;
    f.write("/A/jc", jc);
    f.write("/A/ir", ir);
    f.write("/A/data", Tensor<double>({2}));
    f.set_attr("/A", "MATLAB_sparse", std::int64_t(2));
    f.write("/b", Tensor<double>({2}));
    f.commit();
  }
  expect_error(dir / "badcols.h5", "column index 7");
  {
    auto f = io::H5File::create(dir / "rect.h5");
    Tensor<std::int64_t> jc({3});
    f.write("/A/jc", jc);
    f.write("/A/ir", Tensor<std::int64_t>({0}));
    f.write("/A/data", Tensor<double>({0}));
    f.set_attr("/A", "MATLAB_sparse", std::int64_t(3));
    f.write("/b", Tensor<double>({2}));
    f.commit();
  }
  expect_error(dir / "rect.h5", "square");
  { std::ofstream(dir / "trunc.bin") << "xx"; }
  expect_error(dir / "trunc.bin", "trunc.bin");
  auto again = read_system(PETSC_COMM_SELF, dir / "sys.h5");
  BOOST_TEST(bool(again.A));
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
