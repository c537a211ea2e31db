// The configbandit PC inside a plain KSP loop: it learns the cheapest option set, checks every set before
// the first solve, and continues from its state file exactly; the learner over K arms it uses.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <map>

#include "../support/expect_error.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/pde/linear_systems.hpp"
#include "neurops/solvers/bandit_state.hpp"
#include "neurops/solvers/bandits.hpp"
#include "neurops/solvers/pc_configbandit.hpp"

using namespace neurops;
using namespace neurops::solvers;
namespace fs = std::filesystem;

namespace {

// Options under a test's own KSP prefix, removed again when the test ends.
struct ScopedOptions {
  explicit ScopedOptions(const std::map<std::string, std::string>& options) {
    for (const auto& [name, value] : options) {
      NEUROPS_PETSC(PetscOptionsSetValue(nullptr, name.c_str(), value.empty() ? nullptr : value.c_str()));
      names.push_back(name);
    }
  }
  ~ScopedOptions() {
    for (const auto& n : names) (void)PetscOptionsClearValue(nullptr, n.c_str());
  }
  std::vector<std::string> names;
};

struct Scratch {
  fs::path dir = fs::temp_directory_path() / ("neurops_configbandit_" + std::to_string(::getpid()));
  Scratch() { fs::create_directories(dir); }
  ~Scratch() { fs::remove_all(dir); }
};

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// What a sequence of solves left: the arm of each solve and the learner's counters at the end.
struct Run {
  std::vector<int> arms;
  std::int64_t rounds = 0;
  std::vector<std::int64_t> pulls;
  std::vector<double> mean_costs;
};

// `solves` CG solves of the Learning-to-Relax family (shifts and right-hand sides from seed 1, skipping
// the first `skip` instances) through a KSP with prefix `prefix` set from the options.
Run run_sequence(const std::string& prefix, int solves, int skip = 0) {
  const auto family = pde::ShiftedLaplacianFamily::low_variance();
  PetscMat A;
  family.instance(0.0, A);
  PetscVec b, x;
  NEUROPS_PETSC(MatCreateVecs(A, x.out(), b.out()));
  PetscKSP ksp;
  NEUROPS_PETSC(KSPCreate(PETSC_COMM_SELF, ksp.out()));
  NEUROPS_PETSC(KSPSetOptionsPrefix(ksp, prefix.c_str()));
  NEUROPS_PETSC(KSPSetType(ksp, KSPCG));
  NEUROPS_PETSC(KSPSetTolerances(ksp, 1e-8, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT));
  NEUROPS_PETSC(KSPSetFromOptions(ksp));
  PC pc = nullptr;
  NEUROPS_PETSC(KSPGetPC(ksp, &pc));
  Rng rng(1);
  Run run;
  for (int t = 0; t < skip + solves; ++t) {
    const double c = family.sample_shift(rng);
    family.sample_rhs(rng, b);
    if (t < skip) continue;
    family.instance(c, A);
    NEUROPS_PETSC(KSPSetOperators(ksp, A, A));
    NEUROPS_PETSC(KSPSolve(ksp, b, x));
    KSPConvergedReason reason;
    NEUROPS_PETSC(KSPGetConvergedReason(ksp, &reason));
    BOOST_TEST(reason > 0);
    run.arms.push_back(configbandit_arm(pc));
  }
  const BanditLearner* learner = configbandit_learner(pc);
  BOOST_REQUIRE(learner != nullptr);
  run.rounds = learner->rounds();
  run.pulls = learner->pulls();
  run.mean_costs = learner->mean_costs();
  KSP raw = ksp.release();
  NEUROPS_PETSC(KSPDestroy(&raw));  // destroys the PC now, which writes the state: checked here
  return run;
}

// KSPSetFromOptions + KSPSetUp of a KSP with prefix `prefix` on a small Laplacian.
void set_up(const std::string& prefix) {
  const auto family = pde::ShiftedLaplacianFamily::low_variance();
  PetscMat A;
  family.instance(0.1, A);
  PetscKSP ksp;
  NEUROPS_PETSC(KSPCreate(PETSC_COMM_SELF, ksp.out()));
  NEUROPS_PETSC(KSPSetOptionsPrefix(ksp, prefix.c_str()));
  NEUROPS_PETSC(KSPSetOperators(ksp, A, A));
  NEUROPS_PETSC(KSPSetFromOptions(ksp));
  NEUROPS_PETSC(KSPSetUp(ksp));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(configbandit)

BOOST_AUTO_TEST_CASE(the_arm_set_learner_chooses_as_the_omega_tuner_does) {
  // Tsallis-INF over K labelled arms sees only indices: over option sets it makes the choices it makes
  // over an omega grid of the same size, seed and costs.
  for (const std::string normaliser : {"reference", "safeguarded"}) {
    auto omega = make_tuner({.learner = "tsallis", .arms = 5, .tsallis_normaliser = normaliser, .seed = 11});
    auto sets = make_arm_set_learner({.learner = "tsallis", .arms = 5, .tsallis_normaliser = normaliser, .seed = 11});
    for (int t = 0; t < 300; ++t) {
      omega->choose();
      sets->choose();
      BOOST_REQUIRE_EQUAL(omega->last_arm(), sets->last_arm());
      const double cost = 5.0 + 3.0 * std::abs(omega->last_arm() - 3) + (t % 7);
      omega->observe(cost);
      sets->observe(cost);
    }
    BOOST_TEST(sets->arms() == std::vector<double>({0, 1, 2, 3, 4}), boost::test_tools::per_element());
  }
  auto fixed = make_arm_set_learner({.learner = "fixed", .arms = 3, .fixed_arm = 2});
  for (int t = 0; t < 5; ++t) BOOST_TEST(fixed->choose() == 2.0);
  expect_error([] { make_arm_set_learner({.learner = "fixed", .arms = 3, .fixed_arm = 3}); }, {"fixed arm 3"});
  expect_error([] { make_arm_set_learner({.learner = "chebcb", .arms = 3}); }, {"unknown learner 'chebcb'"});
  expect_error([] { make_arm_set_learner({.arms = 0}); }, {"at least one arm"});
}

BOOST_AUTO_TEST_CASE(the_pulls_concentrate_on_the_configuration_of_fewer_iterations) {
  // CG with Jacobi (a constant diagonal: plain CG) against CG with ICC on shifted Laplacians, cost =
  // iterations: ICC needs clearly fewer, and the learner plays it most.
  ScopedOptions options({{"-cbl_pc_type", "configbandit"},
                         {"-cbl_pc_configbandit_configs", "jacobi; icc -pc_factor_levels 1"},
                         {"-cbl_pc_configbandit_cost", "iterations"},
                         {"-cbl_pc_configbandit_seed", "4"},
                         {"-cbl_pc_configbandit_view", ""}});
  const auto run = run_sequence("cbl_", 80);
  BOOST_TEST(run.rounds == 80);
  BOOST_TEST(run.mean_costs[1] < run.mean_costs[0] - 3);  // means of 1 + iterations
  BOOST_TEST(run.pulls[1] >= 60, "icc played " << run.pulls[1] << " of 80 times");
  int late_icc = 0;
  for (std::size_t t = 60; t < run.arms.size(); ++t) late_icc += run.arms[t] == 1;
  BOOST_TEST(late_icc >= 17);
  // The inner PC of arm 1 read its option (-cbl_configbandit_1_pc_factor_levels).
  PetscBool used = PETSC_FALSE;
  NEUROPS_PETSC(PetscOptionsUsed(nullptr, "cbl_configbandit_1_pc_factor_levels", &used));
  BOOST_TEST(bool(used));
}

BOOST_AUTO_TEST_CASE(an_invalid_option_set_is_an_error_before_the_first_solve_naming_it) {
  struct Case {
    std::string configs, expected_a, expected_b;
  };
  const std::vector<Case> cases = {
      {"icc;sor -pc_sor_omegga 1.7", "option set 1 'sor -pc_sor_omegga 1.7'", "option -pc_sor_omegga is not read"},
      {"icc;no_such_pc", "option set 1 'no_such_pc'", "unknown PC type 'no_such_pc'"},
      {"jacobi;;icc", "option set 1 is empty", "expected a PC type"},
      {"-pc_sor_omega 1.2", "option set 0", "expected a PC type first"},
      {"jacobi;icc -pc_factor_levels 1 2", "option set 1", "expected an option name (-name), found '2'"},
  };
  for (const auto& c : cases) {
    ScopedOptions options({{"-cbe_pc_type", "configbandit"}, {"-cbe_pc_configbandit_configs", c.configs}});
    expect_error([] { set_up("cbe_"); }, {"-cbe_pc_configbandit_configs", c.expected_a, c.expected_b});
  }
  // No option sets at all: an error at set-up naming the option.
  ScopedOptions options(std::map<std::string, std::string>{{"-cbn_pc_type", "configbandit"}});
  expect_error([] { set_up("cbn_"); }, {"-cbn_pc_configbandit_configs"});
}

BOOST_AUTO_TEST_CASE(a_run_continued_from_the_state_file_chooses_as_one_run) {
  Scratch scratch;
  const std::string state = (scratch.dir / "configs.h5").string();
  const std::string configs = "jacobi;icc;sor -pc_sor_omega 1.5";
  std::vector<int> whole, split;
  {
    ScopedOptions options({{"-cbw_pc_type", "configbandit"},
                           {"-cbw_pc_configbandit_configs", configs},
                           {"-cbw_pc_configbandit_cost", "iterations"},
                           {"-cbw_pc_configbandit_seed", "9"}});
    whole = run_sequence("cbw_", 40).arms;
  }
  {
    ScopedOptions options({{"-cbs_pc_type", "configbandit"},
                           {"-cbs_pc_configbandit_configs", configs},
                           {"-cbs_pc_configbandit_cost", "iterations"},
                           {"-cbs_pc_configbandit_seed", "9"},
                           {"-cbs_pc_configbandit_state", state}});
    split = run_sequence("cbs_", 25).arms;
    BOOST_REQUIRE(fs::exists(state));
    const auto second = run_sequence("cbs_", 15, 25).arms;
    split.insert(split.end(), second.begin(), second.end());
  }
  BOOST_TEST(whole == split, boost::test_tools::per_element());
  const auto learner = load_arm_set_state(state, {.learner = "tsallis", .arms = 3, .seed = 9},
                                          {"jacobi", "icc", "sor -pc_sor_omega 1.5"});
  BOOST_TEST(learner->rounds() == 40);
}

BOOST_AUTO_TEST_CASE(a_state_file_of_another_arm_set_or_learner_is_refused_and_left_intact) {
  Scratch scratch;
  const std::string state = (scratch.dir / "configs.h5").string();
  {
    ScopedOptions options({{"-cbr_pc_type", "configbandit"},
                           {"-cbr_pc_configbandit_configs", "jacobi;icc"},
                           {"-cbr_pc_configbandit_cost", "iterations"},
                           {"-cbr_pc_configbandit_state", state}});
    run_sequence("cbr_", 5);
  }
  const std::string before = bytes_of(state);
  {
    ScopedOptions options({{"-cbx_pc_type", "configbandit"},
                           {"-cbx_pc_configbandit_configs", "jacobi;sor"},
                           {"-cbx_pc_configbandit_state", state}});
    expect_error([] { set_up("cbx_"); }, {"configs.h5", "the arm set (option sets) is [jacobi; icc] in the file",
                                          "[jacobi; sor] in the options"});
  }
  {
    ScopedOptions options({{"-cby_pc_type", "configbandit"},
                           {"-cby_pc_configbandit_configs", "jacobi;icc"},
                           {"-cby_pc_configbandit_learner", "fixed"},
                           {"-cby_pc_configbandit_state", state}});
    expect_error([] { set_up("cby_"); }, {"configs.h5", "learner is tsallis in the file but fixed"});
  }
  BOOST_TEST(bytes_of(state) == before);
  // An omega tuner's file is not a configuration learner's, and the other way round.
  expect_error([&] { load_tuner_state(state, {.learner = "tsallis", .arms = 2}); }, {"configs.h5", "option sets"});
  const fs::path omega = scratch.dir / "omega.h5";
  TunerConfig tc{.learner = "tsallis", .arms = 2};
  save_tuner_state(omega, *make_tuner(tc), tc);
  expect_error([&] { load_arm_set_state(omega, {.arms = 2}, {"jacobi", "icc"}); }, {"omega.h5", "omega tuner"});
}

BOOST_AUTO_TEST_CASE(a_failed_write_at_destroy_keeps_the_previous_state_file) {
  Scratch scratch;
  const fs::path state = scratch.dir / "configs.h5";
  ScopedOptions options({{"-cbf_pc_type", "configbandit"},
                         {"-cbf_pc_configbandit_configs", "jacobi;icc"},
                         {"-cbf_pc_configbandit_cost", "iterations"},
                         {"-cbf_pc_configbandit_state", state.string()}});
  run_sequence("cbf_", 5);
  const std::string before = bytes_of(state);
  // The temporary the next write goes to is taken (a folder of that name): the write fails.
  const fs::path blocker = io::temporary_path(state);
  fs::create_directories(blocker / "in_the_way");
  expect_error([] { run_sequence("cbf_", 5, 5); }, {"configs.h5", "not written", "unchanged"});
  fs::remove_all(blocker);
  BOOST_TEST(bytes_of(state) == before);  // the learner of the first 5 solves is still there
  BOOST_TEST(load_arm_set_state(state, {.arms = 2}, {"jacobi", "icc"})->rounds() == 5);
}

BOOST_AUTO_TEST_SUITE_END()
