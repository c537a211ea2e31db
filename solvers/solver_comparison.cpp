// Side-by-side solver runs (see solver_comparison.hpp).
#include "neurops/solvers/solver_comparison.hpp"

#include <petsc/private/pcimpl.h>  // PCList: which PC types this PETSc has

#include <cmath>
#include <cstdio>
#include <sstream>

#include "neurops/core/progress.hpp"
#include "neurops/io/hdf5.hpp"
#include "neurops/io/plot.hpp"

namespace neurops::solvers {

std::vector<SolverSpec> poisson_baselines() {
  return {{"CG", "cg", "none", {}, "cmp_cg_"},
          {"CG+ICC(0)", "cg", "icc", {}, "cmp_icc_"},
          {"CG+GAMG", "cg", "gamg", {}, "cmp_gamg_"},
          {"CG+BoomerAMG", "cg", "hypre", {{"pc_hypre_type", "boomeramg"}}, "cmp_hypre_"}};
}

namespace {

bool pc_type_available(const std::string& type) {
  PetscErrorCode (*create)(PC) = nullptr;
  NEUROPS_PETSC(PetscFunctionListFind(PCList, type.c_str(), &create));
  return create != nullptr;
}

/// Sets -<prefix><name> value unless the user already gave it.
void default_option(const std::string& prefix, const std::string& name, const std::string& value) {
  const std::string key = "-" + prefix + name;
  PetscBool set = PETSC_FALSE;
  NEUROPS_PETSC(PetscOptionsHasName(nullptr, nullptr, key.c_str(), &set));
  if (!set) NEUROPS_PETSC(PetscOptionsSetValue(nullptr, key.c_str(), value.c_str()));
}

}  // namespace

SolverResult run_solver(const SolverSpec& spec, Mat A, DM dm, Vec b, double rtol, PetscInt max_it) {
  SolverResult r;
  r.name = spec.name;
  NEUROPS_PETSC(PCInitializePackage());
  if (!pc_type_available(spec.pc_type)) {
    r.available = false;
    r.reason = "PC " + spec.pc_type + " not in this PETSc";
    return r;
  }
  const std::string prefix = spec.prefix.empty() ? "cmp_" + spec.name + "_" : spec.prefix;
  default_option(prefix, "ksp_type", spec.ksp_type);
  default_option(prefix, "pc_type", spec.pc_type);
  default_option(prefix, "ksp_norm_type", "unpreconditioned");
  for (const auto& [name, value] : spec.options) default_option(prefix, name, value);
  PetscKSP ksp;
  NEUROPS_PETSC(KSPCreate(PetscObjectComm(reinterpret_cast<PetscObject>(A)), ksp.out()));
  NEUROPS_PETSC(KSPSetOptionsPrefix(ksp, prefix.c_str()));
  NEUROPS_PETSC(KSPSetOperators(ksp, A, A));
  if (dm) {
    NEUROPS_PETSC(KSPSetDM(ksp, dm));
    NEUROPS_PETSC(KSPSetDMActive(ksp, PETSC_FALSE));
  }
  NEUROPS_PETSC(KSPSetTolerances(ksp, rtol, 1e-50, PETSC_DEFAULT, max_it));
  NEUROPS_PETSC(KSPSetFromOptions(ksp));
  std::vector<PetscReal> history(static_cast<std::size_t>(max_it + 2));
  NEUROPS_PETSC(KSPSetResidualHistory(ksp, history.data(), PetscInt(history.size()), PETSC_TRUE));
  PetscVec x;
  NEUROPS_PETSC(VecDuplicate(b, x.out()));
  Timer setup;
  NEUROPS_PETSC(KSPSetUp(ksp));
  r.setup_seconds = setup.seconds();
  Timer solve;
  NEUROPS_PETSC(KSPSolve(ksp, b, x));
  r.solve_seconds = solve.seconds();
  NEUROPS_PETSC(KSPGetIterationNumber(ksp, &r.iterations));
  KSPConvergedReason reason;
  NEUROPS_PETSC(KSPGetConvergedReason(ksp, &reason));
  r.reason = KSPConvergedReasons[reason];
  PetscVec res;
  NEUROPS_PETSC(VecDuplicate(b, res.out()));
  NEUROPS_PETSC(MatMult(A, x, res));
  NEUROPS_PETSC(VecAYPX(res, -1.0, b));
  PetscReal nr = 0, nb = 0;
  NEUROPS_PETSC(VecNorm(res, NORM_2, &nr));
  NEUROPS_PETSC(VecNorm(b, NORM_2, &nb));
  r.relative_residual = nr / nb;
  PetscInt count = 0;
  NEUROPS_PETSC(KSPGetResidualHistory(ksp, nullptr, &count));
  for (PetscInt i = 0; i < count; ++i) r.history.push_back(history[std::size_t(i)] / nb);
  return r;
}

std::string results_table(const std::vector<SolverResult>& results) {
  std::ostringstream os;
  char line[256];
  std::snprintf(line, sizeof line, "%-16s %7s %10s %10s %10s %12s  %s\n", "solver", "iters", "setup s", "solve s",
                "total s", "||r||/||b||", "reason");
  os << line << std::string(90, '-') << "\n";
  for (const auto& r : results) {
    if (!r.available) {
      std::snprintf(line, sizeof line, "%-16s %7s %10s %10s %10s %12s  %s\n", r.name.c_str(), "-", "-", "-", "-", "-",
                    r.reason.c_str());
    } else {
      std::snprintf(line, sizeof line, "%-16s %7d %10.3f %10.3f %10.3f %12.3e  %s\n", r.name.c_str(), (int)r.iterations,
                    r.setup_seconds, r.solve_seconds, r.setup_seconds + r.solve_seconds, r.relative_residual,
                    r.reason.c_str());
    }
    os << line;
  }
  return os.str();
}

void write_histories_csv(const std::filesystem::path& path, const std::vector<SolverResult>& results) {
  std::ostringstream f;
  std::size_t rows = 0;
  f << "iteration";
  for (const auto& r : results) {
    f << "," << r.name;
    rows = std::max(rows, r.history.size());
  }
  f << "\n";
  for (std::size_t i = 0; i < rows; ++i) {
    f << i;
    for (const auto& r : results) {
      f << ",";
      if (i < r.history.size()) f << r.history[i];
    }
    f << "\n";
  }
  io::write_text_atomically(path, f.str());  // an earlier file survives a failed write
}

void write_histories_png(const std::filesystem::path& path, const std::vector<SolverResult>& results,
                         const std::string& title) {
  std::vector<io::PlotSeries> series;
  for (const auto& r : results) {
    if (r.history.empty()) continue;
    io::PlotSeries s;
    s.name = r.name;
    s.color = io::plot_color(int(series.size()));
    for (std::size_t i = 0; i < r.history.size(); ++i) {
      if (!(r.history[i] > 0) || !std::isfinite(r.history[i])) break;
      s.x.push_back(double(i));
      s.y.push_back(std::log10(r.history[i]));
    }
    if (!s.x.empty()) series.push_back(std::move(s));
  }
  io::PlotOptions o;
  o.title = title;
  o.x_label = "iteration";
  o.y_label = "log10 ||r|| / ||b||";
  io::write_line_plot(path, series, o);
}

}  // namespace neurops::solvers
