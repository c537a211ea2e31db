// The sorbandit PC across processes and formats: a learner continued from -pc_sorbandit_state makes
// the choices of one uninterrupted sequence; a failed write at destroy is an error naming the file;
// BAIJ and SBAIJ operators give exactly the AIJ results; -log_view sees the sweeps' flops; the C
// interface reads omega, rounds and the summary.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "../support/small_disk.hpp"
#include "neurops/pde/linear_systems.hpp"
#include "neurops/solvers/bandits.hpp"
#include "neurops/solvers/pc_sorbandit.hpp"
#include "neurops/solvers/sorbandit_c.h"

using namespace neurops;
using namespace neurops::solvers;
namespace fs = std::filesystem;

namespace {
struct Solves {
  std::vector<double> omegas;
  std::vector<PetscInt> iterations;
  std::int64_t rounds_at_end = 0;
};

/// Options of a KSP with `prefix`: CG + sorbandit with a contextual learner, and `extra` pairs.
void set_options(const std::string& prefix, const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::pair<std::string, std::string>> all{{"ksp_type", "cg"},
                                                       {"ksp_rtol", "1e-8"},
                                                       {"pc_type", "sorbandit"},
                                                       {"pc_sorbandit_learner", "binned"},
                                                       {"pc_sorbandit_context", "shift"},
                                                       {"pc_sorbandit_seed", "4"}};
  all.insert(all.end(), extra.begin(), extra.end());
  for (const auto& [k, v] : all) NEUROPS_PETSC(PetscOptionsSetValue(nullptr, ("-" + prefix + k).c_str(), v.c_str()));
}

/// Solves systems [begin, end) of a fixed sequence of shifted Laplacians (system t depends on t only),
/// with the operator converted to `format`, in one KSP that is destroyed at the end.
Solves solve_sequence(const std::string& prefix, int begin, int end, MatType format = MATAIJ) {
  const auto family = pde::ShiftedLaplacianFamily::high_variance();
  PetscKSP ksp;
  NEUROPS_PETSC(KSPCreate(PETSC_COMM_SELF, ksp.out()));
  NEUROPS_PETSC(KSPSetOptionsPrefix(ksp, prefix.c_str()));
  NEUROPS_PETSC(KSPSetFromOptions(ksp));
  PC pc = nullptr;
  NEUROPS_PETSC(KSPGetPC(ksp, &pc));
  PetscMat aij, A;
  PetscVec b, x;
  Solves out;
  for (int t = begin; t < end; ++t) {
    Rng rng(seed_from_name("system") + std::uint64_t(t));
    family.instance(family.sample_shift(rng), aij);
    if (!b) NEUROPS_PETSC(MatCreateVecs(aij, x.out(), b.out()));
    family.sample_rhs(rng, b);
    NEUROPS_PETSC(MatSetOption(aij, MAT_SYMMETRIC, PETSC_TRUE));  // SBAIJ keeps one triangle of a symmetric matrix
    NEUROPS_PETSC(MatConvert(aij, format, MAT_INITIAL_MATRIX, A.out()));
    NEUROPS_PETSC(KSPSetOperators(ksp, A, A));
    NEUROPS_PETSC(KSPSolve(ksp, b, x));
    PetscInt its = 0;
    NEUROPS_PETSC(KSPGetIterationNumber(ksp, &its));
    out.omegas.push_back(sorbandit_omega(pc));
    out.iterations.push_back(its);
  }
  out.rounds_at_end = sorbandit_tuner(pc)->rounds();
  KSP raw = ksp.release();
  NEUROPS_PETSC(KSPDestroy(&raw));  // destroys the PC now, which writes the state: checked here
  return out;
}

void clear_options(const std::string& prefix) {
  for (const char* k : {"ksp_type", "ksp_rtol", "pc_type", "pc_sorbandit_learner", "pc_sorbandit_context",
                        "pc_sorbandit_seed", "pc_sorbandit_state"})
    NEUROPS_PETSC(PetscOptionsClearValue(nullptr, ("-" + prefix + k).c_str()));
}

struct Scratch {
  fs::path dir = fs::temp_directory_path() / ("neurops_sorbandit_pc_" + std::to_string(::getpid()));
  Scratch() { fs::create_directories(dir); }
  ~Scratch() { fs::remove_all(dir); }
};
}  // namespace

BOOST_AUTO_TEST_SUITE(sorbandit_pc)

BOOST_AUTO_TEST_CASE(a_state_file_continues_the_learner_in_a_new_pc) {
  Scratch scratch;
  const std::string state = (scratch.dir / "omega.h5").string();
  set_options("whole_", {});
  const Solves whole = solve_sequence("whole_", 0, 40);
  clear_options("whole_");
  set_options("split_", {{"pc_sorbandit_state", state}});
  const Solves first = solve_sequence("split_", 0, 17);
  BOOST_TEST(fs::exists(state));
  const Solves second = solve_sequence("split_", 17, 40);  // a new PC: reads the file at set-up
  clear_options("split_");
  BOOST_TEST(first.rounds_at_end == 17);
  BOOST_TEST(second.rounds_at_end == 40);
  std::vector<double> omegas = first.omegas;
  omegas.insert(omegas.end(), second.omegas.begin(), second.omegas.end());
  BOOST_TEST(omegas == whole.omegas);  // bit for bit
  std::vector<PetscInt> its = first.iterations;
  its.insert(its.end(), second.iterations.begin(), second.iterations.end());
  BOOST_TEST(its == whole.iterations);
}

BOOST_AUTO_TEST_CASE(a_state_file_of_another_learner_is_refused_and_kept) {
  Scratch scratch;
  const std::string state = (scratch.dir / "omega.h5").string();
  set_options("a_", {{"pc_sorbandit_state", state}});
  solve_sequence("a_", 0, 5);
  clear_options("a_");
  const auto before = fs::last_write_time(state);
  set_options("b_", {{"pc_sorbandit_state", state}, {"pc_sorbandit_learner", "chebcb"}});
  BOOST_CHECK_EXCEPTION(solve_sequence("b_", 0, 1), Error, [&](const Error& e) {
    const std::string m = e.what();
    BOOST_TEST_MESSAGE(m);
    return m.find("omega.h5") != std::string::npos &&
           m.find("learner is binned in the file but chebcb") != std::string::npos;
  });
  clear_options("b_");
  BOOST_TEST((fs::last_write_time(state) == before));  // the refusal wrote nothing
}

BOOST_AUTO_TEST_CASE(a_failed_write_at_destroy_is_an_error_naming_the_file) {
  Scratch scratch;
  const std::string state = (scratch.dir / "missing_folder" / "omega.h5").string();
  set_options("w_", {{"pc_sorbandit_state", state}});
  BOOST_CHECK_EXCEPTION(solve_sequence("w_", 0, 2), Error, [&](const Error& e) {
    const std::string m = e.what();
    BOOST_TEST_MESSAGE(m);
    return m.find("missing_folder/omega.h5") != std::string::npos && m.find("not written") != std::string::npos;
  });
  clear_options("w_");
}

BOOST_AUTO_TEST_CASE(a_full_disk_at_destroy_keeps_the_previous_state_file) {
  Scratch scratch;
  test::SmallDisk disk(scratch.dir / "small", 256 * 1024);
  const fs::path state = disk.dir() / "omega.h5";
  set_options("d_", {{"pc_sorbandit_state", state.string()}});
  solve_sequence("d_", 0, 4);
  auto bytes = [&] {
    std::ifstream in(state, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string before = bytes();
  std::optional<test::SmallDisk> limit;  // without a tmpfs: no file may grow past 1 KiB
  if (disk.is_tmpfs()) {                 // fill the disk to the last byte
    std::ofstream filler(disk.dir() / "filler", std::ios::binary);
    const std::string block(4096, 'x');
    while (filler.write(block.data(), std::streamsize(block.size())) && filler.flush()) {
    }
  } else {
    limit.emplace(scratch.dir / "limit", 1024);
    limit->limit();
  }
  BOOST_TEST_MESSAGE("disk full through " << disk.kind());
  BOOST_CHECK_EXCEPTION(solve_sequence("d_", 4, 8), Error, [&](const Error& e) {
    const std::string m = e.what();
    BOOST_TEST_MESSAGE(m);
    return m.find("omega.h5") != std::string::npos && m.find("not written") != std::string::npos;
  });
  limit.reset();
  clear_options("d_");
  BOOST_TEST(bytes() == before);  // the learner of the first 4 solves is still there
  for (const auto& e : fs::directory_iterator(disk.dir()))
    BOOST_TEST(e.path().filename().string().find(".tmp-") == std::string::npos, e.path());
}

BOOST_AUTO_TEST_CASE(baij_and_sbaij_operators_give_the_aij_results) {
  set_options("f_", {});
  const Solves aij = solve_sequence("f_", 0, 12, MATAIJ);
  const Solves baij = solve_sequence("f_", 0, 12, MATBAIJ);
  const Solves sbaij = solve_sequence("f_", 0, 12, MATSBAIJ);
  clear_options("f_");
  BOOST_TEST(baij.omegas == aij.omegas);
  BOOST_TEST(baij.iterations == aij.iterations);
  BOOST_TEST(sbaij.omegas == aij.omegas);
  BOOST_TEST(sbaij.iterations == aij.iterations);
}

BOOST_AUTO_TEST_CASE(the_sweeps_log_their_flops) {
  // Tridiagonal 10 x 10: 9 entries below and 9 above the diagonal.
  PetscMat A;
  NEUROPS_PETSC(MatCreateSeqAIJ(PETSC_COMM_SELF, 10, 10, 3, nullptr, A.out()));
  for (PetscInt i = 0; i < 10; ++i) {
    NEUROPS_PETSC(MatSetValue(A, i, i, 2.5, INSERT_VALUES));
    if (i > 0) NEUROPS_PETSC(MatSetValue(A, i, i - 1, -1.0, INSERT_VALUES));
    if (i < 9) NEUROPS_PETSC(MatSetValue(A, i, i + 1, -1.0, INSERT_VALUES));
  }
  NEUROPS_PETSC(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  NEUROPS_PETSC(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  PetscVec x, y;
  NEUROPS_PETSC(MatCreateVecs(A, x.out(), y.out()));
  NEUROPS_PETSC(VecSet(x, 1.0));
  for (const auto& [sweep, expected] : {std::pair<const char*, double>{"symmetric", 2 * 18 + 6 * 10},
                                        std::pair<const char*, double>{"forward", 2 * 9 + 2 * 10}}) {
    NEUROPS_PETSC(PetscOptionsSetValue(nullptr, "-fl_pc_sorbandit_sweep", sweep));
    PetscPC pc;
    NEUROPS_PETSC(PCCreate(PETSC_COMM_SELF, pc.out()));
    NEUROPS_PETSC(PCSetOptionsPrefix(pc, "fl_"));
    NEUROPS_PETSC(PCSetType(pc, PCSORBANDIT));
    NEUROPS_PETSC(PCSetFromOptions(pc));
    NEUROPS_PETSC(PCSetOperators(pc, A, A));
    NEUROPS_PETSC(PCSetUp(pc));
    PetscLogDouble before = 0, after = 0;
    NEUROPS_PETSC(PetscGetFlops(&before));
    NEUROPS_PETSC(PCApply(pc, x, y));
    NEUROPS_PETSC(PetscGetFlops(&after));
    BOOST_TEST(after - before == expected, sweep);
  }
  NEUROPS_PETSC(PetscOptionsClearValue(nullptr, "-fl_pc_sorbandit_sweep"));
}

BOOST_AUTO_TEST_CASE(the_c_interface_reads_omega_rounds_and_summary) {
  set_options("c_", {});
  const auto family = pde::ShiftedLaplacianFamily::low_variance();
  PetscMat A;
  family.instance(0.1, A);
  PetscVec b, x;
  NEUROPS_PETSC(MatCreateVecs(A, x.out(), b.out()));
  NEUROPS_PETSC(VecSet(b, 1.0));
  PetscKSP ksp;
  NEUROPS_PETSC(KSPCreate(PETSC_COMM_SELF, ksp.out()));
  NEUROPS_PETSC(KSPSetOptionsPrefix(ksp, "c_"));
  NEUROPS_PETSC(KSPSetFromOptions(ksp));
  NEUROPS_PETSC(KSPSetOperators(ksp, A, A));
  PC pc = nullptr;
  NEUROPS_PETSC(KSPGetPC(ksp, &pc));
  NEUROPS_PETSC(PetscPushErrorHandler(PetscReturnErrorHandler, nullptr));  // expected errors: no traceback
  double omega = 0;
  BOOST_TEST(NeuropsPCSorBanditGetOmega(pc, &omega) == PETSC_ERR_ORDER);  // no learner before set-up
  NEUROPS_PETSC(PetscPopErrorHandler());
  for (int t = 0; t < 3; ++t) NEUROPS_PETSC(KSPSolve(ksp, b, x));
  BOOST_TEST(NeuropsPCSorBanditGetOmega(pc, &omega) == 0);
  BOOST_TEST(omega == sorbandit_omega(pc));
  std::int64_t rounds = 0;
  BOOST_TEST(NeuropsPCSorBanditGetRounds(pc, &rounds) == 0);
  BOOST_TEST(rounds == 3);
  const std::string summary = sorbandit_tuner(pc)->summary();
  std::size_t needed = 0;
  char small[16];
  BOOST_TEST(NeuropsPCSorBanditGetSummary(pc, small, sizeof small, &needed) == 0);
  BOOST_TEST(needed == summary.size());
  BOOST_TEST(std::string(small) == summary.substr(0, 15));
  std::vector<char> full(needed + 1);
  BOOST_TEST(NeuropsPCSorBanditGetSummary(pc, full.data(), full.size(), nullptr) == 0);
  BOOST_TEST(std::string(full.data()) == summary);
  PetscPC jacobi;
  NEUROPS_PETSC(PCCreate(PETSC_COMM_SELF, jacobi.out()));
  NEUROPS_PETSC(PCSetType(jacobi, PCJACOBI));
  NEUROPS_PETSC(PetscPushErrorHandler(PetscReturnErrorHandler, nullptr));
  BOOST_TEST(NeuropsPCSorBanditGetOmega(jacobi, &omega) == PETSC_ERR_ARG_WRONG);
  NEUROPS_PETSC(PetscPopErrorHandler());
  clear_options("c_");
}

BOOST_AUTO_TEST_SUITE_END()
