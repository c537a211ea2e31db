// tune_solver_configs — the configbandit PC against every fixed preconditioner configuration, over
// two sequences of linear systems, solve by solve.
//
// What it shows:
//   1. the configbandit PC (solvers/pc_configbandit.hpp) chooses among whole option sets before each
//      CG solve and learns from the solves' wall time, with Tsallis-INF;
//   2. on the Crank–Nicolson heat sequence (a time-varying diffusion coefficient, so every matrix
//      differs) and on a Darcy coefficient sequence (a new two-valued coefficient per solve, FNO's
//      setting), each system is solved once by every fixed configuration and once by the bandit, in
//      rotating order so that a slow spell of the machine hits every column alike;
//   3. a table per sequence: each configuration's total time (PC set-up included) and mean
//      iterations, the bandit's total and the share of solves it gave each configuration, the best
//      fixed configuration in hindsight, the per-solve best (an oracle), and the ratio bandit / best
//      fixed (the target is 1.15 over 1000 solves);
//   4. the tables, one row per configuration, written to <out>.csv (atomically).
// Every run of the same options sees the same systems (seeded); times differ from run to run and
// machine to machine, the ratios measured side by side are what to quote. The bandit's KSP has the
// prefix tcfg_bandit_, so -tcfg_bandit_pc_configbandit_state file.h5 keeps what it learned between
// runs and -tcfg_bandit_pc_configbandit_view prints its report.
//
// Sample runs:
//   ./tune_solver_configs                                         # both sequences, 1000 solves each
//   ./tune_solver_configs -tcfg_problems darcy -tcfg_solves 200 -tcfg_darcy_n 97
//   ./tune_solver_configs -tcfg_configs "icc;gamg;jacobi" -tcfg_cost iterations -tcfg_seed 3
#include <petscconf.h>

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <sstream>

#include "neurops/io/hdf5.hpp"
#include "neurops/neurops.hpp"
#include "neurops/pde/darcy.hpp"
#include "neurops/pde/grf.hpp"
#include "neurops/pde/linear_systems.hpp"
#include "neurops/solvers/bandits.hpp"
#include "neurops/solvers/pc_configbandit.hpp"
#include "neurops/solvers/petsc_types.hpp"

using namespace neurops;
using namespace neurops::solvers;

namespace {

#ifdef PETSC_HAVE_HYPRE
const char* kDefaultConfigs = "icc;gamg;sor -pc_sor_omega 1.7;hypre -pc_hypre_type boomeramg";
#else
const char* kDefaultConfigs = "icc;gamg;sor -pc_sor_omega 1.7";
#endif

// A sequence of systems: next() makes system t in A and b and the initial guess in x0.
class Sequence {
 public:
  virtual ~Sequence() = default;
  virtual std::string title() const = 0;
  virtual void next(Mat& A, Vec& b, Vec& x0) = 0;
  /// Accepts the solution of the current system (the heat sequence steps forward with it).
  virtual void accept(Vec) {}
};

class HeatSystems final : public Sequence {
 public:
  explicit HeatSystems(PetscInt nx) : heat_(PETSC_COMM_WORLD, nx), nx_(nx) {}
  std::string title() const override {
    return "heat (Crank-Nicolson, " + std::to_string((nx_ - 1) * (nx_ - 1)) + " unknowns, warm starts)";
  }
  void next(Mat& A, Vec& b, Vec& x0) override {
    heat_.system(A_, b_);
    A = A_;
    b = b_;
    x0 = heat_.state();
  }
  void accept(Vec x) override { heat_.advance(x); }

 private:
  pde::HeatSequence heat_;
  PetscInt nx_;
  PetscMat A_;
  PetscVec b_;
};

class DarcySystems final : public Sequence {
 public:
  DarcySystems(index_t n, std::uint64_t seed)
      : darcy_(n, {.comm = PETSC_COMM_WORLD}), grf_(n), rng_(seed), ones_({n, n}), n_(n) {
    ones_.fill(1.0);
  }
  std::string title() const override {
    return "Darcy (a = 12 or 3 from a new GRF per solve, " + std::to_string(n_) + "^2 nodes)";
  }
  void next(Mat& A, Vec& b, Vec& x0) override {
    darcy_.assemble(pde::threshold_coefficient(grf_.sample(rng_)), ones_);
    A = darcy_.matrix();
    b = darcy_.rhs();
    x0 = nullptr;
  }

 private:
  pde::DarcySolver darcy_;
  pde::DirichletGrf grf_;
  Rng rng_;
  Tensor<double> ones_;
  index_t n_;
};

struct Settings {
  std::string configs;
  std::int64_t solves = 1000;
  std::string cost = "time";
  double rtol = 1e-8;
  std::int64_t seed = 0;
};

// One column of the comparison: a KSP (CG + configbandit) and what its solves cost.
struct Column {
  std::string name;
  PetscKSP ksp;
  PetscVec x;
  std::vector<double> seconds;
  double iterations = 0;
  std::vector<std::int64_t> chosen;  // solves per arm (the bandit's shares)
};

Column make_column(const std::string& name, const std::string& prefix, const Settings& s, const std::string& learner,
                   int fixed_arm) {
  auto set = [&](const std::string& option, const std::string& value) {
    NEUROPS_PETSC(PetscOptionsSetValue(nullptr, ("-" + prefix + option).c_str(), value.c_str()));
  };
  set("pc_type", "configbandit");
  set("pc_configbandit_configs", s.configs);
  set("pc_configbandit_learner", learner);
  set("pc_configbandit_fixed", std::to_string(fixed_arm));
  set("pc_configbandit_cost", s.cost);
  set("pc_configbandit_seed", std::to_string(s.seed));
  Column c{name, {}, {}, {}, 0, {}};
  NEUROPS_PETSC(KSPCreate(PETSC_COMM_WORLD, c.ksp.out()));
  NEUROPS_PETSC(KSPSetOptionsPrefix(c.ksp, prefix.c_str()));
  NEUROPS_PETSC(KSPSetType(c.ksp, KSPCG));
  NEUROPS_PETSC(KSPSetTolerances(c.ksp, s.rtol, PETSC_DEFAULT, PETSC_DEFAULT, 100000));
  NEUROPS_PETSC(KSPSetFromOptions(c.ksp));  // every option set is checked here, before any solve
  return c;
}

// Solves the system with column c from x0 (zero when null); the wall time of the KSPSolve.
void solve(Column& c, Mat A, Vec b, Vec x0) {
  if (!c.x) NEUROPS_PETSC(VecDuplicate(b, c.x.out()));
  if (x0) NEUROPS_PETSC(VecCopy(x0, c.x));
  NEUROPS_PETSC(KSPSetInitialGuessNonzero(c.ksp, x0 ? PETSC_TRUE : PETSC_FALSE));
  NEUROPS_PETSC(KSPSetOperators(c.ksp, A, A));
  NEUROPS_PETSC(MPI_Barrier(PETSC_COMM_WORLD));
  Timer timer;
  NEUROPS_PETSC(KSPSolve(c.ksp, b, c.x));
  double t = timer.seconds();
  NEUROPS_PETSC(MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD));
  KSPConvergedReason reason;
  PetscInt its = 0;
  NEUROPS_PETSC(KSPGetConvergedReason(c.ksp, &reason));
  NEUROPS_PETSC(KSPGetIterationNumber(c.ksp, &its));
  if (reason <= 0) {
    PC pc = nullptr;
    NEUROPS_PETSC(KSPGetPC(c.ksp, &pc));
    const int arm = configbandit_arm(pc);
    NEUROPS_THROW(c.name << ": the solve " << c.seconds.size() << " with option set " << arm << " '"
                         << configbandit_arm_set(pc)[std::size_t(arm)] << "' did not converge (reason "
                         << KSPConvergedReasons[reason] << ")");
  }
  c.seconds.push_back(t);
  c.iterations += double(its);
}

// Every fixed configuration and the bandit on each system of the sequence, in rotating order.
std::vector<Column> compare(Sequence& seq, const Settings& s, const std::vector<std::string>& arms) {
  std::vector<Column> columns;
  for (std::size_t k = 0; k < arms.size(); ++k)
    columns.push_back(make_column(arms[k], "tcfg_fixed" + std::to_string(k) + "_", s, "fixed", int(k)));
  columns.push_back(make_column("configbandit (tsallis)", "tcfg_bandit_", s, "tsallis", 0));
  Progress progress(s.solves, seq.title().substr(0, seq.title().find(' ')));
  for (std::int64_t t = 0; t < s.solves; ++t) {
    Mat A = nullptr;
    Vec b = nullptr, x0 = nullptr;
    seq.next(A, b, x0);
    for (std::size_t j = 0; j < columns.size(); ++j) solve(columns[(j + std::size_t(t)) % columns.size()], A, b, x0);
    seq.accept(columns.back().x);
    if (t % 20 == 0) progress.update(t);
  }
  progress.finish();
  PC pc = nullptr;
  NEUROPS_PETSC(KSPGetPC(columns.back().ksp, &pc));
  columns.back().chosen = configbandit_learner(pc)->pulls();
  return columns;
}

double total(const Column& c) { return std::accumulate(c.seconds.begin(), c.seconds.end(), 0.0); }

// The table of one sequence on rank 0; its rows appended to `csv`.
void report(const std::string& problem, const std::string& title, const std::vector<Column>& columns,
            std::int64_t solves, std::ostringstream& csv) {
  const std::size_t fixed = columns.size() - 1;
  std::vector<std::vector<double>> costs(static_cast<std::size_t>(solves), std::vector<double>(fixed));
  for (std::size_t k = 0; k < fixed; ++k)
    for (std::size_t t = 0; t < costs.size(); ++t) costs[t][k] = columns[k].seconds[t];
  const auto best = hindsight_baselines(costs);
  const Column& bandit = columns.back();
  const double ratio = total(bandit) / best.best_fixed_total;
  PetscPrintf(PETSC_COMM_WORLD, "\n%s, %lld solves, CG to rtol, time = wall time of KSPSolve (PC set-up included)\n",
              title.c_str(), static_cast<long long>(solves));
  PetscPrintf(PETSC_COMM_WORLD, "  %-44s %10s %10s %14s\n", "configuration", "total [s]", "mean its", "bandit share");
  for (std::size_t k = 0; k < columns.size(); ++k) {
    const auto& c = columns[k];
    std::string share = "";
    if (k < fixed) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%5.1f%%", 100.0 * double(bandit.chosen[k]) / double(solves));
      share = buf;
    }
    PetscPrintf(PETSC_COMM_WORLD, "  %-44s %10.3f %10.1f %14s\n", c.name.c_str(), total(c),
                c.iterations / double(solves), share.c_str());
    csv << problem << ",\"" << c.name << "\"," << total(c) << "," << c.iterations / double(solves) << ","
        << (k < fixed ? std::to_string(bandit.chosen[k]) : std::to_string(solves)) << "\n";
  }
  PetscPrintf(PETSC_COMM_WORLD, "  best fixed in hindsight: %s, %.3f s; per-solve best (oracle): %.3f s\n",
              columns[std::size_t(best.best_fixed_arm)].name.c_str(), best.best_fixed_total,
              best.per_instance_min_total);
  PetscPrintf(PETSC_COMM_WORLD, "  bandit / best fixed = %.3f (target <= 1.15 over 1000 solves)\n", ratio);
}

}  // namespace

int main(int argc, char** argv) {
  PetscSession session(&argc, &argv, "tune_solver_configs: a bandit over whole PC configurations\n");
  try {
    // 1. Options: the option sets (arms), the sequences and their sizes.
    register_petsc_types();
    Options opt("Solver configuration bandit", "tcfg_");
    Settings s;
    s.configs = opt.string("configs", kDefaultConfigs, "option sets 'type opts;type opts;...' (the arms)");
    const std::string problems = opt.choice("problems", "both", {"both", "heat", "darcy"}, "sequences to run");
    s.solves = opt.integer("solves", 1000, "solves per sequence", 1, 1000000);
    const auto heat_nx = opt.integer("heat_nx", 64, "heat grid intervals per side", 3, 4096);
    const auto darcy_n = opt.integer("darcy_n", 65, "Darcy grid nodes per side", 3, 4096);
    s.cost = opt.choice("cost", "time", {"time", "iterations"}, "what the bandit learns from");
    s.rtol = opt.real("rtol", 1e-8, "relative residual tolerance of CG");
    s.seed = opt.integer("seed", 0, "seed of the Darcy coefficients and of the bandit", 0, INT32_MAX);
    const std::string out = opt.string("out", "tune_solver_configs", "output prefix: writes <out>.csv");
    opt.solver_prefix("tcfg_bandit_", "the bandit's KSP and PC (-tcfg_bandit_pc_configbandit_state file.h5)");
    if (opt.help_requested()) return 0;
    NEUROPS_CHECK(s.rtol > 0 && s.rtol < 1, "option -tcfg_rtol: expected a value in (0, 1), found " << s.rtol);

    // 2. The arms as the PC reads them (trimmed); a bad set stops here, before any solve.
    std::vector<std::string> arms;
    {
      Column probe = make_column("probe", "tcfg_probe_", s, "tsallis", 0);
      PC pc = nullptr;
      NEUROPS_PETSC(KSPGetPC(probe.ksp, &pc));
      arms = configbandit_arm_set(pc);
    }

    // 3. Each sequence: every fixed configuration and the bandit, side by side, and its table.
    std::ostringstream csv;
    csv << "problem,configuration,total_seconds,mean_iterations,solves_chosen_by_bandit\n";
    if (problems != "darcy") {
      HeatSystems heat(static_cast<PetscInt>(heat_nx));
      report("heat", heat.title(), compare(heat, s, arms), s.solves, csv);
    }
    if (problems != "heat") {
      DarcySystems darcy(static_cast<index_t>(darcy_n), static_cast<std::uint64_t>(s.seed));
      report("darcy", darcy.title(), compare(darcy, s, arms), s.solves, csv);
    }

    // 4. The tables as CSV.
    if (session.rank() == 0) io::write_text_atomically(out + ".csv", csv.str());
    PetscPrintf(PETSC_COMM_WORLD, "\noutputs: %s.csv\n", out.c_str());
    return 0;
  } catch (const std::exception& e) {
    if (session.rank() == 0) std::fprintf(stderr, "tune_solver_configs: error: %s\n", e.what());
    return 1;
  }
}
